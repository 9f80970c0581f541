import SkrrIR
import SkrrSupport

/// A model imported into the IR, with the open checkpoint its tensor locations point into.
public struct ImportedModel: @unchecked Sendable {
    public var ir: ModelIR
    public var location: ModelLocation
    public var checkpoint: CheckpointSet

    /// Every file the import read or a run will read: config.json, the index and shards, the
    /// tokenizer files. Outputs are checked against these (`OutputPaths`).
    public var inputFiles: [String] {
        [location.path(location.config), location.path(location.weights)] + checkpoint.files.map(\.path)
            + ir.inputFiles
    }
}

/// Reads an encoder's metadata into the IR. No weight values are read: tensors are described
/// by dtype, shape and byte range, so importing a 9.5 GB checkpoint takes milliseconds. Weight
/// values are checked separately by `WeightScan`.
public enum ModelImporter {
    public static func importModel(at path: String, encoder: String? = nil) throws -> ImportedModel {
        let location = try ModelLocator.locate(path, encoder: encoder)
        let configPath = location.path(location.config)
        let reader = try ConfigReader(json: try readJSONFile(configPath), path: configPath)
        let checkpoint = try CheckpointSet(path: location.path(location.weights))
        let description = try FamilyConfigs.describe(reader, tensorNames: Set(checkpoint.tensorNames))
        var matcher = TensorMatcher(checkpoint: checkpoint, description: description, location: location)
        try matcher.checkBlockCount(configPath: configPath)
        let tokenizer = try TokenizerDetection.detect(location, family: description.family)
        var ir = try matcher.build(tokenizer: tokenizer)
        if let tokenizer, tokenizer.kind == .clipBPE {
            ir.config.padTokenId = try TokenizerDetection.clipPadId(location, tokenizer)
        }
        try IRVerifier.verify(ir, source: configPath)
        return ImportedModel(ir: ir, location: location, checkpoint: checkpoint)
    }
}

/// Matches checkpoint tensors to the roles the config implies, collecting every missing,
/// unexpected, mis-shaped and unsupported tensor before failing, so one run shows them all.
struct TensorMatcher {
    let checkpoint: CheckpointSet
    let description: FamilyDescription
    let location: ModelLocation
    var tensors: [TensorDecl] = []
    var used = Set<String>()
    var missing: [String] = []
    var misshaped: [String] = []
    var badType: [String] = []

    init(checkpoint: CheckpointSet, description: FamilyDescription, location: ModelLocation) {
        self.checkpoint = checkpoint
        self.description = description
        self.location = location
    }

    var config: ModelConfig { description.config }

    /// Paths of the checkpoint files relative to the model root, in checkpoint order.
    var relativeFiles: [String] {
        let weightsDirectory = location.weights.contains("/") ? FileSystem.dirname(location.weights) : ""
        return checkpoint.files.map { file in
            let name = FileSystem.basename(file.path)
            return weightsDirectory.isEmpty ? name : FileSystem.join(weightsDirectory, name)
        }
    }

    /// Resolves each role of a component; returns nil for an optional component with no tensor present.
    mutating func resolve(_ component: ComponentID, _ specs: [RoleSpec], optional: Bool = false) -> [Operand]? {
        let table = description.table
        if optional {
            let anyPresent = specs.contains { spec in
                table.names(component, role: spec.role).contains { checkpoint.locate($0) != nil }
            }
            if !anyPresent { return nil }
        }
        var operands: [Operand] = []
        for spec in specs {
            let candidates = table.names(component, role: spec.role)
            guard let name = candidates.first(where: { checkpoint.locate($0) != nil }),
                  let found = checkpoint.locate(name)
            else {
                missing.append("\(candidates.first ?? spec.role) (\(component.label), role \(spec.role), expected \(formatShape(spec.shape)))")
                continue
            }
            // Tied aliases of the chosen name are part of the model, not unexpected extras.
            for alias in candidates where checkpoint.locate(alias) != nil { used.insert(alias) }
            let entry = found.entry
            if entry.shape != spec.shape {
                misshaped.append("\(name): shape \(formatShape(entry.shape)), config implies \(formatShape(spec.shape)) (\(component.label), role \(spec.role))")
            }
            if !entry.dtype.isSupportedWeightType {
                badType.append("\(name): dtype \(entry.dtype.rawValue) (supported: F32, F16, BF16)")
            }
            if !tensors.contains(where: { $0.name == name }) {
                tensors.append(TensorDecl(
                    name: name, dtype: entry.dtype, shape: entry.shape,
                    location: TensorLocation(file: found.fileIndex, offset: entry.byteRange.lowerBound, length: entry.byteRange.count)))
            }
            operands.append(Operand(role: spec.role, tensor: name))
        }
        return operands
    }

    /// Notes an error lists at most; the counts in its message cover the rest.
    static let maxNotes = 50

    /// Refuses a config whose last blocks have no tensor at all in the checkpoint, before any
    /// tensor name is listed as missing: a mistyped layer count of 10^9 would otherwise list
    /// billions of names. Probes at most as many blocks as the checkpoint has tensors.
    func checkBlockCount(configPath: String) throws {
        let table = description.table
        let probed = min(config.numLayers, checkpoint.tensorNames.count)
        let present = (0..<probed).last { block in
            SubBlockKind.allCases.contains { kind in
                Signatures.subBlock(kind, config).contains { spec in
                    table.names(.subBlock(kind: kind, block: block), role: spec.role).contains { checkpoint.locate($0) != nil }
                }
            }
        }
        let held = present.map { $0 + 1 } ?? 0
        guard held < config.numLayers else { return }
        let key = description.family == .t5 || description.family == .umt5 ? "num_layers" : "num_hidden_layers"
        let blocks = held == 0 ? "no tensor of any block" : "tensors of blocks 0...\(held - 1) only"
        throw SkrrError(file: configPath, key: key,
                        "expected at most \(held) blocks: \(location.weights) holds \(blocks), config.json asks for \(config.numLayers)")
    }

    mutating func build(tokenizer: TokenizerRef?) throws -> ModelIR {
        let embeddings = resolve(.embeddings, Signatures.embeddings(config)) ?? []
        let positionBias = Signatures.hasSharedPositionBias(config)
            ? resolve(.positionBias, Signatures.positionBias(config)) : nil
        var subBlocks: [SubBlock] = []
        for block in 0..<config.numLayers {
            for kind in SubBlockKind.allCases {
                let operands = resolve(.subBlock(kind: kind, block: block), Signatures.subBlock(kind, config)) ?? []
                subBlocks.append(SubBlock(index: subBlocks.count, kind: kind, block: block, operands: operands))
            }
        }
        let finalNorm = Signatures.hasFinalNorm(config) ? resolve(.finalNorm, Signatures.finalNorm(config)) : nil
        var heads: [Head] = []
        for (name, kind) in description.heads {
            heads.append(Head(name: name, kind: kind, operands: resolve(.head(kind), Signatures.head(kind, config)) ?? []))
        }
        for (name, kind) in description.optionalHeads {
            if let operands = resolve(.head(kind), Signatures.head(kind, config), optional: true) {
                heads.append(Head(name: name, kind: kind, operands: operands))
            }
        }
        var config = self.config
        if !heads.contains(where: { $0.kind == .projection }) { config.projectionDim = nil }

        let unexpected = checkpoint.tensorNames.filter { !used.contains($0) && !description.table.isIgnored($0) }
        var notes: [String] = []
        notes += missing.map { "missing tensor \($0)" }
        notes += unexpected.map { "unexpected tensor \($0)" }
        notes += misshaped.map { "mis-shaped tensor \($0)" }
        notes += badType.map { "unsupported tensor \($0)" }
        if notes.count > Self.maxNotes {
            notes = Array(notes.prefix(Self.maxNotes)) + ["... and \(notes.count - Self.maxNotes) more"]
        }
        if !notes.isEmpty {
            let counts = [("missing", missing.count), ("unexpected", unexpected.count), ("mis-shaped", misshaped.count),
                          ("unsupported dtype", badType.count)].filter { $0.1 > 0 }.map { "\($0.1) \($0.0)" }
            throw SkrrError(file: location.path(location.weights),
                            "does not match its config.json as a \(description.family.rawValue) encoder: \(counts.joined(separator: ", "))",
                            notes: notes)
        }

        let sourceParameters = checkpoint.tensorNames.filter { used.contains($0) }.reduce(0) { total, name in
            total + (checkpoint.locate(name)?.entry.elementCount ?? 0)
        }
        return ModelIR(
            family: description.family, name: location.displayName, root: location.root,
            sourceParameters: sourceParameters, files: relativeFiles, tokenizer: tokenizer, config: config,
            tensors: tensors, embeddings: embeddings, positionBias: positionBias, subBlocks: subBlocks,
            finalNorm: finalNorm, heads: heads, schedule: subBlocks.map { .run($0.index) })
    }
}
