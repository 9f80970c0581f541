import SkrrSupport

/// Builds the tokenizer a program names from its files.
public enum TokenizerLoading {
    /// `padId`: the id the model pads batches with (`pad_token_id` as imported: the tokenizer's
    /// own pad); a CLIP tokenizer treats a pad token of its own as special, as transformers does.
    public static func load(_ files: TokenizerFiles?, padId: Int? = nil) throws -> PromptTokenizer {
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
                                         mergesSource: files.paths[1], padId: padId.map(Int32.init))
            case .wordpiece:
                return try WordPieceTokenizer(vocab: contents[0], lowercase: files.lowercase, source: files.paths[0])
            }
        }
        switch files.kind {
        case .sentencepiece:
            return try SentencePieceTokenizer(path: files.paths[0])
        case .clipBPE:
            return try CLIPTokenizer(vocabPath: files.paths[0], mergesPath: files.paths[1], padId: padId.map(Int32.init))
        case .wordpiece:
            return try WordPieceTokenizer(vocabPath: files.paths[0], lowercase: files.lowercase)
        }
    }

    /// A prompt with words, digits, punctuation and quotes: every tokenizer splits it into
    /// several pieces, so a vocabulary that does not belong to the model shows.
    static let probe = "A photo of 3 red apples on a wooden table, with the word \"SKRR\" written above them."

    /// Loads the tokenizer and encodes a probe prompt, so a corrupt, truncated or foreign
    /// tokenizer is refused when a runtime file is written or verified, not on the first `run`.
    /// Every id of the probe, and the pad id, must be below the model's vocabulary size.
    public static func check(_ files: TokenizerFiles, vocabularySize: Int, padId: Int? = nil) throws {
        let tokenizer = try load(files, padId: padId)
        let ids = try tokenizer.encode(probe, maxLength: nil)
        if let bad = (ids + [tokenizer.padId]).first(where: { $0 < 0 || Int($0) >= vocabularySize }) {
            throw SkrrError(file: files.paths[0], key: "tokenizer",
                            "gives token id \(bad), but the model's vocabulary has \(vocabularySize) entries: "
                            + "the tokenizer does not belong to this model")
        }
    }
}
