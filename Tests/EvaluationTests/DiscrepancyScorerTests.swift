import SkrrLowering
import SkrrEvaluation
import SkrrIR
import SkrrPasses
import SkrrRuntime
import Testing

@Suite struct DiscrepancyScorerTests {
    let generic = try! PipelinePreset.preset(for: .generic, clipEncoder: false)

    func scorer(_ model: SyntheticModel, budget: Int = 1 << 30, null: Bool = true, prompts: Int = 12) throws -> DiscrepancyScorer {
        try model.scorer(budget: budget, prompts: prompts, null: null)
    }

    @Test func denseModelHasZeroDiscrepancy() throws {
        let model = SyntheticModel(layers: 3)
        let dense = model.ir.schedule
        #expect(try scorer(model).score([dense], base: dense) == [0])
    }

    /// Resuming from cached boundary states gives bit-identical D to computing every candidate
    /// from scratch (a budget so small that nothing but the embeddings is cached).
    @Test func cachedScoresEqualUncachedScores() throws {
        let model = SyntheticModel(layers: 4)
        let cached = try scorer(model), uncached = try scorer(model, budget: 1)
        var base = model.ir.schedule
        base[3] = .skip
        let candidates: [[Slot]] = (0..<8).filter { $0 != 3 }.map { i in
            var c = base
            c[i] = .skip
            return c
        } + [{ var c = base; c[3] = .run(1); return c }()]
        let a = try cached.score(candidates, base: base), b = try uncached.score(candidates, base: base)
        #expect(a == b)
        #expect(a.allSatisfy { $0 > 0 })
        #expect(cached.statistics.subBlockEvaluations < uncached.statistics.subBlockEvaluations)
    }

    /// Batches are spread over threads, each computed on one thread: every score, whole-model
    /// measurement and block similarity is bit-identical for 1, 2 and 3 threads.
    @Test func scoresDoNotDependOnTheThreadCount() throws {
        let model = SyntheticModel(layers: 4)
        let base = model.ir.schedule
        let candidates: [[Slot]] = (0..<8).map { i in var c = base; c[i] = .skip; return c }
        let merged = try LayerCollapse(sparsity: 0.3).collapse(model.ir, base: 1, folded: [2], step: 1)
        var results: [([Double], ModelMeasurement, [Double])] = []
        for threads in [1, 2, 3] {
            var options = DiscrepancyScorer.Options()
            options.threads = threads
            let scorer = try DiscrepancyScorer(model: model.ir, weights: model.weights, prompts: SyntheticModel.prompts(count: 14),
                                               nullPrompt: [1], preset: generic, options: options)
            results.append((try scorer.score(candidates, base: base), try scorer.measure(merged), try scorer.blockInputOutputCosines()))
        }
        for other in results.dropFirst() {
            #expect(other.0 == results[0].0)
            #expect(other.1 == results[0].1)
            #expect(other.2 == results[0].2)
        }
        #expect(results[0].0.allSatisfy { $0 > 0 })
    }

    /// The scorer's D equals an independent computation through `Interpreter.run`.
    @Test func discrepancyMatchesADirectComputation() throws {
        let model = SyntheticModel(layers: 3)
        let prompts = SyntheticModel.prompts(count: 5)
        var options = DiscrepancyScorer.Options()
        options.includeNullPrompt = false
        let scorer = try DiscrepancyScorer(model: model.ir, weights: model.weights, prompts: prompts, nullPrompt: nil,
                                           preset: generic, options: options)
        var pruned = model.ir
        pruned.schedule[2] = .skip
        pruned.schedule[5] = .run(3)
        let d = try scorer.score([pruned.schedule], base: model.ir.schedule)[0]

        let dense = try Interpreter(program: try Lowering.lower(model.ir), weights: model.weights)
        let small = try Interpreter(program: try Lowering.lower(pruned), weights: model.weights)
        let expected = meanSquaredDifference(try directOutputs(dense, small, prompts: prompts) { $0.hidden })
        #expect(abs(d - expected) <= 1e-6 * expected, "scorer \(d), direct \(expected)")
    }

    @Test func nullPromptTermAddsToD() throws {
        let model = SyntheticModel(layers: 3)
        var candidate = model.ir.schedule
        candidate[1] = .skip
        let with = try scorer(model).score([candidate], base: model.ir.schedule)[0]
        let without = try scorer(model, null: false).score([candidate], base: model.ir.schedule)[0]
        #expect(with > without)
    }

    /// Caching target of the issue: a 24-step beam search does at most 55 % of the sub-block
    /// executions of the same search without caching.
    @Test func twentyFourStepSearchDoesAtMost55PercentOfNaiveWork() throws {
        let model = SyntheticModel(layers: 16)
        let scorer = try scorer(model, prompts: 6)
        let context = PassContext(scoringWith: scorer)
        // 24 of 32 sub-blocks must go: leave a little less than 8 sub-blocks' worth of parameters.
        let subBlockParams = (0..<32).map(model.ir.parameterCount(ofSubBlock:))
        let sorted = subBlockParams.sorted()
        let needed = Double(sorted.prefix(24).reduce(0, +)) / Double(model.ir.sourceParameters)
        _ = try SkipSearch(sparsity: needed, beam: 3).run(model.ir, context: context)
        #expect(context.removalOrder.order.count >= 24)
        let ratio = Double(scorer.statistics.subBlockEvaluations) / Double(scorer.statistics.naiveSubBlockEvaluations)
        #expect(ratio <= 0.55, "cached \(scorer.statistics.subBlockEvaluations) vs naive \(scorer.statistics.naiveSubBlockEvaluations): \(ratio)")
    }
}
