import SkrrIR
import SkrrSupport

/// The re-use phase (docs/architecture.md §4): for each skipped slot in ascending order, try running the
/// nearest originally-kept sub-block of the same kind before it and after it; take the better
/// of the two only if it strictly lowers D. Sources are always originally kept sub-blocks (no
/// chains), and one source may serve several slots. Re-use adds no parameters.
public struct ReuseRewrite: ModelPass {
    public static let name = "reuse-rewrite"
    public static let summary = "re-run a neighbouring kept sub-block in a skipped slot where that lowers D"

    public var requiredAnalyses: [AnalysisID] { [AnalysisKey.scheduleScorer.id] }

    public init() {}
    public init(options: PassOptions) {}

    public func run(_ model: ModelIR, context: PassContext) throws -> ModelIR {
        let scorer = try context.analysis(.scheduleScorer, for: Self.name)
        let originallyKept = model.schedule.indices.filter { model.schedule[$0] == .run($0) }
        var state: ReuseState
        if let saved = try ReuseState.restore(context.restoredState(Self.name), slots: model.schedule.count) {
            state = saved
        } else {
            state = ReuseState(schedule: model.schedule, current: try scorer.score([model.schedule], base: model.schedule)[0])
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
            if let best = scores.indices.min(by: { scores[$0] < scores[$1] }), scores[best] < state.current {
                state.schedule = candidates[best]
                state.current = scores[best]
                state.rewrites.append(ReuseRecord.Rewrite(slot: slot, source: sources[best]))
            }
            state.lastDecided = slot
            state.decisions += 1
            try context.saveState(Self.name, state.json)
        }
        var result = model
        result.schedule = state.schedule
        context.record(ReuseRecord(pass: Self.name, rewrites: state.rewrites, finalDiscrepancy: state.current,
                                   resumedDecisions: state.restoredDecisions))
        return result
    }
}

/// What reuse-rewrite saves after every decision (`--checkpoint`).
struct ReuseState {
    var schedule: [Slot]
    var current: Double
    var rewrites: [ReuseRecord.Rewrite] = []
    /// The last skipped slot decided (-1: none yet).
    var lastDecided = -1
    var decisions = 0
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
            ("rewrites", .array(rewrites.map { .array([.number($0.slot), .number($0.source)]) })),
            ("last_decided", .number(lastDecided)),
            ("decisions", .number(decisions)),
        ])
    }

    static func restore(_ value: JSONValue?, slots: Int) throws -> ReuseState? {
        guard let value else { return nil }
        guard let entries = value["schedule"]?.arrayValue?.compactMap(\.intValue), entries.count == slots,
              let d = value["d"]?.doubleValue, let pairs = value["rewrites"]?.arrayValue,
              let last = value["last_decided"]?.intValue, let decisions = value["decisions"]?.intValue else {
            throw SkrrError(key: "reuse-rewrite checkpoint", "is missing fields or malformed")
        }
        var state = ReuseState(schedule: entries.map { $0 < 0 ? .skip : .run($0) }, current: d)
        state.rewrites = try pairs.map {
            guard let pair = $0.arrayValue?.compactMap(\.intValue), pair.count == 2 else {
                throw SkrrError(key: "reuse-rewrite checkpoint", "a rewrite is malformed")
            }
            return ReuseRecord.Rewrite(slot: pair[0], source: pair[1])
        }
        state.lastDecided = last
        state.decisions = decisions
        state.restoredDecisions = decisions
        return state
    }
}
