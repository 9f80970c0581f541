import SkrrIR
import SkrrSupport

/// Textual IR read from a file or stdin (`-`), parsed and verified.
public enum IRFiles {
    public static func read(_ path: String) throws -> ModelIR {
        let text: String
        if path == "-" {
            var lines: [String] = []
            while let line = readLine(strippingNewline: false) { lines.append(line) }
            text = lines.joined()
        } else {
            let bytes = try readWholeFile(path)
            guard let decoded = String(validating: bytes, as: UTF8.self) else { throw SkrrError(file: path, "not valid UTF-8 text") }
            text = decoded
        }
        let model = try IRParser.parse(text, source: sourceName(path))
        try IRVerifier.verify(model, source: sourceName(path))
        return model
    }

    /// The model with a relative `root` taken relative to the IR file's folder (not the working
    /// directory), so an IR file and its weights can move together. Only what opens weights
    /// calls this: `opt` prints the root as written.
    public static func resolvingRoot(_ model: ModelIR, readFrom path: String) -> ModelIR {
        guard path != "-", !model.root.hasPrefix("/") else { return model }
        var resolved = model
        resolved.root = FileSystem.join(FileSystem.dirname(path), model.root)
        return resolved
    }

    /// The model as an IR file at `path` must say it: a relative `root` (relative to the working
    /// directory, as the command line gave it) rewritten relative to the IR file's folder, which
    /// is how readers resolve it (`resolvingRoot`). `--emit-ir` prints the root as given.
    public static func relocatingRoot(_ model: ModelIR, writtenTo path: String) -> ModelIR {
        guard !model.root.hasPrefix("/") else { return model }
        var relocated = model
        relocated.root = FileSystem.relativePath(model.root, from: FileSystem.dirname(path))
        return relocated
    }

    /// How messages name the input.
    public static func sourceName(_ path: String) -> String { path == "-" ? "<stdin>" : path }
}
