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

    /// The job's work as one process counts it, the same on every rank (a search's per-step work
    /// does not depend on the rank count unless bounded scoring drops candidates: each rank drops
    /// against its own share's best, so more ranks may measure more), plus this rank's local work since the last
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
        let values = try local.score(mine.map { candidates[$0] }, base: base)
        return try gathered(values, shares: shares, workBefore: before, digest: CandidateDigest.of(candidates, base: base))
    }

    /// Bounded scoring over the ranks (`BoundedRounds`): each rank measures its own share part by
    /// part, and after every round all ranks exchange their candidates' bounds, so one bar (the
    /// `keep`-th best finished D of all) rules candidates out on every rank. The candidates kept,
    /// and their D, are what one process keeps; the work each rank does depends on the rank count.
    /// `worked` hears of this rank's share.
    public func scoreBest(_ groups: [CandidateGroup], keep: Int, rankKey: (Int, Double) -> Double,
                          worked: (Int, Double) -> Void) throws -> [Double] {
        let owners = groups.indices.flatMap { g in Array(repeating: g, count: groups[g].candidates.count) }
        let flat = groups.flatMap(\.candidates)
        let shares = RankShares(count: flat.count, size: world.size)
        let mine = Array(shares.indices(of: world.rank))
        let digest = CandidateDigest.of(groups)
        for group in groups { _ = try local.score([], base: group.base) }
        let before = local.statistics
        // This rank's candidates, still grouped by base and in candidate order.
        let localGroups = groups.indices.compactMap { g -> CandidateGroup? in
            let members = mine.filter { owners[$0] == g }
            return members.isEmpty ? nil : CandidateGroup(base: groups[g].base, candidates: members.map { flat[$0] })
        }
        let values: [Double]
        // Every rank has the same calibration, so all get a session or none does.
        if keep < flat.count, let boundable = local as? any BoundableScorer, let session = try boundable.boundedSession(localGroups) {
            values = try BoundedRounds.run(session, global: mine, keep: keep, rankKey: rankKey,
                                           worked: { worked(mine[$0], $1) }) { bounds, done in
                let sent = bounds + done.map(Double.init) + [digest]
                let gathered = try world.allGather(sent, counts: shares.counts.map { 2 * $0 + 1 })
                var values: [Double] = [], chunks: [Double] = []
                var offset = 0
                for rank in 0..<world.size {
                    let count = shares.counts[rank]
                    values += gathered[offset..<(offset + count)]
                    chunks += gathered[(offset + count)..<(offset + 2 * count)]
                    guard gathered[offset + 2 * count] == digest else {
                        throw diverged(rank: rank, candidates: shares.count)
                    }
                    offset += 2 * count + 1
                }
                return BoundedRounds.Exchanged(values: shares.inCandidateOrder(values),
                                               chunksDone: shares.inCandidateOrder(chunks).map { Int($0) })
            }
        } else {
            values = try local.scoreEvery(localGroups) { worked(mine[$0], $1) }
        }
        return try gathered(values, shares: shares, workBefore: before, digest: digest)
    }

    /// The error when another rank's digest differs from this one's.
    private func diverged(rank: Int, candidates: Int) -> SkrrError {
        SkrrError("rank \(rank) scored another candidate list than rank \(world.rank) (\(candidates) candidates): the ranks' searches diverged, so results would depend on the rank count")
    }

    /// Allgathers this rank's `values` (its share, in candidate order) with its work and the
    /// digest of the list, checks every rank scored the same list, and returns every value in
    /// candidate order.
    private func gathered(_ values: [Double], shares: RankShares, workBefore before: ScorerStatistics,
                          digest: Double) throws -> [Double] {
        let mineCount = shares.counts[world.rank]
        guard values.count == mineCount else {
            throw SkrrError("the local scorer returned \(values.count) scores for \(mineCount) candidates")
        }
        let share = local.statistics - before
        shardWork = shardWork + share
        // Each rank's share of the work and its work outside the share travel with its scores.
        let outside = before - localAtSync
        let sent = values + share.counters + outside.counters + [digest]
        let extra = 2 * ScorerStatistics.counterCount + 1
        let gathered = try world.allGather(sent, counts: shares.counts.map { $0 + extra })
        var scores: [Double] = []
        scores.reserveCapacity(shares.count)
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
                throw diverged(rank: rank, candidates: shares.count)
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
