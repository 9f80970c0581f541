import SkrrSupport

/// The BERT tokenizer: `[CLS]` ... `[SEP]`, BasicTokenizer + WordPiece, as transformers 5's
/// `BertTokenizer` (the tokenizers-library pipeline `BertNormalizer` + `BertPreTokenizer` +
/// `WordPiece`, built by transformers 5 in `BertTokenizer.__init__`):
///
/// 1. special tokens written in the prompt (`[CLS]`, `[SEP]`, `[PAD]`, `[UNK]`, `[MASK]`, exact
///    case) are taken out first and become their ids (see `SpecialTokenSplitter`);
/// 2. clean-up: NUL, U+FFFD and control / format / private-use characters are removed, every
///    Unicode White_Space character becomes " " (controls first: U+000B, U+000C, U+0085 are removed,
///    not turned into spaces). The classes are those of the Rust `unicode_categories` crate that
///    tokenizers uses (Unicode 8 era; TokenizerUnicodeTables), so e.g. U+08E2 survives;
/// 3. CJK ideographs get a space on each side (BERT's `_is_chinese_char` blocks);
/// 4. with `lowercase` (uncased models, strip_accents unset): NFD (TokenizerNormalization), non-spacing marks removed (the
///    crate's Mn table), then per-code-point lower case ("café" -> "cafe", "İ" -> "i");
///    cased models do neither;
/// 5. words: split at whitespace; every punctuation character (ASCII punctuation, which includes
///    symbols like "$+<=>^`|~", and the crate's Unicode P* classes) is a word of its own;
/// 6. WordPiece per word: greedy longest match with "##" continuations; a word longer than 100
///    code points, or one that cannot be covered, is a single `[UNK]`.
public struct WordPieceTokenizer: PromptTokenizer {
    public let padId: Int32
    public let clsId: Int32
    public let sepId: Int32
    public let unkId: Int32
    public let lowercase: Bool

    private let source: String
    private let vocab: [TokenBytes: Int32]
    /// Longest vocabulary entry in bytes: no longer substring can match.
    private let longestToken: Int
    private let specials: SpecialTokenSplitter
    private static let maxInputCharsPerWord = 100

    public init(vocab bytes: [UInt8], lowercase: Bool, source: String) throws {
        let vocab = try Self.readVocabulary(bytes, source: source)
        func special(_ token: String) throws -> Int32 {
            guard let id = vocab[Array(token.utf8)] else {
                throw SkrrError(file: source, key: token, "WordPiece vocabulary (vocab.txt) lacks the special token \(token)")
            }
            return id
        }
        clsId = try special("[CLS]")
        sepId = try special("[SEP]")
        unkId = try special("[UNK]")
        padId = try special("[PAD]")
        var specialTokens: [(String, Int32)] = [("[PAD]", padId), ("[UNK]", unkId), ("[CLS]", clsId), ("[SEP]", sepId)]
        if let mask = vocab[Array("[MASK]".utf8)] { specialTokens.append(("[MASK]", mask)) }
        specials = SpecialTokenSplitter(specialTokens)
        self.vocab = vocab
        self.lowercase = lowercase
        self.source = source
        longestToken = vocab.keys.map(\.count).max() ?? 0
    }

    public init(vocabPath: String, lowercase: Bool) throws {
        try self.init(vocab: try readTokenizerFile(vocabPath), lowercase: lowercase, source: vocabPath)
    }

    public func encode(_ text: String, maxLength: Int?) throws -> [Int32] {
        var body: [Int32] = []
        for segment in specials.split(text) {
            switch segment {
            case .special(let id): body.append(id)
            case .text(let scalars): encodeSegment(scalars, into: &body)
            }
        }
        return try assemble(prefix: [clsId], body: body, suffix: [sepId], maxLength: maxLength, source: source)
    }

    // MARK: Pipeline

    private func encodeSegment(_ raw: [Unicode.Scalar], into ids: inout [Int32]) {
        let text = normalize(raw)
        var word: [Unicode.Scalar] = []
        for scalar in text {
            if isTokenizerWhitespace(scalar) {
                wordPiece(word, into: &ids)
                word.removeAll(keepingCapacity: true)
            } else if TokenizerUnicodeTables.bertPunctuation.contains(scalar) {
                wordPiece(word, into: &ids)
                word.removeAll(keepingCapacity: true)
                wordPiece([scalar], into: &ids)
            } else {
                word.append(scalar)
            }
        }
        wordPiece(word, into: &ids)
    }

    /// BertNormalizer(clean_text, handle_chinese_chars, strip_accents = lowercase, lowercase).
    func normalize(_ raw: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var cleaned: [Unicode.Scalar] = []
        cleaned.reserveCapacity(raw.count)
        for scalar in raw {
            if TokenizerUnicodeTables.bertControl.contains(scalar) { continue }
            if isTokenizerWhitespace(scalar) {
                cleaned.append(" ")
            } else if scalar.value >= 0x3400 && TokenizerUnicodeTables.bertChinese.contains(scalar) {
                cleaned.append(" ")
                cleaned.append(scalar)
                cleaned.append(" ")
            } else {
                cleaned.append(scalar)
            }
        }
        guard lowercase else { return cleaned }
        let decomposed = TokenizerNormalization.nfd(cleaned)
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(decomposed.count)
        for scalar in decomposed where !TokenizerUnicodeTables.bertNonspacingMark.contains(scalar) {
            appendLowercased(scalar, to: &out)
        }
        return out
    }

    private static let continuation = Array("##".utf8)

    /// tokenizers' `WordPiece::tokenize`.
    private func wordPiece(_ word: [Unicode.Scalar], into ids: inout [Int32]) {
        guard !word.isEmpty else { return }
        if word.count > Self.maxInputCharsPerWord {
            ids.append(unkId)
            return
        }
        var bytes: [UInt8] = []
        var boundaries: [Int] = [0]  // byte offset of every code point boundary
        for scalar in word {
            bytes.append(contentsOf: String(scalar).utf8)
            boundaries.append(bytes.count)
        }
        var pieces: [Int32] = []
        var start = 0  // index into boundaries
        while start < word.count {
            var end = word.count
            while end > start && boundaries[end] - boundaries[start] > longestToken { end -= 1 }
            var found: Int32?
            while end > start {
                var key = start > 0 ? Self.continuation : []
                key.append(contentsOf: bytes[boundaries[start]..<boundaries[end]])
                if let id = vocab[key] {
                    found = id
                    break
                }
                end -= 1
            }
            guard let id = found else {
                ids.append(unkId)
                return
            }
            pieces.append(id)
            start = end
        }
        ids.append(contentsOf: pieces)
    }

    // MARK: File

    /// vocab.txt: one token per line, the id is the line number from 0. Lines end in "\n" (a "\r"
    /// before it is dropped); a final newline does not start another token.
    static func readVocabulary(_ bytes: [UInt8], source: String) throws -> [TokenBytes: Int32] {
        guard !bytes.isEmpty else {
            throw SkrrError(file: source, "empty WordPiece vocabulary (expected vocab.txt, one token per line)")
        }
        guard decodeUTF8(bytes) != nil else {
            throw SkrrError(file: source, "WordPiece vocabulary (vocab.txt) is not valid UTF-8")
        }
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        if let last = lines.last, last.isEmpty { lines.removeLast() }
        guard lines.count <= Int(Int32.max) else { throw SkrrError(file: source, "WordPiece vocabulary is too large") }
        var vocab: [TokenBytes: Int32] = [:]
        vocab.reserveCapacity(lines.count)
        var firstLine: [TokenBytes: Int] = [:]
        for (index, rawLine) in lines.enumerated() {
            var token = Array(rawLine)
            if token.last == 0x0D { token.removeLast() }
            guard !token.isEmpty else {
                throw SkrrError(file: source, "WordPiece vocabulary (vocab.txt) line \(index + 1) is empty")
            }
            if let first = firstLine[token] {
                throw SkrrError(
                    file: source, key: String(decoding: token, as: UTF8.self),
                    "duplicate token in the WordPiece vocabulary (vocab.txt): lines \(first) and \(index + 1)")
            }
            firstLine[token] = index + 1
            vocab[token] = Int32(index)
        }
        return vocab
    }
}
