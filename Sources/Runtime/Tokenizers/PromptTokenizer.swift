import SkrrSupport

/// Turns a prompt into the input ids of a text encoder, exactly as transformers 5 does for the
/// encoder family (checked id for id against transformers 5.24 in
/// Tests/RuntimeTests/TokenizerParityTests.swift; reference made by scripts/make_tokenizer_reference.py).
public protocol PromptTokenizer: Sendable {
    /// Ids as transformers' tokenizer(text) gives them with add_special_tokens=True, truncated
    /// the way transformers truncates with truncation=True, max_length=maxLength (special tokens kept).
    func encode(_ text: String, maxLength: Int?) throws -> [Int32]
    var padId: Int32 { get }
}

extension PromptTokenizer {
    /// `encode`, refusing a prompt that gives more than `maxTokens` ids (docs/limits.md) by where
    /// it came from (`origin`, e.g. "prompt 3 of FILE"), before any batch is sized by it. `key`
    /// and `hint` say which option set the limit and how to raise it.
    public func encode(_ text: String, maxLength: Int?, maxTokens: Int, origin: @autoclosure () -> String,
                       key: String, hint: String = "") throws -> [Int32] {
        let ids = try encode(text, maxLength: maxLength)
        guard ids.count <= maxTokens else {
            throw SkrrError(key: key, TokenBatch.overLimit(origin(), tokens: ids.count, maxTokens: maxTokens) + hint)
        }
        return ids
    }
}

// MARK: - Pieces shared by the three tokenizers

/// A set of code points given as sorted, disjoint ranges (see TokenizerUnicodeTables.swift).
struct CodePointSet: Sendable {
    private let lows: [UInt32]
    private let highs: [UInt32]
    private let ascii: (UInt64, UInt64)

    /// `spec`: whitespace-separated hex code points or ranges "LOW-HIGH", ascending.
    init(_ spec: String) {
        var lows: [UInt32] = [], highs: [UInt32] = []
        for item in spec.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let bounds = item.split(separator: "-")
            let low = UInt32(bounds[0], radix: 16)!
            let high = bounds.count > 1 ? UInt32(bounds[1], radix: 16)! : low
            precondition(low <= high && (lows.isEmpty || low > highs[highs.count - 1]), "unsorted table")
            lows.append(low)
            highs.append(high)
        }
        var ascii: (UInt64, UInt64) = (0, 0)
        for (low, high) in zip(lows, highs) where low < 128 {
            for v in low...min(high, 127) {
                if v < 64 { ascii.0 |= 1 << UInt64(v) } else { ascii.1 |= 1 << UInt64(v - 64) }
            }
        }
        self.lows = lows
        self.highs = highs
        self.ascii = ascii
    }

    func contains(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if v < 64 { return ascii.0 & (1 << UInt64(v)) != 0 }
        if v < 128 { return ascii.1 & (1 << UInt64(v - 64)) != 0 }
        // Last range whose low bound is <= v.
        var lo = 0, hi = lows.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if lows[mid] <= v { lo = mid + 1 } else { hi = mid }
        }
        return lo > 0 && v <= highs[lo - 1]
    }
}

/// One piece of a prompt after the special tokens written in it have been taken out.
enum PromptSegment {
    case text([Unicode.Scalar])
    case special(Int32)
}

/// transformers' AddedVocabulary for special tokens: they are found in the *raw* text (before any
/// normalisation, case-sensitively; "normalized": false in tokenizer.json), leftmost match first and
/// the longest token at that position, and become their id; the text between them is tokenized
/// piece by piece. So a prompt containing "<|endoftext|>" gets the real end-of-text id, as in Python.
struct SpecialTokenSplitter: Sendable {
    private let tokens: [(scalars: [Unicode.Scalar], id: Int32)]

    init(_ tokens: [(String, Int32)]) {
        self.tokens = tokens.filter { !$0.0.isEmpty }.map { (Array($0.0.unicodeScalars), $0.1) }
    }

    func split(_ text: String) -> [PromptSegment] {
        let scalars = Array(text.unicodeScalars)
        if tokens.isEmpty { return [.text(scalars)] }
        var segments: [PromptSegment] = []
        var pending: [Unicode.Scalar] = []
        var i = 0
        while i < scalars.count {
            var best: (length: Int, id: Int32)?
            for token in tokens where token.scalars.count > (best?.length ?? 0) {
                let n = token.scalars.count
                if i + n <= scalars.count, scalars[i] == token.scalars[0],
                    scalars[i..<(i + n)].elementsEqual(token.scalars)
                {
                    best = (n, token.id)
                }
            }
            if let best {
                if !pending.isEmpty { segments.append(.text(pending)) }
                pending = []
                segments.append(.special(best.id))
                i += best.length
            } else {
                pending.append(scalars[i])
                i += 1
            }
        }
        if !pending.isEmpty { segments.append(.text(pending)) }
        return segments
    }
}

/// Adds the special tokens around `body` after truncating it like transformers (tokenizers'
/// `truncate_encodings`, strategy longest_first, one sequence): the body keeps its first
/// `maxLength - specials` ids. When `maxLength` leaves no room even for the special tokens
/// (for CLIP and BERT: 0 or 1; for T5: 0), transformers does not truncate at all (it logs an
/// error and returns the full sequence), and neither do we.
func assemble(prefix: [Int32], body: [Int32], suffix: [Int32], maxLength: Int?, source: String) throws -> [Int32] {
    var body = body
    if let maxLength {
        guard maxLength >= 0 else {
            throw SkrrError(file: source, "maxLength must not be negative, got \(maxLength)")
        }
        let room = maxLength - prefix.count - suffix.count
        if room >= 0 && body.count > room { body.removeLast(body.count - room) }
    }
    return prefix + body + suffix
}

/// Hashable UTF-8 bytes: vocabularies are looked up by exact bytes, as the Rust tokenizers do.
/// (Swift `String` equality is canonical equivalence, so "é" and "e\u{301}" would collide.)
typealias TokenBytes = [UInt8]

func decodeUTF8(_ bytes: some Collection<UInt8>) -> String? {
    var scalars = String.UnicodeScalarView()
    var decoder = UTF8()
    var iterator = bytes.makeIterator()
    while true {
        switch decoder.decode(&iterator) {
        case .scalarValue(let scalar): scalars.append(scalar)
        case .emptyInput: return String(scalars)
        case .error: return nil
        }
    }
}

/// Reads a tokenizer file, reporting a missing or unreadable file as a SkrrError naming it.
func readTokenizerFile(_ path: String) throws -> [UInt8] {
    do {
        return try readWholeFile(path)
    } catch let error as SkrrError {
        throw error.inFile(path)
    } catch {
        throw SkrrError(file: path, "cannot read tokenizer file: \(error)")
    }
}

/// Unicode White_Space (Rust `char::is_whitespace`, Oniguruma `\s`).
@inline(__always)
func isTokenizerWhitespace(_ scalar: Unicode.Scalar) -> Bool {
    TokenizerUnicodeTables.whitespace.contains(scalar)
}

/// Rust `char::to_lowercase`, one code point at a time (so no final-sigma rule: "Σ" is always "σ"),
/// as tokenizers' `NormalizedString::lowercase` does. Swift's per-scalar mapping is the same table
/// (compared on every code point against tokenizers 0.23: no difference).
func appendLowercased(_ scalar: Unicode.Scalar, to out: inout [Unicode.Scalar]) {
    if scalar.value < 128 {
        let v = scalar.value
        out.append((65...90).contains(v) ? Unicode.Scalar(v + 32)! : scalar)
        return
    }
    out.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
}
