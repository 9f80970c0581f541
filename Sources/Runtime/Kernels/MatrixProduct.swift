import SkrrSupport

/// The interpreter's matrix products for code outside it (a denoiser's text projection applied
/// to embeddings, say): `input · Wᵀ + b` with W stored `[out, in]`, through OpenBLAS for f32 and
/// `HalfWeightProduct` for bf16 and f16 (exact f32 products, no weight-sized scratch). Runs on
/// the calling thread, so callers that already spread batches over threads may call it from
/// each of them.
public enum MatrixProduct {
    /// `input[rows × inWidth] · Wᵀ (+ bias)` for W `[outWidth, inWidth]` stored as `dtype` in
    /// `weight` (little-endian, as mapped from a file; any alignment). Sums are f32, in another
    /// order than a naive loop's, so results may differ from one in the last bits.
    public static func linear(_ input: [Float], rows: Int, weight: UnsafeRawBufferPointer, dtype: WeightType,
                              outWidth: Int, inWidth: Int, bias: [Float]? = nil) throws -> [Float] {
        guard rows >= 0, outWidth > 0, inWidth > 0, input.count == rows * inWidth else {
            throw SkrrError(key: "input", "expects \(rows) rows of width \(inWidth) (\(rows * inWidth) values), got \(input.count)")
        }
        guard weight.count == outWidth * inWidth * dtype.byteSize else {
            throw SkrrError(key: "weight", "a [\(outWidth), \(inWidth)] \(dtype.rawValue) matrix is \(outWidth * inWidth * dtype.byteSize) bytes, got \(weight.count)")
        }
        if let bias, bias.count != outWidth {
            throw SkrrError(key: "bias", "expects \(outWidth) values, got \(bias.count)")
        }
        try BLAS.ensureLoaded()
        var out = [Float](repeating: 0, count: rows * outWidth)
        guard rows > 0 else { return out }
        BLAS.singleThreaded {
            input.withUnsafeBufferPointer { x in out.withUnsafeMutableBufferPointer { c in
                product(x.baseAddress!, rows: rows, weight: weight, dtype: dtype, outWidth: outWidth, inWidth: inWidth,
                        into: c.baseAddress!)
            } }
        }
        if let bias {
            out.withUnsafeMutableBufferPointer { c in bias.withUnsafeBufferPointer { b in
                for row in 0..<rows { Elementwise.add(c.baseAddress! + row * outWidth, b.baseAddress!, count: outWidth) }
            } }
        }
        return out
    }

    /// The same for an f32 matrix held in an array.
    public static func linear(_ input: [Float], rows: Int, weight: [Float], outWidth: Int, inWidth: Int,
                              bias: [Float]? = nil) throws -> [Float] {
        try weight.withUnsafeBytes {
            try linear(input, rows: rows, weight: $0, dtype: .f32, outWidth: outWidth, inWidth: inWidth, bias: bias)
        }
    }

    private static func product(_ x: UnsafePointer<Float>, rows: Int, weight: UnsafeRawBufferPointer, dtype: WeightType,
                                outWidth: Int, inWidth: Int, into c: UnsafeMutablePointer<Float>) {
        let base = weight.baseAddress!
        switch dtype {
        case .f32 where Int(bitPattern: base) % 4 == 0:
            BLAS.sgemm(m: rows, n: outWidth, k: inWidth, a: x, lda: inWidth, b: base.assumingMemoryBound(to: Float.self),
                       ldb: inWidth, transposeB: true, c: c, ldc: outWidth)
        case .f32:
            let aligned = [Float](unsafeUninitializedCapacity: outWidth * inWidth) { buffer, count in
                WeightConversion.toFloat(weight, dtype: .f32, count: outWidth * inWidth, into: buffer.baseAddress!)
                count = outWidth * inWidth
            }
            aligned.withUnsafeBufferPointer {
                BLAS.sgemm(m: rows, n: outWidth, k: inWidth, a: x, lda: inWidth, b: $0.baseAddress!, ldb: inWidth,
                           transposeB: true, c: c, ldc: outWidth)
            }
        case .bf16, .f16:
            let kernel = HalfWeightKernel.preferred.resolved(for: dtype, at: base)
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: HalfWeightProduct.scratchCount(kernel))
            defer { scratch.deallocate() }
            HalfWeightProduct.multiply(kernel, x: x, rows: rows, depth: inWidth, weights: base, dtype: dtype,
                                       columns: 0..<outWidth, into: c, ldc: outWidth, accumulate: false, scratch: scratch)
        }
    }
}
