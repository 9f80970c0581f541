import SkrrSupport

/// What one pass did, appended to the context by the pass itself. Each pass has its own record
/// type, so no pass overwrites what another recorded; reports read the records they understand.
public protocol PassRecord: Sendable {
    /// The pass's registered name.
    var pass: String { get }
    /// One line for people: what the pass did and, when it measured it, D.
    var summary: String { get }
    /// D of the model the pass returned, when the pass measured it.
    var discrepancy: Double? { get }
}

/// A record of a pass that removed sub-blocks one after another: the order, and D after each
/// step when it was measured along the way (every lower sparsity on the path comes for free).
public protocol RemovalOrderRecord: PassRecord {
    /// Sub-block indices in the order they were removed.
    var order: [Int] { get }
    /// D after each step of `order` (same length), or empty when D was measured only at the end.
    var orderDiscrepancies: [Double] { get }
}

/// A pass that changed nothing or has no structured result: a line for the log.
public struct NoteRecord: PassRecord {
    public let pass: String
    public let summary: String
    public var discrepancy: Double? { nil }
    public init(pass: String, summary: String) {
        self.pass = pass
        self.summary = summary
    }
}

/// skip-search: the skip set it chose, in the order the beam added it.
public struct SkipSearchRecord: RemovalOrderRecord {
    public let pass: String
    public let order: [Int]
    public let orderDiscrepancies: [Double]
    public let beam: Int
    /// Fraction of the source parameters the chosen set removes.
    public let removedFraction: Double
    public struct Screen: Equatable, Sendable {
        public let prompts: Int
        public let rescored: Int
        public init(prompts: Int, rescored: Int) {
            self.prompts = prompts
            self.rescored = rescored
        }
    }
    /// Screening settings, when candidates were screened.
    public let screen: Screen?
    /// What each step scored and cost (restored steps keep what they cost when they ran).
    public struct Step: Equatable, Sendable {
        public let candidates: Int
        /// Candidates rescored on the full set after screening (0 without screening).
        public let rescored: Int
        /// Sub-block runs of the full-set scorer, and of the screening scorer on its prompts.
        public let subBlockEvaluations: Int
        public let screenedSubBlockEvaluations: Int
    }
    public let steps: [Step]
    /// Steps restored from a checkpoint rather than run.
    public let resumedSteps: Int
    public var discrepancy: Double? { orderDiscrepancies.last }
    public var summary: String {
        "\(steps.count) steps, beam \(beam): skipped \(order.sorted().map(String.init).joined(separator: " ")) (\(percent(removedFraction)) of parameters), D = \(orderDiscrepancies.last ?? .nan)"
    }
}

/// reuse-rewrite: the skipped slots that now run a neighbouring sub-block.
public struct ReuseRecord: PassRecord {
    public struct Rewrite: Equatable, Sendable {
        public let slot: Int
        public let source: Int
        public init(slot: Int, source: Int) {
            self.slot = slot
            self.source = source
        }
    }
    /// One skipped slot's decision: its better source, D before and with it, on how many folds
    /// it lowered D, and whether it was taken. `after < before` is what the paper's plain rule
    /// would have taken.
    public struct Decision: Equatable, Sendable {
        public let slot: Int
        public let source: Int
        public let before: Double
        public let after: Double
        public let foldsLowered: Int
        public let folds: Int
        public let accepted: Bool
        public var plainRuleAccepts: Bool { after < before }
    }
    public let pass: String
    /// Accepted rewrites, in the order they were made (ascending slot).
    public let rewrites: [Rewrite]
    public let finalDiscrepancy: Double
    public let decisions: [Decision]
    /// Folds a re-use had to lower D on (1: the plain rule).
    public let folds: Int
    /// Decisions restored from a checkpoint rather than measured.
    public let resumedDecisions: Int
    public var discrepancy: Double? { finalDiscrepancy }
    public var summary: String {
        var text = rewrites.isEmpty ? "no re-use lowered D; D = \(finalDiscrepancy)"
            : "re-used \(rewrites.map { "\($0.slot)←\($0.source)" }.joined(separator: ", ")); D = \(finalDiscrepancy)"
        let refused = decisions.filter { $0.plainRuleAccepts && !$0.accepted }
        if !refused.isEmpty {
            text += "; refused (lowered D on fewer than \(folds) folds): "
                + refused.map { "\($0.slot)←\($0.source) (\($0.foldsLowered)/\($0.folds))" }.joined(separator: ", ")
        }
        return text
    }
}

extension ReuseRecord.Decision {
    var json: JSONValue {
        .object([("slot", .number(slot)), ("source", .number(source)), ("before", .number(before)), ("after", .number(after)),
                 ("folds_lowered", .number(foldsLowered)), ("folds", .number(folds)), ("accepted", .bool(accepted))])
    }

    init?(json: JSONValue) {
        guard let slot = json["slot"]?.intValue, let source = json["source"]?.intValue, let before = json["before"]?.doubleValue,
              let after = json["after"]?.doubleValue, let lowered = json["folds_lowered"]?.intValue,
              let folds = json["folds"]?.intValue, let accepted = json["accepted"]?.boolValue else { return nil }
        self.init(slot: slot, source: source, before: before, after: after, foldsLowered: lowered, folds: folds, accepted: accepted)
    }
}

/// laco: the merges it accepted, each folding blocks into a base block.
public struct MergeRecord: RemovalOrderRecord {
    public struct Merge: Equatable, Sendable {
        public let base: Int
        public let folded: [Int]
        public init(base: Int, folded: [Int]) {
            self.base = base
            self.folded = folded
        }
    }
    public let pass: String
    public let merges: [Merge]
    public let order: [Int]
    public let orderDiscrepancies: [Double]
    public let finalDiscrepancy: Double?
    /// Human-readable lines per accepted merge, with the cosine that decided it.
    public let log: [String]
    public let candidatesMeasured: Int
    public let removedFraction: Double
    public var discrepancy: Double? { finalDiscrepancy }
    public var summary: String {
        "\(candidatesMeasured) candidates, \(merges.count) merges: " + log.joined(separator: "; ")
            + "; \(percent(removedFraction)) of parameters, D = \(finalDiscrepancy ?? .nan)"
    }
}

/// shortgpt: whole blocks removed by importance `1 − cos(input, output)`, measured once.
public struct BlockRemovalRecord: RemovalOrderRecord {
    public let pass: String
    public let order: [Int]
    public let finalDiscrepancy: Double
    public var orderDiscrepancies: [Double] { [] }
    public var discrepancy: Double? { finalDiscrepancy }
    public var summary: String {
        let blocks = Swift.stride(from: 0, to: order.count, by: 2).map { String(order[$0] / 2) }
        return "removed blocks \(blocks.joined(separator: " ")) (by 1 − cos); D = \(finalDiscrepancy)"
    }
}

/// dead-weight-elim: what it dropped.
public struct EliminationRecord: PassRecord {
    public let pass: String
    public let droppedTensors: Int
    public let droppedFiles: Int
    public var discrepancy: Double? { nil }
    public var summary: String { "dropped \(droppedTensors) tensors and \(droppedFiles) files" }
}

/// `12.3%`, one decimal, for summaries.
func percent(_ fraction: Double) -> String {
    let tenths = Int((fraction * 1000).rounded())
    return "\(tenths / 10).\(tenths % 10)%"
}
