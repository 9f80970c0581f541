import SkrrIR
import SkrrPasses
import SkrrRuntime
import SkrrSupport

/// Scoring a beam step's candidates when only the best few matter (`ScheduleScorer.scoreBest`).
///
/// A step keeps its `keep` lowest candidates; the rest only need to be known to be worse. D is a
/// sum of non-negative terms over the calibration batches, so measuring a candidate on the first
/// batches gives a lower bound of its D, and once that bound ranks it above the `keep`-th best
/// finished candidate it can never be kept. Candidates are measured chunk by chunk of the
/// calibration batches, always advancing the one with the lowest bound (best first), so a
/// candidate that skips an early sub-block (long suffix, large D) is usually ruled out after its
/// first chunk. The candidates kept, and their D, are the bits scoring every candidate on every
/// batch gives: a finished candidate's D is summed in the same order (`PartialDiscrepancy`), and
/// a chunk's rows get the bits they get in any grouping (`BatchRunner`).
extension DiscrepancyScorer: BoundableScorer {
    /// Contiguous chunks of the calibration batches (in their order, so D sums in its order),
    /// ending where the rows reach 1/8, 1/4 and 1/2 of the total, each but the last at least
    /// `minimumRows`: the first is cheap enough to run on every candidate, and a candidate that
    /// survives finishes in a few more products.
    static func boundChunks(rows: [Int], minimumRows: Int) -> [Range<Int>] {
        let total = rows.reduce(0, +)
        let ends = [0.125, 0.25, 0.5].map { Int((Double(total) * $0).rounded(.up)) }
        var chunks: [Range<Int>] = []
        var start = 0, reached = 0, chunkRows = 0, nextEnd = 0
        for (batch, count) in rows.enumerated() {
            reached += count
            chunkRows += count
            guard nextEnd < ends.count, reached >= ends[nextEnd], chunkRows >= minimumRows else { continue }
            chunks.append(start..<(batch + 1))
            start = batch + 1
            chunkRows = 0
            while nextEnd < ends.count && reached >= ends[nextEnd] { nextEnd += 1 }
        }
        if start < rows.count { chunks.append(start..<rows.count) }
        return chunks
    }

    /// Counts a sub-block run over `share` of the calibration set (whole runs in `statistics`).
    func countRun(share: Double) {
        if share >= 1 {
            statistics.subBlockEvaluations += 1
            return
        }
        partialRuns += share
        // A little slack so shares that add up to a whole run count as one despite rounding.
        while partialRuns >= 1 - 1e-9 {
            statistics.subBlockEvaluations += 1
            partialRuns -= 1
        }
    }

    public func scoreBest(_ groups: [CandidateGroup], keep: Int, rankKey: (Int, Double) -> Double,
                          worked: (Int, Double) -> Void) throws -> [Double] {
        let total = groups.reduce(0) { $0 + $1.candidates.count }
        guard keep < total, let session = try boundedSession(groups) else { return try scoreEvery(groups, worked: worked) }
        return try BoundedRounds.run(session, global: Array(0..<total), keep: keep, rankKey: rankKey, worked: worked) {
            BoundedRounds.Exchanged(values: $0, chunksDone: $1)
        }
    }

    public func boundedSession(_ groups: [CandidateGroup]) throws -> (any BoundedScoringSession)? {
        guard options.bound, boundChunks.count > 1 else { return nil }
        return try Session(scorer: self, groups: groups)
    }

    /// A bounded step's candidates on this scorer, each with its partial D.
    final class Session: BoundedScoringSession {
        let scorer: DiscrepancyScorer
        let bases: [CachedRun]
        var candidates: [BoundedCandidate] = []

        init(scorer: DiscrepancyScorer, groups: [CandidateGroup]) throws {
            self.scorer = scorer
            bases = try groups.map { try scorer.ensureCached($0.base) }
            for (g, group) in groups.enumerated() {
                for schedule in group.candidates {
                    candidates.append(BoundedCandidate(
                        group: g, schedule: schedule, divergence: firstDifference(schedule, group.base),
                        partial: PartialDiscrepancy(dense: scorer.denseMeasured, calibrationBatches: scorer.calibration.count)))
                    scorer.countCandidate(schedule)
                }
            }
        }

        var count: Int { candidates.count }
        var chunkCount: Int { scorer.boundChunks.count }
        func chunksDone(_ i: Int) -> Int { candidates[i].chunk }
        func value(_ i: Int) -> Double { candidates[i].partial.value }

        func advance(_ i: Int) throws -> Double {
            let c = candidates[i].chunk
            try scorer.measure(chunk: c, of: candidates[i].schedule, resumingFrom: bases[candidates[i].group],
                               at: candidates[i].divergence, into: &candidates[i].partial)
            candidates[i].chunk += 1
            return scorer.boundChunkShares[c]
        }
    }

    /// Adds chunk `c`'s batches (the first chunk with the null prompt) of `schedule` to `partial`,
    /// resuming from `base`'s cached states.
    func measure(chunk c: Int, of schedule: [Slot], resumingFrom base: CachedRun, at divergence: Int,
                 into partial: inout PartialDiscrepancy) throws {
        let batches = Array(boundChunks[c]) + (c == 0 && null != nil ? [calibration.count] : [])
        let outputs = try self.outputs(schedule, resumingFrom: base, at: divergence, batches: batches, share: boundChunkShares[c])
        for (k, batch) in batches.enumerated() { partial.add(outputs[k], batch: batch) }
    }
}

/// One candidate of a bounded step: where it resumes, and how far it has been measured.
struct BoundedCandidate {
    let group: Int
    let schedule: [Slot]
    let divergence: Int
    var partial: PartialDiscrepancy
    /// The next chunk of `DiscrepancyScorer.boundChunks` to measure.
    var chunk = 0
}
