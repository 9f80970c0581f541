import SkrrIR
import SkrrPasses

/// `--plot FILE.svg`: the slot map of the result (one column per block; attention above, FFN
/// below; kept, skipped, re-used or holding merged weights, with parameter counts) and, when a search ran, the
/// discrepancy D along the search order. Plain deterministic SVG: same input, same bytes.
public enum PlotSVG {
    public static func render(source: ModelIR, result: ModelIR, method: String, context: PassContext) -> String {
        let blocks = source.config.numLayers
        let cell = 54.0, gap = 6.0, left = 90.0, top = 70.0
        let mapWidth = left + Double(blocks) * (cell + gap) + 20
        let chart = !context.removalOrder.discrepancies.isEmpty
        let width = max(mapWidth, chart ? 620 : 0)
        let height = top + 2 * (cell + gap) + 60 + (chart ? 260 : 0)
        var svg: [String] = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Formatting.oneDecimal(width))\" height=\"\(Formatting.oneDecimal(height))\" font-family=\"sans-serif\" font-size=\"11\">",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
            "<text x=\"10\" y=\"22\" font-size=\"15\">\(escape(source.name)): \(escape(method)), \(Formatting.percent(result.sparsity)) of \(Formatting.grouped(source.sourceParameters)) parameters removed</text>",
            "<text x=\"10\" y=\"42\" fill=\"#555\">kept <tspan fill=\"#2b6cb0\">■</tspan> attention <tspan fill=\"#2f855a\">■</tspan> ffn · <tspan fill=\"#bbb\">■</tspan> skipped · <tspan fill=\"#dd6b20\">■</tspan> re-used (←source)\(context.merges.isEmpty ? "" : " · <tspan fill=\"#6b46c1\">■</tspan> merged weights (+folded blocks)")</text>",
        ]
        // Blocks LaCo folded into each base block (nested merges accumulate).
        var merged: [Int: [Int]] = [:]
        for merge in context.merges {
            merged[merge.base, default: []] += merge.folded.flatMap { [$0] + (merged[$0] ?? []) }
            merged[merge.base]!.sort()
        }
        for (row, label) in ["attention", "ffn"].enumerated() {
            let y = top + Double(row) * (cell + gap)
            svg.append("<text x=\"10\" y=\"\(Formatting.oneDecimal(y + cell / 2 + 4))\">\(label)</text>")
            for block in 0..<blocks {
                let slot = 2 * block + row
                let x = left + Double(block) * (cell + gap)
                let params = source.parameterCount(ofSubBlock: slot)
                let (fill, note): (String, String)
                switch result.schedule[slot] {
                case .skip: (fill, note) = ("#bbbbbb", "skipped")
                case let .run(s) where s == slot && !(merged[block] ?? []).isEmpty:
                    (fill, note) = ("#6b46c1", "+" + merged[block]!.map(String.init).joined(separator: ","))
                case let .run(s) where s == slot: (fill, note) = (row == 0 ? "#2b6cb0" : "#2f855a", "")
                case let .run(s): (fill, note) = ("#dd6b20", "←\(s)")
                }
                svg.append("<rect x=\"\(Formatting.oneDecimal(x))\" y=\"\(Formatting.oneDecimal(y))\" width=\"\(Formatting.oneDecimal(cell))\" height=\"\(Formatting.oneDecimal(cell))\" rx=\"4\" fill=\"\(fill)\"><title>sub-block \(slot) (\(label) block \(block)): \(Formatting.grouped(params)) params\(note.isEmpty ? "" : ", " + note)</title></rect>")
                svg.append("<text x=\"\(Formatting.oneDecimal(x + cell / 2))\" y=\"\(Formatting.oneDecimal(y + 20))\" text-anchor=\"middle\" fill=\"white\">\(slot)</text>")
                svg.append("<text x=\"\(Formatting.oneDecimal(x + cell / 2))\" y=\"\(Formatting.oneDecimal(y + 36))\" text-anchor=\"middle\" fill=\"white\" font-size=\"9\">\(Formatting.compact(params))</text>")
                if !note.isEmpty && note != "skipped" {
                    svg.append("<text x=\"\(Formatting.oneDecimal(x + cell / 2))\" y=\"\(Formatting.oneDecimal(y + 49))\" text-anchor=\"middle\" fill=\"white\" font-size=\"9\">\(escape(note))</text>")
                }
            }
        }
        for block in 0..<blocks {
            svg.append("<text x=\"\(Formatting.oneDecimal(left + Double(block) * (cell + gap) + cell / 2))\" y=\"\(Formatting.oneDecimal(top + 2 * (cell + gap) + 12))\" text-anchor=\"middle\" fill=\"#555\">block \(block)</text>")
        }
        if chart { svg += searchChart(source: source, context: context, top: top + 2 * (cell + gap) + 50) }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    /// D after each step of the search order, with the cumulative sparsity on the x axis labels.
    static func searchChart(source: ModelIR, context: PassContext, top: Double) -> [String] {
        let (order, values) = context.removalOrder
        let left = 70.0, width = 500.0, height = 180.0
        let maximum = max(values.max() ?? 1, 1e-12)
        var lines = ["<text x=\"10\" y=\"\(Formatting.oneDecimal(top))\" font-size=\"13\">discrepancy D along the search order</text>"]
        let y0 = top + 20
        lines.append("<line x1=\"\(Formatting.oneDecimal(left))\" y1=\"\(Formatting.oneDecimal(y0 + height))\" x2=\"\(Formatting.oneDecimal(left + width))\" y2=\"\(Formatting.oneDecimal(y0 + height))\" stroke=\"#333\"/>")
        lines.append("<line x1=\"\(Formatting.oneDecimal(left))\" y1=\"\(Formatting.oneDecimal(y0))\" x2=\"\(Formatting.oneDecimal(left))\" y2=\"\(Formatting.oneDecimal(y0 + height))\" stroke=\"#333\"/>")
        lines.append("<text x=\"\(Formatting.oneDecimal(left - 6))\" y=\"\(Formatting.oneDecimal(y0 + 4))\" text-anchor=\"end\">\(Formatting.threeSignificant(maximum))</text>")
        lines.append("<text x=\"\(Formatting.oneDecimal(left - 6))\" y=\"\(Formatting.oneDecimal(y0 + height + 4))\" text-anchor=\"end\">0</text>")
        var removed = 0
        var points: [String] = []
        for (step, value) in values.enumerated() {
            let x = left + width * Double(step + 1) / Double(values.count)
            let y = y0 + height * (1 - value / maximum)
            points.append("\(Formatting.oneDecimal(x)),\(Formatting.oneDecimal(y))")
            let slot = order[step]
            removed += source.parameterCount(ofSubBlock: slot)
            let sparsity = Double(removed) / Double(max(source.sourceParameters, 1))
            lines.append("<circle cx=\"\(Formatting.oneDecimal(x))\" cy=\"\(Formatting.oneDecimal(y))\" r=\"3\" fill=\"#c53030\"><title>step \(step + 1): skip \(slot), D = \(value)</title></circle>")
            lines.append("<text x=\"\(Formatting.oneDecimal(x))\" y=\"\(Formatting.oneDecimal(y0 + height + 16))\" text-anchor=\"middle\" font-size=\"9\">\(slot)</text>")
            lines.append("<text x=\"\(Formatting.oneDecimal(x))\" y=\"\(Formatting.oneDecimal(y0 + height + 28))\" text-anchor=\"middle\" font-size=\"8\" fill=\"#555\">\(Formatting.percent(sparsity))</text>")
        }
        lines.append("<polyline fill=\"none\" stroke=\"#c53030\" stroke-width=\"1.5\" points=\"\(Formatting.oneDecimal(left)),\(Formatting.oneDecimal(y0 + height)) \(points.joined(separator: " "))\"/>")
        lines.append("<text x=\"\(Formatting.oneDecimal(left + width / 2))\" y=\"\(Formatting.oneDecimal(y0 + height + 44))\" text-anchor=\"middle\" fill=\"#555\">sub-block skipped at each step (cumulative sparsity below)</text>")
        return lines
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}

private extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
