import Foundation
import SkrrTestSupport
import Testing

/// `skrrc MODEL --emit-ir` on every family, checked against hand-computed golden lines.
@Suite struct EmitIRTests {
    func golden(_ name: String) throws -> FileCheck {
        var text = try String(contentsOfFile: TestPaths.repositoryRoot + "/Tests/CLITests/Golden/\(name).check", encoding: .utf8)
        text = text.replacingOccurrences(of: "{{FIXTURES}}", with: TestPaths.repositoryRoot + "/fixtures")
        if text.contains("{{PARAMS") {
            let params = try FixtureFacts.t5Params()
            text = text.replacingOccurrences(of: "{{PARAMS_GROUPED}}", with: FixtureFacts.grouped(params))
                .replacingOccurrences(of: "{{PARAMS}}", with: "\(params)")
        }
        return FileCheck(checkSource: text)
    }

    @Test(arguments: ["t5-v1_1", "t5-relu", "umt5", "clip", "clip-proj", "bert"])
    func emitIRMatchesGolden(_ fixture: String) throws {
        let result = try runSkrrc([TestPaths.fixture(fixture), "--emit-ir"])
        #expect(result.status == 0, "\(result.stderr)")
        let failure = try golden(fixture).match(result.stdout)
        #expect(failure == nil, "\(failure ?? "")\n--- output ---\n\(result.stdout)")
    }

    @Test(arguments: ["t5-v1_1", "t5-v1_1-bf16", "t5-v1_1-sharded", "t5-full", "umt5", "clip", "clip-proj", "bert"])
    func emittedIRRoundTripsThroughOpt(_ fixture: String) throws {
        let emitted = try runSkrrc([TestPaths.fixture(fixture), "--emit-ir"])
        #expect(emitted.status == 0, "\(emitted.stderr)")
        let reprinted = try runSkrrc(["opt", "-"], stdin: emitted.stdout)
        #expect(reprinted.status == 0, "\(reprinted.stderr)")
        #expect(reprinted.stdout == emitted.stdout)
    }

    /// The sharded and bf16 copies hold the same model: only file layout and dtype differ.
    @Test func shardedAndBF16ImportAsTheSameModel() throws {
        func body(_ fixture: String) throws -> (files: [String], structure: [String], tensors: [String]) {
            let out = try runSkrrc([TestPaths.fixture(fixture), "--emit-ir"])
            #expect(out.status == 0, "\(out.stderr)")
            let lines = out.stdout.split(separator: "\n").map(String.init)
            let files = lines.filter { $0.hasPrefix("  file ") }
            let tensors = lines.filter { $0.hasPrefix("    %") }
            let structure = lines.filter { !$0.hasPrefix("  file ") && !$0.hasPrefix("    %") && !$0.hasPrefix("  root ") && !$0.hasPrefix("model ") }
            return (files, structure, tensors)
        }
        let single = try body("t5-v1_1"), sharded = try body("t5-v1_1-sharded"), bf16 = try body("t5-v1_1-bf16")
        #expect(sharded.files.count >= 3)
        #expect(sharded.files.allSatisfy { $0.contains("model-0000") })
        #expect(sharded.structure == single.structure)
        #expect(bf16.structure == single.structure)
        #expect(bf16.tensors.allSatisfy { $0.contains(" bf16[") })
        // Same names and shapes in the same order, whatever the file layout.
        func nameAndShape(_ line: String) -> String { String(line.split(separator: "]")[0]).replacingOccurrences(of: "bf16[", with: "f32[") }
        #expect(sharded.tensors.map(nameAndShape) == single.tensors.map(nameAndShape))
        #expect(bf16.tensors.map(nameAndShape) == single.tensors.map(nameAndShape))
    }

    @Test func fullSeq2SeqCheckpointImportsTheEncoderOnly() throws {
        let out = try runSkrrc([TestPaths.fixture("t5-full"), "--emit-ir"])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(!out.stdout.contains("decoder."))
        #expect(!out.stdout.contains("lm_head"))
        #expect(out.stdout.contains("schedule {  // 4 slots: 4 run"))
    }

    @Test func pipelineFoldersResolveEncoderAndTokenizer() throws {
        let pixart = try runSkrrc([TestPaths.fixture("pixart-pipeline"), "--emit-ir"])
        #expect(pixart.status == 0, "\(pixart.stderr)")
        #expect(pixart.stdout.contains("  file 0 \"text_encoder/model.safetensors\""))
        #expect(pixart.stdout.contains("  tokenizer sentencepiece \"tokenizer/spiece.model\""))

        let direct = try runSkrrc([TestPaths.fixture("sd3-pipeline/text_encoder_3"), "--emit-ir"])
        #expect(direct.status == 0, "\(direct.stderr)")
        #expect(direct.stdout.contains("  tokenizer sentencepiece \"tokenizer_3/spiece.model\""))

        let chosen = try runSkrrc([TestPaths.fixture("sd3-pipeline"), "--encoder", "text_encoder", "--emit-ir"])
        #expect(chosen.status == 0, "\(chosen.stderr)")
        #expect(chosen.stdout.contains("model clip \"sd3-pipeline/text_encoder\""))
        #expect(chosen.stdout.contains("  tokenizer clip_bpe \"tokenizer/vocab.json\" \"tokenizer/merges.txt\" lowercase"))
    }

    @Test func outputIsDeterministic() throws {
        let first = try runSkrrc([TestPaths.fixture("t5-v1_1-sharded"), "--emit-ir"])
        let second = try runSkrrc([TestPaths.fixture("t5-v1_1-sharded"), "--emit-ir"])
        #expect(first.status == 0)
        #expect(first.stdout == second.stdout)
    }
}
