import SkrrIR
import SkrrSupport

/// The re-use phase (docs/architecture.md §4): for each skipped slot in ascending order, try
/// running the nearest originally-kept sub-block of the same kind before it and after it; take
/// the better of the two only if it strictly lowers D. Sources are always originally kept
/// sub-blocks (no chains), and one source may serve several slots. Re-use adds no parameters.
///
/// `folds=K` (K ≥ 2) makes acceptance robust: the re-use must also lower D on each of K disjoint
/// folds of the calibration prompts, so a change that helps a few prompts by chance and hurts the
/// rest is refused. K = 1 is the paper's plain rule. Every decision is recorded, with what the
/// plain rule would have done at that point.
public struct ReuseRewrite: ModelPass {
    public static let name = "reuse-rewrite"
    public static let summary = "re-run a neighbouring kept sub-block in a skipped slot where that lowers D"
    public static let optionNames = ["folds"]

    /// Calibration folds a re-use must lower D on (1: the plain rule).
    public let folds: Int

    public init(folds: Int = 1) { self.folds = folds }

    public init(options: PassOptions) throws {
        folds = try options.int("folds", default: 1, in: 1...64)
    }

    public var requiredAnalyses: [AnalysisID] {
        folds > 1 ? [AnalysisKey.scheduleScorer.id, AnalysisKey.foldScorers.id] : [AnalysisKey.scheduleScorer.id]
    }

    public func run(_ model: ModelIR, context: PassContext) throws -> ModelIR {
        let scorer = try context.analysis(.scheduleScorer, for: Self.name)
        let foldScorers = folds > 1 ? try context.analysis(.foldScorers, for: Self.name).scorers(folds: folds) : []
        let originallyKept = model.schedule.indices.filter { model.schedule[$0] == .run($0) }
        var state: ReuseState
        if let saved = try ReuseState.restore(context.restoredState(Self.name), slots: model.schedule.count) {
            state = saved
        } else {
            state = ReuseState(schedule: model.schedule, current: try scorer.score([model.schedule], base: model.schedule)[0])
            state.currentFolds = try foldScorers.map { try $0.score([model.schedule], base: model.schedule)[0] }
        }
        for slot in model.schedule.indices where model.schedule[slot] == .skip && slot > state.lastDecided {
            let sameKind = originallyKept.filter { model.subBlocks[$0].kind == model.subBlocks[slot].kind }
            let sources = [sameKind.last(where: { $0 < slot }), sameKind.first(where: { $0 > slot })].compactMap { $0 }
            guard !sources.isEmpty else { continue }
            let candidates = sources.map { source -> [Slot] in
                var candidate = state.schedule
                candidate[slot] = .run(source)
                return candidate
            }
            let scores = try scorer.score(candidates, base: state.schedule)
            // The earlier source wins ties between the two.
            let best = scores.indices.min { scores[$0] < scores[$1] }!
            let plainAccepts = scores[best] < state.current
            var foldScores: [Double] = []
            if plainAccepts {
                foldScores = try foldScorers.map { try $0.score([candidates[best]], base: state.schedule)[0] }
            }
            let foldsLowered = zip(foldScores, state.currentFolds).filter { $0 < $1 }.count
            let accepted = plainAccepts && foldsLowered == foldScorers.count
            state.decisions.append(ReuseRecord.Decision(
                slot: slot, source: sources[best], before: state.current, after: scores[best],
                foldsLowered: plainAccepts ? foldsLowered : 0, folds: foldScorers.count, accepted: accepted))
            if accepted {
                state.schedule = candidates[best]
                state.current = scores[best]
                state.currentFolds = foldScores
                state.rewrites.append(ReuseRecord.Rewrite(slot: slot, source: sources[best]))
            }
            state.lastDecided = slot
            try context.saveState(Self.name, state.json)
        }
        var result = model
        result.schedule = state.schedule
        context.record(ReuseRecord(pass: Self.name, rewrites: state.rewrites, finalDiscrepancy: state.current,
                                   decisions: state.decisions, folds: folds, resumedDecisions: state.restoredDecisions))
        return result
    }
}

/// What reuse-rewrite saves after every decision (`--checkpoint`).
struct ReuseState {
    var schedule: [Slot]
    var current: Double
    /// D of the current schedule on each fold (empty under the plain rule).
    var currentFolds: [Double] = []
    var rewrites: [ReuseRecord.Rewrite] = []
    var decisions: [ReuseRecord.Decision] = []
    /// The last skipped slot decided (-1: none yet).
    var lastDecided = -1
    /// Decisions loaded from a checkpoint.
    var restoredDecisions = 0

    init(schedule: [Slot], current: Double) {
        self.schedule = schedule
        self.current = current
    }

    var json: JSONValue {
        .object([
            ("schedule", .array(schedule.map { if case let .run(s) = $0 { return .number(s) } else { return .number(-1) } })),
            ("d", .number(current)),
            ("fold_d", .array(currentFolds.map { .number($0) })),
            ("rewrites", .array(rewrites.map { .array([.number($0.slot), .number($0.source)]) })),
            ("decisions", .array(decisions.map(\.json))),
            ("last_decided", .number(lastDecided)),
        ])
    }

    static func restore(_ value: JSONValue?, slots: Int) throws -> ReuseState? {
        guard let value else { return nil }
        guard let entries = value["schedule"]?.arrayValue?.compactMap(\.intValue), entries.count == slots,
              let d = value["d"]?.doubleValue, let pairs = value["rewrites"]?.arrayValue,
              let foldD = value["fold_d"]?.arrayValue?.compactMap(\.doubleValue),
              let last = value["last_decided"]?.intValue, let decisions = value["decisions"]?.arrayValue else {
            throw SkrrError(key: "reuse-rewrite checkpoint", "is missing fields or malformed")
        }
        var state = ReuseState(schedule: entries.map { $0 < 0 ? .skip : .run($0) }, current: d)
        state.rewrites = try pairs.map {
            guard let pair = $0.arrayValue?.compactMap(\.intValue), pair.count == 2 else {
                throw SkrrError(key: "reuse-rewrite checkpoint", "a rewrite is malformed")
            }
            return ReuseRecord.Rewrite(slot: pair[0], source: pair[1])
        }
        state.currentFolds = foldD
        state.decisions = try decisions.map {
            guard let decision = ReuseRecord.Decision(json: $0) else {
                throw SkrrError(key: "reuse-rewrite checkpoint", "a decision is malformed")
            }
            return decision
        }
        state.lastDecided = last
        state.restoredDecisions = state.decisions.count
        return state
    }
}
