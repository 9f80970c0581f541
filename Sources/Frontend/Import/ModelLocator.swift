import SkrrSupport

/// Where the parts of a model are on disk. Paths in `weights`, `config` and `tokenizerDirectory`
/// are relative to `root`, which is the folder the user named (or the folder of a named file),
/// so IR dumps stay free of machine-specific absolute paths.
public struct ModelLocation: Equatable, Sendable {
    public var root: String
    /// A `.safetensors` file or a `*.safetensors.index.json`, relative to `root`.
    public var weights: String
    /// `config.json`, relative to `root`.
    public var config: String
    /// The folder holding tokenizer files, relative to `root` ("" for the root itself).
    public var tokenizerDirectory: String
    /// A short name for messages and the IR header.
    public var displayName: String

    public func path(_ relative: String) -> String {
        relative.isEmpty ? root : FileSystem.join(root, relative)
    }
}

/// Finds the weights, config and tokenizer of an encoder given as a file, an index, a model
/// folder, a diffusers pipeline folder (`model_index.json` with `text_encoder*/` and
/// `tokenizer*/`), or one `text_encoder*` folder of such a pipeline.
public enum ModelLocator {
    public static func locate(_ path: String, encoder: String? = nil) throws -> ModelLocation {
        var path = path
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        guard FileSystem.exists(path) else { throw SkrrError(file: path, "no such file or folder") }
        if FileSystem.isFile(path) { return try locateFile(path) }
        guard FileSystem.isDirectory(path) else { throw SkrrError(file: path, "not a file or folder") }

        if FileSystem.isFile(FileSystem.join(path, "model_index.json")) {
            return try locatePipelineEncoder(pipeline: path, encoder: encoder)
        }
        if encoder != nil {
            throw SkrrError(file: path, "--encoder is only meaningful for a diffusers pipeline folder (one with model_index.json)")
        }
        guard FileSystem.isFile(FileSystem.join(path, "config.json")) else {
            throw SkrrError(file: path, "no config.json in this folder: expected a model folder (config.json + safetensors) or a diffusers pipeline (model_index.json)")
        }
        let name = FileSystem.basename(path)
        // A `text_encoder_N` folder of a pipeline keeps its tokenizer in the sibling `tokenizer_N`.
        if name.hasPrefix("text_encoder"), !hasTokenizerFiles(path) {
            let parent = FileSystem.dirname(path)
            let tokenizer = tokenizerFolder(forEncoder: name)
            if FileSystem.isDirectory(FileSystem.join(parent, tokenizer)) {
                return ModelLocation(
                    root: parent, weights: FileSystem.join(name, try findWeights(in: path)),
                    config: FileSystem.join(name, "config.json"), tokenizerDirectory: tokenizer,
                    displayName: FileSystem.basename(parent) + "/" + name)
            }
        }
        return ModelLocation(root: path, weights: try findWeights(in: path), config: "config.json",
                             tokenizerDirectory: "", displayName: name)
    }

    static func locateFile(_ path: String) throws -> ModelLocation {
        let directory = FileSystem.dirname(path)
        let file = FileSystem.basename(path)
        guard file.hasSuffix(".safetensors") || file.hasSuffix(".safetensors.index.json") else {
            if file.hasSuffix(".bin") || file.hasSuffix(".pt") || file.hasSuffix(".pth") {
                throw SkrrError(file: path, "PyTorch pickle checkpoints are not read (they can run code); convert to safetensors first")
            }
            throw SkrrError(file: path, "expected a .safetensors file, a *.safetensors.index.json, or a model folder")
        }
        guard FileSystem.isFile(FileSystem.join(directory, "config.json")) else {
            throw SkrrError(file: path, "no config.json next to this checkpoint: the config is needed to know the architecture and check shapes")
        }
        return ModelLocation(root: directory, weights: file, config: "config.json", tokenizerDirectory: "",
                             displayName: FileSystem.basename(directory == "." ? file : directory))
    }

    /// The safetensors checkpoint of a model folder. HF's standard names win (a folder may hold
    /// other safetensors files, such as reference outputs); otherwise there must be exactly one
    /// index or one file.
    static func findWeights(in folder: String) throws -> String {
        let entries = FileSystem.listDirectory(folder)
        for standard in ["model.safetensors.index.json", "model.safetensors"] where entries.contains(standard) {
            return standard
        }
        let indexes = entries.filter { $0.hasSuffix(".safetensors.index.json") }
        let singles = entries.filter { $0.hasSuffix(".safetensors") }
        if indexes.count == 1 { return indexes[0] }
        if indexes.count > 1 {
            throw SkrrError(file: folder, "several sharded indexes (\(indexes.joined(separator: ", "))); name one of them instead of the folder")
        }
        if singles.count == 1 { return singles[0] }
        if singles.isEmpty {
            if entries.contains(where: { $0.hasSuffix(".bin") }) {
                throw SkrrError(file: folder, "only PyTorch pickle weights (*.bin) found; convert them to safetensors first")
            }
            throw SkrrError(file: folder, "no .safetensors weights in this folder")
        }
        throw SkrrError(file: folder, "several .safetensors files and no model.safetensors or index (\(singles.joined(separator: ", "))); name one of them")
    }

    static func tokenizerFolder(forEncoder encoder: String) -> String {
        "tokenizer" + encoder.dropFirst("text_encoder".count)
    }

    static func hasTokenizerFiles(_ folder: String) -> Bool {
        ["spiece.model", "vocab.json", "vocab.txt", "tokenizer.json"].contains {
            FileSystem.isFile(FileSystem.join(folder, $0))
        }
    }

    static func locatePipelineEncoder(pipeline: String, encoder: String?) throws -> ModelLocation {
        let encoders = FileSystem.listDirectory(pipeline).filter {
            $0.hasPrefix("text_encoder") && FileSystem.isFile(FileSystem.join(FileSystem.join(pipeline, $0), "config.json"))
        }
        let chosen: String
        if let encoder {
            guard encoders.contains(encoder) else {
                throw SkrrError(file: pipeline, key: encoder, "no such text encoder in this pipeline (found: \(encoders.isEmpty ? "none" : encoders.joined(separator: ", ")))")
            }
            chosen = encoder
        } else if encoders.count == 1 {
            chosen = encoders[0]
        } else if encoders.isEmpty {
            throw SkrrError(file: pipeline, "this diffusers pipeline has no text_encoder*/ folder with a config.json")
        } else {
            throw SkrrError(file: pipeline, "this pipeline has several text encoders (\(encoders.joined(separator: ", "))); choose one with --encoder NAME")
        }
        let folder = FileSystem.join(pipeline, chosen)
        let tokenizer = tokenizerFolder(forEncoder: chosen)
        return ModelLocation(
            root: pipeline, weights: FileSystem.join(chosen, try findWeights(in: folder)),
            config: FileSystem.join(chosen, "config.json"),
            tokenizerDirectory: FileSystem.isDirectory(FileSystem.join(pipeline, tokenizer)) ? tokenizer : chosen,
            displayName: FileSystem.basename(pipeline) + "/" + chosen)
    }
}
