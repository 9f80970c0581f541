import SkrrIR
import SkrrSupport

/// Refuses NaN and ±Inf weights by tensor name. Separate from import because it must touch
/// every byte: import stays instant, and the scan shows a progress bar on large checkpoints.
/// It streams with `pread` rather than walking the mmap, so resident memory stays flat.
public enum WeightScan {
    public static func check(_ model: ImportedModel, showProgress: Bool = true) throws {
        let totalBytes = model.ir.tensors.reduce(0) { $0 + $1.byteCount }
        let progress = showProgress && totalBytes > 256 << 20 ? ProgressBar("checking weights", total: Double(totalBytes)) : nil
        defer { progress?.finish() }
        var done = 0
        var bad: [String] = []
        var readers: [Int: ChunkedFileReader] = [:]
        for tensor in model.ir.tensors {
            guard let found = model.checkpoint.locate(tensor.name) else { continue }
            let file = model.checkpoint.files[found.fileIndex]
            let reader = try readers[found.fileIndex] ?? ChunkedFileReader(path: file.path)
            readers[found.fileIndex] = reader
            let size = tensor.dtype.byteSize
            try reader.forEachChunk(of: found.entry.byteRange, granule: size) { chunk, offset in
                if let index = firstNonFiniteElement(in: chunk, dtype: tensor.dtype) {
                    let value = describeElement(chunk, dtype: tensor.dtype, index: index)
                    bad.append("tensor \(tensor.name) (in \(file.path)): element \(offset / size + index) is \(value)")
                    done += found.entry.byteRange.count - offset
                    return false
                }
                done += chunk.count
                progress?.update(Double(done))
                return true
            }
        }
        guard !bad.isEmpty else { return }
        throw SkrrError(file: model.location.path(model.location.weights),
                        "\(bad.count) tensor(s) hold NaN or infinite values", notes: bad)
    }

    static func describeElement(_ bytes: UnsafeRawBufferPointer, dtype: DType, index: Int) -> String {
        let bits: UInt32
        switch dtype {
        case .f32: bits = bytes.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)
        case .f16: 
            let half = bytes.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self)
            return half & 0x3FF != 0 ? "NaN" : (half & 0x8000 != 0 ? "-Inf" : "+Inf")
        case .bf16: bits = UInt32(bytes.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self)) << 16
        default: return "not finite"
        }
        let value = Float(bitPattern: bits)
        return value.isNaN ? "NaN" : (value < 0 ? "-Inf" : "+Inf")
    }
}
