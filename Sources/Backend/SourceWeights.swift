import SkrrIR
import SkrrRuntime
import SkrrSupport

/// Weights read straight from the files an IR names (safetensors shards under its root), through
/// read-only memory maps. Every location is bounds-checked against its file before use.
public final class SourceWeights: WeightSource, @unchecked Sendable {
    private let files: [MappedFile]
    private let ranges: [(file: Int, range: Range<Int>)]

    public init(model: ModelIR) throws {
        let mapped = try model.files.map { try MappedFile(path: FileSystem.join(model.root, $0)) }
        files = mapped
        ranges = try model.tensors.map { tensor in
            let loc = tensor.location
            let file = mapped[loc.file]
            guard loc.offset >= 0, loc.length >= 0, loc.offset <= file.count - loc.length else {
                throw SkrrError(file: file.path, key: tensor.name,
                                "bytes \(loc.offset)..<\(loc.offset + loc.length) lie outside the file's \(file.count) bytes")
            }
            return (loc.file, loc.offset..<(loc.offset + loc.length))
        }
    }

    public func bytes(ofTensor index: Int) -> UnsafeRawBufferPointer {
        let entry = ranges[index]
        return files[entry.file].bytes(entry.range)
    }
}
