import SkrrSupport

/// The calibration prompts shipped inside the binary (SwiftPM `embedInCode`, so no data file has
/// to be found at run time): `Prompts/parti-calibration.txt` (PartiPrompts, Apache-2.0, Google
/// LLC) and `Prompts/long-calibration.txt` (written for the project); see `Prompts/NOTICE`.
public enum BuiltinPrompts {
    /// The default calibration set: 1,232 PartiPrompts.
    public static var parti: [String] { PromptFiles.lines(of: PackageResources.parti_calibration_txt) }
    /// Long, dense descriptive prompts of the kind T2I users write.
    public static var long: [String] { PromptFiles.lines(of: PackageResources.long_calibration_txt) }
}

/// Prompt files: UTF-8, one prompt per line; blank lines are skipped.
public enum PromptFiles {
    public static func read(_ path: String) throws -> [String] {
        let bytes = try readWholeFile(path)
        guard String(validating: bytes, as: UTF8.self) != nil else { throw SkrrError(file: path, "not valid UTF-8 text") }
        return lines(of: bytes)
    }

    /// Prompts of a file that must hold at least one.
    public static func readNonEmpty(_ path: String) throws -> [String] {
        let prompts = try read(path)
        guard !prompts.isEmpty else { throw SkrrError(file: path, "no prompts (one per line expected)") }
        return prompts
    }

    static func lines(of bytes: [UInt8]) -> [String] {
        String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
            .filter { !$0.allSatisfy(\.isWhitespace) }
    }
}
