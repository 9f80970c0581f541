/// The scalar conversions between f32 and the two 16-bit float formats weights are stored in.
/// One implementation of each, shared by the interpreter (widening weights as it runs, hence
/// `@inlinable`: the call inlines into its loop across the module boundary), the compiler's
/// storage conversion (`--weight-dtype`) and anything else that reads f16 or bf16 bits.
///
/// Widening is exact. NaNs keep their sign and payload bits (widening) or their sign and top
/// payload bits, made quiet (narrowing). Narrowing rounds to nearest, ties to even, as torch's
/// `.to(torch.bfloat16)` / `.half()` do; values beyond the format's range become infinities.
public enum HalfPrecision {
    /// IEEE binary16 bits → f32.
    @inlinable @inline(__always)
    public static func halfToFloat(_ bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = Int((bits >> 10) & 0x1F)
        let mantissa = UInt32(bits & 0x3FF)
        if exponent == 0 {
            // Zero or subnormal: mantissa · 2^-24 (exact in f32).
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        }
        // Infinity or NaN: the payload moves up unchanged.
        if exponent == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
        return Float(bitPattern: sign | (UInt32(exponent + 112) << 23) | (mantissa << 13))
    }

    /// f32 → IEEE binary16 bits, rounded to nearest, ties to even. Finite values of 65520 and
    /// more round to infinity (callers that must not overflow check for 0x7C00).
    @inlinable
    public static func floatToHalf(_ value: Float) -> UInt16 {
        let x = value.bitPattern
        let sign = UInt16((x >> 16) & 0x8000)
        let exponent = Int((x >> 23) & 0xFF)
        var mantissa = x & 0x7F_FFFF
        if exponent == 0xFF { return sign | 0x7C00 | (mantissa != 0 ? 0x200 | UInt16(mantissa >> 13) : 0) }
        let e = exponent - 127 + 15
        if e >= 31 { return sign | 0x7C00 }
        if e <= 0 {
            // Subnormal in f16 (or zero): shift the implicit bit in, round what falls off.
            if e < -10 { return sign }
            mantissa |= 0x80_0000
            let shift = UInt32(14 - e)
            var half = mantissa >> shift
            let rest = mantissa & ((1 << shift) - 1), halfway = UInt32(1) << (shift - 1)
            if rest > halfway || (rest == halfway && half & 1 == 1) { half += 1 }
            return sign | UInt16(half)
        }
        // A carry out of the mantissa correctly bumps the exponent (up to infinity).
        var half = UInt32(e) << 10 | mantissa >> 13
        let rest = mantissa & 0x1FFF
        if rest > 0x1000 || (rest == 0x1000 && half & 1 == 1) { half += 1 }
        return sign | UInt16(half)
    }

    /// bfloat16 bits → f32: bf16 is the top half of an f32.
    @inlinable @inline(__always)
    public static func bf16ToFloat(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    /// f32 → bfloat16 bits, rounded to nearest, ties to even; NaN stays NaN (made quiet).
    @inlinable
    public static func floatToBF16(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(bits >> 16) | 0x0040 }
        let rounding = 0x7FFF + ((bits >> 16) & 1)
        return UInt16((bits &+ rounding) >> 16)
    }
}
