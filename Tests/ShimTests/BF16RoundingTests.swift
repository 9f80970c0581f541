import CKernels
import Testing

/// `--compute bf16` without AVX-512 BF16: activations rounded to bf16 (kept as f32) by
/// skrr_round_to_bf16_f32, then the half-weight GEMM. The rounding must be vcvtneps2bf16's, and
/// the product must equal double-precision sums of the rounded activations times the bf16
/// weights (only the order of f32 additions differs), as BF16KernelTests checks for the AVX-512
/// kernel.
@Suite struct BF16RoundingTests {
    static func float(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    /// Round to nearest, ties to even; NaN stays NaN; subnormals become signed zero.
    static func reference(_ value: Float) -> Float {
        if value.isNaN { return .nan }
        if value.isSubnormal || value == 0 { return value.sign == .minus ? -0.0 : 0 }
        return float(BF16KernelTests.bf16(value))
    }

    @Test func roundsAsTheInstructionDoes() {
        let values: [Float] = [1, -1, 0, -0.0, 1.00390625, 1.01171875, 1.0078125, 3.14159265, 65504, 1e-40, -1e-40,
                               .infinity, -.infinity, .nan, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                               .leastNormalMagnitude, Float(bitPattern: 0x3F80_8000), Float(bitPattern: 0x3F81_8000),
                               Float(bitPattern: 0x3F80_8001), Float(bitPattern: 0x3F80_7FFF)]
            + (0..<37).map { Float($0) * 0.37 - 5 }
        // Every value both in the 8-wide body and in the scalar tail (offsets 0 and 3 of 11).
        for offset in [0, 3] {
            let input = [Float](repeating: 2, count: offset) + values + [Float](repeating: 2, count: 3)
            var out = [Float](repeating: 7, count: input.count)
            skrr_round_to_bf16_f32(input, &out, input.count)
            for (value, rounded) in zip(input, out) {
                let expected = Self.reference(value)
                if expected.isNaN {
                    #expect(rounded.isNaN, "\(value)")
                } else {
                    #expect(rounded.bitPattern == expected.bitPattern, "\(value) (\(value.bitPattern)) -> \(rounded)")
                }
            }
        }
        // In place.
        var inPlace: [Float] = (0..<19).map { Float($0) * 1.001 }
        let expected = inPlace.map(Self.reference)
        inPlace.withUnsafeMutableBufferPointer { skrr_round_to_bf16_f32($0.baseAddress!, $0.baseAddress!, 19) }
        #expect(inPlace == expected)
    }

    /// Rounded activations through skrr_wgemm against double-precision sums of the same bf16
    /// values, on the shapes BF16KernelTests uses; and, where AVX-512 BF16 exists, against its
    /// kernel: both compute the same products.
    @Test(.enabled(if: skrr_wgemm_supported(SKRR_HALF_BF16) == 1, "this CPU has no AVX2+FMA"),
          arguments: [(4, 4, 32), (5, 3, 40), (1, 1, 1), (7, 70, 31), (13, 66, 97), (64, 64, 768), (3, 129, 300)])
    func roundedProductMatchesDoublePrecision(_ shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        var state: UInt64 = 0x9E37_79B9
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 997
        }
        let x = (0..<(m * k)).map { _ in next() }
        let w = (0..<(n * k)).map { _ in BF16KernelTests.bf16(next()) }
        var rounded = [Float](repeating: 0, count: m * k)
        skrr_round_to_bf16_f32(x, &rounded, m * k)
        var c = [Float](repeating: 0, count: m * n)
        let scratch = [Float](repeating: 0, count: skrr_wgemm_scratch_floats())
        scratch.withUnsafeBufferPointer { s in
            skrr_wgemm(Int32(m), Int32(n), Int32(k), rounded, Int32(k), w, Int32(k), SKRR_HALF_BF16, &c, Int32(n), 0,
                       UnsafeMutablePointer(mutating: s.baseAddress!))
        }
        // Where AVX-512 BF16 exists, its kernel on the same inputs must be as close to the sums.
        var fast: [Float]? = nil
        if skrr_bf16_supported() == 1 {
            var a = [UInt16](repeating: 0, count: m * k), out = [Float](repeating: 0, count: m * n)
            skrr_f32_to_bf16(x, &a, m * k)
            skrr_bf16_gemm(Int32(m), Int32(n), Int32(k), a, Int32(k), w, Int32(k), &out, Int32(n), 0)
            fast = out
        }
        var worst = 0.0, worstFast = 0.0, roundedAway = false
        for i in 0..<m {
            for j in 0..<n {
                let dot = ExactDot(count: k) { p in
                    #expect(rounded[i * k + p] == Self.reference(x[i * k + p]))
                    roundedAway = roundedAway || rounded[i * k + p] != x[i * k + p]
                    return Double(rounded[i * k + p]) * Double(Self.float(w[j * k + p]))
                }
                worst = max(worst, dot.relativeError(c[i * n + j]))
                if let fast { worstFast = max(worstFast, dot.relativeError(fast[i * n + j])) }
            }
        }
        #expect(roundedAway, "the activations must really be rounded")
        #expect(worst < 1e-5, "relative error \(worst)")
        #expect(worstFast < 1e-5, "AVX-512 BF16 kernel: relative error \(worstFast)")
    }
}
