import SkrrIR
import SkrrLowering
import SkrrRuntime
import SkrrSupport

/// Compile-time checks of a model's tokenizer: a tokenizer that is corrupt, foreign or absent
/// would otherwise be copied into the runtime file and fail only on its first `run`.
enum TokenizerCheck {
    /// Loads the tokenizer (when the model has one) and encodes a probe prompt with it. A model
    /// without tokenizer files may still be compiled to IR; a runtime file needs one unless
    /// `allowMissing` (`--no-tokenizer`: a file that encodes only `--ids`).
    static func check(_ model: ModelIR, writesRuntimeFile: Bool, allowMissing: Bool) throws {
        guard let files = Lowering.tokenizerFiles(model) else {
            guard writesRuntimeFile && !allowMissing else { return }
            throw SkrrError(file: model.root, key: "tokenizer",
                            "no tokenizer files (expected \(expectedFiles(model.family))); a runtime file without them "
                            + "encodes only --ids: pass --no-tokenizer to write it anyway")
        }
        try TokenizerLoading.check(files, vocabularySize: model.config.vocabSize, padId: model.config.padTokenId)
    }

    static func expectedFiles(_ family: Family) -> String {
        switch family {
        case .t5, .umt5: return "spiece.model"
        case .clip: return "vocab.json and merges.txt"
        case .bert: return "vocab.txt"
        }
    }
}
