import SkrrIR
import SkrrSupport

/// The re-use phase (docs/architecture.md §4): for each skipped slot in ascending order, try running the
/// nearest originally-kept sub-block of the same kind before it and after it; take the better
/// of the two only if it strictly lowers D. Sources are always originally kept sub-blocks (no
/// chains), and one source may serve several slots. Re-use adds no parameters.
public struct ReuseRewrite: ModelPass {
    public static let name = "reuse-rewrite"
    public static let summary = "re-run a neighbouring kept sub-block in a skipped slot where that lowers D"

    public static let requiredAnalyses = [AnalysisKey.scheduleScorer.id]

    public init() {}
    public init(options: PassOptions) {}

    public func run(_ model: ModelIR, context: PassContext) throws -> ModelIR {
        let scorer = try context.analysis(.scheduleScorer, for: Self.name)
        var schedule = model.schedule
        let originallyKept = schedule.indices.filter { schedule[$0] == .run($0) }
        var current = try scorer.score([schedule], base: schedule)[0]
        var rewrites: [ReuseRecord.Rewrite] = []
        for slot in schedule.indices where schedule[slot] == .skip {
            let sameKind = originallyKept.filter { model.subBlocks[$0].kind == model.subBlocks[slot].kind }
            let sources = [sameKind.last(where: { $0 < slot }), sameKind.first(where: { $0 > slot })].compactMap { $0 }
            guard !sources.isEmpty else { continue }
            let candidates = sources.map { source -> [Slot] in
                var candidate = schedule
                candidate[slot] = .run(source)
                return candidate
            }
            let scores = try scorer.score(candidates, base: schedule)
            // The earlier source wins ties between the two.
            guard let best = scores.indices.min(by: { scores[$0] < scores[$1] }), scores[best] < current else { continue }
            schedule = candidates[best]
            current = scores[best]
            rewrites.append(ReuseRecord.Rewrite(slot: slot, source: sources[best]))
        }
        var result = model
        result.schedule = schedule
        context.record(ReuseRecord(pass: Self.name, rewrites: rewrites, finalDiscrepancy: current))
        return result
    }
}
