import SkrrRuntime

/// Tokenizers read two kinds of untrusted input: their files (from a model folder or a runtime
/// file) and the prompt. Each input is the files and a prompt joined by `FuzzInputParts`; every
/// accepted tokenizer encodes the prompt untruncated and truncated.
extension FuzzTargets {
    static let sentencePiece = FuzzTarget(
        name: "sentencepiece", summary: "spiece.model load + T5 encoding (SentencePieceTokenizer)", maxLength: 24_576
    ) { input, check in
        let parts = FuzzInputParts.split(input, into: 2)
        let tokenizer = try SentencePieceTokenizer(modelBytes: parts[0], source: "spiece.model")
        try encodeChecked(tokenizer, parts[1], check: check, vocabulary: tokenizer.vocabularySize)
    }

    static let clipBPE = FuzzTarget(
        name: "clip-bpe", summary: "vocab.json + merges.txt load + CLIP BPE encoding (CLIPTokenizer)", maxLength: 32_768
    ) { input, check in
        let parts = FuzzInputParts.split(input, into: 3)
        let tokenizer = try CLIPTokenizer(vocabJSON: parts[0], merges: parts[1], source: "clip-tokenizer")
        try encodeChecked(tokenizer, parts[2], check: check, vocabulary: nil)
    }

    static let wordPiece = FuzzTarget(
        name: "wordpiece", summary: "vocab.txt load + WordPiece encoding, both casings (WordPieceTokenizer)", maxLength: 16_384
    ) { input, check in
        let parts = FuzzInputParts.split(input, into: 2)
        for lowercase in [true, false] {
            let tokenizer = try WordPieceTokenizer(vocab: parts[0], lowercase: lowercase, source: "vocab.txt")
            try encodeChecked(tokenizer, parts[1], check: check, vocabulary: nil)
        }
    }

    /// Encodes `text` without a limit and with a limit of 8: ids are never negative (nor past the
    /// vocabulary when its size is known), and truncation keeps the limit.
    static func encodeChecked(_ tokenizer: some PromptTokenizer, _ text: [UInt8], check: FuzzCheck, vocabulary: Int?) throws {
        let prompt = String(decoding: text, as: UTF8.self)
        let full = try tokenizer.encode(prompt, maxLength: nil)
        let limit = 8
        let truncated = try tokenizer.encode(prompt, maxLength: limit)
        for id in full + truncated {
            try check(id >= 0 && (vocabulary.map { Int(id) < $0 } ?? true),
                             "id \(id) outside the vocabulary (\(vocabulary.map(String.init) ?? "unknown size"))")
        }
        try check(truncated.count <= limit, "\(truncated.count) ids with maxLength \(limit)")
    }
}
