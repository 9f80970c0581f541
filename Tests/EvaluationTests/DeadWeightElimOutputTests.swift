import SkrrLowering
import SkrrFrontend
import SkrrIR
import SkrrPasses
import SkrrRuntime
import SkrrTestSupport
import Testing

/// Dead-weight elimination removes only what nothing runs: outputs stay bit-identical.
@Suite struct DeadWeightElimOutputTests {
    @Test(arguments: ["t5-v1_1", "umt5", "clip-proj", "bert"])
    func outputsAreBitIdenticalAfterElimination(_ fixture: String) throws {
        var model = try ModelImporter.importModel(at: TestPaths.fixture(fixture)).ir
        // Skip block 0's attention (T5: its shared bias table must survive) and make the last
        // FFN slot re-use the first FFN.
        let last = model.schedule.count - 1
        model.schedule[0] = .skip
        model.schedule[last] = .run(1)
        let eliminated = try DeadWeightElim().run(model, context: PassContext())
        #expect(eliminated.tensors.count < model.tensors.count)
        let ids: [[Int32]] = fixture.hasPrefix("clip") ? [[812, 5, 9, 813], [812, 7, 813]] : [[5, 17, 9, 1], [6, 1]]
        func run(_ m: ModelIR) throws -> EncoderOutput {
            try Interpreter(program: try Lowering.lower(m), weights: try SourceWeights(model: m)).run(TokenBatch(ids: ids))
        }
        let before = try run(model), after = try run(eliminated)
        #expect(before.hidden == after.hidden)
        #expect(before.pooled == after.pooled)
        #expect(before.projected == after.projected)
    }
}
