import Foundation
import SkrrRuntime
import SkrrSupport
import SkrrTestSupport
import Testing

/// Bad tokenizer files must throw a SkrrError that names the file and says what is wrong.
func expectTokenizerError(
    file: String, _ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("expected an error mentioning \(fragments)", sourceLocation: sourceLocation)
    } catch let error as SkrrError {
        #expect(error.file == file, "error names \(error.file ?? "no file"): \(error)", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(error.description.contains(fragment), "\"\(error)\" lacks \"\(fragment)\"", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected a SkrrError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    }
}

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A minimal protobuf writer for hand-made SentencePiece models.
private enum Proto {
    static func varint(_ value: UInt64) -> [UInt8] {
        var v = value, out: [UInt8] = []
        repeat {
            out.append(UInt8(v & 0x7F) | (v >= 0x80 ? 0x80 : 0))
            v >>= 7
        } while v != 0
        return out
    }
    static func key(_ field: Int, _ wire: Int) -> [UInt8] { varint(UInt64(field << 3 | wire)) }
    static func bytesField(_ field: Int, _ payload: [UInt8]) -> [UInt8] {
        key(field, 2) + varint(UInt64(payload.count)) + payload
    }
    static func intField(_ field: Int, _ value: Int64) -> [UInt8] { key(field, 0) + varint(UInt64(bitPattern: value)) }
    static func piece(_ text: String, score: Float, type: Int) -> [UInt8] {
        let v = score.bitPattern
        let fixed = [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)]
        return bytesField(1, bytesField(1, Array(text.utf8)) + key(2, 5) + fixed + intField(3, Int64(type)))
    }
    /// A unigram model. libsentencepiece reports pad / eos as the ids of the control pieces "<pad>"
    /// / "</s>" (TrainerSpec pad_piece / eos_piece), whatever TrainerSpec's pad_id / eos_id say, so
    /// the pieces are left out (or made ordinary) to get a model without them.
    static func model(pad: Bool = true, eos: Bool = true) -> [UInt8] {
        var out: [UInt8] = []
        out += piece("<unk>", score: 0, type: 2)
        out += piece("<pad>", score: 0, type: pad ? 3 : 1)
        out += piece("</s>", score: 0, type: eos ? 3 : 1)
        out += piece("\u{2581}a", score: -1, type: 1)
        out += piece("\u{2581}", score: -2, type: 1)
        out += piece("a", score: -3, type: 1)
        out += piece("b", score: -3, type: 1)
        let trainer = intField(40, 0) + intField(41, -1) + intField(42, 2) + intField(43, 1)
        return out + bytesField(2, trainer)
    }
}

@Suite struct TokenizerErrorTests {
    // MARK: SentencePiece

    @Test func sentencePieceRejectsEmptyAndGarbage() {
        let source = "text_encoder/spiece.model"
        expectTokenizerError(file: source, ["empty"]) { _ = try SentencePieceTokenizer(modelBytes: [], source: source) }
        expectTokenizerError(file: source, ["not a valid SentencePiece model"]) {
            _ = try SentencePieceTokenizer(modelBytes: bytes("this is not a protobuf file\n"), source: source)
        }
        expectTokenizerError(file: source, ["not a valid SentencePiece model"]) {
            _ = try SentencePieceTokenizer(modelBytes: bytes("{\"model\": {\"type\": \"Unigram\"}}"), source: source)
        }
        expectTokenizerError(file: source, ["not a valid SentencePiece model"]) {
            _ = try SentencePieceTokenizer(modelBytes: [UInt8](repeating: 0xFF, count: 64), source: source)
        }
    }

    @Test func sentencePieceRejectsTruncatedModel() throws {
        let model = try readWholeFile(TestPaths.fixture("t5-v1_1/spiece.model"))
        let source = "cut.model"
        // Cut inside the normaliser table: no longer a valid protobuf.
        expectTokenizerError(file: source, ["not a valid SentencePiece model"]) {
            _ = try SentencePieceTokenizer(modelBytes: Array(model.prefix(model.count - 700)), source: source)
        }
    }

    @Test func sentencePieceHandMadeModelWorks() throws {
        let tokenizer = try SentencePieceTokenizer(modelBytes: Proto.model(), source: "hand.model")
        #expect(tokenizer.padId == 1 && tokenizer.eosId == 2 && tokenizer.unkId == 0)
        // No normaliser table: "\u{2581}a", then "\u{2581}" + "b", an unknown "c" fused with "d".
        #expect(try tokenizer.encode("a b cd", maxLength: nil) == [3, 4, 6, 4, 0, 2])
    }

    @Test func sentencePieceRequiresEosAndPad() {
        expectTokenizerError(file: "nopad.model", ["padding"]) {
            _ = try SentencePieceTokenizer(modelBytes: Proto.model(pad: false), source: "nopad.model")
        }
        expectTokenizerError(file: "noeos.model", ["end-of-sequence"]) {
            _ = try SentencePieceTokenizer(modelBytes: Proto.model(eos: false), source: "noeos.model")
        }
    }

    @Test func missingFilesAreNamed() {
        let dir = TestPaths.makeTemporaryDirectory("skrr-tok")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let missing = dir + "/nothing-here"
        expectTokenizerError(file: missing, ["cannot open"]) { _ = try SentencePieceTokenizer(path: missing) }
        expectTokenizerError(file: missing, ["cannot open"]) { _ = try WordPieceTokenizer(vocabPath: missing, lowercase: true) }
        expectTokenizerError(file: missing, ["cannot open"]) {
            _ = try CLIPTokenizer(vocabPath: missing, mergesPath: TestPaths.fixture("clip/merges.txt"))
        }
        expectTokenizerError(file: missing, ["cannot open"]) {
            _ = try CLIPTokenizer(vocabPath: TestPaths.fixture("clip/vocab.json"), mergesPath: missing)
        }
        expectTokenizerError(file: dir, ["not a regular file"]) { _ = try SentencePieceTokenizer(path: dir) }
    }

    // MARK: CLIP

    static let smallVocab = """
        {"a": 0, "b": 1, "ab": 2, "a</w>": 3, "b</w>": 4, "ab</w>": 5, "<|startoftext|>": 6, "<|endoftext|>": 7}
        """
    static let smallMerges = "#version: 0.2\na b</w>\n"

    @Test func clipSmallFilesWork() throws {
        let tokenizer = try CLIPTokenizer(vocabJSON: bytes(Self.smallVocab), merges: bytes(Self.smallMerges), source: "small")
        #expect(tokenizer.padId == 7)
        #expect(try tokenizer.encode("AB a  b", maxLength: nil) == [6, 5, 3, 4, 7])
        // Bytes without a symbol in the vocabulary become the unknown token, <|endoftext|>.
        #expect(try tokenizer.encode("c", maxLength: nil) == [6, 7, 7])
    }

    @Test func clipVocabularyErrors() {
        let source = "tokenizer/vocab.json"
        func load(_ vocab: String) throws {
            _ = try CLIPTokenizer(vocabJSON: bytes(vocab), merges: bytes(Self.smallMerges), source: source)
        }
        expectTokenizerError(file: source, ["empty"]) { try load("") }
        expectTokenizerError(file: source, ["not valid JSON"]) { try load("a b\nc d\n") }
        expectTokenizerError(file: source, ["not valid JSON"]) { try load("{\"a\": 0,") }
        expectTokenizerError(file: source, ["must be a JSON object", "an array"]) { try load("[\"a\", \"b\"]") }
        expectTokenizerError(file: source, ["empty object"]) { try load("{}") }
        expectTokenizerError(file: source, ["'a'", "integer id", "a string"]) { try load("{\"a\": \"0\"}") }
        expectTokenizerError(file: source, ["'a'", "integer id", "-1"]) { try load("{\"a\": -1}") }
        expectTokenizerError(file: source, ["'a'", "integer id", "1.5"]) { try load("{\"a\": 1.5}") }
        expectTokenizerError(file: source, ["'b'", "integer id"]) { try load("{\"a\": 1, \"b\": 99999999999}") }
        expectTokenizerError(file: source, ["duplicate key", "\"a\""]) { try load("{\"a\": 1, \"a\": 2}") }
        expectTokenizerError(file: source, ["'b'", "id 1 is also the id of \"a\""]) { try load("{\"a\": 1, \"b\": 1}") }
        let noEnd = Self.smallVocab.replacingOccurrences(of: ", \"<|endoftext|>\": 7", with: "")
        expectTokenizerError(file: source, ["<|endoftext|>"]) { try load(noEnd) }
        let noStart = Self.smallVocab.replacingOccurrences(of: ", \"<|startoftext|>\": 6", with: "")
        expectTokenizerError(file: source, ["<|startoftext|>"]) { try load(noStart) }
    }

    @Test func clipMergesErrors() {
        let mergesSource = "tokenizer/merges.txt"
        let dir = TestPaths.makeTemporaryDirectory("skrr-tok")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let vocabPath = dir + "/vocab.json", mergesPath = dir + "/merges.txt"
        _ = FileManager.default.createFile(atPath: vocabPath, contents: Data(Self.smallVocab.utf8))
        func load(_ merges: [UInt8]) throws {
            _ = try CLIPTokenizer(vocabJSON: bytes(Self.smallVocab), merges: merges, source: mergesSource)
        }
        expectTokenizerError(file: mergesSource, ["empty"]) { try load([]) }
        expectTokenizerError(file: mergesSource, ["not valid UTF-8"]) { try load([0x61, 0x20, 0xC3, 0x28, 0x0A]) }
        expectTokenizerError(file: mergesSource, ["no merges"]) { try load(bytes("#version: 0.2\n")) }
        expectTokenizerError(file: mergesSource, ["line 2", "two tokens"]) { try load(bytes("#version: 0.2\na b c\n")) }
        expectTokenizerError(file: mergesSource, ["line 2", "two tokens"]) { try load(bytes("#version: 0.2\nab\n")) }
        expectTokenizerError(file: mergesSource, ["line 2", "two tokens"]) { try load(bytes("#version: 0.2\n\na b</w>\n")) }
        expectTokenizerError(file: mergesSource, ["line 1", "two tokens"]) { try load(bytes("a  b</w>\n")) }
        expectTokenizerError(file: mergesSource, ["line 2", "\"x\" is not in the vocabulary"]) {
            try load(bytes("#version: 0.2\nx b\n"))
        }
        expectTokenizerError(file: mergesSource, ["line 2", "merged token \"ba\""]) { try load(bytes("#version: 0.2\nb a\n")) }
        expectTokenizerError(file: mergesSource, ["line 3", "duplicate merge", "line 2"]) {
            try load(bytes("#version: 0.2\na b</w>\na b</w>\n"))
        }
        // Windows line ends are accepted.
        #expect(throws: Never.self) { try load(bytes("#version: 0.2\r\na b</w>\r\n")) }
        // With paths, each error names its own file.
        _ = FileManager.default.createFile(atPath: mergesPath, contents: Data("#version: 0.2\nq b\n".utf8))
        expectTokenizerError(file: mergesPath, ["\"q\""]) { _ = try CLIPTokenizer(vocabPath: vocabPath, mergesPath: mergesPath) }
        _ = FileManager.default.createFile(atPath: mergesPath, contents: Data(Self.smallMerges.utf8))
        _ = FileManager.default.createFile(atPath: vocabPath, contents: Data("{\"a\": 0}".utf8))
        expectTokenizerError(file: vocabPath, ["<|startoftext|>"]) { _ = try CLIPTokenizer(vocabPath: vocabPath, mergesPath: mergesPath) }
    }

    // MARK: WordPiece

    static let smallWordPiece = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n##s\n"

    @Test func wordPieceSmallVocabularyWorks() throws {
        let tokenizer = try WordPieceTokenizer(vocab: bytes(Self.smallWordPiece), lowercase: true, source: "vocab.txt")
        #expect(try tokenizer.encode("Hellos, [MASK] héllo", maxLength: nil) == [2, 5, 6, 1, 4, 5, 3])
        // Cased: no lower-casing, no accent stripping.
        let cased = try WordPieceTokenizer(vocab: bytes(Self.smallWordPiece), lowercase: false, source: "vocab.txt")
        #expect(try cased.encode("Hello hello", maxLength: nil) == [2, 1, 5, 3])
        // "\r\n" line ends are accepted.
        let crlf = Self.smallWordPiece.replacingOccurrences(of: "\n", with: "\r\n")
        #expect(try WordPieceTokenizer(vocab: bytes(crlf), lowercase: true, source: "v").encode("hellos", maxLength: nil) == [2, 5, 6, 3])
    }

    @Test func wordPieceVocabularyErrors() {
        let source = "bert/vocab.txt"
        func load(_ vocab: [UInt8]) throws { _ = try WordPieceTokenizer(vocab: vocab, lowercase: true, source: source) }
        expectTokenizerError(file: source, ["empty"]) { try load([]) }
        expectTokenizerError(file: source, ["not valid UTF-8"]) { try load([0xFF, 0xFE, 0x00, 0x41, 0x0A]) }
        expectTokenizerError(file: source, ["not valid UTF-8"]) { try load(bytes("[PAD]\n") + [0xED, 0xA0, 0x80, 0x0A]) }
        for special in ["[PAD]", "[UNK]", "[CLS]", "[SEP]"] {
            let vocab = Self.smallWordPiece.replacingOccurrences(of: special + "\n", with: "")
            expectTokenizerError(file: source, ["'\(special)'", "lacks the special token"]) { try load(bytes(vocab)) }
        }
        expectTokenizerError(file: source, ["'hello'", "duplicate", "lines 6 and 8"]) {
            try load(bytes(Self.smallWordPiece + "hello\n"))
        }
        expectTokenizerError(file: source, ["line 6 is empty"]) {
            try load(bytes(Self.smallWordPiece.replacingOccurrences(of: "hello", with: "")))
        }
        // A JSON file given as vocab.txt: no special tokens.
        expectTokenizerError(file: source, ["lacks the special token"]) { try load(bytes(Self.smallVocab)) }
        // [MASK] is optional; a vocabulary without it still loads.
        #expect(throws: Never.self) { try load(bytes(Self.smallWordPiece.replacingOccurrences(of: "[MASK]\n", with: ""))) }
    }

    // MARK: Never crash

    /// Random bytes and cut real files: every tokenizer either loads or throws a SkrrError, and a
    /// loaded one encodes odd text without crashing.
    @Test func randomAndTruncatedFilesNeverCrash() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func random() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        let spm = try readWholeFile(TestPaths.fixture("t5-v1_1/spiece.model"))
        let vocabJSON = try readWholeFile(TestPaths.fixture("clip/vocab.json"))
        let merges = try readWholeFile(TestPaths.fixture("clip/merges.txt"))
        let vocabTxt = try readWholeFile(TestPaths.fixture("bert/vocab.txt"))
        var blobs: [[UInt8]] = []
        for _ in 0..<60 { blobs.append((0..<Int(random() % 300)).map { _ in UInt8(truncatingIfNeeded: random()) }) }
        var cuts: [(spm: [UInt8], json: [UInt8], merges: [UInt8], txt: [UInt8])] = []
        for _ in 0..<60 {
            func cut(_ file: [UInt8]) -> [UInt8] { Array(file.prefix(Int(random() % UInt64(file.count)))) }
            func flip(_ file: [UInt8]) -> [UInt8] {
                var copy = file
                copy[Int(random() % UInt64(copy.count))] = UInt8(truncatingIfNeeded: random())
                return copy
            }
            cuts.append((random() % 2 == 0 ? cut(spm) : flip(spm), cut(vocabJSON), random() % 2 == 0 ? cut(merges) : flip(merges), cut(vocabTxt)))
        }
        let prompts = ["a red cube", "", "\u{0}\u{FFFD}\u{2581}\u{2581}x", "Ωμέγα 𝔘𝔫𝔦 👩‍👩‍👧", String(repeating: "é", count: 300)]
        func check(_ body: () throws -> (any PromptTokenizer)?) {
            do {
                if let tokenizer = try body() {
                    for prompt in prompts { _ = try tokenizer.encode(prompt, maxLength: 8) }
                }
            } catch is SkrrError {
            } catch {
                Issue.record("not a SkrrError: \(error)")
            }
        }
        for blob in blobs {
            check { try SentencePieceTokenizer(modelBytes: blob, source: "r") }
            check { try CLIPTokenizer(vocabJSON: blob, merges: merges, source: "r") }
            check { try CLIPTokenizer(vocabJSON: vocabJSON, merges: blob, source: "r") }
            check { try WordPieceTokenizer(vocab: blob, lowercase: true, source: "r") }
        }
        for c in cuts {
            check { try SentencePieceTokenizer(modelBytes: c.spm, source: "r") }
            check { try CLIPTokenizer(vocabJSON: c.json, merges: merges, source: "r") }
            check { try CLIPTokenizer(vocabJSON: vocabJSON, merges: c.merges, source: "r") }
            check { try WordPieceTokenizer(vocab: c.txt, lowercase: true, source: "r") }
        }
    }
}
