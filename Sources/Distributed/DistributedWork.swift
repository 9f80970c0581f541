import SkrrPasses

/// The work of a search spread over ranks, split in two so that reports do not depend on the
/// rank count: `search` counts what one process running the same search does (each candidate
/// once, on whichever rank scored it; the shared prefix states and every unsharded analysis
/// once), and `repeated` what ranks 1... did again because each keeps its own cache (prefix
/// states of the bases their candidates resume from, ShortGPT's and LaCo's measurements). Their
/// sum is what the cluster ran.
public struct DistributedWork: Equatable, Sendable {
    public var search = ScorerStatistics()
    public var repeated = ScorerStatistics()
    public var ranks = 1
    public init() {}
}

extension ScorerStatistics {
    /// The counters in a fixed order, to travel through a collective as doubles (exact below 2⁵³).
    var counters: [Double] {
        [subBlockEvaluations, naiveSubBlockEvaluations, candidatesScored].map(Double.init)
    }

    static let counterCount = 3

    init(counters: ArraySlice<Double>) {
        self.init()
        let values = counters.map { Int($0) }
        subBlockEvaluations = values[0]
        naiveSubBlockEvaluations = values[1]
        candidatesScored = values[2]
    }

    static func + (a: Self, b: Self) -> Self {
        var sum = a
        sum.subBlockEvaluations += b.subBlockEvaluations
        sum.naiveSubBlockEvaluations += b.naiveSubBlockEvaluations
        sum.candidatesScored += b.candidatesScored
        return sum
    }

    static func - (a: Self, b: Self) -> Self {
        var difference = a
        difference.subBlockEvaluations -= b.subBlockEvaluations
        difference.naiveSubBlockEvaluations -= b.naiveSubBlockEvaluations
        difference.candidatesScored -= b.candidatesScored
        return difference
    }
}
