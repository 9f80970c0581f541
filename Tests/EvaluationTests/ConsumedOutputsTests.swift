import SkrrLowering
import SkrrEvaluation
import SkrrFrontend
import SkrrIR
import SkrrPasses
import SkrrRuntime
import SkrrTestSupport
import Testing

/// D compares what the pipeline reads: the penultimate layer for SDXL / SD3 CLIP towers, the
/// (projected) pooled output for SD3 / FLUX. Checked against `Interpreter.run`'s own outputs.
@Suite struct ConsumedOutputsTests {
    let generic = try! PipelinePreset.preset(for: .generic, clipEncoder: false)

    func scorer(_ model: ModelIR, _ weights: WeightSource, prompts: [[Int32]], consumed: ConsumedOutputs,
                budget: Int = 1 << 30) throws -> DiscrepancyScorer {
        var options = DiscrepancyScorer.Options()
        options.includeNullPrompt = false
        options.consumed = consumed
        options.memoryBudget = budget
        return try DiscrepancyScorer(model: model, weights: weights, prompts: prompts, nullPrompt: nil, preset: generic,
                                     options: options)
    }

    /// Penultimate: the last block is free to skip (D exactly 0), and any other candidate's D is
    /// the MSE of `run(layers: [-2])` outputs; resuming from cached states changes nothing.
    @Test func penultimateLayerIsWhatIsCompared() throws {
        let model = SyntheticModel(layers: 4)
        let prompts = SyntheticModel.prompts(count: 6)
        let consumed = ConsumedOutputs(hidden: .penultimate)
        let cached = try scorer(model.ir, model.weights, prompts: prompts, consumed: consumed)
        let uncached = try scorer(model.ir, model.weights, prompts: prompts, consumed: consumed, budget: 1)
        let dense = model.ir.schedule
        var lastBlock = dense
        lastBlock[6] = .skip
        lastBlock[7] = .skip
        var other = dense
        other[2] = .skip
        other[5] = .run(3)
        let scores = try cached.score([lastBlock, other], base: dense)
        #expect(scores[0] == 0)
        #expect(try uncached.score([lastBlock, other], base: dense) == scores)

        var pruned = model.ir
        pruned.schedule = other
        let full = try Interpreter(program: try Lowering.lower(model.ir), weights: model.weights)
        let small = try Interpreter(program: try Lowering.lower(pruned), weights: model.weights)
        let expected = meanSquaredDifference(try directOutputs(full, small, prompts: prompts, layers: [-2]) { try #require($0.layers[3]) })
        #expect(expected > 0)
        #expect(abs(scores[1] - expected) <= 1e-6 * expected, "scorer \(scores[1]), direct \(expected)")
        #expect(try cached.discrepancy(of: pruned) == scores[1])
    }

    /// Pooled (projected) output only, as FLUX reads CLIP: D is the MSE of `run`'s projected
    /// pooled vectors.
    @Test func projectedPooledOutputIsWhatIsCompared() throws {
        let imported = try ModelImporter.importModel(at: TestPaths.fixture("clip-proj"))
        let weights = try SourceWeights(model: imported.ir)
        let prompts: [[Int32]] = [[812, 5, 9, 813], [812, 44, 813], [812, 7, 8, 9, 10, 813]]
        let scorer = try scorer(imported.ir, weights, prompts: prompts, consumed: ConsumedOutputs(hidden: .none, pooled: true))
        var pruned = imported.ir
        pruned.schedule[1] = .skip
        let d = try scorer.score([pruned.schedule], base: imported.ir.schedule)[0]
        let full = try Interpreter(program: try Lowering.lower(imported.ir), weights: weights)
        let small = try Interpreter(program: try Lowering.lower(pruned), weights: weights)
        let expected = meanSquaredDifference(try directOutputs(full, small, prompts: prompts) { try #require($0.projected) })
        #expect(expected > 0)
        #expect(abs(d - expected) <= 1e-6 * expected, "scorer \(d), direct \(expected)")
    }
}
