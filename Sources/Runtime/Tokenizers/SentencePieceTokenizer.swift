import CSentencePiece
import SkrrSupport

/// The T5 / UMT5 tokenizer: SentencePiece unigram pieces followed by "</s>".
///
/// It reproduces transformers 5's `T5Tokenizer`, which is *not* libsentencepiece: transformers 5
/// always runs the tokenizers-library pipeline it builds in `T5Tokenizer.__init__` from the
/// pieces, scores and normaliser table of `spiece.model`:
///
/// 1. special tokens written in the prompt ("</s>", "<pad>", "<unk>") are taken out first and
///    become their ids (see `SpecialTokenSplitter`);
/// 2. `Precompiled` normaliser: the model's compiled normalisation table (NFKC-like), applied per
///    *grapheme cluster*: a cluster shorter than 6 UTF-8 bytes whose first bytes are a table key is
///    replaced as a whole by the value of the *shortest* such key, otherwise each code point is
///    looked up alone. libsentencepiece instead replaces the longest key at each position, so the
///    two differ when a mapped character carries a combining mark ("½\u{300}" is "1⁄2" in
///    transformers but "1⁄2\u{300}" in libsentencepiece);
/// 3. `WhitespaceSplit` on Unicode White_Space (libsentencepiece only knows " " after its table:
///    a newline survives there as an unknown piece, here it separates words);
/// 4. `Metaspace` (prepend "▁" to every word unless it starts with one, then split before every
///    "▁", so "a▁▁b" gives the pieces "▁a", "▁", "▁b" where libsentencepiece collapses them);
/// 5. unigram Viterbi over the byte trie of *all* pieces (control pieces included, score sums in
///    Double, ties kept by the first/shorter candidate, unknown characters scored min - 10 and
///    consecutive unknowns fused into one "<unk>"), as tokenizers' `Unigram::encode_optimized`.
///
/// libsentencepiece (CSentencePiece) still loads every model first: a file it refuses is refused
/// with its message, and the special ids (eos, pad, unk) are the ones it reports. The encoding itself
/// is done here so that it matches transformers id for id. The model's own normaliser flags
/// (add_dummy_prefix, remove_extra_whitespaces) are ignored, as transformers ignores them.
/// Not covered: T5's sentinel tokens "<extra_id_N>", which transformers appends *after* the pieces
/// of spiece.model (ids vocab_size ..< vocab_size + 100); a prompt containing one literally gets
/// ordinary pieces here.
public final class SentencePieceTokenizer: PromptTokenizer {
    public let padId: Int32
    /// "</s>", appended to every prompt.
    public let eosId: Int32
    public let unkId: Int32
    /// Number of pieces in the model.
    public let vocabularySize: Int

    private let source: String
    private let scores: [Double]
    private let trie: ByteTrie
    private let unknownScore: Double
    private let charsmap: PrecompiledCharsmap?
    private let specials: SpecialTokenSplitter

    public init(modelBytes: [UInt8], source: String) throws {
        guard !modelBytes.isEmpty else {
            throw SkrrError(file: source, "empty SentencePiece model (expected a serialized ModelProto)")
        }
        // libsentencepiece validates the model and reports its special ids.
        var message = [CChar](repeating: 0, count: 1024)
        let handle = modelBytes.withUnsafeBytes { raw in
            message.withUnsafeMutableBufferPointer { buffer in
                skrr_spm_load_from_bytes(raw.baseAddress, raw.count, buffer.baseAddress, buffer.count)
            }
        }
        guard let handle else {
            let text = String(decoding: message.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw SkrrError(file: source, "not a valid SentencePiece model: \(text.isEmpty ? "rejected by libsentencepiece" : text)")
        }
        defer { skrr_spm_free(handle) }
        let spmSize = Int(skrr_spm_vocab_size(handle))
        let eos = skrr_spm_eos_id(handle), pad = skrr_spm_pad_id(handle), unk = skrr_spm_unk_id(handle)

        let model = try SentencePieceModelProto(modelBytes, source: source)
        guard model.pieces.count == spmSize else {
            throw SkrrError(
                file: source, "SentencePiece model has \(model.pieces.count) pieces but libsentencepiece loaded \(spmSize)")
        }
        guard eos >= 0 && Int(eos) < spmSize else {
            throw SkrrError(file: source, "SentencePiece model has no end-of-sequence piece (eos_id \(eos)); T5 appends </s>")
        }
        guard pad >= 0 && Int(pad) < spmSize else {
            throw SkrrError(file: source, "SentencePiece model has no padding piece (pad_id \(pad)); T5 pads with <pad>")
        }
        guard unk >= 0 && Int(unk) < spmSize else {
            throw SkrrError(file: source, "SentencePiece model has no unknown piece (unk_id \(unk))")
        }

        let scores = model.pieces.map { Double($0.score) }
        let minScore = scores.min() ?? 0
        self.source = source
        self.scores = scores
        self.trie = ByteTrie(pieces: model.pieces.map(\.bytes))
        self.unknownScore = minScore - 10  // tokenizers' K_UNK_PENALTY
        self.charsmap = try model.precompiledCharsmap.isEmpty ? nil : PrecompiledCharsmap(model.precompiledCharsmap, source: source)
        self.padId = pad
        self.eosId = eos
        self.unkId = unk
        self.vocabularySize = spmSize
        // transformers registers eos, unk and pad as special added tokens (T5 has no bos).
        var specialTokens: [(String, Int32)] = []
        for id in [pad, eos, unk] {
            if let text = decodeUTF8(model.pieces[Int(id)].bytes) { specialTokens.append((text, id)) }
        }
        self.specials = SpecialTokenSplitter(specialTokens)
    }

    public convenience init(path: String) throws {
        try self.init(modelBytes: try readTokenizerFile(path), source: path)
    }

    public func encode(_ text: String, maxLength: Int?) throws -> [Int32] {
        var body: [Int32] = []
        for segment in specials.split(text) {
            switch segment {
            case .special(let id): body.append(id)
            case .text(let scalars): try encodeSegment(scalars, into: &body)
            }
        }
        return try assemble(prefix: [], body: body, suffix: [eosId], maxLength: maxLength, source: source)
    }

    private static let metaspace: Unicode.Scalar = "\u{2581}"

    private func encodeSegment(_ raw: [Unicode.Scalar], into ids: inout [Int32]) throws {
        let normalized = try charsmap?.normalize(raw, source: source) ?? raw
        var word: [Unicode.Scalar] = []
        for scalar in normalized {
            if isTokenizerWhitespace(scalar) {
                encodeWord(word, into: &ids)
                word.removeAll(keepingCapacity: true)
            } else {
                word.append(scalar)
            }
        }
        encodeWord(word, into: &ids)
    }

    /// Metaspace (prepend_scheme "always", split) then unigram on each piece.
    private func encodeWord(_ word: [Unicode.Scalar], into ids: inout [Int32]) {
        guard !word.isEmpty else { return }
        var piece: [UInt8] = []
        if word[0] != Self.metaspace { piece.append(contentsOf: String(Self.metaspace).utf8) }
        for scalar in word {
            if scalar == Self.metaspace && !piece.isEmpty {
                viterbi(piece, into: &ids)
                piece.removeAll(keepingCapacity: true)
            }
            piece.append(contentsOf: String(scalar).utf8)
        }
        viterbi(piece, into: &ids)
    }

    /// tokenizers' `Unigram::encode_optimized` + `tokenize` (fuse_unk, no byte fallback).
    private func viterbi(_ bytes: [UInt8], into ids: inout [Int32]) {
        let n = bytes.count
        guard n > 0 else { return }
        var bestScore = [Double](repeating: 0, count: n + 1)
        var bestStart = [Int](repeating: -1, count: n + 1)
        var bestId = [Int32](repeating: -1, count: n + 1)
        var start = 0
        while start < n {
            let base = bestScore[start]
            let charLength = utf8Length(lead: bytes[start])
            var hasSingle = false
            trie.forEachPrefix(of: bytes, from: start) { end, id in
                let candidate = scores[Int(id)] + base
                if bestStart[end] < 0 || candidate > bestScore[end] {
                    bestScore[end] = candidate
                    bestStart[end] = start
                    bestId[end] = id
                }
                if end - start == charLength { hasSingle = true }
            }
            if !hasSingle {
                let end = min(start + charLength, n)
                let candidate = unknownScore + base
                if bestStart[end] < 0 || candidate > bestScore[end] {
                    bestScore[end] = candidate
                    bestStart[end] = start
                    bestId[end] = unkId
                }
            }
            start += charLength
        }
        // Backtrack; runs of unknown pieces are fused and the fused text looked up again.
        var reversed: [Int32] = []
        var end = n
        var unknownEnd = -1
        func flushUnknown(at start: Int) {
            guard unknownEnd >= 0 else { return }
            reversed.append(trie.lookup(bytes[start..<unknownEnd]) ?? unkId)
            unknownEnd = -1
        }
        while end > 0 {
            let start = bestStart[end]
            if bestId[end] == unkId {
                if unknownEnd < 0 { unknownEnd = end }
            } else {
                flushUnknown(at: end)
                reversed.append(bestId[end])
            }
            end = start
        }
        flushUnknown(at: 0)
        ids.append(contentsOf: reversed.reversed())
    }
}

@inline(__always)
private func utf8Length(lead: UInt8) -> Int {
    if lead < 0x80 { return 1 }
    if lead >= 0xF0 { return 4 }
    if lead >= 0xE0 { return 3 }
    return 2
}

// MARK: - Byte trie of the pieces

/// A byte trie built from the sorted pieces: the children of a node are contiguous and sorted by
/// byte, so a lookup is a binary search per byte (UMT5's 256k pieces build in a fraction of a second).
struct ByteTrie: Sendable {
    private var labels: [UInt8] = [0]
    private var childStart: [Int32] = [0]
    private var childCount: [Int32] = [0]
    private var values: [Int32] = [-1]

    /// `pieces[id]` is the UTF-8 of piece `id`; empty pieces are left out. For equal pieces the
    /// highest id wins, like tokenizers' token -> id map.
    init(pieces: [[UInt8]]) {
        let order = pieces.indices.filter { !pieces[$0].isEmpty }.sorted { a, b in
            let x = pieces[a], y = pieces[b]
            if x == y { return a < b }
            return x.lexicographicallyPrecedes(y)
        }
        var stack: [(lo: Int, hi: Int, depth: Int, node: Int)] = [(0, order.count, 0, 0)]
        while let (start, hi, depth, node) = stack.popLast() {
            var lo = start
            while lo < hi && pieces[order[lo]].count == depth {
                values[node] = Int32(order[lo])
                lo += 1
            }
            childStart[node] = Int32(labels.count)
            var i = lo
            while i < hi {
                let byte = pieces[order[i]][depth]
                var j = i + 1
                while j < hi && pieces[order[j]][depth] == byte { j += 1 }
                stack.append((i, j, depth + 1, labels.count))
                labels.append(byte)
                childStart.append(0)
                childCount.append(0)
                values.append(-1)
                i = j
            }
            childCount[node] = Int32(labels.count) - childStart[node]
        }
    }

    @inline(__always)
    private func child(of node: Int, _ byte: UInt8) -> Int {
        var lo = Int(childStart[node]), hi = lo + Int(childCount[node])
        while lo < hi {
            let mid = (lo + hi) / 2
            let label = labels[mid]
            if label == byte { return mid }
            if label < byte { lo = mid + 1 } else { hi = mid }
        }
        return -1
    }

    /// Calls `body(end, id)` for every piece that is a prefix of `bytes[start...]`, shortest first.
    func forEachPrefix(of bytes: [UInt8], from start: Int, _ body: (Int, Int32) -> Void) {
        var node = 0
        var i = start
        while i < bytes.count {
            node = child(of: node, bytes[i])
            if node < 0 { return }
            i += 1
            if values[node] >= 0 { body(i, values[node]) }
        }
    }

    func lookup(_ bytes: ArraySlice<UInt8>) -> Int32? {
        var node = 0
        for byte in bytes {
            node = child(of: node, byte)
            if node < 0 { return nil }
        }
        return node > 0 && values[node] >= 0 ? values[node] : nil
    }
}

// MARK: - The Precompiled normaliser

/// SentencePiece's compiled normalisation table ("precompiled_charsmap"): a little-endian u32 trie
/// size, a darts-clone double array of that many bytes, then NUL-terminated replacement strings.
/// Applied the way tokenizers' `Precompiled` normaliser does (see `SentencePieceTokenizer`).
struct PrecompiledCharsmap: Sendable {
    private let units: [UInt32]
    private let replacements: [UInt8]

    init(_ bytes: [UInt8], source: String) throws {
        func bad(_ what: String) -> SkrrError {
            SkrrError(file: source, "SentencePiece normaliser table (precompiled_charsmap) is malformed: \(what)")
        }
        guard bytes.count >= 4 else { throw bad("\(bytes.count) bytes, shorter than its 4-byte header") }
        let trieSize = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 | Int(bytes[3]) << 24
        guard trieSize % 4 == 0, trieSize >= 4, 4 + trieSize <= bytes.count else {
            throw bad("trie size \(trieSize) does not fit in \(bytes.count - 4) bytes")
        }
        var units: [UInt32] = []
        units.reserveCapacity(trieSize / 4)
        for i in stride(from: 4, to: 4 + trieSize, by: 4) {
            units.append(UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
        }
        let replacements = Array(bytes[(4 + trieSize)...])
        guard decodeUTF8(replacements) != nil else { throw bad("replacement strings are not valid UTF-8") }
        self.units = units
        self.replacements = replacements
    }

    /// The replacement of the shortest table key that is a prefix of `key` (darts-clone
    /// `commonPrefixSearch`, first result), as a range of `replacements`.
    private func firstPrefixMatch(_ key: some Collection<UInt8>) -> Range<Int>? {
        var position = 0
        var unit = units[0]
        position ^= Self.offset(unit)
        for byte in key {
            if byte == 0 { return nil }
            position ^= Int(byte)
            guard position < units.count else { return nil }
            unit = units[position]
            if unit & ((1 << 31) | 0xFF) != UInt32(byte) { return nil }
            position ^= Self.offset(unit)
            if (unit >> 8) & 1 == 1 {
                guard position < units.count else { return nil }
                let start = Int(units[position] & 0x7FFF_FFFF)
                guard start <= replacements.count else { return nil }
                var end = start
                while end < replacements.count && replacements[end] != 0 { end += 1 }
                return start..<end
            }
        }
        return nil
    }

    private static func offset(_ unit: UInt32) -> Int {
        Int((unit >> 10) << ((unit & (1 << 9)) >> 6))
    }

    private func replacement(_ key: some Collection<UInt8>, source: String) throws -> [Unicode.Scalar]? {
        guard let range = firstPrefixMatch(key) else { return nil }
        guard let text = decodeUTF8(replacements[range]) else {
            throw SkrrError(
                file: source,
                "SentencePiece normaliser table (precompiled_charsmap) is malformed: a replacement starts inside a UTF-8 sequence")
        }
        return Array(text.unicodeScalars)
    }

    func normalize(_ text: [Unicode.Scalar], source: String) throws -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        let string = String(String.UnicodeScalarView(text))
        for grapheme in string {
            let bytes = Array(grapheme.utf8)
            if bytes.count < 6, let whole = try replacement(bytes, source: source) {
                out.append(contentsOf: whole)
                continue
            }
            for scalar in grapheme.unicodeScalars {
                if let mapped = try replacement(Array(String(scalar).utf8), source: source) {
                    out.append(contentsOf: mapped)
                } else {
                    out.append(scalar)
                }
            }
        }
        return out
    }
}

// MARK: - ModelProto reader

/// The parts of sentencepiece_model.proto the tokenizer needs: ModelProto.pieces (1) with
/// piece (1), score (2), and normalizer_spec (3).precompiled_charsmap (2). Everything else is skipped.
struct SentencePieceModelProto {
    struct Piece {
        var bytes: [UInt8] = []
        var score: Float = 0
    }
    var pieces: [Piece] = []
    var precompiledCharsmap: [UInt8] = []

    init(_ bytes: [UInt8], source: String) throws {
        var reader = ProtoReader(bytes: bytes, range: 0..<bytes.count, source: source)
        while let next = try reader.nextField() {
            let (field, wire) = next
            switch (field, wire) {
            case (1, 2):
                let range = try reader.lengthDelimited()
                var pieceReader = ProtoReader(bytes: bytes, range: range, source: source)
                var piece = Piece()
                while let next = try pieceReader.nextField() {
                    let (f, w) = next
                    switch (f, w) {
                    case (1, 2): piece.bytes = Array(bytes[try pieceReader.lengthDelimited()])
                    case (2, 5): piece.score = Float(bitPattern: try pieceReader.fixed32())
                    default: try pieceReader.skip(wire: w)
                    }
                }
                guard decodeUTF8(piece.bytes) != nil else {
                    throw SkrrError(file: source, "SentencePiece piece \(pieces.count) is not valid UTF-8")
                }
                pieces.append(piece)
            case (3, 2):
                let range = try reader.lengthDelimited()
                var specReader = ProtoReader(bytes: bytes, range: range, source: source)
                while let next = try specReader.nextField() {
                    let (f, w) = next
                    if f == 2 && w == 2 {
                        precompiledCharsmap = Array(bytes[try specReader.lengthDelimited()])
                    } else {
                        try specReader.skip(wire: w)
                    }
                }
            default:
                try reader.skip(wire: wire)
            }
        }
    }
}

/// Protocol-buffer wire format over a range of bytes.
struct ProtoReader {
    let bytes: [UInt8]
    var position: Int
    let end: Int
    let source: String

    init(bytes: [UInt8], range: Range<Int>, source: String) {
        self.bytes = bytes
        self.position = range.lowerBound
        self.end = range.upperBound
        self.source = source
    }

    private func bad(_ what: String) -> SkrrError {
        SkrrError(file: source, "malformed SentencePiece model (protobuf): \(what) at byte \(position)")
    }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw bad("truncated varint") }
            let byte = bytes[position]
            position += 1
            guard shift < 64 else { throw bad("varint longer than 10 bytes") }
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
    }

    mutating func nextField() throws -> (Int, Int)? {
        guard position < end else { return nil }
        let key = try varint()
        let field = Int(truncatingIfNeeded: key >> 3)
        guard field > 0 else { throw bad("field number 0") }
        return (field, Int(key & 7))
    }

    mutating func lengthDelimited() throws -> Range<Int> {
        let length = try varint()
        guard length <= UInt64(end - position) else { throw bad("length \(length) runs past the end") }
        let range = position..<(position + Int(length))
        position += Int(length)
        return range
    }

    mutating func fixed32() throws -> UInt32 {
        guard end - position >= 4 else { throw bad("truncated fixed32") }
        let b = bytes[position..<(position + 4)].map(UInt32.init)
        position += 4
        return b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24
    }

    mutating func skip(wire: Int) throws {
        switch wire {
        case 0: _ = try varint()
        case 1:
            guard end - position >= 8 else { throw bad("truncated fixed64") }
            position += 8
        case 2: _ = try lengthDelimited()
        case 5: _ = try fixed32()
        default: throw bad("unsupported wire type \(wire)")
        }
    }
}
