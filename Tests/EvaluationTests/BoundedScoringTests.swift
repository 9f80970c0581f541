import SkrrIR
import SkrrPasses
import Testing

@testable import SkrrEvaluation

/// Scoring a step's candidates when only the best few matter (issue 10): candidates are measured
/// chunk by chunk of the calibration batches and dropped once a lower bound of D rules them out.
/// The candidates kept and their D must be the bits scoring every candidate gives.
@Suite struct BoundedScoringTests {
    @Test func chunksEndAtAnEighthAQuarterAndAHalfOfTheRows() {
        let sixteen = Array(repeating: 100, count: 16)
        #expect(DiscrepancyScorer.boundChunks(rows: sixteen, minimumRows: 1) == [0..<2, 2..<4, 4..<8, 8..<16])
        // Each chunk but the last holds at least the minimum: 300 rows, not 200.
        #expect(DiscrepancyScorer.boundChunks(rows: sixteen, minimumRows: 256) == [0..<3, 3..<6, 6..<9, 9..<16])
        // A chunk that passes two ends at once counts for both.
        #expect(DiscrepancyScorer.boundChunks(rows: [10, 500, 10, 10], minimumRows: 1) == [0..<2, 2..<4])
        #expect(DiscrepancyScorer.boundChunks(rows: [100], minimumRows: 1) == [0..<1])
        #expect(DiscrepancyScorer.boundChunks(rows: [], minimumRows: 1) == [])
        // Too few rows for two chunks: one, and scoring is not bounded at all.
        #expect(DiscrepancyScorer.boundChunks(rows: [50, 60, 70], minimumRows: 256) == [0..<3])
    }

    /// Every single-slot skip from two bases (the dense schedule, and one with slot 11 skipped).
    func groups(_ model: SyntheticModel) -> [CandidateGroup] {
        [Set<Int>(), [11]].map { skipped in
            CandidateGroup(base: model.skipping(skipped),
                           candidates: (0..<12).filter { !skipped.contains($0) }.map { model.skipping(skipped.union([$0])) })
        }
    }

    @Test(arguments: [1, 2, 5])
    func theBestAreExactAndTheRestAreLowerBoundsRankedAfterThem(keep: Int) throws {
        let model = SyntheticModel(layers: 6)
        let groups = groups(model)
        let full = try model.scorer(prompts: 24, boundRows: 1)
        let exact = try groups.flatMap { try full.score($0.candidates, base: $0.base) }
        let bounded = try model.scorer(prompts: 24, boundRows: 1)
        #expect(bounded.boundChunks.count == 4)
        var shares = Array(repeating: 0.0, count: exact.count)
        let values = try bounded.scoreBest(groups, keep: keep, rankKey: { $1 }, worked: { shares[$0] += $1 })
        #expect(values.count == exact.count)
        let bar = exact.sorted()[keep - 1]
        for i in exact.indices {
            if exact[i] <= bar {
                #expect(values[i].bitPattern == exact[i].bitPattern, "candidate \(i) could be kept, so its D is exact")
            } else {
                #expect(values[i] <= exact[i], "candidate \(i): a lower bound")
                #expect(values[i] > bar || values[i] == exact[i], "candidate \(i) ranks after the kept ones")
            }
        }
        // Measured in part: some candidates were dropped early, and the work shows it.
        #expect(shares.allSatisfy { $0 > 0 && $0 <= 1 + 1e-9 })
        #expect(shares.contains { $0 < 1 })
        #expect(bounded.statistics.subBlockEvaluations < full.statistics.subBlockEvaluations)
        #expect(bounded.statistics.candidatesScored == full.statistics.candidatesScored)
    }

    @Test func keepingEveryCandidateScoresEveryOneExactly() throws {
        let model = SyntheticModel(layers: 6)
        let groups = groups(model)
        let full = try model.scorer(prompts: 24, boundRows: 1)
        let exact = try groups.flatMap { try full.score($0.candidates, base: $0.base) }
        let values = try model.scorer(prompts: 24, boundRows: 1)
            .scoreBest(groups, keep: exact.count, rankKey: { $1 }, worked: { _, _ in })
        #expect(values.map(\.bitPattern) == exact.map(\.bitPattern))
    }

    /// Screens made of a scorer on the first prompts of the same seeded list.
    final class Screens: ScreeningScorers {
        let model: SyntheticModel
        let boundRows: Int
        init(_ model: SyntheticModel, boundRows: Int) {
            self.model = model
            self.boundRows = boundRows
        }
        var calibrationPromptCount: Int { 24 }
        func scorer(prompts: Int) throws -> any ScheduleScorer { try model.scorer(prompts: prompts, boundRows: boundRows) }
    }

    struct Outcome: Equatable {
        var schedule: [Slot]
        var order: [Int]
        var bits: [UInt64]
    }

    func search(_ model: SyntheticModel, bound: Bool, screen: Int, ranking: SkipSearch.Ranking, threads: Int? = nil)
        throws -> (Outcome, Int) {
        let scorer = try model.scorer(prompts: 24, boundRows: 1, threads: threads)
        let context = PassContext(scoringWith: scorer)
        if screen > 0 { context.analyses.register(.screeningScorers, Screens(model, boundRows: 1)) }
        let result = try SkipSearch(sparsity: 0.45, beam: 2, screen: screen, rescore: 4, ranking: ranking, bound: bound)
            .run(model.ir, context: context)
        let record = try #require(context.last(SkipSearchRecord.self))
        let work = record.steps.reduce(0) { $0 + $1.subBlockEvaluations + $1.screenedSubBlockEvaluations }
        return (Outcome(schedule: result.schedule, order: record.order, bits: record.orderDiscrepancies.map(\.bitPattern)), work)
    }

    @Test(arguments: [(0, SkipSearch.Ranking.discrepancy), (8, .discrepancy), (0, .perParameter), (8, .perParameter)])
    func aBoundedSearchChoosesWhatAFullOneChooses(screen: Int, ranking: SkipSearch.Ranking) throws {
        let model = SyntheticModel(layers: 6)
        let (full, fullWork) = try search(model, bound: false, screen: screen, ranking: ranking)
        let (bounded, boundedWork) = try search(model, bound: true, screen: screen, ranking: ranking)
        #expect(bounded == full)
        #expect(full.order.count >= 3)
        #expect(boundedWork < fullWork, "work: \(boundedWork) bounded against \(fullWork)")
    }

    /// bf16 matrices run over all batches' rows at once (BatchRunner's row-wise path), on two
    /// threads: chunks group rows differently, and the bits must not notice.
    @Test func aBoundedSearchOnBF16RowsChoosesWhatAFullOneChooses() throws {
        let model = SyntheticModel(layers: 6, matrices: .bf16)
        let (full, _) = try search(model, bound: false, screen: 8, ranking: .discrepancy, threads: 2)
        let (bounded, _) = try search(model, bound: true, screen: 8, ranking: .discrepancy, threads: 2)
        #expect(bounded == full)
    }

    @Test func boundIsAPassOption() throws {
        let off = try SkipSearch(options: PassOptions(pass: "skip-search", values: [("sparsity", "0.3"), ("bound", "0")]))
        #expect(!off.bound)
        #expect(try SkipSearch(options: PassOptions(pass: "skip-search", values: [("sparsity", "0.3")])).bound)
        #expect(throws: (any Error).self) {
            try SkipSearch(options: PassOptions(pass: "skip-search", values: [("sparsity", "0.3"), ("bound", "2")]))
        }
    }
}
