import SkrrSupport

/// The CLIP tokenizer: byte-level BPE with "</w>" word ends, `<|startoftext|>` ... `<|endoftext|>`.
///
/// It reproduces transformers 5's `CLIPTokenizer`, which is the tokenizers-library ("fast")
/// pipeline that transformers 5 builds in `CLIPTokenizer.__init__` whatever the files say:
///
/// 1. special tokens written in the prompt (`<|startoftext|>`, `<|endoftext|>`, exact case) are
///    taken out first and become their ids (see `SpecialTokenSplitter`);
/// 2. normalisation, in this order: **NFC** (TokenizerNormalization: the crate's tables, not
///    Foundation's, which mis-composes); every run of Unicode White_Space (`\s+`, so also tabs,
///    newlines, NBSP, U+3000, U+2028, U+0085) becomes one " "; **lower-casing** one code point at a
///    time (Rust `char::to_lowercase`: no final-sigma rule, "İ" becomes "i\u{307}").
///    This is *not* the clean-up of the original OpenAI / slow transformers tokenizer, which ran
///    ftfy.fix_text, html.unescape twice and `strip()`: transformers 5 has no slow CLIP tokenizer any
///    more, so "&amp;" stays four characters, mojibake is not repaired and control characters
///    are kept (they become byte-level symbols). Leading/trailing spaces need no strip because the
///    next step drops all whitespace anyway;
/// 3. pre-tokenisation with CLIP's regex
///    `<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`
///    (keep the matches, drop what lies between: whitespace), alternatives tried in order at the
///    leftmost position; then the byte-level pre-tokenizer's GPT-2 regex on every piece (it only
///    splits further the pieces "<|startoftext|>" / "<|endoftext|>" that a lower-cased
///    "<|ENDOFTEXT|>" produces: "<|", "endoftext", "|>"). `\p{L}`, `\p{N}` are Oniguruma's
///    tables (TokenizerUnicodeTables), digits are single pieces;
/// 4. each piece's UTF-8 bytes mapped to GPT-2's byte-to-unicode characters, "</w>" appended to the
///    last one, then BPE: repeatedly merge the adjacent pair of lowest merge rank (leftmost first);
/// 5. `<|startoftext|>` + ids + `<|endoftext|>`; padding with `<|endoftext|>`.
public struct CLIPTokenizer: PromptTokenizer {
    public let padId: Int32
    public let startId: Int32
    public let endId: Int32

    private let source: String
    /// Id of the byte-level symbol of each byte, without and with "</w>".
    private let byteIds: [Int32]
    private let finalByteIds: [Int32]
    /// (left id << 32 | right id) -> (rank, merged id).
    private let merges: [UInt64: (rank: Int32, id: Int32)]
    private let specials: SpecialTokenSplitter

    public init(vocabJSON: [UInt8], merges: [UInt8], source: String, padId: Int32? = nil) throws {
        try self.init(vocabJSON: vocabJSON, vocabSource: source, merges: merges, mergesSource: source, padId: padId)
    }

    public init(vocabPath: String, mergesPath: String, padId: Int32? = nil) throws {
        try self.init(
            vocabJSON: try readTokenizerFile(vocabPath), vocabSource: vocabPath,
            merges: try readTokenizerFile(mergesPath), mergesSource: mergesPath, padId: padId)
    }

    /// `padId`: the id the model's batches are padded with (the importer takes it from the
    /// tokenizer's `pad_token`), default `<|endoftext|>`. A pad token other than the start and
    /// end tokens is a special token as well, as transformers adds it: SD3's CLIP-G tokenizer
    /// pads with "!", so a "!" in a prompt becomes that id, not a BPE piece.
    init(vocabJSON: [UInt8], vocabSource: String, merges mergesFile: [UInt8], mergesSource: String, padId requestedPad: Int32? = nil) throws {
        let vocab = try Self.readVocabulary(vocabJSON, source: vocabSource)
        func special(_ token: String) throws -> Int32 {
            guard let id = vocab[Array(token.utf8)] else {
                throw SkrrError(file: vocabSource, key: token, "CLIP vocabulary (vocab.json) lacks the special token \(token)")
            }
            return id
        }
        let start = try special("<|startoftext|>"), end = try special("<|endoftext|>")
        startId = start
        endId = end
        var specialTokens = [("<|startoftext|>", start), ("<|endoftext|>", end)]
        if let requestedPad, requestedPad != start, requestedPad != end {
            // transformers matches the token's own string (its vocab.json key) in the raw text.
            guard let token = vocab.first(where: { $0.value == requestedPad })?.key, let text = String(validating: token, as: UTF8.self) else {
                throw SkrrError(file: vocabSource, key: "pad_token_id", "the pad id \(requestedPad) is not in the CLIP vocabulary")
            }
            specialTokens.append((text, requestedPad))
        }
        padId = requestedPad ?? end
        source = vocabSource

        let byteSymbols = Self.byteToUnicode.map { Array(String($0).utf8) }
        byteIds = byteSymbols.map { vocab[$0] ?? end }  // a missing symbol is unk = <|endoftext|>
        finalByteIds = byteSymbols.map { vocab[$0 + Array("</w>".utf8)] ?? end }
        self.merges = try Self.readMerges(mergesFile, vocab: vocab, source: mergesSource)
        specials = SpecialTokenSplitter(specialTokens)
    }

    public func encode(_ text: String, maxLength: Int?) throws -> [Int32] {
        var body: [Int32] = []
        for segment in specials.split(text) {
            switch segment {
            case .special(let id): body.append(id)
            case .text(let scalars): encodeSegment(scalars, into: &body)
            }
        }
        return try assemble(prefix: [startId], body: body, suffix: [endId], maxLength: maxLength, source: source)
    }

    // MARK: Pipeline

    private func encodeSegment(_ raw: [Unicode.Scalar], into ids: inout [Int32]) {
        let text = Self.normalize(raw)
        var i = 0
        while i < text.count {
            if isTokenizerWhitespace(text[i]) {
                i += 1
                continue
            }
            let end = Self.clipPieceEnd(text, i)
            // The byte-level pre-tokenizer's GPT-2 regex inside the piece.
            var j = i
            while j < end {
                let subEnd = Self.gpt2PieceEnd(text, j, end)
                var bytes: [UInt8] = []
                for scalar in text[j..<subEnd] { bytes.append(contentsOf: String(scalar).utf8) }
                bpe(bytes, into: &ids)
                j = subEnd
            }
            i = end
        }
    }

    /// NFC, whitespace runs to one " ", per-code-point lower case.
    static func normalize(_ raw: [Unicode.Scalar]) -> [Unicode.Scalar] {
        let composed = TokenizerNormalization.nfc(raw)
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(composed.count)
        var inSpace = false
        for scalar in composed {
            if isTokenizerWhitespace(scalar) {
                if !inSpace { out.append(" ") }
                inSpace = true
            } else {
                inSpace = false
                appendLowercased(scalar, to: &out)
            }
        }
        return out
    }

    private static let startText = Array("<|startoftext|>".unicodeScalars)
    private static let endText = Array("<|endoftext|>".unicodeScalars)

    private static func isLetter(_ s: Unicode.Scalar) -> Bool { TokenizerUnicodeTables.clipLetter.contains(s) }
    private static func isNumber(_ s: Unicode.Scalar) -> Bool { TokenizerUnicodeTables.clipNumber.contains(s) }
    private static func isOther(_ s: Unicode.Scalar) -> Bool {
        !isTokenizerWhitespace(s) && !isLetter(s) && !isNumber(s)
    }

    /// Length of a contraction ('s 't 're 've 'm 'll 'd) at `i`, or 0.
    private static func contractionLength(_ t: [Unicode.Scalar], _ i: Int, _ end: Int) -> Int {
        guard t[i] == "'", i + 1 < end else { return 0 }
        switch t[i + 1] {
        case "s", "t", "m", "d": return 2
        case "r", "v": return i + 2 < end && t[i + 2] == "e" ? 3 : 0
        case "l": return i + 2 < end && t[i + 2] == "l" ? 3 : 0
        default: return 0
        }
    }

    private static func hasPrefix(_ t: [Unicode.Scalar], _ i: Int, _ p: [Unicode.Scalar]) -> Bool {
        i + p.count <= t.count && t[i..<(i + p.count)].elementsEqual(p)
    }

    /// End of the CLIP-regex match starting at the non-whitespace scalar `i`.
    private static func clipPieceEnd(_ t: [Unicode.Scalar], _ i: Int) -> Int {
        if hasPrefix(t, i, startText) { return i + startText.count }
        if hasPrefix(t, i, endText) { return i + endText.count }
        let contraction = contractionLength(t, i, t.count)
        if contraction > 0 { return i + contraction }
        var j = i + 1
        if isLetter(t[i]) {
            while j < t.count && isLetter(t[j]) { j += 1 }
        } else if isNumber(t[i]) {
            return j
        } else {
            while j < t.count && isOther(t[j]) { j += 1 }
        }
        return j
    }

    /// End of the GPT-2 regex match `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|...`
    /// starting at `i` inside a piece without whitespace.
    private static func gpt2PieceEnd(_ t: [Unicode.Scalar], _ i: Int, _ end: Int) -> Int {
        let contraction = contractionLength(t, i, end)
        if contraction > 0 { return i + contraction }
        var j = i + 1
        if isLetter(t[i]) {
            while j < end && isLetter(t[j]) { j += 1 }
        } else if isNumber(t[i]) {
            while j < end && isNumber(t[j]) { j += 1 }
        } else {
            while j < end && isOther(t[j]) { j += 1 }
        }
        return j
    }

    /// tokenizers' `BPE::merge_word` + `Word::merge_all`: the adjacent pair with the lowest rank is
    /// merged first, the leftmost one among equal pairs.
    private func bpe(_ bytes: [UInt8], into ids: inout [Int32]) {
        guard !bytes.isEmpty else { return }
        var symbols = bytes.map { byteIds[Int($0)] }
        symbols[symbols.count - 1] = finalByteIds[Int(bytes[bytes.count - 1])]
        while symbols.count > 1 {
            var bestRank = Int32.max, bestPosition = -1, bestId: Int32 = 0
            for i in 0..<(symbols.count - 1) {
                if let merge = merges[Self.pairKey(symbols[i], symbols[i + 1])], merge.rank < bestRank {
                    bestRank = merge.rank
                    bestPosition = i
                    bestId = merge.id
                }
            }
            if bestPosition < 0 { break }
            symbols[bestPosition] = bestId
            symbols.remove(at: bestPosition + 1)
        }
        ids.append(contentsOf: symbols)
    }

    private static func pairKey(_ a: Int32, _ b: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
    }

    /// GPT-2's reversible byte -> printable character table.
    static let byteToUnicode: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            if (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b) {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    // MARK: Files

    /// vocab.json: a JSON object token -> id, ids distinct, in 0 ... Int32.max.
    static func readVocabulary(_ bytes: [UInt8], source: String) throws -> [TokenBytes: Int32] {
        guard !bytes.isEmpty else {
            throw SkrrError(file: source, "empty CLIP vocabulary (expected vocab.json, a JSON object token -> id)")
        }
        let json: JSONValue
        do { json = try JSONParser.parse(bytes) } catch let error as SkrrError {
            throw SkrrError(file: source, "CLIP vocabulary (vocab.json) is not valid JSON: \(error.message)")
        }
        guard let members = json.objectMembers else {
            throw SkrrError(file: source, "CLIP vocabulary (vocab.json) must be a JSON object token -> id, got \(json.typeName)")
        }
        guard !members.isEmpty else { throw SkrrError(file: source, "CLIP vocabulary (vocab.json) is an empty object") }
        var vocab: [TokenBytes: Int32] = [:]
        var tokenOfId: [Int32: String] = [:]
        vocab.reserveCapacity(members.count)
        for (token, value) in members {
            guard let id = value.intValue, id >= 0, id <= Int(Int32.max) else {
                throw SkrrError(file: source, key: token, "expected a non-negative integer id, got \(value.typeName) \(Self.describe(value))")
            }
            if let other = tokenOfId[Int32(id)] {
                throw SkrrError(file: source, key: token, "id \(id) is also the id of \"\(other)\"")
            }
            if vocab.updateValue(Int32(id), forKey: Array(token.utf8)) != nil {
                throw SkrrError(file: source, key: token, "duplicate token in the vocabulary")
            }
            tokenOfId[Int32(id)] = token
        }
        return vocab
    }

    private static func describe(_ value: JSONValue) -> String {
        switch value {
        case .number(let text): return text
        case .string(let text): return "\"\(text.prefix(40))\""
        default: return ""
        }
    }

    /// merges.txt: an optional "#version" line, then one "left right" pair per line, best first.
    /// The rank of a merge is its position among the pairs.
    static func readMerges(_ bytes: [UInt8], vocab: [TokenBytes: Int32], source: String) throws
        -> [UInt64: (rank: Int32, id: Int32)]
    {
        guard !bytes.isEmpty else { throw SkrrError(file: source, "empty CLIP merges file (expected merges.txt)") }
        guard decodeUTF8(bytes) != nil else {
            throw SkrrError(file: source, "CLIP merges file (merges.txt) is not valid UTF-8")
        }
        // Lines are split on "\n" bytes ("\r\n" tolerated); a trailing newline ends the last line.
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        while let last = lines.last, last.isEmpty || last.elementsEqual([0x0D]) { lines.removeLast() }
        let version = Array("#version".utf8)
        var merges: [UInt64: (rank: Int32, id: Int32)] = [:]
        var lineOfPair: [UInt64: Int] = [:]
        merges.reserveCapacity(lines.count)
        for (index, rawLine) in lines.enumerated() {
            let lineNumber = index + 1
            var line = rawLine
            if line.last == 0x0D { line = line.dropLast() }
            if line.starts(with: version) { continue }
            let parts = line.split(separator: 0x20, omittingEmptySubsequences: false)
            func text(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw SkrrError(
                    file: source,
                    "CLIP merges (merges.txt) line \(lineNumber): expected two tokens separated by one space, got \"\(text(line).prefix(60))\"")
            }
            let left = Array(parts[0]), right = Array(parts[1])
            guard let leftId = vocab[left], let rightId = vocab[right] else {
                let missing = vocab[left] == nil ? parts[0] : parts[1]
                throw SkrrError(
                    file: source, "CLIP merges (merges.txt) line \(lineNumber): \"\(text(missing))\" is not in the vocabulary")
            }
            guard let mergedId = vocab[left + right] else {
                throw SkrrError(
                    file: source,
                    "CLIP merges (merges.txt) line \(lineNumber): the merged token \"\(text(parts[0]))\(text(parts[1]))\" is not in the vocabulary")
            }
            let key = pairKey(leftId, rightId)
            if let first = lineOfPair[key] {
                throw SkrrError(
                    file: source,
                    "CLIP merges (merges.txt) line \(lineNumber): duplicate merge \"\(text(line))\" (first on line \(first))")
            }
            lineOfPair[key] = lineNumber
            merges[key] = (Int32(merges.count), mergedId)
        }
        guard !merges.isEmpty else { throw SkrrError(file: source, "CLIP merges file (merges.txt) has no merges") }
        return merges
    }
}
