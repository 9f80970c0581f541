import SkrrIR
import SkrrPasses
import SkrrSupport
import Testing

/// Skip search and re-use against exact, scripted discrepancies.
@Suite struct SearchTests {
    func randomScorer(slots: Int, seed: UInt64) -> ScriptedScorer {
        var rng = SeededGenerator(state: seed)
        var cost: [Int: Double] = [:], pairs: [Set<Int>: Double] = [:], reuse: [Int: [Int: Double]] = [:]
        for i in 0..<slots { cost[i] = Double(Int.random(in: 1...100, using: &rng)) / 10 }
        for i in 0..<slots {
            for j in (i + 1)..<slots where Int.random(in: 0..<3, using: &rng) == 0 {
                pairs[[i, j]] = Double(Int.random(in: -20...50, using: &rng)) / 10
            }
            for j in 0..<slots where j % 2 == i % 2 && j != i {
                reuse[i, default: [:]][j] = Double(Int.random(in: -30...30, using: &rng)) / 10
            }
        }
        return ScriptedScorer(cost: cost, pairs: pairs, reuse: reuse)
    }

    /// With a beam wide enough to keep every set, beam search is exhaustive: it returns the
    /// lowest-D set among the smallest sets that reach the target.
    @Test(arguments: 0..<20)
    func wideBeamMatchesExhaustiveSearch(_ seed: Int) throws {
        let model = TinyModels.t5(layers: 3)
        let scorer = randomScorer(slots: 6, seed: UInt64(seed))
        let sparsity = [0.2, 0.35, 0.5, 0.6][seed % 4]
        let result = try SkipSearch(sparsity: sparsity, beam: 64).run(model, context: PassContext(scheduleScorer: scorer))

        let target = Int((sparsity * Double(model.sourceParameters)).rounded(.up))
        var best: (size: Int, d: Double, key: [Int])?
        for mask in 1..<(1 << 6) {
            let set = (0..<6).filter { mask & (1 << $0) != 0 }
            var candidate = model
            candidate.schedule = (0..<6).map { set.contains($0) ? .skip : .run($0) }
            guard model.sourceParameters - candidate.keptParameters >= target else { continue }
            let d = scorer.discrepancy(candidate.schedule)
            if let b = best, (b.size, b.d) <= (set.count, d) && !(b.size == set.count && b.d == d && set.lexicographicallyPrecedes(b.key)) { continue }
            best = (set.count, d, set)
        }
        let skipped = result.schedule.indices.filter { result.schedule[$0] == .skip }
        #expect(skipped == best!.key, "seed \(seed): search \(skipped), exhaustive \(best!.key)")
    }

    static let reuseSeeds = 0..<20

    /// Skip search then re-use on a random script: the schedules before and after re-use.
    func skipThenReuse(seed: Int) throws -> (skipped: ModelIR, reused: ModelIR, scorer: ScriptedScorer, context: PassContext) {
        let scorer = randomScorer(slots: 8, seed: UInt64(1000 + seed))
        let context = PassContext(scheduleScorer: scorer)
        let skipped = try SkipSearch(sparsity: 0.4, beam: 3).run(TinyModels.t5(layers: 4), context: context)
        return (skipped, try ReuseRewrite().run(skipped, context: context), scorer, context)
    }

    @Test(arguments: reuseSeeds)
    func reuseNeverRaisesDiscrepancy(_ seed: Int) throws {
        let (skipped, reused, scorer, context) = try skipThenReuse(seed: seed)
        let before = scorer.discrepancy(skipped.schedule)
        let after = scorer.discrepancy(reused.schedule)
        #expect(after <= before)
        #expect(context.discrepancy == after)
        #expect(IRVerifier.problems(in: reused) == [])
        // Sources are originally kept sub-blocks of the same kind; re-use adds no parameters.
        for (slot, entry) in reused.schedule.enumerated() {
            if case let .run(source) = entry, source != slot {
                #expect(skipped.schedule[source] == .run(source))
                #expect(source % 2 == slot % 2)
                #expect(skipped.schedule[slot] == .skip)
            }
        }
        #expect(reused.keptParameters == skipped.keptParameters)
    }

    /// The checks on re-used slots above hold vacuously for a seed where nothing is re-used;
    /// the seeds must include re-uses (and keep some skips), or they test nothing.
    @Test func reuseSeedsExerciseReuse() throws {
        var reusedSlots = 0, stillSkipped = 0
        for seed in Self.reuseSeeds {
            let reused = try skipThenReuse(seed: seed).reused
            for (slot, entry) in reused.schedule.enumerated() {
                if case let .run(source) = entry, source != slot { reusedSlots += 1 }
                if entry == .skip { stillSkipped += 1 }
            }
        }
        #expect(reusedSlots >= 5, "\(reusedSlots) re-used slots over \(Self.reuseSeeds.count) seeds")
        #expect(stillSkipped >= 5, "\(stillSkipped) slots left skipped over \(Self.reuseSeeds.count) seeds")
    }

    @Test func searchOrderAndDiscrepancyAlongItAreRecorded() throws {
        let scorer = ScriptedScorer(cost: [0: 5, 1: 1, 2: 3, 3: 2, 4: 4, 5: 0.5])
        let context = PassContext(scheduleScorer: scorer)
        let model = TinyModels.t5(layers: 3)
        let result = try SkipSearch(sparsity: 0.45, beam: 1).run(model, context: context)
        // Additive costs: greedy drops the cheapest first: 5 (ffn, 0.5), 1 (ffn, 1), 3 (ffn, 2), ...
        let record = try #require(context.last(SkipSearchRecord.self))
        #expect(record.order.prefix(3) == [5, 1, 3])
        #expect(record.orderDiscrepancies.prefix(3) == [0.5, 1.5, 3.5])
        #expect(record.orderDiscrepancies.count == record.order.count)
        #expect(result.sparsity >= 0.45)
        #expect(context.discrepancy == record.orderDiscrepancies.last)
    }

    @Test func duplicateBeamsAreMerged() throws {
        // Symmetric costs: {0,1} is reached from both {0} and {1}; it must be scored once.
        let scorer = ScriptedScorer(cost: [0: 1, 1: 1, 2: 9, 3: 9])
        _ = try SkipSearch(sparsity: 0.6, beam: 2).run(TinyModels.t5(layers: 2), context: PassContext(scheduleScorer: scorer))
        // Target 0.6 × 380 = 228 params. Step 1: 4 singles, keep {0} {1}. Step 2 from {0}: {0,1}
        // {0,2} {0,3}; from {1}: {1,2} {1,3} ({0,1} merged); keep {0,1} (D 2) and {0,2} (D 10, the
        // smallest key among the ties). Step 3 from {0,1}: {0,1,2} {0,1,3}; from {0,2}: {0,2,3}
        // ({0,1,2} merged); {0,1,2} removes 264 ≥ 228. Without merging it would be 4 + 6 + 4 = 14.
        #expect(scorer.statistics.candidatesScored == 4 + 5 + 3)
    }

    @Test func oneBlockModel() throws {
        let model = TinyModels.t5(layers: 1)
        let scorer = ScriptedScorer(cost: [0: 2, 1: 1])
        let result = try SkipSearch(sparsity: 0.2, beam: 3).run(model, context: PassContext(scheduleScorer: scorer))
        #expect(result.schedule == [.run(0), .skip])
        // Nothing of the same kind is left to re-use.
        #expect(try ReuseRewrite().run(result, context: PassContext(scheduleScorer: scorer)).schedule == [.run(0), .skip])
    }

    @Test func unreachableTargetIsAClearError() throws {
        let model = TinyModels.t5(layers: 2)  // 380 params, 328 in sub-blocks: at most 86.3%
        #expect {
            try SkipSearch(sparsity: 0.9, beam: 3).run(model, context: PassContext(scheduleScorer: ScriptedScorer(cost: [:])))
        } throws: { error in
            "\(error)" == "'skip-search': target sparsity 0.9 is unreachable: skipping every sub-block removes 86.3% of the parameters (embeddings, norms and heads are never pruned)"
        }
    }

    @Test func searchingPassesNeedAScorer() {
        #expect {
            try SkipSearch(sparsity: 0.3).run(TinyModels.t5(layers: 2), context: PassContext())
        } throws: { error in
            "\(error)".contains("needs calibration data")
        }
    }

    @Test func optionsAreTypedAndChecked() throws {
        let search = try PassRegistry.make(PassInvocation(name: "skip-search", options: [("sparsity", "0.25"), ("beam", "5")])) as! SkipSearch
        #expect(search.sparsity == 0.25 && search.beam == 5)
        #expect(throws: SkrrError.self) { try PassRegistry.make(PassInvocation(name: "skip-search", options: [("sparsity", "1.5")])) }
        #expect(throws: SkrrError.self) { try PassRegistry.make(PassInvocation(name: "skip-search", options: [("beam", "0"), ("sparsity", "0.1")])) }
        #expect(throws: SkrrError.self) { try PassRegistry.make(PassInvocation(name: "skip-search")) }
    }
}
