import CKernels

/// A weight matrix `[out, in]` in the form its kernel reads.
enum StagedMatrix {
    /// f32 (mapped, or a copy of a misaligned matrix): OpenBLAS sgemm.
    case f32(UnsafePointer<Float>)
    /// bf16, f16 or int8 (with its row scales) as stored, multiplied exactly by `kernel`
    /// (HalfWeightProduct); with `roundsInput`, the activations are rounded to bf16 first
    /// (`compute = .bf16` without AVX-512 BF16: the same arithmetic as its kernel, sums in
    /// another order).
    case half(UnsafeRawPointer, WeightType, HalfWeightKernel, roundsInput: Bool, scales: UnsafePointer<Float>? = nil)
    /// bf16 as stored, for the AVX-512 BF16 kernel (`compute = .bf16`: activations rounded).
    case bf16Compute(UnsafePointer<UInt16>)
    /// bf16 as stored, for the AMX kernel (`compute = .bf16` where BF16ComputeKernel picks it).
    case amxCompute(UnsafePointer<UInt16>)
    /// int8 codes with their row scales, for `skrr_i8_gemm` (`compute = .int8`: activations
    /// quantized per row).
    case int8Compute(UnsafePointer<Int8>, scales: UnsafePointer<Float>)
}

/// `out ← input[rows × in] · Wᵀ + b` (or `out +=` it, when `accumulate`: a residual add done by
/// the GEMM itself), split over `workers`: the one implementation behind the interpreter's linear
/// layers and the public `MatrixProduct`. f32 and bf16-compute products split the rows; exact
/// half-precision products split the columns, so each worker reads and packs only its own part
/// of W (and the outputs do not depend on the number of workers).
struct LinearProduct {
    var workers: Int
    let workspace: Workspace

    func multiply(_ input: UnsafePointer<Float>, rows: Int, _ matrix: StagedMatrix, bias: UnsafePointer<Float>?,
                  inWidth: Int, outWidth: Int, into out: UnsafeMutablePointer<Float>, accumulate: Bool) {
        // One loop per kind on purpose: one loop branching per row range measured 20 % slower
        // for bf16 compute (T5-base 8 × 128: 0.74 vs 0.60 s).
        switch matrix {
        case let .bf16Compute(wb):
            // Activations rounded to bf16 once, by rows, then the bf16 kernel on the same rows.
            let a = UnsafeMutableRawPointer(workspace.bf16Input.reserve((rows * inWidth + 1) / 2))
                .assumingMemoryBound(to: UInt16.self)
            Parallel.forEachRowRange(rows, workPerRow: inWidth * outWidth, workers: workers) { r in
                let ar = a + r.lowerBound * inWidth, c = out + r.lowerBound * outWidth
                skrr_f32_to_bf16(input + r.lowerBound * inWidth, ar, r.count * inWidth)
                skrr_bf16_gemm(Int32(r.count), Int32(outWidth), Int32(inWidth), ar, Int32(inWidth), wb, Int32(inWidth),
                               c, Int32(outWidth), accumulate ? 1 : 0)
                if let bias { for row in 0..<r.count { Elementwise.add(c + row * outWidth, bias, count: outWidth) } }
            }
        case let .amxCompute(wb):
            // Activations rounded to bf16 once, by rows, into the padded layout the tiles load;
            // then each worker repacks and multiplies its own columns of W.
            let depth = Int(skrr_amx_padded(Int32(inWidth))), paddedRows = Int(skrr_amx_padded(Int32(rows)))
            let a = UnsafeMutableRawPointer(workspace.bf16Input.reserve((paddedRows * depth + 1) / 2))
                .assumingMemoryBound(to: UInt16.self)
            Parallel.forEachRowRange(rows, workPerRow: inWidth, workers: workers) { r in
                skrr_bf16_rows_padded(Int32(r.count), Int32(inWidth), input + r.lowerBound * inWidth, Int32(inWidth),
                                      a + r.lowerBound * depth, Int32(depth))
            }
            (a + rows * depth).initialize(repeating: 0, count: (paddedRows - rows) * depth)
            let scratchFloats = (skrr_amx_bf16_scratch_bytes() + 3) / 4
            splittingColumns(rows: rows, inWidth: inWidth, outWidth: outWidth, scratchFloats: scratchFloats, bias: bias,
                             into: out) { columns, scratch in
                skrr_amx_bf16_gemm(Int32(rows), Int32(columns.count), Int32(inWidth), a, Int32(depth),
                                   wb + columns.lowerBound * inWidth, Int32(inWidth), out + columns.lowerBound,
                                   Int32(outWidth), accumulate ? 1 : 0, scratch)
            }
        case let .int8Compute(w, scales):
            // Activations quantized once, by rows; then each worker packs its own columns of W.
            let stride = Int(skrr_i8_quantized_stride(Int32(inWidth)))
            let quantized = UnsafeMutableRawPointer(workspace.quantizedInput.reserve((rows * stride + 3) / 4))
                .assumingMemoryBound(to: UInt8.self)
            let inputScales = workspace.inputScales.reserve(rows)
            Parallel.forEachRowRange(rows, workPerRow: inWidth, workers: workers) { r in
                skrr_i8_quantize_rows(Int32(r.count), Int32(inWidth), input + r.lowerBound * inWidth, Int32(inWidth),
                                      quantized + r.lowerBound * stride, Int32(stride), inputScales + r.lowerBound)
            }
            let scratchFloats = (skrr_i8_gemm_scratch_bytes(Int32(inWidth)) + 3) / 4
            splittingColumns(rows: rows, inWidth: inWidth, outWidth: outWidth, scratchFloats: scratchFloats, bias: bias,
                             into: out) { columns, scratch in
                skrr_i8_gemm(Int32(rows), Int32(columns.count), Int32(inWidth), quantized, Int32(stride), inputScales,
                             w + columns.lowerBound * inWidth, Int32(inWidth), scales + columns.lowerBound,
                             out + columns.lowerBound, Int32(outWidth), accumulate ? 1 : 0, scratch)
            }
        case let .half(w, dtype, kernel, roundsInput, scales):
            var input = input
            if roundsInput {
                let rounded = workspace.roundedInput.reserve(rows * inWidth)
                Parallel.forEachRowRange(rows, workPerRow: inWidth, workers: workers) { r in
                    skrr_round_to_bf16_f32(input + r.lowerBound * inWidth, rounded + r.lowerBound * inWidth, r.count * inWidth)
                }
                input = UnsafePointer(rounded)
            }
            splittingColumns(rows: rows, inWidth: inWidth, outWidth: outWidth,
                             scratchFloats: HalfWeightProduct.scratchCount(kernel), bias: bias, into: out) { columns, scratch in
                HalfWeightProduct.multiply(kernel, x: input, rows: rows, depth: inWidth, weights: w, dtype: dtype, scales: scales,
                                           columns: columns, into: out, ldc: outWidth, accumulate: accumulate,
                                           scratch: scratch.assumingMemoryBound(to: Float.self))
            }
        case let .f32(w):
            Parallel.forEachRowRange(rows, workPerRow: inWidth * outWidth, workers: workers) { r in
                let c = out + r.lowerBound * outWidth
                BLAS.sgemm(m: r.count, n: outWidth, k: inWidth, a: input + r.lowerBound * inWidth, lda: inWidth, b: w,
                           ldb: inWidth, transposeB: true, c: c, ldc: outWidth, beta: accumulate ? 1 : 0)
                if let bias { for row in 0..<r.count { Elementwise.add(c + row * outWidth, bias, count: outWidth) } }
            }
        }
    }

    /// Runs `product` for column ranges of the output split over the workers (each range's
    /// weights read and packed by one worker only), each call with its own `scratchFloats` of
    /// scratch, then adds the bias to those columns.
    private func splittingColumns(rows: Int, inWidth: Int, outWidth: Int, scratchFloats: Int, bias: UnsafePointer<Float>?,
                                  into out: UnsafeMutablePointer<Float>,
                                  _ product: (Range<Int>, UnsafeMutableRawPointer) -> Void) {
        let ranges = HalfWeightProduct.columnRanges(outWidth, rows: rows, depth: inWidth, workers: workers,
                                                    minimumWork: Parallel.minimumChunkWork)
        // Scratch is reserved here, not by the workers: the workspace is not thread-safe.
        let scratch = (0..<min(ranges.count, workers)).map { UnsafeMutableRawPointer(workspace.packing($0).reserve(scratchFloats)) }
        Parallel.forEach(ranges.count, workers: workers) { piece, worker in
            let columns = ranges[piece]
            product(columns, scratch[worker])
            if let bias {
                for row in 0..<rows {
                    Elementwise.add(out + row * outWidth + columns.lowerBound, bias + columns.lowerBound, count: columns.count)
                }
            }
        }
    }

    /// An f32 matrix that is not 4-byte aligned, copied (split over the workers) into the
    /// workspace's matrix buffer number `buffer`, valid until the next call with that buffer.
    func alignedCopy(_ raw: UnsafeRawBufferPointer, count: Int, buffer: Int) -> UnsafePointer<Float> {
        let target = workspace.matrix(buffer).reserve(count)
        let pieces = Parallel.ranges(count, pieces: workers, minimum: 1 << 16)
        Parallel.forEach(pieces.count, workers: workers) { piece, _ in
            let r = pieces[piece]
            let source = UnsafeRawBufferPointer(rebasing: raw[(r.lowerBound * 4)..<(r.upperBound * 4)])
            WeightConversion.toFloat(source, dtype: .f32, count: r.count, into: target + r.lowerBound)
        }
        return UnsafePointer(target)
    }
}
