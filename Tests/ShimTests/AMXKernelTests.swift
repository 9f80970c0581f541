import CKernels
import Testing

/// The AMX bf16 GEMM (`--compute bf16` on Intel AMX). Its sums are a documented order (per 32
/// values of k: even and odd products in two f32 chains, added, then added to the output), and
/// the portable reference computes that order one output at a time: the kernel must give the
/// reference's bits, and the reference must be a correct dot product.
@Suite struct AMXKernelTests {
    static let amx = skrr_amx_bf16_supported() == 1

    struct Case {
        var m: Int, n: Int, k: Int
        var a: [UInt16], w: [UInt16], start: [Float]
        var lda: Int, ldw: Int, ldc: Int
    }

    /// A (padded as the kernel requires) and W with values over ±2^30 so that rounding, not
    /// just ordering, is exercised; C's padding columns hold values the kernel must not touch.
    static func make(_ m: Int, _ n: Int, _ k: Int, seed: UInt64, wide: Bool = true) -> Case {
        var state = seed
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let unit = Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 997
            guard wide else { return unit }
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return unit * Float(sign: .plus, exponent: Int(state >> 58) - 30, significand: 1)
        }
        let lda = Int(skrr_amx_padded(Int32(k))) + 32, ldw = k + 3, ldc = n + 2
        var a = [UInt16](repeating: 0, count: Int(skrr_amx_padded(Int32(m))) * lda)
        let x = (0..<(m * k)).map { _ in next() }
        skrr_bf16_rows_padded(Int32(m), Int32(k), x, Int32(k), &a, Int32(lda))
        let w = (0..<(n * ldw)).map { _ in UInt16(next().bitPattern >> 16) }
        let start = (0..<(m * ldc)).map { _ in next() }
        return Case(m: m, n: n, k: k, a: a, w: w, start: start, lda: lda, ldw: ldw, ldc: ldc)
    }

    static func run(_ t: Case, accumulate: Bool, reference: Bool) -> [Float] {
        var c = t.start
        if reference {
            skrr_amx_bf16_gemm_reference(Int32(t.m), Int32(t.n), Int32(t.k), t.a, Int32(t.lda), t.w, Int32(t.ldw), &c,
                                         Int32(t.ldc), accumulate ? 1 : 0)
        } else {
            var scratch = [UInt8](repeating: 0, count: skrr_amx_bf16_scratch_bytes())
            skrr_amx_bf16_gemm(Int32(t.m), Int32(t.n), Int32(t.k), t.a, Int32(t.lda), t.w, Int32(t.ldw), &c, Int32(t.ldc),
                               accumulate ? 1 : 0, &scratch)
        }
        return c
    }

    /// Every edge: m, n, k not multiples of 16 or 32; k below one tile and across depth blocks (at
    /// most 512 deep, split evenly); n across channel blocks (at most 512, split evenly); a single
    /// output. The last two run several channel and depth blocks, each with a shorter last block,
    /// and row blocks whose successor is packed while they compute, the last of them partial.
    static let shapes = [(1, 1, 1), (5, 7, 33), (33, 40, 70), (64, 96, 1030), (100, 300, 2100), (17, 513, 64), (32, 32, 32),
                         (70, 1100, 2500), (97, 1030, 1300)]

    @Test(.enabled(if: amx, "this CPU has no AMX-BF16 (the kernel then runs the reference itself)"), arguments: shapes)
    func kernelGivesTheReferenceBits(_ shape: (Int, Int, Int)) {
        let t = Self.make(shape.0, shape.1, shape.2, seed: UInt64(shape.0 * 7919 + shape.1 * 31 + shape.2))
        for accumulate in [false, true] {
            let kernel = Self.run(t, accumulate: accumulate, reference: false)
            let reference = Self.run(t, accumulate: accumulate, reference: true)
            #expect(kernel.map(\.bitPattern) == reference.map(\.bitPattern), "\(shape) accumulate \(accumulate)")
            for i in 0..<t.m { for j in t.n..<t.ldc { #expect(kernel[i * t.ldc + j] == t.start[i * t.ldc + j]) } }
        }
    }

    /// The reference is a dot product of the bf16 values: within f32 rounding of double precision.
    @Test(arguments: [(3, 5, 40), (9, 17, 1030)])
    func referenceIsADotProduct(_ shape: (Int, Int, Int)) {
        let t = Self.make(shape.0, shape.1, shape.2, seed: 42, wide: false)
        func value(_ bits: UInt16) -> Double { Double(Float(bitPattern: UInt32(bits) << 16)) }
        for accumulate in [false, true] {
            let c = Self.run(t, accumulate: accumulate, reference: true)
            for i in 0..<t.m {
                for j in 0..<t.n {
                    let dot = ExactDot(start: accumulate ? Double(t.start[i * t.ldc + j]) : 0, count: t.k) { p in
                        value(t.a[i * t.lda + p]) * value(t.w[j * t.ldw + p])
                    }
                    #expect(abs(dot.sum - Double(c[i * t.ldc + j])) <= 1e-6 * dot.magnitude, "\(shape) (\(i), \(j))")
                }
            }
        }
    }

    /// A row's outputs do not depend on which rows or columns share its call: what lets the
    /// search run a slot over all calibration batches at once.
    @Test func outputsDoNotDependOnTheSplit() {
        let t = Self.make(45, 70, 300, seed: 7)
        let whole = Self.run(t, accumulate: false, reference: false)
        var pieces = t.start
        var scratch = [UInt8](repeating: 0, count: skrr_amx_bf16_scratch_bytes())
        // Rows 0..<13 and 13..<45 (the second call's A starts mid-tile), columns 0..<48 and 48..<70.
        for (rows, columns) in [(0..<13, 0..<48), (0..<13, 48..<70), (13..<45, 0..<48), (13..<45, 48..<70)] {
            t.a.withUnsafeBufferPointer { a in
                t.w.withUnsafeBufferPointer { w in
                    pieces.withUnsafeMutableBufferPointer { c in
                        skrr_amx_bf16_gemm(Int32(rows.count), Int32(columns.count), Int32(t.k), a.baseAddress! + rows.lowerBound * t.lda,
                                           Int32(t.lda), w.baseAddress! + columns.lowerBound * t.ldw, Int32(t.ldw),
                                           c.baseAddress! + rows.lowerBound * t.ldc + columns.lowerBound, Int32(t.ldc), 0, &scratch)
                    }
                }
            }
        }
        #expect(pieces.map(\.bitPattern) == whole.map(\.bitPattern))
    }
}
