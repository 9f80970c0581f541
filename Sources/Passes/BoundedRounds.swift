import SkrrIR
import SkrrSupport

/// Candidates a scorer measures part by part: each part (a chunk of the calibration batches)
/// adds to a lower bound of the candidate's D, and after the last the value is its exact D
/// (`ScheduleScorer.scoreBest`; Sources/Evaluation/BoundedScoring.swift).
public protocol BoundedScoringSession: AnyObject {
    /// Candidates in the session, in group order.
    var count: Int { get }
    /// Parts a candidate is measured in.
    var chunkCount: Int { get }
    /// Parts candidate `i` has been measured on.
    func chunksDone(_ i: Int) -> Int
    /// Candidate `i`'s D over the parts measured: a lower bound, exact once all are.
    func value(_ i: Int) -> Double
    /// Measures candidate `i`'s next part; returns that part's share of its whole cost.
    func advance(_ i: Int) throws -> Double
}

/// A scorer that can measure candidates part by part.
public protocol BoundableScorer: ScheduleScorer {
    /// A session over `groups`' candidates, or nil when D cannot be split usefully (one part).
    func boundedSession(_ groups: [CandidateGroup]) throws -> (any BoundedScoringSession)?
}

/// Best first, in rounds: in each round every process advances, by one part, the candidate of
/// its own with the lowest bound that could still be among the `keep` best; then all exchange
/// their candidates' bounds, and the `keep`-th lowest finished key becomes the bar. It ends when
/// no unfinished candidate anywhere is at or under the bar, so every candidate that could be kept
/// is finished (exact D) and every other ranks above the bar. One process is the plain best-first
/// search; several (MPI ranks) share one bar, so each drops what any other's results rule out.
public enum BoundedRounds {
    /// What one round's exchange gives: every candidate's bound and parts done, in candidate
    /// order (over all processes).
    public struct Exchanged {
        public var values: [Double]
        public var chunksDone: [Int]
        public init(values: [Double], chunksDone: [Int]) {
            self.values = values
            self.chunksDone = chunksDone
        }
    }

    /// Runs the rounds on `session` (this process's candidates; `global[i]` is local candidate
    /// i's index among all) and returns this process's final values. `exchange` gathers every
    /// process's (values, parts done) in candidate order; every process must call `run` alike.
    public static func run(_ session: any BoundedScoringSession, global: [Int], keep: Int,
                           rankKey: (Int, Double) -> Double, worked: (Int, Double) -> Void,
                           exchange: ([Double], [Int]) throws -> Exchanged) throws -> [Double] {
        precondition(global.count == session.count)
        var bar = Double.infinity
        while true {
            // This process's most promising candidate under the bar (a NaN bound first: it is
            // finished whatever it costs, as scoring every candidate would).
            var next: (index: Int, key: Double)?
            for i in 0..<session.count where session.chunksDone(i) < session.chunkCount {
                let key = rankKey(global[i], session.value(i))
                if key.isNaN { next = (i, key); break }
                if key <= bar, next == nil || key < next!.key { next = (i, key) }
            }
            if let next { worked(next.index, try session.advance(next.index)) }
            let all = try exchange((0..<session.count).map(session.value), (0..<session.count).map(session.chunksDone))
            let keys = all.values.indices.map { rankKey($0, all.values[$0]) }
            let finished = keys.indices.filter { all.chunksDone[$0] == session.chunkCount && !keys[$0].isNaN }.map { keys[$0] }
            if finished.count >= keep { bar = finished.sorted()[keep - 1] }
            let open = keys.indices.contains { all.chunksDone[$0] < session.chunkCount && (keys[$0].isNaN || keys[$0] <= bar) }
            if !open { break }
        }
        return (0..<session.count).map(session.value)
    }
}
