import SkrrIR
import SkrrPasses

/// The few lines a person reads after `-O prune`: sizes before and after, what was skipped and
/// re-used, and how far the result is from the dense model.
public enum PruneSummary {
    public static func text(source: ModelIR, result: ModelIR, method: String, context: PassContext, evalDiscrepancy: Double?,
                            calibrationCount: Int?, work: ScorerStatistics?, seconds: Double) -> String {
        func bytes(_ model: ModelIR) -> Int {
            model.referencedTensors.reduce(0) { $0 + (model.tensor(named: $1)?.byteCount ?? 0) }
        }
        func describe(_ slot: Int) -> String { "\(source.subBlocks[slot].kind.rawValue) \(slot / 2)" }
        var skipped: [String] = [], reused: [String] = []
        for (slot, entry) in result.schedule.enumerated() {
            switch entry {
            case .skip: skipped.append(describe(slot))
            case let .run(s) where s != slot: reused.append("\(describe(slot)) ← \(describe(s))")
            case .run: break
            }
        }
        var lines = [
            "\(source.name) (\(method)): weights \(Formatting.bytes(bytes(source))) → \(Formatting.bytes(bytes(result))), "
                + "\(Formatting.grouped(source.sourceParameters)) → \(Formatting.grouped(result.keptParameters)) parameters "
                + "(\(Formatting.percent(result.sparsity)) removed)",
            "  skipped: \(skipped.isEmpty ? "none" : skipped.joined(separator: ", "))",
            "  re-used: \(reused.isEmpty ? "none" : reused.joined(separator: ", "))",
        ]
        if !context.merges.isEmpty {
            let merges = context.merges.map { "block\($0.folded.count == 1 ? "" : "s") \($0.folded.map(String.init).joined(separator: " ")) → block \($0.base)" }
            lines.append("  merged (LaCo): " + merges.joined(separator: ", "))
        }
        if let d = context.discrepancy {
            var line = "  discrepancy D: \(d) on \(calibrationCount.map { "\($0) calibration prompts" } ?? "calibration")"
            if let evalDiscrepancy { line += ", \(evalDiscrepancy) held out" }
            lines.append(line)
        }
        if let work, work.naiveSubBlockEvaluations > 0 {
            lines.append("  search: \(work.subBlockEvaluations) sub-block runs (\(work.naiveSubBlockEvaluations) without caching), \(Formatting.oneDecimal(seconds)) s")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
