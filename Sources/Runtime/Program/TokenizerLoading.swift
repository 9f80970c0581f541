import SkrrSupport

/// Builds the tokenizer a program names from its files.
public enum TokenizerLoading {
    public static func load(_ files: TokenizerFiles?) throws -> PromptTokenizer {
        guard let files else {
            throw SkrrError(key: "tokenizer", "this model has no tokenizer files (spiece.model, vocab.json + merges.txt, or vocab.txt); pass --ids instead of prompts")
        }
        let needed = TokenizerFiles.fileCount(files.kind)
        guard files.paths.count == needed, files.contents.map({ $0.count == needed }) ?? true else {
            throw SkrrError(key: "tokenizer", "a \(files.kind.rawValue) tokenizer needs \(needed) file(s), got \(files.paths.count)")
        }
        if let contents = files.contents {
            switch files.kind {
            case .sentencepiece:
                return try SentencePieceTokenizer(modelBytes: contents[0], source: files.paths[0])
            case .clipBPE:
                return try CLIPTokenizer(vocabJSON: contents[0], vocabSource: files.paths[0], merges: contents[1],
                                         mergesSource: files.paths[1])
            case .wordpiece:
                return try WordPieceTokenizer(vocab: contents[0], lowercase: files.lowercase, source: files.paths[0])
            }
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
