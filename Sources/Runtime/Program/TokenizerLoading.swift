import SkrrSupport

/// Builds the tokenizer a program names from its files.
public enum TokenizerLoading {
    public static func load(_ files: TokenizerFiles?) throws -> PromptTokenizer {
        guard let files else {
            throw SkrrError(key: "tokenizer", "this model has no tokenizer files (spiece.model, vocab.json + merges.txt, or vocab.txt); pass --ids instead of prompts")
        }
        switch files.kind {
        case .sentencepiece:
            return try SentencePieceTokenizer(path: files.paths[0])
        case .clipBPE:
            return try CLIPTokenizer(vocabPath: files.paths[0], mergesPath: files.paths[1])
        case .wordpiece:
            return try WordPieceTokenizer(vocabPath: files.paths[0], lowercase: files.lowercase)
        }
    }
}
