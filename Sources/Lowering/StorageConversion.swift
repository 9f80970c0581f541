import SkrrRuntime
import SkrrSupport

/// Converts stored weights between f32, f16 and bf16 (`--weight-dtype`) with the scalar
/// conversions of `HalfPrecision`: narrowing rounds to nearest, ties to even (as torch's
/// `.to(torch.bfloat16)` does); NaN stays NaN. A finite value too large for f16 is an error
/// naming the tensor rather than a silent infinity.
public enum StorageConversion {
    public static func convert(_ source: UnsafeRawBufferPointer, from: WeightType, to: WeightType, count: Int,
                               tensor: String) throws -> [UInt8] {
        guard !from.isScaled && !to.isScaled else {
            throw SkrrError(key: tensor, "int8 storage needs row scales: Int8Quantization writes it, element-wise conversion cannot")
        }
        var out = [UInt8](repeating: 0, count: count * to.byteSize)
        try out.withUnsafeMutableBytes { target in
            for i in 0..<count {
                let value: Float
                switch from {
                case .f32: value = Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
                case .bf16: value = HalfPrecision.bf16ToFloat(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
                case .f16: value = HalfPrecision.halfToFloat(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
                case .int8: preconditionFailure("refused above")
                }
                switch to {
                case .f32: target.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self)
                case .bf16: target.storeBytes(of: HalfPrecision.floatToBF16(value).littleEndian, toByteOffset: i * 2, as: UInt16.self)
                case .f16:
                    let half = HalfPrecision.floatToHalf(value)
                    if value.isFinite && half & 0x7C00 == 0x7C00 {
                        throw SkrrError(key: tensor, "value \(value) at element \(i) does not fit in f16 (largest finite 65504); store bf16 or f32 instead")
                    }
                    target.storeBytes(of: half.littleEndian, toByteOffset: i * 2, as: UInt16.self)
                case .int8: preconditionFailure("refused above")
                }
            }
        }
        return out
    }
}
