import SkrrSupport

extension CheckpointSet {
    /// The values of a located f32, f16 or bf16 tensor, widened to f32 (exactly: every f16 and
    /// bf16 value is representable), for the few small tensors read eagerly rather than mapped
    /// (a denoiser's text projection). Non-finite values are an error naming the element.
    public func floatValues(of found: (fileIndex: Int, entry: TensorEntry)) throws -> [Float] {
        let file = files[found.fileIndex]
        let bytes = file.data(of: found.entry)
        let n = found.entry.elementCount
        let values: [Float]
        switch found.entry.dtype {
        case .f32: values = (0..<n).map { Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        case .bf16: values = (0..<n).map { HalfPrecision.bf16ToFloat(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) }
        case .f16: values = (0..<n).map { HalfPrecision.halfToFloat(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) }
        default:
            throw SkrrError(file: file.path, key: found.entry.name, "dtype \(found.entry.dtype.rawValue) is not supported (F32, F16, BF16)")
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw SkrrError(file: file.path, key: found.entry.name, "element \(bad) is \(values[bad])")
        }
        return values
    }
}
