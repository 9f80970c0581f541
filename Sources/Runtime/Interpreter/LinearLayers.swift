import CKernels
import SkrrSupport

/// Linear layers: a weight matrix staged for multiplying in its stored dtype, and the product
/// split over the workers. f32 weights multiply through OpenBLAS where they are mapped; bf16, f16
/// and int8 weights through `HalfWeightProduct` (exact f32 products of the stored values, int8
/// scaled per row, no weight-sized scratch). Under
/// `compute = .bf16`, bf16 weights go through the AVX-512 BF16 kernel, or without it through
/// `HalfWeightProduct` on activations rounded to bf16 first.
extension Interpreter {
    /// `input[rows × in] · Wᵀ + b` with W stored `[out, in]` in its own dtype.
    func linear(_ input: [Float], rows: Int, _ layer: LinearWeights) throws -> [Float] {
        let info = program.tensors[layer.weight]
        let outWidth = info.shape[0], inWidth = info.shape[1]
        guard input.count == rows * inWidth else {
            throw SkrrError(key: info.name, "expects inputs of width \(inWidth), got \(input.count / max(rows, 1))")
        }
        var out = [Float](repeating: 0, count: rows * outWidth)
        let w = try staged(layer, width: inWidth, outWidth: outWidth, buffer: 0)
        input.withUnsafeBufferPointer { inp in out.withUnsafeMutableBufferPointer { op in
            multiply(inp.baseAddress!, rows: rows, w, into: op.baseAddress!)
        } }
        return out
    }

    /// A linear layer ready to multiply: its matrix in the form its kernel reads, and its bias
    /// (cached f32).
    struct StagedLinear {
        var matrix: StagedMatrix
        var bias: [Float]?
        var inWidth: Int
        var outWidth: Int
    }

    /// Checks a layer's shape against the widths the encoder expects and stages its matrix
    /// (`buffer`: which of the workspace's matrix buffers holds a copy of a misaligned f32 matrix,
    /// valid until the next call with the same buffer).
    func staged(_ layer: LinearWeights, width: Int, outWidth expected: Int, buffer: Int) throws -> StagedLinear {
        let info = program.tensors[layer.weight]
        let outWidth = info.shape[0], inWidth = info.shape[1]
        guard width == inWidth else {
            throw SkrrError(key: info.name, "expects inputs of width \(inWidth), got \(width)")
        }
        guard outWidth == expected else {
            throw SkrrError(key: info.name, "produces outputs of width \(outWidth), the encoder expects \(expected)")
        }
        let raw = weights.bytes(ofTensor: layer.weight), base = raw.baseAddress!
        let matrix: StagedMatrix
        let bf16Kernel = bf16ComputeKernel(for: info.dtype, at: base)
        switch info.dtype {
        case .f32:
            matrix = .f32(stagedMatrix(layer.weight, buffer: buffer))
        case .bf16 where bf16Kernel != nil:
            let stored = base.assumingMemoryBound(to: UInt16.self)
            matrix = bf16Kernel == .amx ? .amxCompute(stored) : .bf16Compute(stored)
        case .int8 where compute == .int8:
            matrix = .int8Compute(base.assumingMemoryBound(to: Int8.self), scales: rowScales(layer.weight))
        case .bf16, .f16, .int8:
            let rounds = compute == .bf16 && info.dtype == .bf16 && Interpreter.bf16ComputeSupported
            matrix = .half(base, info.dtype, halfWeightKernel.resolved(for: info.dtype, at: base), roundsInput: rounds,
                           scales: info.dtype.isScaled ? rowScales(layer.weight) : nil)
        }
        return StagedLinear(matrix: matrix, bias: layer.bias.map(floats), inWidth: inWidth, outWidth: outWidth)
    }

    /// The bf16 kernel (AMX or AVX-512) that multiplies a matrix of `dtype` stored at `base`, or
    /// nil when the exact half-weight GEMM does (f32 compute, another dtype, misaligned weights,
    /// or a CPU with neither kernel: `rounded` is the half-weight GEMM on rounded activations).
    /// `staged` and `rowWiseFusable` both ask here, so they cannot disagree.
    func bf16ComputeKernel(for dtype: WeightType, at base: UnsafeRawPointer) -> BF16ComputeKernel? {
        guard compute == .bf16 && dtype == .bf16 && Int(bitPattern: base) % 2 == 0 else { return nil }
        return BF16ComputeKernel.preferred == .rounded ? nil : BF16ComputeKernel.preferred
    }

    /// `out ← input[rows × in] · Wᵀ + b`, or `out +=` it when `accumulate` (LinearProduct).
    func multiply(_ input: UnsafePointer<Float>, rows: Int, _ layer: StagedLinear, into out: UnsafeMutablePointer<Float>,
                  accumulate: Bool = false) {
        withOptionalPointer(layer.bias) { bias in
            LinearProduct(workers: workers, workspace: workspace)
                .multiply(input, rows: rows, layer.matrix, bias: bias, inWidth: layer.inWidth, outWidth: layer.outWidth,
                          into: out, accumulate: accumulate)
        }
    }

    /// An f32 weight matrix as a pointer: used where it is mapped; a misaligned one is copied
    /// into the workspace's matrix buffer number `buffer`.
    func stagedMatrix(_ tensor: Int, buffer: Int) -> UnsafePointer<Float> {
        let raw = weights.bytes(ofTensor: tensor)
        if Int(bitPattern: raw.baseAddress) % 4 == 0 {
            return raw.baseAddress!.assumingMemoryBound(to: Float.self)
        }
        return LinearProduct(workers: workers, workspace: workspace)
            .alignedCopy(raw, count: program.tensors[tensor].elementCount, buffer: buffer)
    }
}
