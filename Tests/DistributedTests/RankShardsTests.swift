import SkrrDistributed
import SkrrIR
import SkrrPasses
import SkrrSupport
import Testing

/// The split of a candidate list between ranks, and the sharded scorer's bookkeeping, on ranks
/// that are threads of this process.
@Suite struct RankShardsTests {
    /// Every index in exactly one share, shares ascending and within one of each other in
    /// length, fixed by the count and the rank count alone; gathered values go back in order.
    @Test func sharesCoverEveryIndexOnce() {
        for size in 1...7 {
            for count in 0...50 {
                let shares = RankShares(count: count, size: size)
                let indices = (0..<size).map { Array(shares.indices(of: $0)) }
                #expect(indices.flatMap { $0 }.sorted() == Array(0..<count), "count \(count), size \(size)")
                #expect(indices.allSatisfy { $0 == $0.sorted() })
                #expect((indices.map(\.count).max() ?? 0) - (indices.map(\.count).min() ?? 0) <= 1)
                #expect(shares.counts == indices.map(\.count))
                let gathered = indices.flatMap { $0 }.map(Double.init)
                #expect(shares.inCandidateOrder(gathered) == (0..<count).map(Double.init))
            }
        }
        #expect(RankShares(count: 5, size: 3).counts == [2, 2, 1])
        #expect(Array(RankShares(count: 5, size: 3).indices(of: 1)) == [1, 4])
        #expect(RankShares(count: 2, size: 4).counts == [1, 1, 0, 0])
    }

    /// Every rank gets every score in candidate order, each computed by the rank whose share holds
    /// it, for more ranks than candidates too.
    @Test(arguments: [1, 2, 3, 5])
    func everyRankGetsEveryScoreInOrder(size: Int) throws {
        let candidates = (0..<4).map { i in (0..<6).map { $0 == i ? Slot.skip : .run($0) } }
        let base = (0..<6).map { Slot.run($0) }
        let results = try InProcessWorld.run(size: size) { world in
            let local = LabelledScorer(rank: world.rank)
            let scores = try RankShardedScorer(local: local, world: world).score(candidates, base: base)
            return (scores, local.seen)
        }
        let expected = candidates.map(LabelledScorer.value)
        let shares = RankShares(count: candidates.count, size: size)
        for (rank, (scores, seen)) in results.enumerated() {
            #expect(scores.map { $0.rounded(.down) } == expected, "rank \(rank)")
            // The fraction holds the rank that scored it.
            for (index, score) in scores.enumerated() {
                #expect(shares.indices(of: Int(((score - score.rounded(.down)) * 10).rounded())).contains(index))
            }
            #expect(seen == [[]] + [shares.indices(of: rank).map { candidates[$0] }], "warm-up with the base, then the share")
        }
    }

    /// A rank that scores another list than the others stops the job instead of going on with
    /// answers that would depend on the rank count.
    @Test func ranksThatScoreDifferentListsFail() throws {
        let base = (0..<4).map { Slot.run($0) }
        #expect {
            _ = try InProcessWorld.run(size: 2) { world in
                var candidates = [base, base]
                if world.rank == 1 { candidates[1][2] = .skip }
                return try RankShardedScorer(local: LabelledScorer(rank: world.rank), world: world).score(candidates, base: base)
            }
        } throws: { "\($0)".contains("scored another candidate list than rank 0") }
    }

    /// Counters: rank 0's whole work plus the other ranks' shares is one process's work; what
    /// the others did besides is `repeated`.
    @Test func gatheredStatisticsCountSharedWorkOnce() throws {
        let base = (0..<6).map { Slot.run($0) }
        let candidates = (0..<6).map { i in base.enumerated().map { $0.offset == i ? Slot.skip : $0.element } }
        let work = try InProcessWorld.run(size: 3) { world in
            let scorer = RankShardedScorer(local: LabelledScorer(rank: world.rank), world: world)
            _ = try scorer.score(candidates, base: base)
            return try scorer.gatheredStatistics()
        }
        #expect(work.allSatisfy { $0 == work[0] })
        // LabelledScorer: 10 runs per new base, 1 + 100 per candidate.
        #expect(work[0].search.subBlockEvaluations == 10 + 6 * 101)
        #expect(work[0].search.candidatesScored == 6)
        #expect(work[0].repeated.subBlockEvaluations == 2 * 10)
        #expect(work[0].repeated.candidatesScored == 0)
        #expect(work[0].ranks == 3)
    }

    /// Rank 0's value of each part is every rank's, or the rank that differs names the part.
    @Test func agreementNamesThePartThatDiffers() throws {
        let parts: @Sendable (Int) -> [AgreementPart] = { rank in
            [AgreementPart(name: "the model", text: "m", advice: "Share it."),
             AgreementPart(name: "the kernels", text: rank == 2 ? "Haswell" : "Cooperlake", advice: "Set OPENBLAS_CORETYPE.")]
        }
        _ = try InProcessWorld.run(size: 2) { try $0.agree(on: parts($0.rank)) }
        let outcomes = try InProcessWorld.run(size: 3) { world in Result { try world.agree(on: parts(world.rank)) } }
        #expect(throws: Never.self) { try outcomes[0].get() }
        #expect(throws: Never.self) { try outcomes[1].get() }
        #expect { try outcomes[2].get() } throws: {
            "\($0)" == "mismatch in the kernels with rank 0 (rank 0: 'Cooperlake'; rank 2: 'Haswell'). Set OPENBLAS_CORETYPE."
        }
    }
}

/// A scorer with a known answer, labelled by rank: D = index of the first skipped slot (or 9)
/// plus rank / 10; every new base costs 10 sub-block runs and every candidate 1 + 100.
final class LabelledScorer: ScheduleScorer {
    let rank: Int
    var statistics = ScorerStatistics()
    private(set) var seen: [[[Slot]]] = []
    private var bases: [[Slot]] = []

    init(rank: Int) { self.rank = rank }

    static func value(_ candidate: [Slot]) -> Double { Double(candidate.firstIndex(of: .skip) ?? 9) }

    func score(_ candidates: [[Slot]], base: [Slot]) throws -> [Double] {
        seen.append(candidates)
        if !bases.contains(base) {
            bases.append(base)
            statistics.subBlockEvaluations += 10
        }
        statistics.subBlockEvaluations += 101 * candidates.count
        statistics.candidatesScored += candidates.count
        return candidates.map { Self.value($0) + Double(rank) / 10 }
    }
}
