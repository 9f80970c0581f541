import SkrrPasses
import Testing

/// The best-first rounds of bounded scoring (issue 10) on scripted candidates: each candidate's D
/// is the sum of its parts, so a part measured adds to a lower bound.
@Suite struct BoundedRoundsTests {
    /// Candidate i's D arrives in `parts[i]`, one addend per part.
    final class Scripted: BoundedScoringSession {
        let parts: [[Double]]
        var done: [Int]
        var advances = 0
        init(_ parts: [[Double]]) {
            self.parts = parts
            done = Array(repeating: 0, count: parts.count)
        }
        var count: Int { parts.count }
        var chunkCount: Int { parts.first?.count ?? 0 }
        func chunksDone(_ i: Int) -> Int { done[i] }
        func value(_ i: Int) -> Double { parts[i].prefix(done[i]).reduce(0, +) }
        func advance(_ i: Int) throws -> Double {
            precondition(done[i] < chunkCount, "candidate \(i) advanced past its last part")
            done[i] += 1
            advances += 1
            return 1 / Double(chunkCount)
        }
    }

    func run(_ session: Scripted, keep: Int, rankKey: @escaping (Int, Double) -> Double = { $1 }) throws -> [Double] {
        try BoundedRounds.run(session, global: Array(0..<session.count), keep: keep, rankKey: rankKey, worked: { _, _ in }) {
            BoundedRounds.Exchanged(values: $0, chunksDone: $1)
        }
    }

    @Test func theBestFinishAndTheRestStopAboveTheBar() throws {
        // D: 3, 1, 10, 2, 9, 4 (the first part already shows 2 and 4 are large).
        let session = Scripted([[1, 1, 1], [0.5, 0.25, 0.25], [8, 1, 1], [1, 0.5, 0.5], [6, 2, 1], [1, 1, 2]])
        let values = try run(session, keep: 2)
        // Candidates 1 and 3 (D 1 and 2) are exact; every other value is above the bar of 2.
        #expect(values[1] == 1 && values[3] == 2)
        for i in [0, 2, 4, 5] { #expect(values[i] > 2, "candidate \(i): \(values[i])") }
        #expect(session.done[2] == 1 && session.done[4] == 1, "ruled out by their first part")
        #expect(session.advances < 6 * 3)
    }

    @Test func tiesWithTheBarAreFinished() throws {
        // D 2, 1, 2: keeping two, candidate 0 and 2 tie at the bar, and both must be exact for the
        // search's tie-break.
        let session = Scripted([[1, 1], [0.5, 0.5], [1, 1]])
        let values = try run(session, keep: 2)
        #expect(values == [2, 1, 2])
        #expect(session.done == [2, 2, 2])
    }

    @Test func aNaNBoundIsFinished() throws {
        let session = Scripted([[.nan, 1], [0.5, 0.5], [5, 5], [0.1, 0.1]])
        let values = try run(session, keep: 1)
        #expect(values[0].isNaN && session.done[0] == 2)
        #expect(values[3] == 0.2)
        #expect(session.done[2] == 1)
    }

    @Test func theKeyDecidesNotTheRawValue() throws {
        // Candidate 0 has the larger D but a weight that makes its key the smallest.
        let weights = [0.01, 1, 1]
        let session = Scripted([[2, 2], [1, 1], [3, 3]])
        let values = try run(session, keep: 1) { i, d in d * weights[i] }
        #expect(values[0] == 4)
        #expect(session.done[0] == 2 && session.done[2] == 1)
    }
}
