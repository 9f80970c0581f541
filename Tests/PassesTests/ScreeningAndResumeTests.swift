import SkrrIR
import SkrrPasses
import SkrrSupport
import Testing

/// Screening (score every candidate on a cheap scorer, rescore the best few on the full one) and
/// resuming a search from its journal.
@Suite struct ScreeningAndResumeTests {
    let model = TinyModels.t5(layers: 4)
    let costs: [Int: Double] = [0: 5, 1: 1, 2: 4, 3: 2, 4: 6, 5: 3, 6: 2.5, 7: 0.5]

    /// Screening scorers made of one scripted scorer (its prompt count is nominal).
    final class Screens: ScreeningScorers {
        let scorer: ScriptedScorer
        init(_ scorer: ScriptedScorer) { self.scorer = scorer }
        var calibrationPromptCount: Int { 100 }
        func scorer(prompts: Int) throws -> any ScheduleScorer { scorer }
    }

    /// A journal in memory that can "die" after a number of saves.
    final class MemoryJournal: SearchJournal {
        var entries: [String: JSONValue] = [:]
        var savesLeft = Int.max
        var saves = 0
        struct Killed: Error {}
        func restore(_ key: String) -> JSONValue? { entries[key] }
        func save(_ key: String, _ state: JSONValue) throws {
            guard savesLeft > 0 else { throw Killed() }
            savesLeft -= 1
            saves += 1
            entries[key] = state
        }
    }

    func context(full: ScriptedScorer, screen: ScriptedScorer? = nil, journal: MemoryJournal? = nil) -> PassContext {
        let context = PassContext(scheduleScorer: full)
        if let screen { context.analyses.register(.screeningScorers, Screens(screen)) }
        if let journal { context.analyses.register(.journal, journal) }
        return context
    }

    @Test func screeningRescoresOnlyTheBestAndKeepsTheFullOrder() throws {
        let full = ScriptedScorer(cost: costs)
        // The screen agrees with the full scorer on the ranking, but is off by a constant.
        let screen = ScriptedScorer(cost: costs.mapValues { $0 + 10 })
        let search = SkipSearch(sparsity: 0.3, beam: 2, screen: 8, rescore: 4)
        let ctx = context(full: full, screen: screen)
        let screened = try search.run(model, context: ctx)
        let plain = try SkipSearch(sparsity: 0.3, beam: 2).run(model, context: context(full: ScriptedScorer(cost: costs)))
        #expect(screened.schedule == plain.schedule)
        let record = try #require(ctx.last(SkipSearchRecord.self))
        #expect(record.screen == SkipSearchRecord.Screen(prompts: 8, rescored: 4))
        // Full D along the order (not the screen's shifted values).
        #expect(record.orderDiscrepancies == record.order.indices.map { i in record.order.prefix(i + 1).reduce(0) { $0 + costs[$1]! } })
        // Every step screened all its candidates and rescored exactly four on the full scorer.
        #expect(record.steps.allSatisfy { $0.rescored == 4 && $0.candidates > 4 })
        #expect(full.statistics.candidatesScored == 4 * record.steps.count)
        #expect(screen.statistics.candidatesScored == record.steps.reduce(0) { $0 + $1.candidates })
    }

    @Test func aMisleadingScreenCanOnlyChooseAmongWhatItRescores() throws {
        let full = ScriptedScorer(cost: costs)
        // The screen ranks slot 4 (full D 6) best and slot 7 (full D 0.5) worst.
        var inverted = costs
        inverted[4] = 0.1
        inverted[7] = 100
        let ctx = context(full: full, screen: ScriptedScorer(cost: inverted))
        let result = try SkipSearch(sparsity: 0.1, beam: 1, screen: 8, rescore: 2).run(model, context: ctx)
        #expect(result.schedule[7] == .run(7), "slot 7 was never rescored, so it cannot be chosen")
        let record = try #require(ctx.last(SkipSearchRecord.self))
        #expect(!record.order.contains(7))
        #expect(record.orderDiscrepancies == record.order.indices.map { i in record.order.prefix(i + 1).reduce(0) { $0 + costs[$1]! } })
    }

    @Test func screenZeroIsTheUnscreenedSearch() throws {
        let a = context(full: ScriptedScorer(cost: costs))
        let b = context(full: ScriptedScorer(cost: costs), screen: ScriptedScorer(cost: [:]))
        let x = try SkipSearch(sparsity: 0.4, beam: 3).run(model, context: a)
        let y = try SkipSearch(sparsity: 0.4, beam: 3, screen: 0).run(model, context: b)
        #expect(x.schedule == y.schedule)
        #expect(b.last(SkipSearchRecord.self)?.screen == nil)
        #expect(SkipSearch(sparsity: 0.4, beam: 3, screen: 8).requiredAnalyses.contains(AnalysisKey.screeningScorers.id))
        #expect(!SkipSearch(sparsity: 0.4, beam: 3).requiredAnalyses.contains(AnalysisKey.screeningScorers.id))
    }

    /// A search killed after k saved steps, run again with the same journal, ends exactly where an
    /// uninterrupted search ends, having scored only the steps after k.
    @Test(arguments: [1, 2, 3])
    func resumedSearchEqualsUninterrupted(_ killedAfter: Int) throws {
        let uninterrupted = context(full: ScriptedScorer(cost: costs, pairs: [[1, 7]: 3]))
        let expected = try SkipSearch(sparsity: 0.5, beam: 3).run(model, context: uninterrupted)
        let expectedRecord = try #require(uninterrupted.last(SkipSearchRecord.self))

        let journal = MemoryJournal()
        journal.savesLeft = killedAfter
        #expect(throws: MemoryJournal.Killed.self) {
            try SkipSearch(sparsity: 0.5, beam: 3).run(model, context: context(full: ScriptedScorer(cost: costs, pairs: [[1, 7]: 3]), journal: journal))
        }
        journal.savesLeft = .max
        let second = ScriptedScorer(cost: costs, pairs: [[1, 7]: 3])
        let resumedContext = context(full: second, journal: journal)
        let resumed = try SkipSearch(sparsity: 0.5, beam: 3).run(model, context: resumedContext)
        let record = try #require(resumedContext.last(SkipSearchRecord.self))
        #expect(resumed == expected)
        #expect(record.order == expectedRecord.order && record.orderDiscrepancies == expectedRecord.orderDiscrepancies)
        #expect(record.resumedSteps == killedAfter)
        #expect(record.steps.count == expectedRecord.steps.count)
        // The resumed run scored only the steps it had not saved.
        #expect(second.statistics.candidatesScored
                == expectedRecord.steps.dropFirst(killedAfter).reduce(0) { $0 + $1.candidates })

        // A finished search restores without scoring anything.
        let third = ScriptedScorer(cost: costs, pairs: [[1, 7]: 3])
        #expect(try SkipSearch(sparsity: 0.5, beam: 3).run(model, context: context(full: third, journal: journal)) == expected)
        #expect(third.calls == 0)
    }

    @Test func reuseResumesAfterEveryDecision() throws {
        let script = { ScriptedScorer(cost: self.costs, reuse: [1: [3: -0.5], 3: [5: -0.2], 5: [3: -0.1, 7: 0.3]]) }
        let skipped = try SkipSearch(sparsity: 0.4, beam: 1).run(model, context: context(full: script()))
        let plain = try ReuseRewrite().run(skipped, context: context(full: script()))
        let skippedSlots = skipped.schedule.indices.filter { skipped.schedule[$0] == .skip }
        #expect(skippedSlots.count >= 2)
        for killedAfter in 1..<skippedSlots.count {
            let journal = MemoryJournal()
            journal.savesLeft = killedAfter
            #expect(throws: MemoryJournal.Killed.self) { try ReuseRewrite().run(skipped, context: context(full: script(), journal: journal)) }
            journal.savesLeft = .max
            let ctx = context(full: script(), journal: journal)
            #expect(try ReuseRewrite().run(skipped, context: ctx) == plain)
            #expect(ctx.last(ReuseRecord.self)?.resumedDecisions == killedAfter)
        }
    }

    @Test func everyStepIsLogged() throws {
        final class Notes: PassInstrumentation {
            var lines: [String] = []
            func note(_ invocation: PassInvocation, _ message: String) { lines.append(message) }
        }
        let notes = Notes()
        var manager = PassManager(passes: [SkipSearch(sparsity: 0.4, beam: 2)])
        manager.instrumentations = [notes]
        let ctx = context(full: ScriptedScorer(cost: costs))
        _ = try manager.run(model, context: ctx)
        let steps = try #require(ctx.last(SkipSearchRecord.self)).steps.count
        #expect(notes.lines.count == steps)
        #expect(notes.lines.first?.hasPrefix("step 1: best D ") == true)
        #expect(notes.lines.allSatisfy { $0.contains("elapsed, ETA") })
    }
}

/// reuse-rewrite{folds=K}: a re-use is taken only when it lowers D on the whole set and on every
/// fold; the record says what the plain rule would have done.
@Suite struct RobustReuseTests {
    final class Folds: FoldScorers {
        let scorers: [ScriptedScorer]
        init(_ scorers: [ScriptedScorer]) { self.scorers = scorers }
        func scorers(folds: Int) throws -> [any ScheduleScorer] { Array(scorers.prefix(folds)) }
    }

    let model = TinyModels.t5(layers: 3)
    // Skip 1 and 3 (the two cheapest FFNs); re-use candidates: 1 ← 5 and 3 ← 5 (nearest kept FFNs).
    let costs: [Int: Double] = [0: 9, 1: 1, 2: 9, 3: 1, 4: 9, 5: 9]

    func run(folds: [ScriptedScorer], k: Int) throws -> (ModelIR, ReuseRecord) {
        let full = ScriptedScorer(cost: costs, reuse: [1: [5: -0.5], 3: [5: -0.4]])
        let context = PassContext(scheduleScorer: full)
        context.analyses.register(.foldScorers, Folds(folds))
        let skipped = try SkipSearch(sparsity: 0.2, beam: 1).run(model, context: context)
        #expect(skipped.schedule[1] == .skip && skipped.schedule[3] == .skip)
        let result = try ReuseRewrite(folds: k).run(skipped, context: context)
        return (result, try #require(context.last(ReuseRecord.self)))
    }

    @Test func aReuseThatOneFoldDislikesIsRefused() throws {
        // Fold 0 agrees with the full set on both; fold 1 is hurt by 3 ← 5.
        let folds = [ScriptedScorer(cost: costs, reuse: [1: [5: -0.5], 3: [5: -0.4]]),
                     ScriptedScorer(cost: costs, reuse: [1: [5: -0.2], 3: [5: 0.3]])]
        let (result, record) = try run(folds: folds, k: 2)
        #expect(result.schedule[1] == .run(5))
        #expect(result.schedule[3] == .skip)
        #expect(record.decisions.map(\.accepted) == [true, false])
        #expect(record.decisions.map(\.plainRuleAccepts) == [true, true])
        #expect(record.decisions[1].foldsLowered == 1 && record.decisions[1].folds == 2)
        #expect(record.summary.contains("refused (lowered D on fewer than 2 folds): 3←5 (1/2)"))
    }

    @Test func oneFoldIsThePlainRule() throws {
        let (result, record) = try run(folds: [], k: 1)
        #expect(result.schedule[1] == .run(5) && result.schedule[3] == .run(5))
        #expect(record.decisions.allSatisfy { $0.accepted == $0.plainRuleAccepts })
        #expect(ReuseRewrite(folds: 1).requiredAnalyses == [AnalysisKey.scheduleScorer.id])
        #expect(ReuseRewrite(folds: 3).requiredAnalyses.contains(AnalysisKey.foldScorers.id))
    }
}
