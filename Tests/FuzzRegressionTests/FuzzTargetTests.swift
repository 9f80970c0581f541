import Foundation
import SkrrBackend
import SkrrFrontend
@testable import SkrrFuzzEntries
import SkrrLowering
import SkrrRuntime
import SkrrTestSupport
import Testing

/// Each fuzz target must reach its reader's accepting path on a valid input: a harness that
/// refused everything would fuzz only the first check. The inputs are the fixtures the seed
/// corpora (fuzz/make_seeds.sh) are made from.
struct FuzzTargetTests {
    static func fixture(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture(path))))
    }

    static func accepts(_ name: String, _ input: [UInt8]) throws {
        let target = try #require(FuzzTargets.named(name))
        #expect(try target.run(input) == .accepted, "target \(name)")
        #expect(input.count <= target.maxLength, "the valid input exceeds \(name)'s max_len \(target.maxLength)")
    }

    @Test func everyTargetIsListedOnce() {
        #expect(Set(FuzzTargets.all.map(\.name)).count == FuzzTargets.all.count)
        #expect(FuzzTargets.all.count == 9)
    }

    @Test func fileReadersAcceptFixtures() throws {
        try Self.accepts("safetensors", try Self.fixture("bert/reference.safetensors"))
        try Self.accepts("json", try Self.fixture("clip/config.json"))
        try Self.accepts("model-config", [0] + (try Self.fixture("t5-v1_1/config.json")))
        try Self.accepts("model-config", [3] + (try Self.fixture("bert/config.json")))
        let ir = Array(try String(contentsOfFile: TestPaths.repositoryRoot + "/Tests/IRTests/Inputs/t5-tiny.ir", encoding: .utf8).utf8)
        try Self.accepts("ir", ir)
        try Self.accepts("pipeline", Array("skip-search{sparsity=0.4 beam=3},reuse-rewrite,dead-weight-elim".utf8))
    }

    @Test func tokenizersAcceptFixturesAndPrompt() throws {
        let prompt = Array("A photo of a Cat, 12 dogs & naïve café!".utf8)
        try Self.accepts("sentencepiece", FuzzInputParts.join([try Self.fixture("t5-v1_1/spiece.model"), prompt]))
        try Self.accepts("clip-bpe", FuzzInputParts.join([try Self.fixture("clip/vocab.json"), try Self.fixture("clip/merges.txt"), prompt]))
        try Self.accepts("wordpiece", FuzzInputParts.join([try Self.fixture("bert/vocab.txt"), prompt]))
    }

    @Test func runtimeFileTargetAcceptsACompiledFixture() throws {
        let ir = try ModelImporter.importModel(at: TestPaths.fixture("t5-v1_1")).ir
        let path = TestPaths.makeTemporaryDirectory("skrr-fuzz") + "/t5.skrr"
        let options = RuntimeFileWriter.Options(
            weightDType: .bf16, preset: try PipelinePreset.preset(for: .generic, clipEncoder: false),
            sourceModel: ir.name, passes: "", paramsTotal: ir.sourceParameters)
        _ = try RuntimeFileWriter.write(try Lowering.lower(ir), weights: try SourceWeights(model: ir), options: options, to: path)
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        try Self.accepts("runtime-file", bytes)
        // The checksums are recomputed, so a mutated manifest reaches the decoder and is refused there.
        bytes[RuntimeFileFormat.headerSize] = 0xFF  // the first tag: wire type 7 does not exist
        let outcome = try #require(FuzzTargets.named("runtime-file")).run(bytes)
        guard case let .rejected(message) = outcome else { Issue.record("a corrupted manifest was accepted"); return }
        #expect(!message.contains("checksum"), "refused by a checksum instead of the decoder: \(message)")
    }

    /// A pipeline file (format 3) goes through PipelineRuntimeFile and one pass per member.
    @Test func runtimeFileTargetAcceptsAPipelineFile() throws {
        var members: [PipelineFileWriter.Member] = []
        for encoder in ["text_encoder", "text_encoder_2"] {
            let ir = try ModelImporter.importModel(at: TestPaths.fixture("flux-full"), encoder: encoder).ir
            let options = RuntimeFileWriter.Options(weightDType: .bf16, preset: try PipelinePreset.preset(for: .flux, clipEncoder: ir.config.causal),
                                                    sourceModel: ir.name, passes: "", paramsTotal: ir.sourceParameters)
            members.append(.init(name: encoder, program: try Lowering.lower(ir), weights: try SourceWeights(model: ir), options: options))
        }
        let path = TestPaths.makeTemporaryDirectory("skrr-fuzz") + "/flux.skrr"
        try PipelineFileWriter.write(kind: .flux, members: members, sourceModel: "flux-full", passes: "", to: path)
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(bytes.count <= (try #require(FuzzTargets.named("runtime-file"))).maxLength, "the seed fits the target's max_len")
        try Self.accepts("runtime-file", bytes)
    }

    @Test func inputPartsSplitAndJoin() {
        let parts: [[UInt8]] = [[1, 2], [], Array("text".utf8)]
        #expect(FuzzInputParts.split(FuzzInputParts.join(parts), into: 3) == parts)
        #expect(FuzzInputParts.split([7], into: 3) == [[7], [], []])
        // A separator beyond the last part stays in it.
        let extra = FuzzInputParts.join([[1], [2], [3]])
        #expect(FuzzInputParts.split(extra, into: 2) == [[1], FuzzInputParts.join([[2], [3]])])
    }
}
