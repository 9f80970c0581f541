/// Reading stored weights as f32. Large matrices are converted one at a time into a reusable
/// scratch buffer, so a bf16 or f16 model is never expanded to f32 as a whole.
enum WeightConversion {
    @inline(__always)
    static func halfToFloat(_ bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = Int((bits >> 10) & 0x1F)
        let mantissa = UInt32(bits & 0x3FF)
        if exponent == 0 {
            // Zero or subnormal: mantissa · 2^-24.
            let magnitude = Float(mantissa) * 5.9604644775390625e-08
            return sign == 0 ? magnitude : -magnitude
        }
        if exponent == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
        return Float(bitPattern: sign | (UInt32(exponent + 112) << 23) | (mantissa << 13))
    }

    /// Writes `count` elements of `source` (stored as `dtype`) into `target` as f32.
    static func toFloat(_ source: UnsafeRawBufferPointer, dtype: WeightType, count: Int, into target: UnsafeMutablePointer<Float>) {
        switch dtype {
        case .f32:
            UnsafeMutableRawBufferPointer(start: target, count: count * 4).copyBytes(from: source.prefix(count * 4))
        case .bf16:
            // 16 at a time: bf16 is the top half of an f32.
            let base = source.baseAddress!
            var i = 0
            while i + 16 <= count {
                let bits = base.loadUnaligned(fromByteOffset: i * 2, as: SIMD16<UInt16>.self)
                let wide = SIMD16<UInt32>(truncatingIfNeeded: bits) &<< 16
                UnsafeMutableRawPointer(target + i).storeBytes(of: wide, as: SIMD16<UInt32>.self)
                i += 16
            }
            while i < count {
                target[i] = Float(bitPattern: UInt32(source.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) << 16)
                i += 1
            }
        case .f16:
            for i in 0..<count { target[i] = halfToFloat(source.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) }
        }
    }
}
