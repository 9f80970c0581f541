import SkrrSupport

/// Reading stored weights as f32. Large matrices are converted one at a time into a reusable
/// scratch buffer, so a bf16 or f16 model is never expanded to f32 as a whole.
public enum WeightConversion {
    /// Writes `count` elements of `source` (stored as `dtype`) into `target` as f32. int8 values
    /// are multiplied by `scale` (their row's scale: callers convert int8 a row at a time), each
    /// product rounded once, as the packing GEMM does.
    public static func toFloat(_ source: UnsafeRawBufferPointer, dtype: WeightType, count: Int, into target: UnsafeMutablePointer<Float>,
                        scale: Float = 1) {
        switch dtype {
        case .int8:
            for i in 0..<count { target[i] = Float(Int8(bitPattern: source[i])) * scale }
        case .f32:
            UnsafeMutableRawBufferPointer(start: target, count: count * 4).copyBytes(from: source.prefix(count * 4))
        case .bf16:
            // 16 at a time: bf16 is the top half of an f32 (`HalfPrecision.bf16ToFloat`, vectorised).
            let base = source.baseAddress!
            var i = 0
            while i + 16 <= count {
                let bits = base.loadUnaligned(fromByteOffset: i * 2, as: SIMD16<UInt16>.self)
                let wide = SIMD16<UInt32>(truncatingIfNeeded: bits) &<< 16
                UnsafeMutableRawPointer(target + i).storeBytes(of: wide, as: SIMD16<UInt32>.self)
                i += 16
            }
            while i < count {
                target[i] = HalfPrecision.bf16ToFloat(source.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
                i += 1
            }
        case .f16:
            for i in 0..<count { target[i] = HalfPrecision.halfToFloat(source.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) }
        }
    }
}
