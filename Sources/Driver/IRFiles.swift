import SkrrIR
import SkrrSupport

/// Textual IR read from a file or stdin (`-`), parsed and checked.
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
        return try IRParser.parse(text, source: sourceName(path))
    }

    /// How messages name the input.
    public static func sourceName(_ path: String) -> String { path == "-" ? "<stdin>" : path }
}
