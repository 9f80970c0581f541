import SkrrIR
import SkrrRuntime
import SkrrSupport

/// Weights read straight from the files an IR names (safetensors shards under its root), through
/// read-only memory maps. Every location is bounds-checked against its file before use. Merged
/// tensors (LaCo) are computed from their inputs when the weights are opened.
public final class SourceWeights: WeightSource, @unchecked Sendable {
    private let files: [MappedFile]
    private let resolved: DerivedWeights

    public init(model: ModelIR) throws {
        let mapped = try model.files.map { try MappedFile(path: FileSystem.join(model.root, $0)) }
        files = mapped
        resolved = try DerivedWeights(model: model) { _, tensor in
            let loc = tensor.location!
            guard mapped.indices.contains(loc.file) else {
                throw SkrrError(key: tensor.name, "is in file \(loc.file), but the model declares \(mapped.count) file(s)")
            }
            let file = mapped[loc.file]
            guard loc.offset >= 0, loc.length >= 0, loc.offset <= file.count - loc.length else {
                // Named by offset and length: their sum may not be representable.
                throw SkrrError(file: file.path, key: tensor.name,
                                "\(loc.length) bytes at offset \(loc.offset) lie outside the file's \(file.count) bytes")
            }
            return file.bytes(loc.offset..<(loc.offset + loc.length))
        }
    }

    public func bytes(ofTensor index: Int) -> UnsafeRawBufferPointer { resolved.bytes(ofTensor: index) }
}
