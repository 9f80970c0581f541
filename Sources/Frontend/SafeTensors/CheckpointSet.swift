import SkrrSupport

/// The weights of one model: a single `.safetensors` file, or the shards listed by a
/// `*.safetensors.index.json` (`weight_map`: tensor name → shard file name in the same directory).
///
/// For a sharded set the index and the shards must agree exactly: every mapped tensor is in the
/// shard it is mapped to, every tensor of a shard is mapped, and no tensor is in two shards.
/// `metadata.total_size` is not checked (real checkpoints are inconsistent there).
public final class CheckpointSet: @unchecked Sendable {
    /// The path as given: the `.safetensors` file or the index.
    public let path: String
    public let isSharded: Bool
    /// Shards sorted by file name; one element when not sharded.
    public let files: [SafeTensorsFile]
    private let locations: [String: (fileIndex: Int, entryIndex: Int)]

    /// At most this many further problems travel in the notes of one consistency error.
    static let maxNotes = 20

    /// `path` is a `.safetensors` file or a `*.safetensors.index.json`.
    public init(path: String) throws {
        self.path = path
        if path.hasSuffix(".index.json") {
            isSharded = true
            (files, locations) = try CheckpointSet.loadSharded(indexPath: path)
        } else if path.hasSuffix(".safetensors") {
            isSharded = false
            let file = try SafeTensorsFile(path: path)
            files = [file]
            var locations: [String: (fileIndex: Int, entryIndex: Int)] = [:]
            for (entryIndex, entry) in file.entries.enumerated() { locations[entry.name] = (0, entryIndex) }
            self.locations = locations
        } else {
            throw SkrrError(
                file: path,
                "expected a .safetensors file or a .safetensors.index.json index, got a path ending in neither")
        }
    }

    /// Which file holds `name`, and its entry there.
    public func locate(_ name: String) -> (fileIndex: Int, entry: TensorEntry)? {
        guard let location = locations[name] else { return nil }
        return (location.fileIndex, files[location.fileIndex].entries[location.entryIndex])
    }

    /// Every tensor of the set, sorted by name.
    public var tensorNames: [String] { locations.keys.sorted() }

    // MARK: - Sharded index

    private static func loadSharded(
        indexPath: String
    ) throws -> ([SafeTensorsFile], [String: (fileIndex: Int, entryIndex: Int)]) {
        let root = try readJSONFile(indexPath)
        guard root.objectMembers != nil else {
            throw SkrrError(file: indexPath, "index must be a JSON object, got \(root.typeName)")
        }
        if let metadata = root["metadata"], metadata.objectMembers == nil {
            throw SkrrError(file: indexPath, key: "metadata", "expected an object, got \(metadata.typeName)")
        }
        guard let weightMapValue = root["weight_map"] else {
            throw SkrrError(
                file: indexPath, key: "weight_map",
                "missing 'weight_map' (the object mapping each tensor name to its shard file)")
        }
        guard let weightMap = weightMapValue.objectMembers else {
            throw SkrrError(
                file: indexPath, key: "weight_map",
                "expected an object of tensor name to shard file name, got \(weightMapValue.typeName)")
        }
        guard !weightMap.isEmpty else {
            throw SkrrError(file: indexPath, key: "weight_map", "is empty; expected at least one tensor")
        }

        // Tensor → shard name, and the first tensor mapped to each shard (for messages).
        var mapped: [String: String] = [:]
        var firstTensorOfShard: [String: String] = [:]
        for member in weightMap {
            guard let shard = member.value.stringValue else {
                throw SkrrError(
                    file: indexPath, key: member.key,
                    "weight_map value is \(member.value.typeName), expected a shard file name string")
            }
            try checkShardName(shard, tensor: member.key, indexPath: indexPath)
            mapped[member.key] = shard
            if firstTensorOfShard[shard] == nil { firstTensorOfShard[shard] = member.key }
        }

        let directory = indexPath.contains("/") ? FileSystem.dirname(indexPath) : ""
        let shardNames = firstTensorOfShard.keys.sorted()
        var files: [SafeTensorsFile] = []
        for shard in shardNames {
            let shardPath = directory.isEmpty ? shard : FileSystem.join(directory, shard)
            guard FileSystem.exists(shardPath) else {
                throw SkrrError(
                    file: indexPath, key: shard,
                    "shard '\(shard)' does not exist (looked for \(shardPath)); "
                        + "it holds tensor '\(firstTensorOfShard[shard]!)' among others")
            }
            files.append(try SafeTensorsFile(path: shardPath))
        }

        var problems: [(key: String, message: String)] = []
        var locations: [String: (fileIndex: Int, entryIndex: Int)] = [:]
        for (fileIndex, file) in files.enumerated() {
            for (entryIndex, entry) in file.entries.enumerated() {
                if let earlier = locations[entry.name] {
                    problems.append(
                        (entry.name,
                         "tensor '\(entry.name)' is in two shards: '\(shardNames[earlier.fileIndex])' "
                            + "and '\(shardNames[fileIndex])'"))
                } else {
                    locations[entry.name] = (fileIndex, entryIndex)
                }
            }
        }
        for member in weightMap {
            let shard = mapped[member.key]!
            guard let location = locations[member.key] else {
                problems.append(
                    (member.key,
                     "tensor '\(member.key)' is mapped to shard '\(shard)' but is absent from it "
                        + "(and from every other shard the index lists)"))
                continue
            }
            let actual = shardNames[location.fileIndex]
            if actual != shard {
                problems.append(
                    (member.key,
                     "tensor '\(member.key)' is mapped to shard '\(shard)' but found in shard '\(actual)'"))
            }
        }
        for (fileIndex, file) in files.enumerated() {
            for entry in file.entries where mapped[entry.name] == nil {
                problems.append(
                    (entry.name,
                     "tensor '\(entry.name)' is in shard '\(shardNames[fileIndex])' but not listed in weight_map"))
            }
        }
        if let first = problems.first {
            var notes = problems.dropFirst().prefix(maxNotes).map(\.message)
            if problems.count - 1 > maxNotes { notes.append("... and \(problems.count - 1 - maxNotes) more") }
            throw SkrrError(file: indexPath, key: first.key, first.message, notes: notes)
        }
        return (files, locations)
    }

    /// Shards are plain file names next to the index: no directories, no `..`, nothing absolute.
    private static func checkShardName(_ shard: String, tensor: String, indexPath: String) throws {
        let problem: String?
        if shard.isEmpty {
            problem = "is empty"
        } else if shard.hasPrefix("/") {
            problem = "is an absolute path"
        } else if shard == "." || shard == ".." || shard.split(separator: "/").contains("..") {
            problem = "leads out of the index's directory with '..'"
        } else if shard.contains("/") || shard.contains("\\") {
            problem = "contains a directory separator"
        } else if shard.utf8.contains(0) {
            problem = "contains a NUL character"
        } else if !shard.hasSuffix(".safetensors") {
            problem = "is not a .safetensors file (only safetensors checkpoints can be read)"
        } else {
            problem = nil
        }
        if let problem {
            throw SkrrError(
                file: indexPath, key: tensor,
                "shard name '\(shard)' \(problem); expected a plain file name in the index's directory")
        }
    }
}
