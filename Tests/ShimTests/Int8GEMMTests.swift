import CKernels
import Testing

/// The packing GEMM for int8 weights with per-row scales (`skrr_wgemm_i8`): each weight must
/// enter the products as fl(q · scale[row]) and be summed exactly as the bf16 kernel sums.
@Suite(.enabled(if: skrr_wgemm_supported(SKRR_WEIGHT_I8) == 1, "this CPU has no AVX2+FMA"))
struct Int8GEMMTests {
    typealias Case = WideningGEMMTests.Case

    struct Operands {
        var x: [Float], codes: [Int8], scales: [Float], start: [Float]
        var ldx: Int, ldw: Int, ldc: Int
    }

    /// Random X, codes over the whole range (±127 included) and scales; leading dimensions wider
    /// than the matrices, X's gaps NaN (they must never reach an output). `powerOfTwoScales`
    /// makes every q · scale exact in bf16.
    static func operands(_ shape: Case, powerOfTwoScales: Bool) -> Operands {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15 &+ UInt64(shape.m * 7919 + shape.n * 104_729 + shape.k)
        func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 11
        }
        let ldx = shape.k + 3, ldw = shape.k + 5, ldc = shape.n + 2
        var x = [Float](repeating: .nan, count: shape.m * ldx)
        for i in 0..<shape.m { for p in 0..<shape.k { x[i * ldx + p] = Float(Int64(next() % 20001) - 10000) / 7919 } }
        var codes = [Int8](repeating: 0, count: shape.n * ldw)
        for j in 0..<shape.n { for p in 0..<shape.k { codes[j * ldw + p] = Int8(Int64(next() % 255) - 127) } }
        let scales = (0..<shape.n).map { j -> Float in
            powerOfTwoScales ? Float(sign: .plus, exponent: -Int(next() % 12), significand: 1) : Float(next() % 100_000 + 1) / 9_999_991
        }
        let start = (0..<(shape.m * ldc)).map { _ in Float(Int64(next() % 2001) - 1000) / 313 }
        return Operands(x: x, codes: codes, scales: scales, start: start, ldx: ldx, ldw: ldw, ldc: ldc)
    }

    static func run(_ shape: Case, _ o: Operands, accumulate: Bool) -> [Float] {
        var c = o.start
        let scratch = [Float](repeating: 0, count: skrr_wgemm_scratch_floats())
        scratch.withUnsafeBufferPointer { s in
            skrr_wgemm_i8(Int32(shape.m), Int32(shape.n), Int32(shape.k), o.x, Int32(o.ldx), o.codes, Int32(o.ldw), o.scales,
                          &c, Int32(o.ldc), accumulate ? 1 : 0, UnsafeMutablePointer(mutating: s.baseAddress!))
        }
        return c
    }

    @Test(arguments: WideningGEMMTests.cases)
    func matchesDoublePrecisionOfTheDequantizedMatrix(_ shape: Case) {
        let o = Self.operands(shape, powerOfTwoScales: false)
        for accumulate in [false, true] {
            let c = Self.run(shape, o, accumulate: accumulate)
            var worst = 0.0
            for i in 0..<shape.m {
                for j in 0..<shape.n {
                    let dot = ExactDot(start: accumulate ? Double(o.start[i * o.ldc + j]) : 0, count: shape.k) { p in
                        let weight = Float(o.codes[j * o.ldw + p]) * o.scales[j]  // fl(q · scale), as stored values read
                        return Double(o.x[i * o.ldx + p]) * Double(weight)
                    }
                    worst = max(worst, dot.relativeError(c[i * o.ldc + j]))
                }
                for j in shape.n..<o.ldc { #expect(c[i * o.ldc + j].bitPattern == o.start[i * o.ldc + j].bitPattern) }
            }
            // A wrong row's scale or a code read as unsigned shows as O(1); f32 sums stay near 1e-7.
            #expect(worst < 1e-5, "\(shape) accumulate \(accumulate): relative error \(worst)")
        }
    }

    /// With power-of-two scales every q · scale is a bf16 value, so the int8 kernel must give
    /// exactly the bf16 kernel's bits on those values: same packing, same order of sums.
    @Test(arguments: WideningGEMMTests.cases)
    func bitIdenticalToTheBF16KernelOnTheSameValues(_ shape: Case) {
        let o = Self.operands(shape, powerOfTwoScales: true)
        var bf16 = [UInt16](repeating: 0x7FC0, count: shape.n * o.ldw)
        for j in 0..<shape.n {
            for p in 0..<shape.k {
                let value = Float(o.codes[j * o.ldw + p]) * o.scales[j]
                #expect(value.bitPattern & 0xFFFF == 0)
                bf16[j * o.ldw + p] = UInt16(value.bitPattern >> 16)
            }
        }
        let int8 = Self.run(shape, o, accumulate: true)
        var half = o.start
        let scratch = [Float](repeating: 0, count: skrr_wgemm_scratch_floats())
        scratch.withUnsafeBufferPointer { s in
            skrr_wgemm(Int32(shape.m), Int32(shape.n), Int32(shape.k), o.x, Int32(o.ldx), bf16, Int32(o.ldw), SKRR_HALF_BF16,
                       &half, Int32(o.ldc), 1, UnsafeMutablePointer(mutating: s.baseAddress!))
        }
        #expect(int8.map(\.bitPattern) == half.map(\.bitPattern), "\(shape)")
    }

    /// Splitting the columns (threads) or rows never changes a bit, as for the half kernel.
    @Test func splittingRowsOrColumnsChangesNothing() {
        let shape = Case(m: 31, n: 70, k: 600)
        let o = Self.operands(shape, powerOfTwoScales: false)
        let whole = Self.run(shape, o, accumulate: true)
        var pieces = o.start
        let scratch = [Float](repeating: 0, count: skrr_wgemm_scratch_floats())
        scratch.withUnsafeBufferPointer { s in
            let sp = UnsafeMutablePointer(mutating: s.baseAddress!)
            o.x.withUnsafeBufferPointer { x in o.codes.withUnsafeBufferPointer { w in
                o.scales.withUnsafeBufferPointer { scales in pieces.withUnsafeMutableBufferPointer { c in
                    for (rows, columns) in [(0..<7, 0..<16), (0..<7, 16..<70), (7..<31, 0..<37), (7..<31, 37..<70)] {
                        skrr_wgemm_i8(Int32(rows.count), Int32(columns.count), Int32(shape.k), x.baseAddress! + rows.lowerBound * o.ldx,
                                      Int32(o.ldx), w.baseAddress! + columns.lowerBound * o.ldw, Int32(o.ldw),
                                      scales.baseAddress! + columns.lowerBound,
                                      c.baseAddress! + rows.lowerBound * o.ldc + columns.lowerBound, Int32(o.ldc), 1, sp)
                    }
                } }
            } }
        }
        #expect(pieces.map(\.bitPattern) == whole.map(\.bitPattern))
    }
}
