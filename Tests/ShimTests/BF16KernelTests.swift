import CKernels
import Testing

/// The AVX-512 BF16 GEMM and conversion against plain double-precision arithmetic on the same
/// bf16 values: the kernel only changes the order of f32 additions, so it must agree to f32
/// rounding. Skipped on CPUs without AVX-512 BF16 (the interpreter then never calls it).
@Suite(.enabled(if: skrr_bf16_supported() == 1, "this CPU has no AVX-512 BF16"))
struct BF16KernelTests {
    static func bf16(_ value: Float) -> UInt16 {
        var bits = value.bitPattern
        if value.isNaN { return UInt16(bits >> 16) | 0x40 }
        bits = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(bits >> 16)
    }

    static func float(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    /// Shapes with every edge: rows and columns not multiples of 4, k not a multiple of 32,
    /// k below one vector, leading dimensions wider than the matrices.
    @Test(arguments: [(4, 4, 32), (5, 3, 40), (1, 1, 1), (7, 70, 31), (13, 66, 97), (64, 64, 768), (3, 129, 300)])
    func gemmMatchesDoublePrecision(_ shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        let lda = k + 3, ldb = k + 5, ldc = n + 2
        var state: UInt64 = 0x9E37_79B9
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 997
        }
        let a = (0..<(m * lda)).map { _ in Self.bf16(next()) }
        let b = (0..<(n * ldb)).map { _ in Self.bf16(next()) }
        let start = (0..<(m * ldc)).map { _ in next() }
        for accumulate in [false, true] {
            var c = start
            skrr_bf16_gemm(Int32(m), Int32(n), Int32(k), a, Int32(lda), b, Int32(ldb), &c, Int32(ldc), accumulate ? 1 : 0)
            var worst = 0.0
            for i in 0..<m {
                for j in 0..<n {
                    let dot = ExactDot(start: accumulate ? Double(start[i * ldc + j]) : 0, count: k) { p in
                        Double(Self.float(a[i * lda + p])) * Double(Self.float(b[j * ldb + p]))
                    }
                    worst = max(worst, dot.relativeError(c[i * ldc + j]))
                }
                // Padding columns of C beyond n are untouched.
                for j in n..<ldc { #expect(c[i * ldc + j] == start[i * ldc + j]) }
            }
            #expect(worst < 1e-6, "m \(m) n \(n) k \(k) accumulate \(accumulate): relative error \(worst)")
        }
    }

    /// Round to nearest, ties to even, as torch's `.to(torch.bfloat16)`; infinities and NaN kept;
    /// subnormals flushed to signed zero (as the instruction does) in the vector body and the tail.
    @Test func conversionRoundsToNearestEven() {
        let values: [Float] = [1, -1, 0, -0.0, 1.00390625, 1.01171875, 1.0078125, 3.14159265, 65504, 1e-40, .infinity, -.infinity,
                               Float(bitPattern: 0x3F80_8000), Float(bitPattern: 0x3F81_8000), Float(bitPattern: 0x3F80_8001)]
            + (0..<37).map { Float($0) * 0.37 - 5 }
        var out = [UInt16](repeating: 0, count: values.count)
        skrr_f32_to_bf16(values, &out, values.count)
        for (value, bits) in zip(values, out) {
            let expected = value.isSubnormal ? (value.sign == .minus ? 0x8000 : 0) : Self.bf16(value)
            #expect(bits == expected, "\(value)")
        }
        // The same subnormals in the vector body (first 16) and in the scalar tail.
        var flushed = [UInt16](repeating: 1, count: 19)
        skrr_f32_to_bf16([Float](repeating: -1e-40, count: 19), &flushed, 19)
        #expect(flushed.allSatisfy { $0 == 0x8000 })
        var nan = [UInt16](repeating: 0, count: 17)
        skrr_f32_to_bf16([Float](repeating: .nan, count: 17), &nan, 17)
        #expect(nan.allSatisfy { Self.float($0).isNaN })
    }
}
