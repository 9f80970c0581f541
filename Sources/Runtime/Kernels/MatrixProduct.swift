import SkrrSupport

/// The interpreter's matrix products for code outside it (a denoiser's text projection applied
/// to embeddings, a benchmark): `input · Wᵀ + b` with W stored `[out, in]`, through OpenBLAS
/// for f32 and `HalfWeightProduct` for bf16 and f16 (exact f32 products, no weight-sized
/// scratch), split over `threads` exactly as the interpreter splits a linear layer. One instance
/// keeps its scratch between calls and is not thread-safe; callers that spread batches over
/// threads use one per thread (each with `threads: 1`).
public final class MatrixProduct {
    public let threads: Int
    /// The kernel for bf16/f16 weights (this CPU's `preferred` one by default).
    public var halfWeightKernel: HalfWeightKernel = .preferred
    private let workspace = Workspace()

    public init(threads: Int = 1) throws {
        try BLAS.ensureLoaded()
        self.threads = max(1, threads)
    }

    /// `out[rows × outWidth] ← input[rows × inWidth] · Wᵀ`, or `out +=` it when `accumulate`, for W
    /// `[outWidth, inWidth]` stored as `dtype` in `weight` (little-endian, as mapped from a file;
    /// any alignment). int8 weights need `scales`, one f32 per row of W (W's value is fl(q · scale)).
    /// Sums are f32 in another order than a naive loop's, so results may differ from one in the
    /// last bits.
    public func multiply(_ input: UnsafePointer<Float>, rows: Int, weight: UnsafeRawBufferPointer, dtype: WeightType,
                         scales: UnsafeRawBufferPointer? = nil, outWidth: Int, inWidth: Int, into out: UnsafeMutablePointer<Float>,
                         accumulate: Bool = false) throws {
        guard rows >= 0, outWidth > 0, inWidth > 0 else {
            throw SkrrError(key: "shape", "expects rows >= 0 and positive widths, got \(rows) x \(inWidth) -> \(outWidth)")
        }
        guard weight.count == outWidth * inWidth * dtype.byteSize else {
            throw SkrrError(key: "weight", "a [\(outWidth), \(inWidth)] \(dtype.rawValue) matrix is \(outWidth * inWidth * dtype.byteSize) bytes, got \(weight.count)")
        }
        guard (scales != nil) == dtype.isScaled else {
            throw SkrrError(key: "scales", dtype.isScaled ? "an int8 matrix needs its row scales" : "only int8 matrices have row scales")
        }
        var rowScales: [Float] = []
        if let scales {
            guard scales.count == outWidth * 4 else {
                throw SkrrError(key: "scales", "expects \(outWidth) f32 values (\(outWidth * 4) bytes), got \(scales.count) bytes")
            }
            rowScales = (0..<outWidth).map { Float(bitPattern: UInt32(littleEndian: scales.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        guard rows > 0 else { return }
        rowScales.withUnsafeBufferPointer { rowScales in BLAS.singleThreaded {
            let product = LinearProduct(workers: threads, workspace: workspace)
            let base = weight.baseAddress!
            let matrix: StagedMatrix
            switch dtype {
            case .f32 where Int(bitPattern: base) % 4 == 0: matrix = .f32(base.assumingMemoryBound(to: Float.self))
            case .f32: matrix = .f32(product.alignedCopy(weight, count: outWidth * inWidth, buffer: 0))
            case .bf16, .f16, .int8:
                matrix = .half(base, dtype, halfWeightKernel.resolved(for: dtype, at: base), roundsInput: false,
                               scales: dtype.isScaled ? rowScales.baseAddress : nil)
            }
            product.multiply(input, rows: rows, matrix, bias: nil, inWidth: inWidth, outWidth: outWidth, into: out,
                             accumulate: accumulate)
        } }
    }

    /// `input[rows × inWidth] · Wᵀ (+ bias)` as a new array, on the calling thread.
    public static func linear(_ input: [Float], rows: Int, weight: UnsafeRawBufferPointer, dtype: WeightType,
                              outWidth: Int, inWidth: Int, bias: [Float]? = nil) throws -> [Float] {
        guard rows >= 0, input.count == rows * inWidth else {
            throw SkrrError(key: "input", "expects \(rows) rows of width \(inWidth) (\(rows * inWidth) values), got \(input.count)")
        }
        if let bias, bias.count != outWidth {
            throw SkrrError(key: "bias", "expects \(outWidth) values, got \(bias.count)")
        }
        var out = [Float](repeating: 0, count: rows * outWidth)
        guard rows > 0 else { return out }
        try input.withUnsafeBufferPointer { x in try out.withUnsafeMutableBufferPointer { c in
            try MatrixProduct().multiply(x.baseAddress!, rows: rows, weight: weight, dtype: dtype, outWidth: outWidth,
                                         inWidth: inWidth, into: c.baseAddress!)
            if let bias {
                for row in 0..<rows { Elementwise.add(c.baseAddress! + row * outWidth, bias, count: outWidth) }
            }
        } }
        return out
    }

    /// The same for an f32 matrix held in an array.
    public static func linear(_ input: [Float], rows: Int, weight: [Float], outWidth: Int, inWidth: Int,
                              bias: [Float]? = nil) throws -> [Float] {
        try weight.withUnsafeBytes {
            try linear(input, rows: rows, weight: $0, dtype: .f32, outWidth: outWidth, inWidth: inWidth, bias: bias)
        }
    }

    /// `values ← activation(values)` in place, with the interpreter's own vector activation (a
    /// denoiser's projection applies GELU-tanh between its layers exactly as an encoder would).
    public static func activate(_ values: inout [Float], _ kind: RuntimeActivation) {
        values.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            Elementwise.activate(base, count: buffer.count, kind)
        }
    }
}
