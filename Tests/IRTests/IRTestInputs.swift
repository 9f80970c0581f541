import Foundation
import SkrrIR
import SkrrTestSupport

/// Hand-written IR inputs of this test target.
enum IRInputs {
    static func text(_ name: String) throws -> String {
        try String(contentsOfFile: TestPaths.repositoryRoot + "/Tests/IRTests/Inputs/\(name)", encoding: .utf8)
    }

    /// `t5-tiny.ir` with one textual substitution applied (the substitution must apply).
    static func mutated(_ original: String, _ replacement: String, in name: String = "t5-tiny.ir") throws -> String {
        let text = try self.text(name)
        guard text.contains(original) else { throw MutationTargetMissing(target: original) }
        return text.replacingOccurrences(of: original, with: replacement)
    }
}

struct MutationTargetMissing: Error, CustomStringConvertible {
    var target: String
    var description: String { "mutation target not found in the input: \(target)" }
}
