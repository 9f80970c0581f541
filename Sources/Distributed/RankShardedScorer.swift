import SkrrIR
import SkrrPasses
import SkrrSupport

/// A schedule scorer whose work is split over the ranks of a `Collective`: each rank scores its
/// share of the candidates (`RankShares`) with its own local scorer, and an allgather gives every
/// rank every D in candidate order. Every rank runs the same deterministic search on the same
/// answers, so every rank makes the same choices, and the result is the one process's result
/// provided a candidate's D does not depend on which rank scored it or what that rank scored
/// before: for `DiscrepancyScorer`, resuming from cached prefix states gives the bits a run from
/// the embeddings gives (Tests/EvaluationTests/ResumeInvarianceTests.swift).
///
/// Every call is collective: all ranks must call `score` with the same list (checked: a digest
/// of each rank's list travels with its scores) and `gatheredStatistics` at the same point.
public final class RankShardedScorer<Local: ScheduleScorer>: ScheduleScorer {
    public let local: Local
    public let world: any Collective
    /// What this rank's local scorer ran for its own shares; the rest of its work (bases'
    /// prefix states, unsharded analyses) every rank did alike.
    private var shardWork = ScorerStatistics()
    /// The job's work as one process counts it, summed over `score` calls from what every rank
    /// sends with its scores (rank 0's work outside its share, plus every rank's share).
    private var jobWork = ScorerStatistics()
    /// The local counters when the last `score` call ended.
    private var localAtSync = ScorerStatistics()

    public init(local: Local, world: any Collective) {
        self.local = local
        self.world = world
    }

    /// The job's work as one process counts it, the same on every rank (so a search's per-step
    /// work does not depend on the rank count), plus this rank's local work since the last
    /// `score` call (none inside a search; LaCo's and ShortGPT's measurements, which every rank
    /// repeats). Not collective; `gatheredStatistics` is the collective, final count.
    public var statistics: ScorerStatistics { jobWork + (local.statistics - localAtSync) }

    public func score(_ candidates: [[Slot]], base: [Slot]) throws -> [Double] {
        let shares = RankShares(count: candidates.count, size: world.size)
        let mine = Array(shares.indices(of: world.rank))
        // The base's prefix states first, on every rank alike (an empty list scores nothing), so
        // that what follows counts this rank's share alone.
        _ = try local.score([], base: base)
        let before = local.statistics
        var values = try local.score(mine.map { candidates[$0] }, base: base)
        let share = local.statistics - before
        shardWork = shardWork + share
        guard values.count == mine.count else {
            throw SkrrError("the local scorer returned \(values.count) scores for \(mine.count) candidates")
        }
        // Each rank's share of the work and its work outside the share travel with its scores.
        let outside = before - localAtSync
        let digest = CandidateDigest.of(candidates, base: base)
        values += share.counters + outside.counters + [digest]
        let extra = 2 * ScorerStatistics.counterCount + 1
        let gathered = try world.allGather(values, counts: shares.counts.map { $0 + extra })
        var scores: [Double] = []
        scores.reserveCapacity(candidates.count)
        var offset = 0
        for rank in 0..<world.size {
            let count = shares.counts[rank]
            scores += gathered[offset..<(offset + count)]
            var cursor = offset + count
            let rankShare = ScorerStatistics(counters: gathered[cursor..<(cursor + ScorerStatistics.counterCount)])
            cursor += ScorerStatistics.counterCount
            let rankOutside = ScorerStatistics(counters: gathered[cursor..<(cursor + ScorerStatistics.counterCount)])
            cursor += ScorerStatistics.counterCount
            jobWork = jobWork + rankShare + (rank == 0 ? rankOutside : ScorerStatistics())
            guard gathered[cursor] == digest else {
                throw SkrrError("rank \(rank) scored another candidate list than rank \(world.rank) (\(candidates.count) candidates): the ranks' searches diverged, so results would depend on the rank count")
            }
            offset += count + extra
        }
        localAtSync = local.statistics
        return shares.inCandidateOrder(scores)
    }

    /// The job's work so far (collective: every rank calls it at the same point, and every rank
    /// gets the same answer). `search` equals what one process running the same search counts.
    public func gatheredStatistics() throws -> DistributedWork {
        let total = local.statistics
        // Rank 0 stands for the one process: all its work counts; the others add their shares.
        let counted = world.rank == 0 ? total : shardWork
        let values = counted.counters + (total - counted).counters
        let width = 2 * ScorerStatistics.counterCount
        let gathered = try world.allGather(values, counts: Array(repeating: width, count: world.size))
        var work = DistributedWork()
        work.ranks = world.size
        for rank in 0..<world.size {
            let start = rank * width, middle = start + ScorerStatistics.counterCount
            work.search = work.search + ScorerStatistics(counters: gathered[start..<middle])
            work.repeated = work.repeated + ScorerStatistics(counters: gathered[middle..<(start + width)])
        }
        return work
    }
}

/// Whole-model measurements (LaCo) and block similarities (ShortGPT) are not split: every rank
/// computes them alike on its local scorer, so one object can answer every scoring analysis.
extension RankShardedScorer: ModelScorer where Local: ModelScorer {
    public func measure(_ model: ModelIR) throws -> ModelMeasurement { try local.measure(model) }
}

extension RankShardedScorer: BlockSimilarityMeter where Local: BlockSimilarityMeter {
    public func blockInputOutputCosines() throws -> [Double] { try local.blockInputOutputCosines() }
}
