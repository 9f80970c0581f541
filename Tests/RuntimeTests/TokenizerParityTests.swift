import Foundation
@testable import SkrrRuntime
import SkrrSupport
import SkrrTestSupport
import Testing

/// One prompt of fixtures/tokenizer-reference/*.json (scripts/make_tokenizer_reference.py).
struct TokenizerReferenceCase {
    var text: String
    var ids: [Int32]
    var idsMax16: [Int32]

    static func load(_ name: String) throws -> [TokenizerReferenceCase] {
        let path = TestPaths.fixture("tokenizer-reference/\(name).json")
        guard let rows = try readJSONFile(path).arrayValue else { throw SkrrError(file: path, "expected a list") }
        return try rows.map { row in
            func ids(_ key: String) throws -> [Int32] {
                guard let items = row[key]?.arrayValue else { throw SkrrError(file: path, key: key, "missing") }
                return try items.map {
                    guard let id = $0.intValue else { throw SkrrError(file: path, key: key, "not an integer") }
                    return Int32(id)
                }
            }
            guard let text = row["text"]?.stringValue else { throw SkrrError(file: path, key: "text", "missing") }
            return TokenizerReferenceCase(text: text, ids: try ids("ids"), idsMax16: try ids("ids_max16"))
        }
    }
}

/// Every reference prompt, with and without truncation, must give transformers' ids exactly.
func expectParity(_ tokenizer: some PromptTokenizer, reference name: String) throws {
    let cases = try TokenizerReferenceCase.load(name)
    #expect(cases.count >= 300)
    var mismatches: [String] = []
    var identical = 0
    for c in cases {
        let full = try tokenizer.encode(c.text, maxLength: nil)
        let truncated = try tokenizer.encode(c.text, maxLength: 16)
        if full == c.ids && truncated == c.idsMax16 {
            identical += 1
            continue
        }
        let escaped = c.text.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 ? String($0) : "\\u{\(String($0.value, radix: 16))}" }
            .joined()
        if full != c.ids {
            mismatches.append("\"\(escaped.prefix(120))\"\n    expected \(c.ids)\n    got      \(full)")
        } else {
            mismatches.append("\"\(escaped.prefix(120))\" (max_length 16)\n    expected \(c.idsMax16)\n    got      \(truncated)")
        }
    }
    print("tokenizer parity \(name): \(identical) of \(cases.count) prompts identical")
    #expect(
        mismatches.isEmpty,
        "\(name): \(identical) of \(cases.count) prompts identical; first mismatches:\n\(mismatches.prefix(8).joined(separator: "\n"))")
}

@Suite struct TokenizerParityTests {
    @Test func t5SentencePieceMatchesTransformers() throws {
        try expectParity(try SentencePieceTokenizer(path: TestPaths.fixture("t5-v1_1/spiece.model")), reference: "t5")
    }

    /// The trained fixtures (scripts/train_t5_fixture.py, scripts/train_t5_deep.py), their
    /// vocabulary sizes and the length their reference's long row exceeds.
    static let trainedFixtures = [("t5-trained", 1000, 128), ("t5-deep", 2000, 150)]

    @Test(arguments: trainedFixtures)
    func trainedSentencePieceMatchesTransformers(_ fixture: String, vocabulary: Int, longRow: Int) throws {
        let tokenizer = try SentencePieceTokenizer(path: TestPaths.fixture("\(fixture)/spiece.model"))
        #expect(tokenizer.padId == 0 && tokenizer.eosId == 1 && tokenizer.unkId == 2 && tokenizer.vocabularySize == vocabulary)
        try expectParity(tokenizer, reference: fixture)
    }

    /// The trained fixtures' reference.safetensors were computed from real prompts (the texts are
    /// in its metadata): our tokenizer must give exactly the ids transformers fed the model there.
    @Test(arguments: trainedFixtures)
    func trainedReferencePromptsGiveTheReferenceIds(_ fixture: String, vocabulary: Int, longRow: Int) throws {
        let tokenizer = try SentencePieceTokenizer(path: TestPaths.fixture("\(fixture)/spiece.model"))
        let reference = try ReferenceFile(fixture: fixture)
        let batchPrompts = try #require(reference.metadata("batch_prompts"))
        let prompts = try #require(try JSONParser.parse(batchPrompts).arrayValue).compactMap(\.stringValue)
        let ids = try reference.rows("input_ids"), mask = try reference.rows("attention_mask")
        #expect(prompts.count == 3 && ids.count == 3)
        #expect(mask.map { Int($0.reduce(0, +)) }.max()! > longRow, "the long row is past max_distance 128")
        for (prompt, (row, rowMask)) in zip(prompts, zip(ids, mask)) {
            let length = Int(rowMask.reduce(0, +))
            #expect(rowMask.prefix(length).allSatisfy { $0 == 1 } && row[length...].allSatisfy { $0 == tokenizer.padId })
            #expect(try tokenizer.encode(prompt, maxLength: nil) == Array(row.prefix(length)), "\(prompt)")
        }
        let single = try #require(reference.metadata("single_prompt"))
        #expect(single == "a red cube on a glass table")
        #expect(try tokenizer.encode(single, maxLength: nil) == reference.rows("single_input_ids")[0])
    }

    @Test func clipBPEMatchesTransformers() throws {
        let tokenizer = try CLIPTokenizer(
            vocabPath: TestPaths.fixture("clip/vocab.json"), mergesPath: TestPaths.fixture("clip/merges.txt"))
        try expectParity(tokenizer, reference: "clip")
    }

    @Test func bertWordPieceMatchesTransformers() throws {
        try expectParity(try WordPieceTokenizer(vocabPath: TestPaths.fixture("bert/vocab.txt"), lowercase: true), reference: "bert")
    }

    /// The real 30,522-entry uncased vocabulary of sentence-transformers/all-MiniLM-L6-v2.
    @Test func realMiniLMVocabularyMatchesTransformers() throws {
        let config = try readJSONFile(TestPaths.fixture("tokenizer-reference/minilm/tokenizer_config.json"))
        guard let lowercase = config["do_lower_case"]?.boolValue else {
            throw SkrrError(file: "minilm/tokenizer_config.json", key: "do_lower_case", "missing")
        }
        let tokenizer = try WordPieceTokenizer(
            vocabPath: TestPaths.fixture("tokenizer-reference/minilm/vocab.txt"), lowercase: lowercase)
        #expect(tokenizer.padId == 0 && tokenizer.clsId == 101 && tokenizer.sepId == 102 && tokenizer.unkId == 100)
        try expectParity(tokenizer, reference: "minilm")
    }

    @Test func bytesAndPathInitialisersAgree() throws {
        let path = TestPaths.fixture("t5-v1_1/spiece.model")
        let fromBytes = try SentencePieceTokenizer(modelBytes: try readWholeFile(path), source: "embedded spiece.model")
        let fromPath = try SentencePieceTokenizer(path: path)
        let clipBytes = try CLIPTokenizer(
            vocabJSON: try readWholeFile(TestPaths.fixture("clip/vocab.json")),
            merges: try readWholeFile(TestPaths.fixture("clip/merges.txt")), source: "embedded clip")
        let clipPath = try CLIPTokenizer(
            vocabPath: TestPaths.fixture("clip/vocab.json"), mergesPath: TestPaths.fixture("clip/merges.txt"))
        let bertBytes = try WordPieceTokenizer(
            vocab: try readWholeFile(TestPaths.fixture("bert/vocab.txt")), lowercase: true, source: "embedded vocab")
        let bertPath = try WordPieceTokenizer(vocabPath: TestPaths.fixture("bert/vocab.txt"), lowercase: true)
        for prompt in ["a red cube on a glass table", "Ångström café 東京 <|endoftext|> [SEP] </s>", ""] {
            #expect(try fromBytes.encode(prompt, maxLength: nil) == fromPath.encode(prompt, maxLength: nil))
            #expect(try clipBytes.encode(prompt, maxLength: 5) == clipPath.encode(prompt, maxLength: 5))
            #expect(try bertBytes.encode(prompt, maxLength: nil) == bertPath.encode(prompt, maxLength: nil))
        }
    }

    /// The ids README.md documents for the fixture tokenizers, and the pad ids the batcher uses.
    @Test func specialAndPadIds() throws {
        let t5 = try SentencePieceTokenizer(path: TestPaths.fixture("t5-v1_1/spiece.model"))
        #expect(t5.padId == 0 && t5.eosId == 1 && t5.unkId == 2 && t5.vocabularySize == 277)
        #expect(try t5.encode("", maxLength: nil) == [1])
        let clip = try CLIPTokenizer(vocabPath: TestPaths.fixture("clip/vocab.json"), mergesPath: TestPaths.fixture("clip/merges.txt"))
        #expect(clip.startId == 812 && clip.endId == 813 && clip.padId == 813)
        #expect(try clip.encode("   ", maxLength: nil) == [812, 813])
        let bert = try WordPieceTokenizer(vocabPath: TestPaths.fixture("bert/vocab.txt"), lowercase: true)
        #expect(bert.padId == 0 && bert.unkId == 1 && bert.clsId == 2 && bert.sepId == 3)
        #expect(try bert.encode("\u{0}\u{7}", maxLength: nil) == [2, 3])
    }

    /// transformers truncates the body to maxLength minus the special tokens, and does not
    /// truncate at all when maxLength leaves no room for them (checked with transformers 5.24:
    /// CLIP/BERT max_length 0 and 1, T5 max_length 0 return the whole sequence).
    @Test func truncationEdgeCases() throws {
        let t5 = try SentencePieceTokenizer(path: TestPaths.fixture("t5-v1_1/spiece.model"))
        let clip = try CLIPTokenizer(vocabPath: TestPaths.fixture("clip/vocab.json"), mergesPath: TestPaths.fixture("clip/merges.txt"))
        let bert = try WordPieceTokenizer(vocabPath: TestPaths.fixture("bert/vocab.txt"), lowercase: true)
        let text = "a b c d"
        #expect(try t5.encode(text, maxLength: 0) == [3, 31, 34, 67, 1])
        #expect(try t5.encode(text, maxLength: 1) == [1])
        #expect(try t5.encode(text, maxLength: 2) == [3, 1])
        #expect(try t5.encode(text, maxLength: 5) == [3, 31, 34, 67, 1])
        #expect(try t5.encode(text, maxLength: 99) == [3, 31, 34, 67, 1])
        #expect(try clip.encode(text, maxLength: 0) == [812, 320, 321, 322, 323, 813])
        #expect(try clip.encode(text, maxLength: 1) == [812, 320, 321, 322, 323, 813])
        #expect(try clip.encode(text, maxLength: 2) == [812, 813])
        #expect(try clip.encode(text, maxLength: 3) == [812, 320, 813])
        #expect(try bert.encode(text, maxLength: 0) == [2, 23, 24, 25, 26, 3])
        #expect(try bert.encode(text, maxLength: 1) == [2, 23, 24, 25, 26, 3])
        #expect(try bert.encode(text, maxLength: 2) == [2, 3])
        #expect(try bert.encode(text, maxLength: 4) == [2, 23, 24, 3])
        for tokenizer in [t5, clip, bert] as [any PromptTokenizer] {
            #expect(throws: SkrrError.self) { try tokenizer.encode(text, maxLength: -1) }
        }
    }

    /// Tokenizers are shared between threads by the batcher.
    @Test func concurrentUseGivesTheSameIds() async throws {
        let clip = try CLIPTokenizer(vocabPath: TestPaths.fixture("clip/vocab.json"), mergesPath: TestPaths.fixture("clip/merges.txt"))
        let cases = try TokenizerReferenceCase.load("clip")
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for chunk in stride(from: 0, to: cases.count, by: 40) {
                let slice = Array(cases[chunk..<min(chunk + 40, cases.count)])
                group.addTask { try slice.allSatisfy { try clip.encode($0.text, maxLength: nil) == $0.ids } }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0 })
    }
}

/// The Unicode pieces the tokenizers rely on, on the cases where Swift's own would be wrong.
@Suite struct TokenizerUnicodeTests {
    func scalars(_ values: [UInt32]) -> [Unicode.Scalar] { values.map { Unicode.Scalar($0)! } }

    @Test func normalizationMatchesTheRustCrate() {
        // Foundation composes U+20041 as if it were U+0041 ("Á"); the crate leaves it alone.
        #expect(TokenizerNormalization.nfc(scalars([0x20041, 0x301])) == scalars([0x20041, 0x301]))
        #expect(TokenizerNormalization.nfc(scalars([0xE0041, 0x323])) == scalars([0xE0041, 0x323]))
        // Marks produced by an expansion are reordered: U+0F73 = U+0F71 (class 129) U+0F72 (130).
        #expect(TokenizerNormalization.nfd(scalars([0xF72, 0xF73])) == scalars([0xF71, 0xF72, 0xF72]))
        #expect(TokenizerNormalization.nfc(scalars([0xF72, 0xF73])) == scalars([0xF71, 0xF72, 0xF72]))
        // Ordinary cases, Hangul both ways, a singleton and a composition exclusion.
        #expect(TokenizerNormalization.nfc(scalars([0x65, 0x301, 0x323])) == scalars([0x1EB9, 0x301]))
        #expect(TokenizerNormalization.nfd(scalars([0xD55C])) == scalars([0x1112, 0x1161, 0x11AB]))
        #expect(TokenizerNormalization.nfc(scalars([0x1112, 0x1161, 0x11AB])) == scalars([0xD55C]))
        #expect(TokenizerNormalization.nfc(scalars([0x212B])) == scalars([0xC5]))
        #expect(TokenizerNormalization.nfc(scalars([0x958])) == scalars([0x915, 0x93C]))
        // The crate's Unicode is older than Swift's: these do not decompose, U+1DFA has class 0.
        #expect(TokenizerNormalization.nfd(scalars([0x11938, 0x16D68])) == scalars([0x11938, 0x16D68]))
        #expect(TokenizerNormalization.nfd(scalars([0x61, 0x300, 0x1DFA])) == scalars([0x61, 0x300, 0x1DFA]))
    }

    @Test func characterClassesAreTheLibrarysNotSwifts() {
        func has(_ set: CodePointSet, _ value: UInt32) -> Bool { set.contains(Unicode.Scalar(value)!) }
        // U+08E2 is a format character in Unicode 9+, but not for BertNormalizer's crate.
        #expect(!has(TokenizerUnicodeTables.bertControl, 0x8E2) && has(TokenizerUnicodeTables.bertControl, 0x200B))
        #expect(has(TokenizerUnicodeTables.bertPunctuation, 0x24) && !has(TokenizerUnicodeTables.bertPunctuation, 0x2E43))
        #expect(has(TokenizerUnicodeTables.clipLetter, 0xE9) && !has(TokenizerUnicodeTables.clipLetter, 0x10940))
        #expect(has(TokenizerUnicodeTables.clipNumber, 0xBD) && !has(TokenizerUnicodeTables.clipNumber, 0x41))
        #expect(has(TokenizerUnicodeTables.whitespace, 0x85) && !has(TokenizerUnicodeTables.whitespace, 0x200B))
        #expect(has(TokenizerUnicodeTables.bertChinese, 0x4E00) && !has(TokenizerUnicodeTables.bertChinese, 0x3042))
    }
}
