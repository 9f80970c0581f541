import SkrrEvaluation
import SkrrIR
import SkrrPasses
import SkrrRuntime
import Testing

/// What a search split over ranks relies on (Sources/Distributed/RankShardedScorer.swift): a
/// candidate's D is the same bits whichever scorer computes it, whatever that scorer computed
/// before (so whatever its cache holds and where it resumes), and whichever other candidates
/// share its call.
@Suite struct ResumeInvarianceTests {
    let model = SyntheticModel(layers: 5)

    func scorer(budget: Int = 1 << 30) throws -> DiscrepancyScorer { try model.scorer(budget: budget, prompts: 9) }

    func skipping(_ slots: Set<Int>) -> [Slot] { model.skipping(slots) }

    @Test func aCandidatesBitsDoNotDependOnHistoryOrCompany() throws {
        let base = skipping([4])
        let candidates = (0..<10).filter { $0 != 4 }.map { skipping([4, $0]) }
        let together = try scorer().score(candidates, base: base).map(\.bitPattern)
        #expect(Set(together).count > 1)

        // From the embeddings every time: nothing cached but the start.
        #expect(try scorer(budget: 1).score(candidates, base: base).map(\.bitPattern) == together)

        for shares in [2, 3, 4] {
            var pieced: [UInt64] = []
            for share in 0..<shares {
                let fresh = try scorer()
                // Each share's scorer has another history: bases that donate other prefixes.
                for other in 0..<share { _ = try fresh.score([skipping([other])], base: skipping([other, 7 - other])) }
                let piece = candidates.indices.filter { $0 * shares / candidates.count == share }.map { candidates[$0] }
                pieced += try fresh.score(piece, base: base).map(\.bitPattern)
            }
            #expect(pieced == together, "\(shares) shares")
        }

        // One at a time, each in a call of its own.
        let single = try scorer()
        #expect(try candidates.map { try single.score([$0], base: base)[0].bitPattern } == together)
    }
}
