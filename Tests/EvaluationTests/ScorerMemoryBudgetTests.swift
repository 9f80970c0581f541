@testable import SkrrEvaluation
import SkrrIR
import SkrrPasses
import SkrrRuntime
import Testing

/// The scorer's cache of boundary states stays within `memoryBudget` (on T5-XXL with long prompts
/// one boundary is ~150 MB, so "keep the last 8 runs" alone would hold several GB), and what it
/// evicts changes only the work, never a score.
@Suite struct ScorerMemoryBudgetTests {
    let model = SyntheticModel(layers: 5)

    func scorer(budget: Int) throws -> DiscrepancyScorer { try model.scorer(budget: budget, prompts: 9) }

    func skipping(_ slots: Set<Int>) -> [Slot] { model.skipping(slots) }

    @Test func theCacheNeverHoldsMoreThanTheBudget() throws {
        let roomy = try scorer(budget: 1 << 30)
        let state = roomy.stateBytes
        #expect(state > 0)
        // 12 states: a run keeps a boundary every 4 slots (3 of the 11), so about 4 runs fit.
        let budget = 12 * state
        let tight = try scorer(budget: budget)
        var roomyBits: [UInt64] = [], tightBits: [UInt64] = []
        for first in 0..<8 {
            let base = skipping([first])
            let candidates = (first + 1..<10).map { skipping([first, $0]) }
            roomyBits += try roomy.score(candidates, base: base).map(\.bitPattern)
            tightBits += try tight.score(candidates, base: base).map(\.bitPattern)
            #expect(tight.cachedBytes <= budget, "after base \(first): \(tight.cachedBytes) bytes cached, budget \(budget)")
        }
        #expect(tightBits == roomyBits)
        #expect(roomy.cache.count == 8, "the roomy scorer keeps its 8 most recent runs")
        #expect(tight.cache.count < 8)
        #expect(tight.statistics.subBlockEvaluations >= roomy.statistics.subBlockEvaluations)
    }

    @Test func aRunLargerThanTheBudgetIsStillKept() throws {
        let tiny = try scorer(budget: 1)
        let bits = try tiny.score([skipping([2, 5])], base: skipping([2])).map(\.bitPattern)
        #expect(tiny.cache.count == 1)
        #expect(bits == (try scorer(budget: 1 << 30).score([skipping([2, 5])], base: skipping([2])).map(\.bitPattern)))
    }
}
