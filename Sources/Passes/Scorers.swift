import SkrrIR
import SkrrSupport

/// Scores schedules of one model by discrepancy D (docs/architecture.md, "The discrepancy"). Passes see only this
/// interface: how D is measured (prompts, projection, caching, threads) is the scorer's concern.
public protocol ScheduleScorer: AnyObject {
    /// D of each candidate schedule. Candidates usually differ from `base` only from some slot
    /// on; implementations may resume from cached hidden states of `base` there.
    func score(_ candidates: [[Slot]], base: [Slot]) throws -> [Double]
    /// The candidates of several groups, when only the `keep` lowest by `rankKey` matter (a beam
    /// step keeps its best few): values in group order, then candidate order. Every candidate
    /// that could be among the `keep` lowest gets its exact D, the bits `score` gives; any other
    /// may get a lower bound of its D instead, one whose key is above the `keep`-th lowest exact
    /// key, so ranking the returned values picks the same candidates as ranking exact ones.
    /// `rankKey(i, D)` is candidate i's ranking key and must not decrease as D grows. `worked(i,
    /// share)` reports that `share` of candidate i's full cost was just spent on it.
    func scoreBest(_ groups: [CandidateGroup], keep: Int, rankKey: (Int, Double) -> Double,
                   worked: (Int, Double) -> Void) throws -> [Double]
    /// Work done so far: sub-block executions, and what a search without caching would have run.
    var statistics: ScorerStatistics { get }
}

/// Candidates resuming from one base schedule (a beam and its extensions).
public struct CandidateGroup: Sendable {
    public var base: [Slot]
    public var candidates: [[Slot]]
    public init(base: [Slot], candidates: [[Slot]]) {
        self.base = base
        self.candidates = candidates
    }
}

extension ScheduleScorer {
    /// Without a cheaper way to rule candidates out, every one is scored exactly.
    public func scoreBest(_ groups: [CandidateGroup], keep: Int, rankKey: (Int, Double) -> Double,
                          worked: (Int, Double) -> Void) throws -> [Double] {
        try scoreEvery(groups, worked: worked)
    }

    /// Every candidate of every group scored exactly, group by group.
    public func scoreEvery(_ groups: [CandidateGroup], worked: (Int, Double) -> Void) throws -> [Double] {
        var values: [Double] = []
        for group in groups where !group.candidates.isEmpty {
            let first = values.count
            values += try score(group.candidates, base: group.base)
            for i in first..<values.count { worked(i, 1) }
        }
        return values
    }
}

public struct ScorerStatistics: Equatable, Sendable {
    public var subBlockEvaluations = 0
    public var naiveSubBlockEvaluations = 0
    public var candidatesScored = 0
    public init() {}
}

/// Measures, on the dense model and the calibration prompts, the mean cosine similarity between
/// each transformer block's input and output hidden states (ShortGPT's block importance is
/// one minus this).
public protocol BlockSimilarityMeter: AnyObject {
    func blockInputOutputCosines() throws -> [Double]
}

/// Measures a whole candidate model, weights included: for passes that change weights (LaCo's
/// merged layers) rather than only the schedule.
public protocol ModelScorer: AnyObject {
    func measure(_ model: ModelIR) throws -> ModelMeasurement
}

public struct ModelMeasurement: Equatable, Sendable {
    /// The scorer's D against the dense model.
    public var discrepancy: Double
    /// Mean cosine similarity between the candidate's and the dense model's final hidden states
    /// over the calibration prompts' tokens (LaCo's acceptance criterion).
    public var outputCosine: Double
    public init(discrepancy: Double, outputCosine: Double) {
        self.discrepancy = discrepancy
        self.outputCosine = outputCosine
    }
}

/// Scorers over subsets of the calibration prompts, for screening: a search scores every
/// candidate on a few prompts and only the most promising on all of them.
public protocol ScreeningScorers: AnyObject {
    /// How many calibration prompts the full scorer measures.
    var calibrationPromptCount: Int { get }
    /// A scorer of the same D on `prompts` of the calibration prompts (a fixed, evenly spread
    /// subset), plus the null prompt when D has that term.
    func scorer(prompts: Int) throws -> any ScheduleScorer
}

/// Scorers of the same D on disjoint folds of the calibration prompts (prompt i is in fold
/// i mod K), for decisions that must hold on every fold, not only on the whole set.
public protocol FoldScorers: AnyObject {
    func scorers(folds: Int) throws -> [any ScheduleScorer]
}
