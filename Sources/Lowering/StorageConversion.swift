import SkrrRuntime
import SkrrSupport

/// Converts stored weights between f32, f16 and bf16 (`--weight-dtype`). Narrowing rounds to
/// nearest, ties to even (as torch's `.to(torch.bfloat16)` does); NaN stays NaN. A finite value
/// too large for f16 is an error naming the tensor rather than a silent infinity.
public enum StorageConversion {
    public static func convert(_ source: UnsafeRawBufferPointer, from: WeightType, to: WeightType, count: Int,
                               tensor: String) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count * to.byteSize)
        try out.withUnsafeMutableBytes { target in
            for i in 0..<count {
                let value: Float
                switch from {
                case .f32: value = Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
                case .bf16: value = bf16ToFloat(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
                case .f16: value = halfToFloat(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
                }
                switch to {
                case .f32: target.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self)
                case .bf16: target.storeBytes(of: floatToBF16(value).littleEndian, toByteOffset: i * 2, as: UInt16.self)
                case .f16:
                    let half = floatToHalf(value)
                    if value.isFinite && half & 0x7C00 == 0x7C00 {
                        throw SkrrError(key: tensor, "value \(value) at element \(i) does not fit in f16 (largest finite 65504); store bf16 or f32 instead")
                    }
                    target.storeBytes(of: half.littleEndian, toByteOffset: i * 2, as: UInt16.self)
                }
            }
        }
        return out
    }

    public static func bf16ToFloat(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    public static func floatToBF16(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(bits >> 16) | 0x0040 }
        let rounding = 0x7FFF + ((bits >> 16) & 1)
        return UInt16((bits &+ rounding) >> 16)
    }

    public static func halfToFloat(_ bits: UInt16) -> Float {
        let sign: Float = bits & 0x8000 != 0 ? -1 : 1
        let exponent = Int((bits >> 10) & 0x1F), mantissa = UInt32(bits & 0x3FF)
        if exponent == 0 { return sign * Float(mantissa) * 0x1p-24 }
        if exponent == 31 {
            return Float(bitPattern: UInt32(bits & 0x8000) << 16 | 0x7F80_0000 | mantissa << 13)
        }
        return Float(bitPattern: UInt32(bits & 0x8000) << 16 | UInt32(exponent + 112) << 23 | mantissa << 13)
    }

    public static func floatToHalf(_ value: Float) -> UInt16 {
        let x = value.bitPattern
        let sign = UInt16((x >> 16) & 0x8000)
        let exponent = Int((x >> 23) & 0xFF)
        var mantissa = x & 0x7F_FFFF
        if exponent == 0xFF { return sign | 0x7C00 | (mantissa != 0 ? 0x200 | UInt16(mantissa >> 13) : 0) }
        let e = exponent - 127 + 15
        if e >= 31 { return sign | 0x7C00 }
        if e <= 0 {
            if e < -10 { return sign }
            mantissa |= 0x80_0000
            let shift = UInt32(14 - e)
            var half = mantissa >> shift
            let rest = mantissa & ((1 << shift) - 1), halfway = UInt32(1) << (shift - 1)
            if rest > halfway || (rest == halfway && half & 1 == 1) { half += 1 }
            return sign | UInt16(half)
        }
        var half = UInt32(e) << 10 | mantissa >> 13
        let rest = mantissa & 0x1FFF
        if rest > 0x1000 || (rest == 0x1000 && half & 1 == 1) { half += 1 }
        return sign | UInt16(half)
    }
}
