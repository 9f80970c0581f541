import CKernels
import SkrrFrontend
import SkrrLowering
@testable import SkrrRuntime
import SkrrSupport
import SkrrTestSupport
import Testing

/// Exact products with bf16/f16-stored weights through both kernels (the packing GEMM where the
/// CPU has AVX2+FMA, and the panel kernel, which runs everywhere), the public `MatrixProduct`,
/// and the interpreter running a bf16 model through each kernel.
@Suite struct HalfWeightProductTests {
    static var kernels: [HalfWeightKernel] {
        skrr_wgemm_supported(SKRR_HALF_BF16) == 1 ? [.packed, .panels] : [.panels]
    }

    struct Problem {
        var rows, depth, columns: Int
        var dtype: WeightType
        var x: [Float], stored: [UInt8], widened: [Float]

        init(rows: Int, depth: Int, columns: Int, dtype: WeightType) {
            self.rows = rows; self.depth = depth; self.columns = columns; self.dtype = dtype
            var state: UInt64 = 0x9E37_79B9_7F4A_7C15 &+ UInt64(rows * 7 + depth * 131 + columns)
            func next() -> Float {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Float(Int64(bitPattern: state >> 11) % 20001 - 10000) / 6007
            }
            x = (0..<(rows * depth)).map { _ in next() }
            var stored = [UInt8](), widened = [Float]()
            for _ in 0..<(columns * depth) {
                let bits = dtype == .f16 ? HalfPrecision.floatToHalf(next()) : HalfPrecision.floatToBF16(next())
                stored += [UInt8(bits & 0xFF), UInt8(bits >> 8)]
                widened.append(dtype == .f16 ? HalfPrecision.halfToFloat(bits) : HalfPrecision.bf16ToFloat(bits))
            }
            self.stored = stored
            self.widened = widened
        }

        /// Largest error over all outputs relative to the sum of the products' magnitudes.
        func worstError(_ c: [Float], start: [Float]? = nil) -> Double {
            var worst = 0.0
            for i in 0..<rows {
                for j in 0..<columns {
                    var sum = Double(start?[i * columns + j] ?? 0), magnitude = abs(sum)
                    for p in 0..<depth {
                        let product = Double(x[i * depth + p]) * Double(widened[j * depth + p])
                        sum += product
                        magnitude += abs(product)
                    }
                    worst = max(worst, abs(sum - Double(c[i * columns + j])) / max(magnitude, 1e-30))
                }
            }
            return worst
        }

        func product(_ kernel: HalfWeightKernel, columns range: Range<Int>? = nil, into c: inout [Float], accumulate: Bool) {
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: HalfWeightProduct.scratchCount(kernel))
            defer { scratch.deallocate() }
            x.withUnsafeBufferPointer { xp in stored.withUnsafeBytes { w in c.withUnsafeMutableBufferPointer { cp in
                BLAS.singleThreaded {
                    HalfWeightProduct.multiply(kernel, x: xp.baseAddress!, rows: rows, depth: depth, weights: w.baseAddress!,
                                               dtype: dtype, columns: range ?? 0..<columns, into: cp.baseAddress!,
                                               ldc: columns, accumulate: accumulate, scratch: scratch)
                }
            } } }
        }
    }

    /// Edges of both kernels' blocking: 256-row panels and 2048-deep chunks (panels), 6 × 16
    /// register blocks and 256-deep chunks (packed), and sizes below each.
    @Test(arguments: [(1, 1, 1), (7, 300, 17), (13, 2100, 33), (130, 257, 270)], [WeightType.bf16, .f16])
    func bothKernelsMatchDoublePrecision(_ shape: (Int, Int, Int), dtype: WeightType) throws {
        try BLAS.ensureLoaded()
        let problem = Problem(rows: shape.0, depth: shape.1, columns: shape.2, dtype: dtype)
        for kernel in Self.kernels {
            var c = [Float](repeating: .nan, count: shape.0 * shape.2)
            problem.product(kernel, into: &c, accumulate: false)
            #expect(problem.worstError(c) < 1e-5, "\(kernel) \(dtype) \(shape)")
            let start = (0..<c.count).map { Float($0 % 13) - 6 }
            var accumulated = start
            problem.product(kernel, into: &accumulated, accumulate: true)
            #expect(problem.worstError(accumulated, start: start) < 1e-5, "\(kernel) \(dtype) \(shape) accumulating")
        }
    }

    /// The interpreter splits columns over its workers: the parts must add up to the whole, to
    /// the bit for the packed kernel, whose outputs do not depend on the split.
    @Test func columnRangesCoverTheColumnsOnce() throws {
        try BLAS.ensureLoaded()
        let ranges = HalfWeightProduct.columnRanges(1000, rows: 512, depth: 4096, workers: 3, minimumWork: 1 << 22)
        #expect(ranges.count == 3 && ranges.first?.lowerBound == 0 && ranges.last?.upperBound == 1000)
        #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound && $0.upperBound % 16 == 0 })
        // Too little work for a second worker: one range.
        #expect(HalfWeightProduct.columnRanges(64, rows: 2, depth: 64, workers: 4, minimumWork: 1 << 22) == [0..<64])

        let problem = Problem(rows: 9, depth: 300, columns: 70, dtype: .bf16)
        for kernel in Self.kernels {
            var whole = [Float](repeating: 0, count: 9 * 70), pieces = whole
            problem.product(kernel, into: &whole, accumulate: false)
            for range in [0..<16, 16..<48, 48..<70] { problem.product(kernel, columns: range, into: &pieces, accumulate: false) }
            if kernel == .packed { #expect(pieces.map(\.bitPattern) == whole.map(\.bitPattern)) }
            #expect(problem.worstError(pieces) < 1e-5, "\(kernel)")
        }
    }

    @Test func matrixProductAgreesWithTheNaiveSum() throws {
        let problem = Problem(rows: 5, depth: 40, columns: 12, dtype: .bf16)
        let bias = (0..<12).map { Float($0) * 0.25 }
        let half = try problem.stored.withUnsafeBytes {
            try MatrixProduct.linear(problem.x, rows: 5, weight: $0, dtype: .bf16, outWidth: 12, inWidth: 40, bias: bias)
        }
        let f32 = try MatrixProduct.linear(problem.x, rows: 5, weight: problem.widened, outWidth: 12, inWidth: 40, bias: bias)
        let start = (0..<60).map { bias[$0 % 12] }
        #expect(problem.worstError(half, start: start) < 1e-5)
        #expect(problem.worstError(f32, start: start) < 1e-5)
        // f32 weights at an odd address (as in a safetensors file after a 2-byte tensor) are read too.
        var shifted = [UInt8](repeating: 0, count: 1)
        problem.widened.withUnsafeBytes { shifted += $0 }
        let unaligned = try shifted.withUnsafeBytes {
            try MatrixProduct.linear(problem.x, rows: 5, weight: UnsafeRawBufferPointer(rebasing: $0[1...]), dtype: .f32,
                                     outWidth: 12, inWidth: 40, bias: bias)
        }
        #expect(unaligned == f32)
        #expect(try MatrixProduct.linear([], rows: 0, weight: problem.widened, outWidth: 12, inWidth: 40).isEmpty)
    }

    @Test func matrixProductRefusesMismatchedSizes() throws {
        let w = [Float](repeating: 1, count: 6)
        #expect(throws: SkrrError.self) { try MatrixProduct.linear([1, 2, 3], rows: 2, weight: w, outWidth: 2, inWidth: 3) }
        #expect(throws: SkrrError.self) { try MatrixProduct.linear([1, 2, 3], rows: 1, weight: w, outWidth: 3, inWidth: 3) }
        #expect(throws: SkrrError.self) { try MatrixProduct.linear([1, 2, 3], rows: 1, weight: w, outWidth: 2, inWidth: 3, bias: [1]) }
    }

    /// The bf16 fixture through each kernel: within the parity tolerance of transformers, the
    /// same on a second run, and (packed) the same whatever the number of workers.
    @Test func interpreterMatchesTransformersWithEachKernel() throws {
        let reference = try ReferenceFile(fixture: "t5-v1_1-bf16")
        let ids = zip(try reference.rows("input_ids"), try reference.rows("attention_mask")).map { row, mask in
            Array(row.prefix(Int(mask.reduce(0, +))))
        }
        let imported = try ModelImporter.importModel(at: TestPaths.fixture("t5-v1_1-bf16"))
        let encoder = try Interpreter(program: try Lowering.lower(imported.ir), weights: try SourceWeights(model: imported.ir))
        var outputs: [HalfWeightKernel: [Float]] = [:]
        for kernel in Self.kernels {
            encoder.halfWeightKernel = kernel
            let first = try encoder.run(TokenBatch(ids: ids)).hidden
            #expect(try encoder.run(TokenBatch(ids: ids)).hidden == first, "\(kernel)")
            let error = relativeError(first, try reference.floats("last_hidden_state"))
            #expect(error <= InterpreterParityTests.tolerance, "\(kernel): relative error \(error)")
            outputs[kernel] = first
        }
        if let packed = outputs[.packed] {
            encoder.halfWeightKernel = .packed
            encoder.workerLimit = 1
            #expect(try encoder.run(TokenBatch(ids: ids)).hidden.map(\.bitPattern) == packed.map(\.bitPattern))
        }
    }
}
