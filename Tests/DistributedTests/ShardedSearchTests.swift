import SkrrDistributed
import SkrrDriver
import SkrrFrontend
import SkrrIR
import SkrrPasses
import SkrrTestSupport
import Testing

/// The Skrr search with its candidates split over ranks (threads of this process here; mpirun in
/// Tests/CLITests/ClusterRunTests.swift) chooses exactly what one process chooses, on the same D
/// bits, and counts the same work.
@Suite struct ShardedSearchTests {
    struct Outcome: Equatable {
        var schedule: [Slot]
        var order: [Int]
        var discrepancyBits: [UInt64]
        var work: ScorerStatistics
    }

    static let pipeline = "skip-search{sparsity=0.5 beam=3},reuse-rewrite"

    /// The tiny T5 (the trained one takes minutes in a debug build, three times over).
    static func calibration() throws -> Calibration {
        let model = try ModelImporter.importModel(at: TestPaths.fixture("t5-v1_1")).ir
        var options = CalibrationOptions()
        options.source = .parti
        options.size = 8
        return try Calibration(model: model, options: options)
    }

    static func outcome(_ result: ModelIR, _ context: PassContext, work: ScorerStatistics) -> Outcome {
        let (order, discrepancies) = context.removalOrder
        let all = discrepancies + context.records.compactMap(\.discrepancy)
        return Outcome(schedule: result.schedule, order: order, discrepancyBits: all.map(\.bitPattern), work: work)
    }

    @Test func searchDoesNotDependOnTheRankCount() throws {
        let calibration = try Self.calibration()
        let single = try calibration.scorer(.skrr)
        let context = PassContext(scoringWith: single)
        let result = try PassManager(parsing: Self.pipeline).run(calibration.model, context: context)
        let expected = Self.outcome(result, context, work: single.statistics)
        #expect(expected.order.count >= 3 && expected.work.candidatesScored > 0)

        for size in [1, 2, 3] {
            let outcomes = try InProcessWorld.run(size: size) { world in
                let calibration = try Self.calibration()
                let sharded = RankShardedScorer(local: try calibration.scorer(.skrr), world: world)
                let context = PassContext(scoringWith: sharded)
                let result = try PassManager(parsing: Self.pipeline).run(calibration.model, context: context)
                let work = try sharded.gatheredStatistics()
                // Not collective: every rank's running count is already the job's.
                #expect(sharded.statistics == work.search)
                return (Self.outcome(result, context, work: work.search), work, sharded.local.statistics)
            }
            for (rank, (outcome, work, own)) in outcomes.enumerated() {
                #expect(outcome == expected, "\(size) ranks, rank \(rank)")
                if rank > 0 { #expect(own.candidatesScored < expected.work.candidatesScored, "rank \(rank) scored a share") }
                // The cluster ran the search once, plus each other rank's own prefix states.
                #expect(work.repeated.candidatesScored == 0)
                #expect((size == 1) == (work.repeated.subBlockEvaluations == 0))
            }
        }
    }

    /// Screening and robust re-use split over ranks too: the same choices, the same per-step work
    /// in the record, on every rank and for every rank count.
    @Test func screenedSearchWithFoldsDoesNotDependOnTheRankCount() throws {
        @Sendable func run(_ context: PassContext, _ calibration: Calibration) throws -> (ModelIR, SkipSearchRecord, ReuseRecord) {
            let pipeline = "skip-search{sparsity=0.5 beam=2 screen=3 rescore=4},reuse-rewrite{folds=2}"
            let result = try PassManager(parsing: pipeline).run(calibration.model, context: context)
            return (result, try #require(context.last(SkipSearchRecord.self)), try #require(context.last(ReuseRecord.self)))
        }
        let calibration = try Self.calibration()
        let context = PassContext()
        _ = calibration.provideAnalyses(to: context, objective: .skrr)
        let (expected, search, reuse) = try run(context, calibration)
        #expect(search.screen != nil && search.steps.allSatisfy { $0.rescored > 0 })
        for size in [2, 3] {
            let outcomes = try InProcessWorld.run(size: size) { world in
                let calibration = try Self.calibration()
                let context = PassContext()
                _ = calibration.provideAnalyses(to: context, objective: .skrr, sharedOver: world)
                return try run(context, calibration)
            }
            for (rank, (result, s, r)) in outcomes.enumerated() {
                #expect(result == expected, "\(size) ranks, rank \(rank)")
                #expect(s.steps == search.steps, "\(size) ranks, rank \(rank): per-step work")
                #expect(s.orderDiscrepancies.map(\.bitPattern) == search.orderDiscrepancies.map(\.bitPattern))
                #expect(r.decisions == reuse.decisions)
            }
        }
    }

    /// Bounded scoring (each rank drops candidates against its own share's best, so the work
    /// differs with the rank count) still chooses what one process scoring every candidate
    /// chooses, with the same D bits. 48 prompts give the full scorer three chunks.
    @Test func boundedSearchDoesNotDependOnTheRankCount() throws {
        @Sendable func calibration() throws -> Calibration {
            let model = try ModelImporter.importModel(at: TestPaths.fixture("t5-v1_1")).ir
            var options = CalibrationOptions()
            options.source = .parti
            options.size = 48
            return try Calibration(model: model, options: options)
        }
        let reference = try calibration()
        let full = try reference.scorer(.skrr)
        let expected = try Self.bounded(full, bound: false, reference)
        let bounded = try reference.scorer(.skrr)
        #expect(try Self.bounded(bounded, bound: true, reference) == expected)
        #expect(bounded.statistics.subBlockEvaluations < full.statistics.subBlockEvaluations, "the bound saved work")
        for size in [2, 3] {
            let outcomes = try InProcessWorld.run(size: size) { world in
                let calibration = try calibration()
                return try Self.bounded(RankShardedScorer(local: try calibration.scorer(.skrr), world: world), bound: true, calibration)
            }
            for (rank, outcome) in outcomes.enumerated() { #expect(outcome == expected, "\(size) ranks, rank \(rank)") }
        }
    }

    /// The search and re-use on `scorer`, with bounded scoring on or off.
    static func bounded<S: ScheduleScorer & ModelScorer & BlockSimilarityMeter>(_ scorer: S, bound: Bool,
                                                                            _ calibration: Calibration) throws -> Outcome {
        let context = PassContext(scoringWith: scorer)
        let pipeline = "skip-search{sparsity=0.5 beam=3 bound=\(bound ? 1 : 0)},reuse-rewrite"
        let result = try PassManager(parsing: pipeline).run(calibration.model, context: context)
        return outcome(result, context, work: ScorerStatistics())
    }
}
