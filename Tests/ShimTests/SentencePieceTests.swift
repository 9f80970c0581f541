import CSentencePiece
import Foundation
import SkrrTestSupport
import Testing

/// A tiny SentencePiece model trained once per test run with `spm_train`
/// (T5's special-id layout: pad 0, eos 1, unk 2, no bos).
private struct TinyModel: Sendable {
    var path: String
    var bytes: [UInt8]

    static let words = """
        a red cube on glass table blue sphere green cat sitting under the warm light of evening \
        sun photograph painting castle mountain river forest city street night rain umbrella dog \
        running beach waves sunset portrait woman man child old young café crème brûlée über \
        naïve façade 東京 夜景 桜 Paris London
        """.split(separator: " ").map(String.init)

    static let shared: Result<TinyModel, TrainingFailure> = train()

    struct TrainingFailure: Error, Sendable, CustomStringConvertible { var description: String }

    private static func train() -> Result<TinyModel, TrainingFailure> {
        let spmTrain = ["/usr/bin/spm_train", "/usr/local/bin/spm_train"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        guard let spmTrain else {
            return .failure(.init(description: "spm_train not found (Debian package `sentencepiece`)"))
        }
        let dir = TestPaths.makeTemporaryDirectory("skrr-spm")
        // The model file is used until the end of the run; remove it at exit.
        atexit {
            if case .success(let model) = TinyModel.shared {
                let dir = URL(fileURLWithPath: model.path).deletingLastPathComponent().path
                try? FileManager.default.removeItem(atPath: dir)
            }
        }
        // Deterministic corpus: 48 lines drawn from `words` by a fixed LCG.
        var state: UInt64 = 12345
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        var lines: [String] = []
        for _ in 0..<48 {
            lines.append((0..<(4 + next(9))).map { _ in words[next(words.count)] }.joined(separator: " "))
        }
        let corpus = dir + "/corpus.txt"
        do {
            try (lines.joined(separator: "\n") + "\n").write(toFile: corpus, atomically: true, encoding: .utf8)
            let result = try runCommand(spmTrain, [
                "--input=\(corpus)", "--model_prefix=\(dir)/tiny", "--model_type=unigram",
                "--vocab_size=120", "--hard_vocab_limit=false", "--character_coverage=1.0",
                "--pad_id=0", "--eos_id=1", "--unk_id=2", "--bos_id=-1",
                "--num_threads=1", "--random_seed=42", "--input_sentence_size=0",
                "--shuffle_input_sentence=false", "--minloglevel=2",
            ])
            guard result.status == 0 else {
                return .failure(.init(description: "spm_train failed (\(result.status)): \(result.stderr)"))
            }
            let path = dir + "/tiny.model"
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return .success(TinyModel(path: path, bytes: [UInt8](data)))
        } catch {
            return .failure(.init(description: "training the tiny model failed: \(error)"))
        }
    }

    static func get() throws -> TinyModel { try shared.get() }
}

/// An owned skrr_spm handle (immutable after load, so safe to share).
private final class SPM: @unchecked Sendable {
    let handle: OpaquePointer
    init(_ handle: OpaquePointer) { self.handle = handle }
    deinit { skrr_spm_free(handle) }

    static func file(_ path: String) throws -> SPM {
        var err = [CChar](repeating: 0, count: 1024)
        let h = skrr_spm_load_file(path, &err, err.count)
        return try SPM(#require(h, "load_file failed: \(cString(err))"))
    }

    static func bytes(_ bytes: [UInt8]) throws -> SPM {
        var err = [CChar](repeating: 0, count: 1024)
        let h = skrr_spm_load_from_bytes(bytes, bytes.count, &err, err.count)
        return try SPM(#require(h, "load_from_bytes failed: \(cString(err))"))
    }

    /// Encode with the two-call buffer convention (first call deliberately too small).
    func encode(_ text: String) -> [Int32]? {
        var utf8 = Array(text.utf8)
        utf8.append(0)  // not needed by the API; proves len is honoured
        let len = utf8.count - 1
        var ids = [Int32](repeating: -7, count: 2)
        let needed = skrr_spm_encode(handle, utf8, len, &ids, ids.count)
        guard needed >= 0 else { return nil }
        if needed > ids.count {
            ids = [Int32](repeating: -7, count: Int(needed))
            guard skrr_spm_encode(handle, utf8, len, &ids, ids.count) == needed else { return nil }
        }
        return Array(ids.prefix(Int(needed)))
    }

    func decode(_ ids: [Int32]) -> String? {
        let needed = skrr_spm_decode(handle, ids, ids.count, nil, 0)
        guard needed >= 0 else { return nil }
        var buf = [CChar](repeating: 0, count: Int(needed) + 1)
        guard skrr_spm_decode(handle, ids, ids.count, &buf, buf.count) == needed else { return nil }
        return cString(buf)
    }

    func piece(_ id: Int32) -> String? {
        let needed = skrr_spm_id_to_piece(handle, id, nil, 0)
        guard needed >= 0 else { return nil }
        var buf = [CChar](repeating: 0, count: Int(needed) + 1)
        _ = skrr_spm_id_to_piece(handle, id, &buf, buf.count)
        return cString(buf)
    }

    func id(_ piece: String) -> Int32 {
        let utf8 = Array(piece.utf8)
        return utf8.withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { skrr_spm_piece_to_id(handle, $0.baseAddress, $0.count) }
        }
    }
}

private func lastError() -> String { String(cString: skrr_spm_last_error()) }

private let prompts = [
    "a red cube on glass table",
    "the old castle under warm evening light",
    "café crème über naïve façade",
    "東京 夜景 桜",
    "Paris at night, rain and umbrella",
    "",
]

@Suite("SentencePiece C shim")
struct SentencePieceTests {
    @Test func fileAndBytesGiveTheSameIds() throws {
        let model = try TinyModel.get()
        let fromFile = try SPM.file(model.path), fromBytes = try SPM.bytes(model.bytes)
        #expect(skrr_spm_vocab_size(fromFile.handle) == skrr_spm_vocab_size(fromBytes.handle))
        #expect(skrr_spm_vocab_size(fromFile.handle) > 10)
        for prompt in prompts {
            let a = try #require(fromFile.encode(prompt)), b = try #require(fromBytes.encode(prompt))
            #expect(a == b, "\(prompt)")
            #expect(prompt.isEmpty == a.isEmpty, "\(prompt) -> \(a)")
        }
    }

    @Test func bytesAreCopiedAtLoad() throws {
        let model = try TinyModel.get()
        var bytes = model.bytes
        let spm = try SPM.bytes(bytes)
        let before = try #require(spm.encode(prompts[0]))
        for i in bytes.indices { bytes[i] = 0xA5 }  // the caller reuses its buffer
        #expect(spm.encode(prompts[0]) == before)
    }

    @Test func encodeDecodeRoundTrips() throws {
        let spm = try SPM.bytes(TinyModel.get().bytes)
        // Prompts made only of characters the corpus contains.
        for prompt in prompts.prefix(4) {
            let ids = try #require(spm.encode(prompt))
            #expect(!ids.contains(skrr_spm_unk_id(spm.handle)), "\(prompt) -> \(ids)")
            #expect(spm.decode(ids) == prompt)
        }
        // Ids only: no </s> appended, no <s> prepended.
        let ids = try #require(spm.encode("red cube"))
        #expect(!ids.contains(skrr_spm_eos_id(spm.handle)))
        #expect(ids.first != skrr_spm_eos_id(spm.handle))
    }

    @Test func specialIdsAsConfigured() throws {
        let spm = try SPM.file(TinyModel.get().path)
        #expect(skrr_spm_pad_id(spm.handle) == 0)
        #expect(skrr_spm_eos_id(spm.handle) == 1)
        #expect(skrr_spm_unk_id(spm.handle) == 2)
        #expect(skrr_spm_bos_id(spm.handle) == -1)
        #expect(spm.piece(0) == "<pad>")
        #expect(spm.piece(1) == "</s>")
        #expect(spm.piece(2) == "<unk>")
        #expect(spm.id("</s>") == 1)
        #expect(spm.id("no-such-piece-in-vocab") == 2)
        #expect(spm.id("▁red") == spm.encode("red")?.first)
    }

    @Test func nonASCIIPrompts() throws {
        let spm = try SPM.bytes(TinyModel.get().bytes)
        let known = "über café 東京 桜"
        let ids = try #require(spm.encode(known))
        #expect(!ids.contains(2))
        #expect(spm.decode(ids) == known)
        // Characters the model never saw become <unk>; nothing breaks.
        let unseen = "🦀 Ωmega — ñandú"
        let unk = try #require(spm.encode(unseen))
        #expect(unk.contains(2))
        #expect(spm.decode(unk) != nil)
        // Invalid UTF-8 does not crash either (SentencePiece substitutes U+FFFD).
        let invalid: [UInt8] = [0x61, 0xFF, 0xFE, 0x62, 0xC3]
        let n = invalid.withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { skrr_spm_encode(spm.handle, $0.baseAddress, $0.count, nil, 0) }
        }
        #expect(n >= 0)
    }

    @Test func bufferConvention() throws {
        let spm = try SPM.bytes(TinyModel.get().bytes)
        let text = "the old castle under warm evening light"
        let all = try #require(spm.encode(text))
        try #require(all.count >= 3)
        // Too small: returns the full count, fills only cap entries.
        var two = [Int32](repeating: -9, count: 3)
        let n = skrr_spm_encode(spm.handle, text, text.utf8.count, &two, 2)
        #expect(n == Int64(all.count))
        #expect(Array(two.prefix(2)) == Array(all.prefix(2)))
        #expect(two[2] == -9)
        // id_to_piece truncates but NUL-terminates and reports the full length.
        let piece = try #require(spm.piece(all[0]))
        var small = [CChar](repeating: 0x7F, count: 2)
        #expect(skrr_spm_id_to_piece(spm.handle, all[0], &small, 2) == Int64(piece.utf8.count))
        #expect(small[1] == 0)
        // decode into a short buffer: truncated, terminated, full length returned.
        var short = [CChar](repeating: 0x7F, count: 4)
        #expect(skrr_spm_decode(spm.handle, all, all.count, &short, short.count) == Int64(text.utf8.count))
        #expect(short[3] == 0)
        #expect(cString(short) == String(text.prefix(3)))
    }

    @Test func outOfRangeIdsAreErrors() throws {
        let spm = try SPM.bytes(TinyModel.get().bytes)
        let vocab = skrr_spm_vocab_size(spm.handle)
        #expect(skrr_spm_id_to_piece(spm.handle, -1, nil, 0) == -1)
        #expect(skrr_spm_id_to_piece(spm.handle, vocab, nil, 0) == -1)
        #expect(lastError().contains("outside vocabulary"))
        #expect(skrr_spm_decode(spm.handle, [3, vocab, 4], 3, nil, 0) == -1)
        #expect(lastError().contains("id \(vocab) at index 1"), "\(lastError())")
        #expect(skrr_spm_decode(spm.handle, [Int32.min], 1, nil, 0) == -1)
        // NULL handles are refused, not dereferenced.
        #expect(skrr_spm_encode(nil, "a", 1, nil, 0) == -1)
        #expect(skrr_spm_decode(nil, nil, 0, nil, 0) == -1)
        #expect(skrr_spm_vocab_size(nil) == 0)
        #expect(skrr_spm_eos_id(nil) == -1)
        skrr_spm_free(nil)
    }

    private func loadError(_ bytes: [UInt8]) -> (OpaquePointer?, String) {
        var err = [CChar](repeating: 0x7F, count: 1024)
        let h = bytes.withUnsafeBytes { skrr_spm_load_from_bytes($0.baseAddress, $0.count, &err, err.count) }
        return (h, cString(err))
    }

    @Test func badModelBytesGiveAClearError() throws {
        let model = try TinyModel.get()
        let garbage: [UInt8] = Array("this is not a sentencepiece model at all".utf8)
        let (g, gMsg) = loadError(garbage)
        #expect(g == nil)
        #expect(gMsg.contains("not a serialized SentencePiece model"), "\(gMsg)")
        #expect(lastError() == gMsg)

        let (e, eMsg) = loadError([])
        #expect(e == nil)
        #expect(eMsg.contains("empty"), "\(eMsg)")

        let (t, tMsg) = loadError(Array(model.bytes.prefix(model.bytes.count / 2)))
        #expect(t == nil)
        #expect(tMsg.contains("truncated"), "\(tMsg)")

        // A short error buffer is truncated and terminated, never overrun.
        var tiny = [CChar](repeating: 0x7F, count: 8)
        #expect(skrr_spm_load_from_bytes(garbage, garbage.count, &tiny, tiny.count) == nil)
        #expect(tiny[7] == 0)
        // err may be NULL.
        #expect(skrr_spm_load_from_bytes(garbage, garbage.count, nil, 0) == nil)
    }

    /// Every prefix either loads (protobuf has no end marker: a cut between
    /// two vocabulary entries is a smaller, valid model) or fails cleanly.
    @Test func everyTruncationIsHandled() throws {
        let model = try TinyModel.get()
        var failures = 0, loads = 0
        var cuts = Array(stride(from: 0, to: min(model.bytes.count, 600), by: 1))
        cuts += Array(stride(from: 600, to: model.bytes.count, by: 1009)) + [model.bytes.count - 1]
        for cut in cuts {
            let (h, msg) = loadError(Array(model.bytes.prefix(cut)))
            if let h {
                loads += 1
                #expect(skrr_spm_vocab_size(h) > 0)
                var ids = [Int32](repeating: 0, count: 64)
                #expect(skrr_spm_encode(h, "red cube", 8, &ids, ids.count) >= 0)
                skrr_spm_free(h)
            } else {
                failures += 1
                #expect(msg.hasPrefix("cannot load SentencePiece model"), "cut \(cut): \(msg)")
            }
        }
        #expect(failures > loads)
    }

    @Test func missingFileGivesAClearError() {
        var err = [CChar](repeating: 0, count: 1024)
        #expect(skrr_spm_load_file("/nonexistent/dir/spiece.model", &err, err.count) == nil)
        let msg = cString(err)
        #expect(msg.contains("/nonexistent/dir/spiece.model") && msg.contains("cannot load"), "\(msg)")
        #expect(skrr_spm_load_file(nil, &err, err.count) == nil)
        #expect(skrr_spm_load_file("/", &err, err.count) == nil)  // a directory
    }

    @Test func concurrentEncodesOnOneHandle() async throws {
        let spm = try SPM.bytes(TinyModel.get().bytes)
        let expected = prompts.map { spm.encode($0) }
        let ok = await withTaskGroup(of: Bool.self) { group in
            for t in 0..<8 {
                group.addTask {
                    (0..<50).allSatisfy { i in
                        let p = (t + i) % prompts.count
                        return spm.encode(prompts[p]) == expected[p]
                    }
                }
            }
            var all = true
            for await r in group { all = all && r }
            return all
        }
        #expect(ok)
    }
}
