import SkrrSupport
import Testing

@testable import SkrrFrontend

/// Bit patterns per dtype: non-finite ones to plant, and finite ones (including the extremes) to
/// fill with.
struct ScanFloatKind: Sendable, CustomTestStringConvertible {
    var dtype: DType
    var nan: UInt64
    var signalingNaN: UInt64
    var negativeNaN: UInt64
    var infinity: UInt64
    var negativeInfinity: UInt64
    /// 1, max finite, −max finite, smallest and largest subnormal, −0, 0, a negative subnormal.
    var finite: [UInt64]

    var nonFinite: [UInt64] { [nan, signalingNaN, negativeNaN, infinity, negativeInfinity] }
    var testDescription: String { dtype.rawValue }

    static let f32 = ScanFloatKind(
        dtype: .f32, nan: 0x7FC0_0000, signalingNaN: 0x7F80_0001, negativeNaN: 0xFFC0_0000,
        infinity: 0x7F80_0000, negativeInfinity: 0xFF80_0000,
        finite: [0x3F80_0000, 0x7F7F_FFFF, 0xFF7F_FFFF, 0x0000_0001, 0x007F_FFFF, 0x8000_0000, 0, 0x8000_0001])
    static let f16 = ScanFloatKind(
        dtype: .f16, nan: 0x7E00, signalingNaN: 0x7C01, negativeNaN: 0xFE00, infinity: 0x7C00,
        negativeInfinity: 0xFC00, finite: [0x3C00, 0x7BFF, 0xFBFF, 0x0001, 0x03FF, 0x8000, 0, 0x8001])
    static let bf16 = ScanFloatKind(
        dtype: .bf16, nan: 0x7FC0, signalingNaN: 0x7F81, negativeNaN: 0xFFC0, infinity: 0x7F80,
        negativeInfinity: 0xFF80, finite: [0x3F80, 0x7F7F, 0xFF7F, 0x0001, 0x007F, 0x8000, 0, 0x8001])

    static let all = [f32, f16, bf16]
}

/// `count` finite elements (cycling through the kind's finite patterns) with `planted` bit
/// patterns at their indices, little-endian, starting `misalignment` bytes into the array.
private func buffer(
    _ kind: ScanFloatKind, count: Int, planted: [Int: UInt64] = [:], misalignment: Int = 0
) -> [UInt8] {
    let size = kind.dtype.byteSize
    var bytes = [UInt8](repeating: 0xAB, count: misalignment)
    bytes.reserveCapacity(misalignment + count * size + 8)
    for i in 0..<count {
        let bits = planted[i] ?? kind.finite[i % kind.finite.count]
        for b in 0..<size { bytes.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt64(b)))) }
    }
    return bytes
}

private func scan(_ bytes: [UInt8], _ dtype: DType, from offset: Int = 0) -> Int? {
    bytes.withUnsafeBytes { firstNonFiniteElement(in: UnsafeRawBufferPointer(rebasing: $0[offset...]), dtype: dtype) }
}

@Suite struct SafeTensorsNonFiniteScanTests {
    @Test(arguments: ScanFloatKind.all)
    func finiteDataIncludingExtremesAndSubnormals(_ kind: ScanFloatKind) {
        for count in [0, 1, 7, 4095, 4096, 4097, 20_000] {
            for misalignment in [0, 1, 3] {
                let bytes = buffer(kind, count: count, misalignment: misalignment)
                #expect(scan(bytes, kind.dtype, from: misalignment) == nil, "count \(count) misaligned by \(misalignment)")
            }
        }
    }

    @Test(arguments: ScanFloatKind.all, [0, 1, 3])
    func findsEachNonFiniteValueAtItsIndex(_ kind: ScanFloatKind, misalignment: Int) {
        let count = 10_000
        for value in kind.nonFinite {
            for index in [0, 1, 17, 4095, 4096, 4097, 8191, 8192, count - 2, count - 1] {
                let bytes = buffer(kind, count: count, planted: [index: value], misalignment: misalignment)
                #expect(
                    scan(bytes, kind.dtype, from: misalignment) == index,
                    "0x\(String(value, radix: 16)) at \(index), misaligned by \(misalignment)")
            }
        }
    }

    @Test(arguments: ScanFloatKind.all)
    func reportsTheFirstOfSeveral(_ kind: ScanFloatKind) {
        let bytes = buffer(kind, count: 9000, planted: [8500: kind.nan, 5000: kind.infinity, 6000: kind.negativeInfinity])
        #expect(scan(bytes, kind.dtype) == 5000)
    }

    @Test(arguments: ScanFloatKind.all)
    func lastElementOfAShortBuffer(_ kind: ScanFloatKind) {
        for count in 1...40 {
            let bytes = buffer(kind, count: count, planted: [count - 1: kind.negativeNaN], misalignment: 1)
            #expect(scan(bytes, kind.dtype, from: 1) == count - 1)
        }
    }

    @Test func trailingPartialElementIsIgnored() {
        // Three bytes of an F32 0x7F800000 (+Inf) after one finite element: not a whole element.
        let bytes: [UInt8] = [0, 0, 0x80, 0x3F, 0x00, 0x00, 0x80]
        #expect(scan(bytes, .f32) == nil)
        #expect(scan(bytes + [0x7F], .f32) == 1)
    }

    @Test func everyF16AndBF16BitPatternMatchesTheFloatClassification() {
        var f16Mismatches: [UInt16] = []
        var bf16Mismatches: [UInt16] = []
        for bits in UInt16.min...UInt16.max {
            let bytes = [UInt8(truncatingIfNeeded: bits), UInt8(truncatingIfNeeded: bits >> 8)]
            // BF16 is the top half of an F32.
            let bf16Finite = Float(bitPattern: UInt32(bits) << 16).isFinite
            if (scan(bytes, .bf16) == nil) != bf16Finite { bf16Mismatches.append(bits) }
            // F16: exponent field all ones means NaN or Inf (IEEE binary16).
            let f16Finite = (bits & 0x7C00) != 0x7C00
            if (scan(bytes, .f16) == nil) != f16Finite { f16Mismatches.append(bits) }
        }
        #expect(f16Mismatches.isEmpty)
        #expect(bf16Mismatches.isEmpty)
    }

    @Test func f32SamplesMatchTheFloatClassification() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var mismatches: [UInt32] = []
        for _ in 0..<200_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let bits = UInt32(truncatingIfNeeded: state >> 32)
            let bytes = withUnsafeBytes(of: bits.littleEndian) { Array($0) }
            if (scan(bytes, .f32) == nil) != Float(bitPattern: bits).isFinite { mismatches.append(bits) }
        }
        #expect(mismatches.isEmpty)
    }

    @Test func otherFloatTypes() {
        let f64Inf = withUnsafeBytes(of: Double.infinity.bitPattern.littleEndian) { Array($0) }
        let f64Max = withUnsafeBytes(of: Double.greatestFiniteMagnitude.bitPattern.littleEndian) { Array($0) }
        let f64NaN = withUnsafeBytes(of: (-Double.nan).bitPattern.littleEndian) { Array($0) }
        #expect(scan(f64Max + f64Max + f64Inf, .f64) == 2)
        #expect(scan([0xAB] + f64Max + f64NaN, .f64, from: 1) == 1)
        #expect(scan(f64Max + f64Max, .f64) == nil)
        // F8_E5M2: exponent 0x7C; F8_E4M3 (fn): NaN is 0x7F / 0xFF, and 0x7E (448) is finite.
        #expect(scan([0x7B, 0xFB, 0x01, 0x7C], .f8e5m2) == 3)
        #expect(scan([0x7B, 0xFB, 0x01, 0x83], .f8e5m2) == nil)
        #expect(scan([0x7E, 0xFE, 0x78, 0xFF], .f8e4m3) == 3)
        #expect(scan([0x7E, 0xFE, 0x78, 0x7C], .f8e4m3) == nil)
    }

    @Test(arguments: [DType.bool, .u8, .i8, .i16, .u16, .i32, .u32, .i64, .u64])
    func integerTypesHaveNoNonFiniteValues(_ dtype: DType) {
        #expect(scan([UInt8](repeating: 0xFF, count: 64), dtype) == nil)
    }
}
