import SkrrSupport
import Testing

/// Every f16 and bf16 bit pattern, and every rounding boundary between neighbouring values,
/// against references that do not share the implementation: Swift's own `Float16`, exact
/// arithmetic in `Double`, and the definition of round-to-nearest-even by neighbours.
@Suite struct HalfPrecisionTests {
    /// The f32 bits a 16-bit NaN widens to when its payload moves up unchanged.
    static func shiftedHalfNaN(_ bits: UInt16) -> UInt32 { UInt32(bits & 0x8000) << 16 | 0x7F80_0000 | UInt32(bits & 0x3FF) << 13 }

    @Test func halfWideningMatchesFloat16OnEveryBitPattern() {
        var mismatches: [String] = []
        for raw in 0...0xFFFF {
            let bits = UInt16(raw)
            let ours = HalfPrecision.halfToFloat(bits), swift = Float(Float16(bitPattern: bits))
            if swift.isNaN {
                // Swift may quiet a signalling NaN (bit 22); everything else, sign and payload
                // included, must agree, and ours keeps the payload exactly.
                if ours.bitPattern != Self.shiftedHalfNaN(bits) || ours.bitPattern | 0x40_0000 != swift.bitPattern | 0x40_0000 {
                    mismatches.append("NaN \(String(raw, radix: 16)): \(String(ours.bitPattern, radix: 16)) vs \(String(swift.bitPattern, radix: 16))")
                }
            } else if ours.bitPattern != swift.bitPattern {
                mismatches.append("\(String(raw, radix: 16)): \(ours) vs \(swift)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) patterns differ: \(mismatches.prefix(5))")
    }

    @Test func bf16WideningMatchesItsValueOnEveryBitPattern() {
        var mismatches: [String] = []
        for raw in 0...0xFFFF {
            let bits = UInt16(raw)
            let ours = HalfPrecision.bf16ToFloat(bits)
            let negative = bits & 0x8000 != 0, exponent = Int((bits >> 7) & 0xFF), fraction = Double(bits & 0x7F) / 128
            let expected: Float
            switch exponent {
            case 0xFF where fraction == 0: expected = negative ? -.infinity : .infinity
            case 0xFF: expected = Float(bitPattern: UInt32(bits) << 16)  // NaN: sign and payload shift up
            case 0: expected = Float(Double(sign: negative ? .minus : .plus, exponent: -126, significand: fraction))
            default: expected = Float(Double(sign: negative ? .minus : .plus, exponent: exponent - 127, significand: 1 + fraction))
            }
            if ours.bitPattern != expected.bitPattern { mismatches.append(String(raw, radix: 16)) }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) patterns differ: \(mismatches.prefix(5))")
    }

    /// Narrowing what widening produced gives the bits back; a NaN comes back quiet.
    @Test func narrowingUndoesWideningOnEveryBitPattern() {
        var halfMismatches: [UInt16] = [], bf16Mismatches: [UInt16] = []
        for raw in 0...0xFFFF {
            let bits = UInt16(raw)
            let halfNaN = bits & 0x7C00 == 0x7C00 && bits & 0x3FF != 0
            if HalfPrecision.floatToHalf(HalfPrecision.halfToFloat(bits)) != (halfNaN ? bits | 0x200 : bits) { halfMismatches.append(bits) }
            let bf16NaN = bits & 0x7F80 == 0x7F80 && bits & 0x7F != 0
            if HalfPrecision.floatToBF16(HalfPrecision.bf16ToFloat(bits)) != (bf16NaN ? bits | 0x40 : bits) { bf16Mismatches.append(bits) }
        }
        #expect(halfMismatches.isEmpty, "f16: \(halfMismatches.prefix(5))")
        #expect(bf16Mismatches.isEmpty, "bf16: \(bf16Mismatches.prefix(5))")
    }

    /// Between every two neighbouring f16 magnitudes (up to the overflow threshold, where the
    /// upper neighbour is infinity): the midpoint goes to the even one, a step either side to
    /// the nearer one; Swift's `Float16(_: Float)` agrees on each.
    @Test func halfNarrowingRoundsToNearestEvenAtEveryBoundary() {
        /// The magnitude of f16 bits `k`; 0x7C00 stands for 2^16, where rounding to infinity starts.
        func magnitude(_ k: Int) -> Double {
            let exponent = k >> 10, fraction = Double(k & 0x3FF) / 1024
            return exponent == 0 ? fraction * 0x1p-14 : Double(sign: .plus, exponent: exponent - 15, significand: 1 + fraction)
        }
        var mismatches: [String] = []
        for k in 0..<0x7C00 {
            let low = magnitude(k), high = magnitude(k + 1)
            let middle = Float((low + high) / 2)  // at most 12 significant bits: exact
            #expect(Double(middle) == (low + high) / 2)
            let even = k & 1 == 0 ? k : k + 1
            let cases: [(Float, Int)] = [(Float(low), k), (middle, even), (middle.nextDown, k), (middle.nextUp, k + 1)]
            for (value, expected) in cases {
                for sign in [UInt16(0), 0x8000] {
                    let x = sign == 0 ? value : -value
                    let ours = HalfPrecision.floatToHalf(x), swift = Float16(x).bitPattern
                    if ours != sign | UInt16(expected) || ours != swift {
                        mismatches.append("\(x): \(String(ours, radix: 16)), expected \(String(sign | UInt16(expected), radix: 16)), Float16 \(String(swift, radix: 16))")
                    }
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) boundaries differ: \(mismatches.prefix(5))")
        #expect(HalfPrecision.floatToHalf(65519.996) == 0x7BFF)
        #expect(HalfPrecision.floatToHalf(65520) == 0x7C00)  // the tie above 65504 goes to the even infinity
        #expect(HalfPrecision.floatToHalf(.greatestFiniteMagnitude) == 0x7C00)
        #expect(HalfPrecision.floatToHalf(-.infinity) == 0xFC00)
    }

    /// Between every two neighbouring bf16 magnitudes: the f32 halfway pattern goes to the
    /// even one, one f32 step either side to the nearer one.
    @Test func bf16NarrowingRoundsToNearestEvenAtEveryBoundary() {
        var mismatches: [String] = []
        for k in UInt32(0)..<0x7F80 {
            let even = k & 1 == 0 ? k : k + 1
            let middle = k << 16 | 0x8000
            let cases: [(UInt32, UInt32)] = [(k << 16, k), (middle, even), (middle - 1, k), (middle + 1, k + 1)]
            for (pattern, expected) in cases {
                for sign in [UInt32(0), 0x8000_0000] where HalfPrecision.floatToBF16(Float(bitPattern: sign | pattern)) != UInt16(sign >> 16 | expected) {
                    mismatches.append(String(sign | pattern, radix: 16))
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) boundaries differ: \(mismatches.prefix(5))")
    }

    /// NaNs stay NaN (quiet) with their sign and top payload bits, even a signalling NaN whose
    /// payload lies only in bits that narrowing drops (it must not become infinity).
    @Test func narrowingKeepsNaNs() {
        let cases: [(f32: UInt32, half: UInt16, bf16: UInt16)] = [
            (0x7FC0_0000, 0x7E00, 0x7FC0), (0xFFC0_0000, 0xFE00, 0xFFC0), (0x7F80_0001, 0x7E00, 0x7FC0),
            (0x7FA0_0000, 0x7F00, 0x7FE0), (0xFFFF_FFFF, 0xFFFF, 0xFFFF),
        ]
        for (f32, half, bf16) in cases {
            #expect(HalfPrecision.floatToHalf(Float(bitPattern: f32)) == half, "\(String(f32, radix: 16))")
            #expect(HalfPrecision.floatToBF16(Float(bitPattern: f32)) == bf16, "\(String(f32, radix: 16))")
            #expect(Float16(Float(bitPattern: f32)).isNaN)
        }
    }
}
