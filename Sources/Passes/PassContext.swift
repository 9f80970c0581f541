import SkrrIR
import SkrrSupport

/// Scores schedules of one model by discrepancy D (DESIGN.md §4). Passes see only this
/// interface: how D is measured (prompts, projection, caching, threads) is the scorer's concern.
public protocol ScheduleScorer: AnyObject {
    /// D of each candidate schedule. Candidates usually differ from `base` only from some slot
    /// on; implementations may resume from cached hidden states of `base` there.
    func score(_ candidates: [[Slot]], base: [Slot]) throws -> [Double]
    /// Work done so far: sub-block executions, and what a search without caching would have run.
    var statistics: ScorerStatistics { get }
}

public struct ScorerStatistics: Equatable, Sendable {
    public var subBlockEvaluations = 0
    public var naiveSubBlockEvaluations = 0
    public var candidatesScored = 0
    public init() {}
}

/// What passes share during one pipeline run: the scorer (for passes that search) and the
/// results they record for the report.
public final class PassContext {
    public let scorer: ScheduleScorer?
    /// Sub-block indices in the order the skip search dropped them.
    public var searchOrder: [Int] = []
    /// D after each step of the search order (same length as `searchOrder`).
    public var searchDiscrepancies: [Double] = []
    /// Layers folded by merged weights (LaCo), in the order the merges were accepted.
    public var merges: [(base: Int, folded: [Int])] = []
    /// D of the model after the last pass that measured it.
    public var discrepancy: Double?
    /// One line per pass: name and what it did.
    public var statistics: [(pass: String, summary: String)] = []
    /// Called with (done, total) as a search progresses.
    public var progress: ((Double, Double) -> Void)?

    public init(scorer: ScheduleScorer? = nil) { self.scorer = scorer }

    func requireScorer(_ pass: String) throws -> ScheduleScorer {
        guard let scorer else {
            throw SkrrError(key: pass, "this pass measures discrepancy and needs calibration data; it cannot run from 'skrrc opt' without a model")
        }
        return scorer
    }
}

/// Typed access to a pass's `{key=value}` options, with messages naming pass and option.
public struct PassOptions {
    let pass: String
    let values: [(key: String, value: String)]

    public init(pass: String, values: [(key: String, value: String)]) {
        self.pass = pass
        self.values = values
    }

    func raw(_ key: String) -> String? { values.first(where: { $0.key == key })?.value }

    public func double(_ key: String, default fallback: Double?, in range: ClosedRange<Double>) throws -> Double {
        guard let text = raw(key) else {
            guard let fallback else { throw SkrrError(key: pass, "needs the option \(key)=VALUE") }
            return fallback
        }
        guard let value = Double(text), value.isFinite, range.contains(value) else {
            throw SkrrError(key: pass, "option \(key)=\(text) must be a number in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    public func int(_ key: String, default fallback: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = raw(key) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw SkrrError(key: pass, "option \(key)=\(text) must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }
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
