import SkrrIR
import SkrrPasses
import Testing

/// Ranking a step's candidates by D per parameter removed (the joint search's default, issue 16)
/// against the paper's ranking by D, on a space whose sub-blocks differ in size as a CLIP tower's
/// and a T5's do.
@Suite struct SearchRankingTests {
    /// Slot 0 holds 10 parameters and costs D 3; slots 1 and 2 hold 1 each and cost D 1 each.
    func space(sparsity: Double) -> SearchSpace {
        let sizes = [10, 1, 1]
        return SearchSpace(
            base: [.run(0), .run(1), .run(2)], sourceParameters: 12, sparsity: sparsity, candidates: [0, 1, 2],
            removed: { schedule in schedule.indices.filter { schedule[$0] == .skip }.reduce(0) { $0 + sizes[$1] } },
            subBlockSize: { sizes[$0] }, suffixLength: { slot, schedule in (slot..<schedule.count).filter { schedule[$0] != .skip }.count })
    }

    func search(_ ranking: SkipSearch.Ranking, sparsity: Double) throws -> (schedule: [Slot], d: Double) {
        let scorer = ScriptedScorer(cost: [0: 3, 1: 1, 2: 1])
        let context = PassContext()
        context.analyses.register(.scheduleScorer, scorer as any ScheduleScorer)
        let schedule = try SkipSearch(sparsity: sparsity, beam: 1, ranking: ranking).search(space(sparsity: sparsity), context: context)
        return (schedule, scorer.discrepancy(schedule))
    }

    @Test func perParameterRankingSpendsTheBudgetOnTheCheapestParameters() throws {
        // Remove at least 10 of 12: by D the search drops the two small slots first (D 1, 2) and
        // must then drop the large one as well (D 5, all 12 removed); per parameter it drops the
        // large one at once (0.3 per parameter against 1) and stops at D 3 with 10 removed.
        let byD = try search(.discrepancy, sparsity: 10.0 / 12)
        #expect(byD.schedule == [.skip, .skip, .skip] && byD.d == 5)
        let perParameter = try search(.perParameter, sparsity: 10.0 / 12)
        #expect(perParameter.schedule == [.skip, .run(1), .run(2)] && perParameter.d == 3)
        // A budget one small slot fills is spent the same way by both.
        #expect(try search(.discrepancy, sparsity: 1.0 / 12).schedule == [.run(0), .skip, .run(2)])
        #expect(try search(.perParameter, sparsity: 1.0 / 12).schedule == [.run(0), .skip, .run(2)])
    }

    @Test func rankIsAPassOption() throws {
        let pass = try SkipSearch(options: PassOptions(pass: "skip-search", values: [("sparsity", "0.3"), ("rank", "per-parameter")]))
        #expect(pass.ranking == .perParameter)
        #expect(try SkipSearch(options: PassOptions(pass: "skip-search", values: [("sparsity", "0.3")])).ranking == .discrepancy)
        #expect { try SkipSearch(options: PassOptions(pass: "skip-search", values: [("sparsity", "0.3"), ("rank", "size")])) } throws: {
            "\($0)".contains("option rank=size must be one of discrepancy, per-parameter")
        }
    }
}
