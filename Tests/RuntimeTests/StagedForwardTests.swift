import SkrrFrontend
import SkrrLowering
import SkrrRuntime
import SkrrTestSupport
import Testing

/// The staged entry points (`begin`, `apply`, `finish`, `pooledOutput`), which the search uses,
/// compute what `run` computes, to the bit: masked and attended padding, shared and per-layer
/// relative positions, learned positions, pooling and projection, a skipped slot.
@Suite struct StagedForwardTests {
    static let ids: [[Int32]] = [[5, 17, 9, 3, 1], [7, 2], [12, 30, 4, 4, 8, 21, 19, 1, 6, 5, 3, 2, 1]]

    @Test(arguments: ["t5-v1_1", "umt5", "t5-relu", "clip-proj", "bert"], [true, false])
    func stagedStepsMatchRun(_ fixture: String, maskPadding: Bool) throws {
        let ir = try ModelImporter.importModel(at: TestPaths.fixture(fixture)).ir
        var program = try Lowering.lower(ir)
        program.slots[2] = .skip
        let interpreter = try Interpreter(program: program, weights: try SourceWeights(model: ir))
        let batch = TokenBatch(ids: Self.ids, padToLength: 16, maskPadding: maskPadding)
        let blocks = program.blockCount
        let whole = try interpreter.run(batch, layers: Array(0..<blocks))

        var state = try interpreter.begin(batch)
        #expect(state.mask == whole.mask)
        #expect(state.hidden.map(\.bitPattern) == whole.layers[0]?.map(\.bitPattern), "embeddings")
        for (index, slot) in program.slots.enumerated() {
            try interpreter.apply(slot, to: &state)
            if index % 2 == 1, index / 2 + 1 < blocks {
                #expect(state.hidden.map(\.bitPattern) == whole.layers[index / 2 + 1]?.map(\.bitPattern), "after block \(index / 2)")
            }
        }
        #expect(try interpreter.finish(state).map(\.bitPattern) == whole.hidden.map(\.bitPattern), "final hidden states")
        let pooled = try interpreter.pooledOutput(state)
        #expect(pooled?.map(\.bitPattern) == (whole.projected ?? whole.pooled)?.map(\.bitPattern), "pooled output")
    }
}
