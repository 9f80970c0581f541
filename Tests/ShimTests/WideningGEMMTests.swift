import CKernels
import Testing

/// The packing GEMM for half-precision weights (Sources/CKernels/widening_gemm.c) against
/// double-precision sums of the same products: weights are widened exactly and X is never
/// rounded, so only the order of f32 additions differs. Skipped on CPUs without AVX2 and FMA
/// (the runtime then uses the panel kernel, tested in RuntimeTests).
@Suite(.enabled(if: skrr_wgemm_supported(SKRR_HALF_BF16) == 1, "this CPU has no AVX2+FMA"))
struct WideningGEMMTests {
    struct Case: Sendable, CustomStringConvertible {
        var m, n, k: Int
        var description: String { "\(m)x\(n)x\(k)" }
    }

    /// Every edge of the blocking: rows not a multiple of 6 or of the 120-row block, columns not
    /// a multiple of 16 or of the 1024-column block, depth not a multiple of 8 or of the 256-deep
    /// block, and each below one register block.
    static let cases: [Case] = [
        Case(m: 1, n: 1, k: 1), Case(m: 6, n: 16, k: 8), Case(m: 5, n: 17, k: 9), Case(m: 7, n: 3, k: 300),
        Case(m: 13, n: 33, k: 257), Case(m: 121, n: 40, k: 31), Case(m: 2, n: 1030, k: 20), Case(m: 58, n: 64, k: 520),
    ]

    static func bf16(_ value: Float) -> UInt16 { UInt16((value.bitPattern &+ 0x7FFF &+ ((value.bitPattern >> 16) & 1)) >> 16) }

    struct Operands {
        var x: [Float], w: [UInt16], widened: [Float], start: [Float]
        var ldx: Int, ldw: Int, ldc: Int
    }

    /// Operands with leading dimensions wider than the matrices (the gaps hold NaN, which must
    /// never reach an output).
    static func operands(_ shape: Case, halfKind: Int32) -> Operands {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D &+ UInt64(shape.m * 1_000_003 + shape.n * 1009 + shape.k)
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 20001 - 10000) / 7919
        }
        let ldx = shape.k + 3, ldw = shape.k + 5, ldc = shape.n + 2
        var x = [Float](repeating: .nan, count: shape.m * ldx)
        var w = [UInt16](repeating: halfKind == SKRR_HALF_F16 ? 0x7E00 : 0x7FC0, count: shape.n * ldw)
        var widened = [Float](repeating: 0, count: shape.n * shape.k)
        for i in 0..<shape.m { for p in 0..<shape.k { x[i * ldx + p] = next() } }
        for j in 0..<shape.n {
            for p in 0..<shape.k {
                let value = next()
                if halfKind == SKRR_HALF_F16 {
                    let half = Float16(value)
                    w[j * ldw + p] = half.bitPattern
                    widened[j * shape.k + p] = Float(half)
                } else {
                    w[j * ldw + p] = bf16(value)
                    widened[j * shape.k + p] = Float(bitPattern: UInt32(bf16(value)) << 16)
                }
            }
        }
        let start = (0..<(shape.m * ldc)).map { _ in next() }
        return Operands(x: x, w: w, widened: widened, start: start, ldx: ldx, ldw: ldw, ldc: ldc)
    }

    static func run(_ shape: Case, _ o: Operands, halfKind: Int32, accumulate: Bool) -> [Float] {
        var c = o.start
        let scratch = [Float](repeating: 0, count: skrr_wgemm_scratch_floats())
        scratch.withUnsafeBufferPointer { s in
            skrr_wgemm(Int32(shape.m), Int32(shape.n), Int32(shape.k), o.x, Int32(o.ldx), o.w, Int32(o.ldw), halfKind, &c,
                       Int32(o.ldc), accumulate ? 1 : 0, UnsafeMutablePointer(mutating: s.baseAddress!))
        }
        return c
    }

    @Test(arguments: cases, [SKRR_HALF_BF16, SKRR_HALF_F16])
    func matchesDoublePrecision(_ shape: Case, halfKind: Int32) throws {
        try #require(skrr_wgemm_supported(halfKind) == 1, "no F16C")
        let o = Self.operands(shape, halfKind: halfKind)
        for accumulate in [false, true] {
            let c = Self.run(shape, o, halfKind: halfKind, accumulate: accumulate)
            var worst = 0.0
            for i in 0..<shape.m {
                for j in 0..<shape.n {
                    let dot = ExactDot(start: accumulate ? Double(o.start[i * o.ldc + j]) : 0, count: shape.k) { p in
                        Double(o.x[i * o.ldx + p]) * Double(o.widened[j * shape.k + p])
                    }
                    worst = max(worst, dot.relativeError(c[i * o.ldc + j]))
                }
                for j in shape.n..<o.ldc { #expect(c[i * o.ldc + j].bitPattern == o.start[i * o.ldc + j].bitPattern) }
            }
            // Rounding X or W to bf16 on the way would show as ~1e-3; f32 sums stay near 1e-7.
            #expect(worst < 1e-5, "\(shape) accumulate \(accumulate): relative error \(worst)")
        }
    }

    /// An output does not depend on which rows and columns a call covers, so splitting a product
    /// over threads (by columns) or over row groups never changes a bit.
    @Test func splittingRowsOrColumnsChangesNothing() {
        let shape = Case(m: 31, n: 70, k: 600)
        let o = Self.operands(shape, halfKind: SKRR_HALF_BF16)
        let whole = Self.run(shape, o, halfKind: SKRR_HALF_BF16, accumulate: true)
        var pieces = o.start
        let scratch = [Float](repeating: 0, count: skrr_wgemm_scratch_floats())
        scratch.withUnsafeBufferPointer { s in
            let sp = UnsafeMutablePointer(mutating: s.baseAddress!)
            o.x.withUnsafeBufferPointer { x in o.w.withUnsafeBufferPointer { w in pieces.withUnsafeMutableBufferPointer { c in
                for (rows, columns) in [(0..<7, 0..<16), (0..<7, 16..<70), (7..<31, 0..<37), (7..<31, 37..<70)] {
                    skrr_wgemm(Int32(rows.count), Int32(columns.count), Int32(shape.k), x.baseAddress! + rows.lowerBound * o.ldx,
                               Int32(o.ldx), w.baseAddress! + columns.lowerBound * o.ldw, Int32(o.ldw), SKRR_HALF_BF16,
                               c.baseAddress! + rows.lowerBound * o.ldc + columns.lowerBound, Int32(o.ldc), 1, sp)
                }
            } } }
        }
        #expect(pieces.map(\.bitPattern) == whole.map(\.bitPattern))
    }

    /// k = 0 is an empty sum: C becomes 0, or stays as it was when accumulating.
    @Test func emptyDepth() {
        let scratch = [Float](repeating: 0, count: skrr_wgemm_scratch_floats())
        var c: [Float] = [1, 2, 3, 4]
        scratch.withUnsafeBufferPointer { s in
            let sp = UnsafeMutablePointer(mutating: s.baseAddress!)
            skrr_wgemm(2, 2, 0, [], 1, [], 1, SKRR_HALF_BF16, &c, 2, 1, sp)
            #expect(c == [1, 2, 3, 4])
            skrr_wgemm(2, 2, 0, [], 1, [], 1, SKRR_HALF_BF16, &c, 2, 0, sp)
        }
        #expect(c == [0, 0, 0, 0])
    }
}
