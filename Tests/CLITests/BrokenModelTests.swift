import Foundation
import SkrrTestSupport
import Testing

/// The model-level corpus of broken input: each case breaks a copy of a good fixture in one
/// way, and `skrrc --emit-ir` must exit 1 with a message naming the file and the tensor or key.
/// (Byte-level safetensors corruption is covered case by case in FrontendTests.)
@Suite struct BrokenModelTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var fixture: String = "t5-v1_1"
        var arguments: [String] = []
        var breakIt: @Sendable (String) throws -> Void
        /// Every fragment must appear in stderr; `{}` stands for the broken copy's folder.
        var expected: [String]
        var testDescription: String { name }
    }

    static let q0 = "encoder.block.0.layer.0.SelfAttention.q.weight"

    static let cases: [Case] = [
        Case(name: "config.json is not JSON", breakIt: { try writeText("{\"d_model\": 48,", to: $0 + "/config.json") },
             expected: ["{}/config.json: invalid JSON at line 1, column 16: expected a string key"]),
        Case(name: "config.json is an array", breakIt: { try writeText("[1, 2]", to: $0 + "/config.json") },
             expected: ["{}/config.json: expected a JSON object, got an array"]),
        Case(name: "config.json has a duplicate key", breakIt: { try writeText("{\"model_type\": \"t5\", \"model_type\": \"t5\"}", to: $0 + "/config.json") },
             expected: ["{}/config.json: invalid JSON", "duplicate key \"model_type\""]),
        Case(name: "config key missing", breakIt: { try editJSON($0 + "/config.json") { $0["d_model"] = nil } },
             expected: ["{}/config.json: 'd_model': missing (expected a positive integer)"]),
        Case(name: "config key of the wrong type", breakIt: { try editJSON($0 + "/config.json") { $0["num_heads"] = "three" } },
             expected: ["{}/config.json: 'num_heads': expected an integer, got the string \"three\""]),
        Case(name: "config value out of range", breakIt: { try editJSON($0 + "/config.json") { $0["num_layers"] = 0 } },
             expected: ["{}/config.json: 'num_layers': expected a positive integer, got 0"]),
        Case(name: "unknown architecture", breakIt: { try editJSON($0 + "/config.json") { $0["model_type"] = "gpt2"; $0["architectures"] = ["GPT2Model"] } },
             expected: ["{}/config.json: 'model_type': unsupported architecture 'gpt2' (architectures: GPT2Model); supported: t5, umt5"]),
        Case(name: "unsupported activation", breakIt: { try editJSON($0 + "/config.json") { $0["feed_forward_proj"] = "gated-swish" } },
             expected: ["{}/config.json: 'feed_forward_proj': unsupported activation 'swish'"]),
        Case(name: "config shapes disagree with tensors", breakIt: { try editJSON($0 + "/config.json") { $0["d_ff"] = 64 } },
             expected: ["{}/model.safetensors: does not match its config.json as a t5 encoder: 9 mis-shaped",
                        "mis-shaped tensor encoder.block.0.layer.1.DenseReluDense.wi_0.weight: shape [72, 48], config implies [64, 48]"]),
        Case(name: "config has more layers than the checkpoint", breakIt: { try editJSON($0 + "/config.json") { $0["num_layers"] = 4 } },
             expected: ["{}/config.json: 'num_layers': expected at most 3 blocks: model.safetensors holds tensors of blocks 0...2 only, config.json asks for 4"]),
        // Found by mutation (issue 15): 10^5 layers listed 111 MB of missing tensors, 10^9 hung.
        Case(name: "config asks for a thousand layers", breakIt: { try editJSON($0 + "/config.json") { $0["num_layers"] = 1000 } },
             expected: ["{}/config.json: 'num_layers': expected at most 3 blocks", "config.json asks for 1000"]),
        Case(name: "config asks for a billion layers", breakIt: { try editJSON($0 + "/config.json") { $0["num_layers"] = 1_000_000_000 } },
             expected: ["{}/config.json: 'num_layers': expected at most 1024 (skrrc's limit, docs/limits.md), got 1000000000"]),
        Case(name: "a block is missing in the middle", breakIt: { dir in
                var edit = try CheckpointEditor(path: dir + "/model.safetensors")
                edit.tensors.removeAll { $0.name.hasPrefix("encoder.block.1.") }
                try edit.write(to: dir + "/model.safetensors") },
             expected: ["9 missing", "missing tensor encoder.block.1.layer.0.SelfAttention.q.weight"]),
        // Found by mutation (issue 15): trapped converting the value to the manifest's 32-bit field.
        Case(name: "huge relative_attention_max_distance", arguments: ["-o", "/nonexistent-dir/never-written.skrr"],
             breakIt: { try editJSON($0 + "/config.json") { $0["relative_attention_max_distance"] = 1_000_000_000_000 } },
             expected: ["{}/config.json: 'relative_attention_max_distance': expected at most 16777216 (skrrc's limit, docs/limits.md), got 1000000000000"]),
        Case(name: "huge vocab_size", breakIt: { try editJSON($0 + "/config.json") { $0["vocab_size"] = 1 << 40 } },
             expected: ["{}/config.json: 'vocab_size': expected at most 67108864"]),
        Case(name: "random bytes as spiece.model", breakIt: { dir in
                try Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }).write(to: URL(fileURLWithPath: dir + "/spiece.model")) },
             expected: ["{}/spiece.model: not a valid SentencePiece model"]),
        Case(name: "another model's spiece.model", breakIt: { dir in
                try FileManager.default.removeItem(atPath: dir + "/spiece.model")
                try FileManager.default.copyItem(atPath: TestPaths.fixture("t5-trained/spiece.model"), toPath: dir + "/spiece.model") },
             expected: ["{}/spiece.model: 'tokenizer': gives token id", "but the model's vocabulary has 277 entries: the tokenizer does not belong to this model"]),
        Case(name: "no spiece.model for a runtime file", arguments: ["-o", "/nonexistent-dir/never-written.skrr"],
             breakIt: { try FileManager.default.removeItem(atPath: $0 + "/spiece.model") },
             expected: ["{}: 'tokenizer': no tokenizer files (expected spiece.model)", "pass --no-tokenizer to write it anyway"]),
        Case(name: "CLIP without merges.txt", fixture: "clip", breakIt: { try FileManager.default.removeItem(atPath: $0 + "/merges.txt") },
             expected: ["{}/merges.txt: 'tokenizer': missing: a CLIP tokenizer needs vocab.json and merges.txt"]),
        Case(name: "CLIP without vocab.json", fixture: "clip", breakIt: { try FileManager.default.removeItem(atPath: $0 + "/vocab.json") },
             expected: ["{}/vocab.json: 'tokenizer': missing: a CLIP tokenizer needs vocab.json and merges.txt"]),
        Case(name: "missing tensor", breakIt: { dir in
                var edit = try CheckpointEditor(path: dir + "/model.safetensors")
                edit.remove(q0)
                try edit.write(to: dir + "/model.safetensors") },
             expected: ["{}/model.safetensors: does not match its config.json as a t5 encoder: 1 missing",
                        "missing tensor \(q0) (attention block 0, role q.weight, expected [60, 48])"]),
        Case(name: "unexpected tensor", breakIt: { dir in
                var edit = try CheckpointEditor(path: dir + "/model.safetensors")
                edit.tensors.append(.init(name: "encoder.extra.weight", dtype: "F32", shape: [2], data: Data(count: 8)))
                try edit.write(to: dir + "/model.safetensors") },
             expected: ["1 unexpected", "unexpected tensor encoder.extra.weight"]),
        Case(name: "mis-shaped tensor", breakIt: { dir in
                var edit = try CheckpointEditor(path: dir + "/model.safetensors")
                edit.modify(q0) { $0.shape = [48, 60] }
                try edit.write(to: dir + "/model.safetensors") },
             expected: ["1 mis-shaped", "mis-shaped tensor \(q0): shape [48, 60], config implies [60, 48]"]),
        Case(name: "problems of several kinds are reported together", breakIt: { dir in
                var edit = try CheckpointEditor(path: dir + "/model.safetensors")
                edit.remove("encoder.final_layer_norm.weight")
                edit.modify(q0) { $0.shape = [48, 60] }
                edit.tensors.append(.init(name: "stray", dtype: "F32", shape: [1], data: Data(count: 4)))
                try edit.write(to: dir + "/model.safetensors") },
             expected: ["1 missing, 1 unexpected, 1 mis-shaped", "missing tensor encoder.final_layer_norm.weight",
                        "unexpected tensor stray", "mis-shaped tensor \(q0)"]),
        Case(name: "weight in an unsupported dtype", breakIt: { dir in
                var edit = try CheckpointEditor(path: dir + "/model.safetensors")
                edit.modify("encoder.final_layer_norm.weight") { $0.dtype = "I32" }
                try edit.write(to: dir + "/model.safetensors") },
             expected: ["unsupported tensor encoder.final_layer_norm.weight: dtype I32 (supported: F32, F16, BF16)"]),
        Case(name: "NaN weight", breakIt: { dir in
                var edit = try CheckpointEditor(path: dir + "/model.safetensors")
                edit.modify(q0) { t in withUnsafeBytes(of: Float.nan.bitPattern) { t.data.replaceSubrange(12..<16, with: $0) } }
                try edit.write(to: dir + "/model.safetensors") },
             expected: ["{}/model.safetensors: 1 tensor(s) hold NaN or infinite values", "tensor \(q0) (in {}/model.safetensors): element 3 is NaN"]),
        Case(name: "infinite weight in bf16", fixture: "t5-v1_1-bf16", breakIt: { dir in
                var edit = try CheckpointEditor(path: dir + "/model.safetensors")
                edit.modify("encoder.final_layer_norm.weight") { $0.data.replaceSubrange(2..<4, with: [0x80, 0xFF]) }
                try edit.write(to: dir + "/model.safetensors") },
             expected: ["tensor encoder.final_layer_norm.weight (in {}/model.safetensors): element 1 is -Inf"]),
        Case(name: "truncated checkpoint", breakIt: { dir in
                let path = dir + "/model.safetensors"
                let data = try Data(contentsOf: URL(fileURLWithPath: path))
                try data.prefix(data.count - 100).write(to: URL(fileURLWithPath: path)) },
             expected: ["{}/model.safetensors: "]),
        Case(name: "no config.json", breakIt: { try FileManager.default.removeItem(atPath: $0 + "/config.json") },
             expected: ["{}: no config.json in this folder"]),
        Case(name: "no weights", breakIt: { dir in
                for file in ["model.safetensors", "reference.safetensors"] { try FileManager.default.removeItem(atPath: dir + "/" + file) } },
             expected: ["{}: no .safetensors weights in this folder"]),
        Case(name: "pickle weights only", breakIt: { dir in
                for file in ["model.safetensors", "reference.safetensors"] { try FileManager.default.removeItem(atPath: dir + "/" + file) }
                try writeText("not really a pickle", to: dir + "/pytorch_model.bin") },
             expected: ["{}: only PyTorch pickle weights (*.bin) found; convert them to safetensors first"]),
        Case(name: "missing shard", fixture: "t5-v1_1-sharded", breakIt: { dir in
                let shard = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("model-00002") }[0]
                try FileManager.default.removeItem(atPath: dir + "/" + shard) },
             expected: ["{}/model.safetensors.index.json", "model-00002"]),
        Case(name: "tensor mapped to the wrong shard", fixture: "t5-v1_1-sharded", breakIt: { dir in
                try editJSON(dir + "/model.safetensors.index.json") { index in
                    var map = index["weight_map"] as! [String: String]
                    let first = map["shared.weight"]!
                    let other = Set(map.values).sorted().first { $0 != first }!
                    map["shared.weight"] = other
                    index["weight_map"] = map
                } },
             expected: ["{}/model.safetensors.index.json: 'shared.weight': tensor 'shared.weight' is mapped to shard 'model-0000", "but found in shard 'model-0000"]),
        Case(name: "pipeline with several encoders and no choice", fixture: "sd3-pipeline",
             breakIt: { _ in }, expected: ["{}: this pipeline has several text encoders (text_encoder, text_encoder_3); choose one with --encoder NAME"]),
        Case(name: "pipeline encoder that does not exist", fixture: "sd3-pipeline", arguments: ["--encoder", "text_encoder_9"],
             breakIt: { _ in }, expected: ["{}: 'text_encoder_9': no such text encoder in this pipeline (found: text_encoder, text_encoder_3)"]),
        Case(name: "not a model path", breakIt: { try writeText("hello", to: $0 + "/notes.txt") },
             expected: []),
    ]

    @Test(arguments: cases)
    func brokenInputIsRefusedWithANamedMessage(_ testCase: Case) throws {
        let dir = try FixtureFacts.copy(testCase.fixture)
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: dir).deletingLastPathComponent().path) }
        try testCase.breakIt(dir)
        var target = dir
        if testCase.name == "not a model path" { target = dir + "/notes.txt" }
        let result = try runSkrrc([target, "--emit-ir"] + testCase.arguments)
        #expect(result.status == 1, "exit \(result.status): \(result.stderr)")
        #expect(result.stdout.isEmpty, "nothing may be printed to stdout on failure")
        #expect(result.stderr.hasPrefix("error: "), "\(result.stderr)")
        for fragment in testCase.expected {
            let concrete = fragment.replacingOccurrences(of: "{}", with: dir)
            #expect(result.stderr.contains(concrete), "expected \(concrete)\n--- stderr ---\n\(result.stderr)")
        }
        if testCase.name == "not a model path" {
            #expect(result.stderr.contains("notes.txt: expected a .safetensors file, a *.safetensors.index.json, or a model folder"))
        }
    }
}
