import SkrrIR
import SkrrPasses

/// The few lines a person reads after `-O prune`: sizes before and after, what was skipped and
/// re-used, and how far the result is from the dense model.
enum PruneSummary {
    static func text(source: ModelIR, result: ModelIR, method: String, context: PassContext, evalDiscrepancy: Double?,
                     calibrationCount: Int?, seconds: Double) -> String {
        func bytes(_ model: ModelIR) -> Int {
            model.referencedTensors.reduce(0) { $0 + (model.tensor(named: $1)?.byteCount ?? 0) }
        }
        func describe(_ slot: Int) -> String {
            "\(slot % 2 == 0 ? "attention" : "ffn") \(slot / 2)"
        }
        var skipped: [String] = [], reused: [String] = []
        for (slot, entry) in result.schedule.enumerated() {
            switch entry {
            case .skip: skipped.append(describe(slot))
            case let .run(s) where s != slot: reused.append("\(describe(slot)) ← \(describe(s))")
            case .run: break
            }
        }
        var lines = [
            "\(source.name) (\(method)): weights \(megabytes(bytes(source))) → \(megabytes(bytes(result))), "
                + "\(grouped(source.sourceParameters)) → \(grouped(result.keptParameters)) parameters "
                + "(\(PlotSVG.percent(result.sparsity)) removed)",
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
        if let stats = context.scorer?.statistics, stats.naiveSubBlockEvaluations > 0 {
            lines.append("  search: \(stats.subBlockEvaluations) sub-block runs (\(stats.naiveSubBlockEvaluations) without caching), \(PlotSVG.fmt(seconds)) s")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func megabytes(_ bytes: Int) -> String {
        if bytes >= 1 << 30 { return "\(PlotSVG.fmt(Double(bytes) / Double(1 << 30))) GiB" }
        if bytes >= 1 << 20 { return "\(PlotSVG.fmt(Double(bytes) / Double(1 << 20))) MiB" }
        return "\(PlotSVG.fmt(Double(bytes) / 1024)) KiB"
    }

    static func grouped(_ n: Int) -> String { PlotSVG.grouped(n) }
}
