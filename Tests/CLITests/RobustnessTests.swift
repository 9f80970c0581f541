import Foundation
import SkrrTestSupport
import Testing

/// The defects a mutation fuzz found (issue 15), each reproduced through the command line:
/// every one must end with exit 1 or 64 and a message naming the file and field, never a
/// trap, an abort, a hang or a replaced input.
@Suite struct RobustnessTests {
    static let t5 = TestPaths.fixture("t5-v1_1")

    static func md5(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    // MARK: outputs never replace inputs (defects 5 and 6)

    @Test func reportOnTheRuntimeFilePathIsRefused() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/x.skrr"
        let result = try runSkrrc([Self.t5, "-o", out, "--report", dir + "/./x.skrr"])
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("'--report': is also the path of -o: two outputs cannot share a file"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func plotThroughASymlinkToTheReportIsRefused() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "old report".write(toFile: dir + "/r.json", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir + "/link.svg", withDestinationPath: dir + "/r.json")
        let result = try runSkrrc([Self.t5, "-o", dir + "/x.ir", "--report", dir + "/r.json", "--plot", dir + "/link.svg"])
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("'--plot': is also the path of --report"), "\(result.stderr)")
        #expect(try String(contentsOfFile: dir + "/r.json", encoding: .utf8) == "old report")
    }

    @Test func runDoesNotOverwriteTheModelsCheckpoint() throws {
        let model = try FixtureFacts.copy("t5-v1_1")
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: model).deletingLastPathComponent().path) }
        let before = try Self.md5(model + "/model.safetensors")
        let result = try runSkrrc(["run", model, "--prompt", "a cat", "-o", model + "/model.safetensors"])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("\(model)/model.safetensors: '-o': is an input of this run"), "\(result.stderr)")
        #expect(try Self.md5(model + "/model.safetensors") == before)
    }

    @Test func reportOverTheModelsConfigIsRefused() throws {
        let model = try FixtureFacts.copy("t5-v1_1")
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: model).deletingLastPathComponent().path) }
        let before = try Self.md5(model + "/config.json")
        let result = try runSkrrc([model, "--emit-ir", "--report", model + "/../" + URL(fileURLWithPath: model).lastPathComponent + "/config.json"])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("'--report': is an input of this run"), "\(result.stderr)")
        #expect(try Self.md5(model + "/config.json") == before)
    }

    @Test func runDoesNotOverwriteItsPromptFileOrRuntimeFile() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/m.skrr"
        #expect(try runSkrrc([Self.t5, "-o", file]).status == 0)
        try "a cat\n".write(toFile: dir + "/prompts.npy", atomically: true, encoding: .utf8)
        let prompts = try runSkrrc(["run", file, "--prompt-file", dir + "/prompts.npy", "-o", dir + "/prompts.npy"])
        #expect(prompts.status == 1)
        #expect(prompts.stderr.contains("is an input of this run (\(dir)/prompts.npy)"), "\(prompts.stderr)")
        try FileManager.default.createSymbolicLink(atPath: dir + "/alias.npy", withDestinationPath: file)
        let runtime = try runSkrrc(["run", file, "--prompt", "a cat", "-o", dir + "/alias.npy"])
        #expect(runtime.status == 1)
        #expect(runtime.stderr.contains("is an input of this run (\(file))"), "\(runtime.stderr)")
        #expect(try runSkrrc(["inspect", file, "--verify"]).status == 0)
    }

    // MARK: long input (defect 4)

    @Test func aFortyThousandTokenPromptIsRefusedQuickly() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try (String(repeating: "word ", count: 40_000) + "\n").write(toFile: dir + "/long.txt", atomically: true, encoding: .utf8)
        let result = try runSkrrc(["run", TestPaths.fixture("t5-trained"), "--prompt-file", dir + "/long.txt", "-o", dir + "/o.npy"])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("prompt 1 of \(dir)/long.txt has 40001 tokens, above the limit of 4096 per sequence"), "\(result.stderr)")
        #expect(result.stderr.contains("--max-tokens raises it"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/o.npy"))
    }

    @Test func maxTokensMovesTheLimit() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let prompt = String(repeating: "word ", count: 30)
        let refused = try runSkrrc(["run", Self.t5, "--prompt", prompt, "--max-tokens", "8", "-o", dir + "/o.npy"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("--prompt 1 has"), "\(refused.stderr)")
        #expect(refused.stderr.contains("above the limit of 8 per sequence"), "\(refused.stderr)")
        let allowed = try runSkrrc(["run", Self.t5, "--prompt", prompt, "--max-tokens", "4096", "-o", dir + "/o.npy"])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        let padded = try runSkrrc(["run", Self.t5, "--prompt", "a", "--pipeline", "flux", "--max-tokens", "100", "-o", dir + "/p.npy"])
        #expect(padded.status == 1)
        #expect(padded.stderr.contains("the preset pads every sequence to 512 tokens, above the limit of 100 tokens per sequence"), "\(padded.stderr)")
        for bad in ["0", "-5", "70000"] {
            let usage = try runSkrrc(["run", Self.t5, "--prompt", "a", "--max-tokens", bad, "-o", dir + "/o.npy"])
            #expect(usage.status == 64)
            #expect(usage.stderr.contains("--max-tokens must be in 1...65536, got \(bad)"), "\(usage.stderr)")
        }
    }

    // MARK: IR text (defect 3 and the relative root)

    @Test func aHugeTensorOffsetInIRIsRefusedByRunAndOpt() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ir = try runSkrrc([Self.t5, "--emit-ir"]).stdout
        let range = try #require(ir.range(of: #"offset [0-9]+"#, options: .regularExpression))
        try ir.replacingCharacters(in: range, with: "offset 9223372036854775807").write(toFile: dir + "/m.ir", atomically: true, encoding: .utf8)
        for arguments in [["run", dir + "/m.ir", "--prompt", "a", "-o", dir + "/o.npy"], ["opt", dir + "/m.ir"]] {
            let result = try runSkrrc(arguments)
            #expect(result.status == 1, "\(arguments[0]): \(result.stderr)")
            #expect(result.stderr.contains("\(dir)/m.ir: IR verification failed"), "\(result.stderr)")
            #expect(result.stderr.contains("offset 9223372036854775807 + "), "\(result.stderr)")
            #expect(result.stderr.contains("bytes overflows a 64-bit file position"), "\(result.stderr)")
        }
    }

    @Test func aRelativeRootIsTakenFromTheIRFilesFolder() throws {
        let model = try FixtureFacts.copy("t5-v1_1")
        let dir = URL(fileURLWithPath: model).deletingLastPathComponent().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ir = try runSkrrc([model, "--emit-ir"]).stdout.replacingOccurrences(of: "root \"\(model)\"", with: "root \"t5-v1_1\"")
        #expect(ir.contains("root \"t5-v1_1\""))
        try ir.write(toFile: dir + "/m.ir", atomically: true, encoding: .utf8)
        // The test runs elsewhere, so a root taken from the working directory would not be found.
        #expect(FileManager.default.currentDirectoryPath != dir)
        let fromIR = try runSkrrc(["run", dir + "/m.ir", "--prompt", "a cat", "-o", dir + "/ir.npy"])
        #expect(fromIR.status == 0, "\(fromIR.stderr)")
        let fromModel = try runSkrrc(["run", model, "--prompt", "a cat", "-o", dir + "/model.npy"])
        #expect(fromModel.status == 0)
        #expect(try Self.md5(dir + "/ir.npy") == Self.md5(dir + "/model.npy"))
        // opt prints the root as written.
        #expect(try runSkrrc(["opt", dir + "/m.ir"]).stdout.contains("root \"t5-v1_1\""))
    }

    /// A model given by a relative path and an IR file written into another folder: the written
    /// root is relative to the IR file's folder, so the IR runs from anywhere (it did not: the
    /// root was written as typed, relative to the working directory, and then read relative to
    /// the IR file's folder).
    @Test func anIRWrittenElsewhereKeepsFindingItsModel() throws {
        let model = try FixtureFacts.copy("t5-v1_1")
        let dir = URL(fileURLWithPath: model).deletingLastPathComponent().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/out/sub", withIntermediateDirectories: true)
        let write = try runCommand("/bin/sh", ["-c", "cd '\(dir)' && '\(TestPaths.skrrcBinary)' ./t5-v1_1 -o out/sub/m.ir"])
        #expect(write.status == 0, "\(write.stderr)")
        let text = try String(contentsOfFile: dir + "/out/sub/m.ir", encoding: .utf8)
        #expect(text.contains("root \"../../t5-v1_1\""), "\(text.prefix(300))")
        let fromIR = try runSkrrc(["run", dir + "/out/sub/m.ir", "--prompt", "a cat", "-o", dir + "/ir.npy"])
        #expect(fromIR.status == 0, "\(fromIR.stderr)")
        let fromModel = try runSkrrc(["run", model, "--prompt", "a cat", "-o", dir + "/model.npy"])
        #expect(try Self.md5(dir + "/ir.npy") == Self.md5(dir + "/model.npy"))
        #expect(fromModel.status == 0)
    }

    // MARK: run scans weights as compile does

    @Test func runRefusesANaNWeight() throws {
        let model = try FixtureFacts.copy("t5-v1_1")
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: model).deletingLastPathComponent().path) }
        var edit = try CheckpointEditor(path: model + "/model.safetensors")
        edit.modify("encoder.final_layer_norm.weight") { t in withUnsafeBytes(of: Float.nan.bitPattern) { t.data.replaceSubrange(0..<4, with: $0) } }
        try edit.write(to: model + "/model.safetensors")
        let result = try runSkrrc(["run", model, "--prompt", "a cat", "-o", model + "/../o.npy"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("tensor encoder.final_layer_norm.weight (in \(model)/model.safetensors): element 0 is NaN"), "\(result.stderr)")
    }

    // MARK: tokenizers at compile time (defect 7)

    @Test func noTokenizerWritesAnIdsOnlyFileOnRequest() throws {
        let model = try FixtureFacts.copy("t5-v1_1")
        let dir = URL(fileURLWithPath: model).deletingLastPathComponent().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.removeItem(atPath: model + "/spiece.model")
        let written = try runSkrrc([model, "-o", dir + "/x.skrr", "--no-tokenizer"])
        #expect(written.status == 0, "\(written.stderr)")
        #expect(written.stderr.contains("0 tokenizer bytes"))
        let ids = try runSkrrc(["run", dir + "/x.skrr", "--ids", "5 17 1", "-o", dir + "/o.npy"])
        #expect(ids.status == 0, "\(ids.stderr)")
    }
}
