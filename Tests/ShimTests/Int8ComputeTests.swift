import CKernels
import Testing

/// `--compute int8`'s kernels: activations quantized per row (`skrr_i8_quantize_rows`) and the
/// int8 × int8 product with exact int32 sums (`skrr_i8_gemm`). Sums of integers are exact, so every
/// output must equal the one computed here from the codes, bit for bit, on any CPU.
@Suite struct Int8ComputeTests {
    struct Shape: CustomTestStringConvertible, Sendable {
        var m: Int, n: Int, k: Int
        var testDescription: String { "\(m)×\(n)×\(k)" }
    }

    /// Edges of the 8-row and 48-column blocks and of the 4-wide depth groups.
    static let shapes: [Shape] = [
        Shape(m: 1, n: 1, k: 1), Shape(m: 3, n: 5, k: 3), Shape(m: 8, n: 48, k: 4), Shape(m: 9, n: 49, k: 5),
        Shape(m: 7, n: 47, k: 130), Shape(m: 17, n: 100, k: 257), Shape(m: 33, n: 96, k: 1024),
    ]

    static func generator(_ seed: Int) -> () -> UInt64 {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D &+ UInt64(seed)
        return {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 11
        }
    }

    struct Operands {
        var codes: [UInt8], xScales: [Float], weights: [Int8], wScales: [Float], start: [Float]
        var ldq: Int, ldw: Int, ldc: Int
    }

    /// Activation codes over the whole stored range 1...255 (q = ±127 included), weights over
    /// ±127, leading dimensions wider than the matrices (W's gap holds 99s that must not count).
    static func operands(_ s: Shape) -> Operands {
        let next = generator(s.m * 7919 + s.n * 104_729 + s.k)
        let ldq = Int(skrr_i8_quantized_stride(Int32(s.k))) + 4, ldw = s.k + 3, ldc = s.n + 2
        var codes = [UInt8](repeating: 128, count: s.m * ldq)
        for r in 0..<s.m { for i in 0..<s.k { codes[r * ldq + i] = UInt8(1 + next() % 255) } }
        var weights = [Int8](repeating: 99, count: s.n * ldw)
        for j in 0..<s.n { for i in 0..<s.k { weights[j * ldw + i] = Int8(Int64(next() % 255) - 127) } }
        let xScales = (0..<s.m).map { _ in Float(next() % 10_000 + 1) / 77_777 }
        let wScales = (0..<s.n).map { _ in Float(next() % 10_000 + 1) / 99_991 }
        let start = (0..<(s.m * ldc)).map { _ in Float(Int64(next() % 2001) - 1000) / 313 }
        return Operands(codes: codes, xScales: xScales, weights: weights, wScales: wScales, start: start, ldq: ldq, ldw: ldw, ldc: ldc)
    }

    /// The documented result, computed here: acc in Int (no overflow possible at these sizes),
    /// then fl(fl(acc) · fl(xscale · wscale)), added to C in f32 when accumulating.
    static func expected(_ s: Shape, _ o: Operands, accumulate: Bool) -> [Float] {
        var c = o.start
        for r in 0..<s.m {
            for j in 0..<s.n {
                var acc = 0
                for i in 0..<s.k { acc += (Int(o.codes[r * o.ldq + i]) - 128) * Int(o.weights[j * o.ldw + i]) }
                let value = Float(acc) * (o.xScales[r] * o.wScales[j])
                c[r * o.ldc + j] = accumulate ? c[r * o.ldc + j] + value : value
            }
        }
        return c
    }

    static func run(_ s: Shape, _ o: Operands, accumulate: Bool, reference: Bool) -> [Float] {
        var c = o.start
        if reference {
            skrr_i8_gemm_reference(Int32(s.m), Int32(s.n), Int32(s.k), o.codes, Int32(o.ldq), o.xScales, o.weights, Int32(o.ldw),
                                   o.wScales, &c, Int32(o.ldc), accumulate ? 1 : 0)
        } else {
            var scratch = [UInt8](repeating: 0, count: skrr_i8_gemm_scratch_bytes(Int32(s.k)))
            scratch.withUnsafeMutableBytes { buffer in
                skrr_i8_gemm(Int32(s.m), Int32(s.n), Int32(s.k), o.codes, Int32(o.ldq), o.xScales, o.weights, Int32(o.ldw),
                             o.wScales, &c, Int32(o.ldc), accumulate ? 1 : 0, buffer.baseAddress)
            }
        }
        return c
    }

    /// The kernel this CPU runs (VNNI where present) and the portable loop both give exactly the
    /// outputs computed from the codes; the gaps of C past n are left alone.
    @Test(arguments: shapes)
    func productsAreExactIntegerSums(_ s: Shape) {
        let o = Self.operands(s)
        for accumulate in [false, true] {
            let want = Self.expected(s, o, accumulate: accumulate)
            for reference in [false, true] {
                let got = Self.run(s, o, accumulate: accumulate, reference: reference)
                let mismatches = zip(got, want).filter { $0.bitPattern != $1.bitPattern }.count
                #expect(mismatches == 0, "\(s.testDescription) accumulate \(accumulate) reference \(reference): \(mismatches) outputs differ")
            }
        }
    }

    /// Columns split at any point (as the workers split them) give the same outputs as one call.
    @Test func splittingTheColumnsChangesNothing() {
        let s = Shape(m: 13, n: 100, k: 77), o = Self.operands(s)
        let whole = Self.run(s, o, accumulate: false, reference: false)
        var pieces = o.start
        var scratch = [UInt8](repeating: 0, count: skrr_i8_gemm_scratch_bytes(Int32(s.k)))
        for (first, count) in [(0, 17), (17, 48), (65, 35)] {
            o.weights.withUnsafeBufferPointer { w in o.wScales.withUnsafeBufferPointer { ws in
                pieces.withUnsafeMutableBufferPointer { c in scratch.withUnsafeMutableBytes { buffer in
                    skrr_i8_gemm(Int32(s.m), Int32(count), Int32(s.k), o.codes, Int32(o.ldq), o.xScales,
                                 w.baseAddress! + first * o.ldw, Int32(o.ldw), ws.baseAddress! + first,
                                 c.baseAddress! + first, Int32(o.ldc), 0, buffer.baseAddress)
                } }
            } }
        }
        #expect(pieces == whole)
    }

    func quantize(_ rows: [[Float]]) -> (codes: [[UInt8]], scales: [Float]) {
        let k = rows[0].count, ldq = Int(skrr_i8_quantized_stride(Int32(k)))
        var codes = [UInt8](repeating: 0, count: rows.count * ldq), scales = [Float](repeating: -1, count: rows.count)
        skrr_i8_quantize_rows(Int32(rows.count), Int32(k), rows.flatMap { $0 }, Int32(k), &codes, Int32(ldq), &scales)
        return ((0..<rows.count).map { Array(codes[($0 * ldq)..<(($0 + 1) * ldq)]) }, scales)
    }

    /// amax / 127 per row; x · 127 / amax rounded half to even; padding and zero rows hold code 0
    /// (stored 128); a row with NaN or infinity gets scale NaN so its outputs cannot pass as numbers.
    @Test func activationsAreQuantizedPerRowHalfToEven() {
        let (codes, scales) = quantize([[0, 1, -2, 0.5, 2.0 / 254], [0, 0, 0, 0, 0], [1, .nan, 2, 3, 4], [.infinity, 1, 1, 1, 1]])
        // Row 0: amax 2, 127 / 2 = 63.5: 1 → 63.5 → 64 (even), 0.5 → 31.75 → 32, 2/254 → 0.5 → 0 (even).
        let row0: [UInt8] = [128, 192, 1, 160, 128, 128, 128, 128]  // 128 + (0, 64, -127, 32, 0), padding 128
        #expect(codes[0] == row0)
        #expect(scales[0] == Float(2) / 127)
        let zeros = [UInt8](repeating: 128, count: 8)
        #expect(codes[1] == zeros)
        #expect(scales[1] == 0)
        #expect(scales[2].isNaN && scales[3].isNaN)
        // A row of one magnitude: every code ±127.
        let single = quantize([[-3, 3, -3]])
        let extremes: [UInt8] = [1, 255, 1, 128]
        #expect(single.codes[0] == extremes)
        #expect(single.scales[0] == Float(3) / 127)
    }

    /// The vectorised quantizer (used with VNNI) gives the portable loop's codes and scales on rows
    /// of every tail length, with halves, signed zeros, subnormals and non-finite values mixed in.
    @Test func vectorQuantizerMatchesThePortableOne() {
        let next = Self.generator(42)
        for k in [1, 5, 15, 16, 17, 40, 255, 1000] {
            let m = 6, ldx = k + 1, ldq = Int(skrr_i8_quantized_stride(Int32(k))) + 4
            var x = (0..<(m * ldx)).map { _ in Float(Int64(next() % 20001) - 10000) / 313 }
            x[0] = -0.0
            if k > 3 { x[ldx + 2] = .nan; x[2 * ldx + 1] = -.infinity; x[3 * ldx + k - 1] = Float.leastNonzeroMagnitude }
            for i in 0..<k { x[4 * ldx + i] = Float(i % 3) - 1; x[5 * ldx + i] = i == k / 2 ? 254 : Float(i % 2) }
            var fast = [UInt8](repeating: 7, count: m * ldq), slow = fast
            var fastScales = [Float](repeating: 7, count: m), slowScales = fastScales
            skrr_i8_quantize_rows(Int32(m), Int32(k), x, Int32(ldx), &fast, Int32(ldq), &fastScales)
            skrr_i8_quantize_rows_reference(Int32(m), Int32(k), x, Int32(ldx), &slow, Int32(ldq), &slowScales)
            #expect(fast == slow, "k \(k): codes differ")
            #expect(fastScales.map(\.bitPattern) == slowScales.map(\.bitPattern), "k \(k): scales \(fastScales) vs \(slowScales)")
        }
    }
}
