import SkrrIR
import SkrrPasses

/// `--plot FILE.svg`: the slot map of the result (one column per block; attention above, FFN
/// below; kept, skipped, re-used or holding merged weights, with parameter counts) and, when a search ran, the
/// discrepancy D along the search order. Plain deterministic SVG: same input, same bytes.
enum PlotSVG {
    static func render(source: ModelIR, result: ModelIR, method: String, context: PassContext) -> String {
        let blocks = source.config.numLayers
        let cell = 54.0, gap = 6.0, left = 90.0, top = 70.0
        let mapWidth = left + Double(blocks) * (cell + gap) + 20
        let chart = !context.searchDiscrepancies.isEmpty
        let width = max(mapWidth, chart ? 620 : 0)
        let height = top + 2 * (cell + gap) + 60 + (chart ? 260 : 0)
        var svg: [String] = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(fmt(width))\" height=\"\(fmt(height))\" font-family=\"sans-serif\" font-size=\"11\">",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
            "<text x=\"10\" y=\"22\" font-size=\"15\">\(escape(source.name)): \(escape(method)), \(percent(result.sparsity)) of \(grouped(source.sourceParameters)) parameters removed</text>",
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
            svg.append("<text x=\"10\" y=\"\(fmt(y + cell / 2 + 4))\">\(label)</text>")
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
                svg.append("<rect x=\"\(fmt(x))\" y=\"\(fmt(y))\" width=\"\(fmt(cell))\" height=\"\(fmt(cell))\" rx=\"4\" fill=\"\(fill)\"><title>sub-block \(slot) (\(label) block \(block)): \(grouped(params)) params\(note.isEmpty ? "" : ", " + note)</title></rect>")
                svg.append("<text x=\"\(fmt(x + cell / 2))\" y=\"\(fmt(y + 20))\" text-anchor=\"middle\" fill=\"white\">\(slot)</text>")
                svg.append("<text x=\"\(fmt(x + cell / 2))\" y=\"\(fmt(y + 36))\" text-anchor=\"middle\" fill=\"white\" font-size=\"9\">\(compact(params))</text>")
                if !note.isEmpty && note != "skipped" {
                    svg.append("<text x=\"\(fmt(x + cell / 2))\" y=\"\(fmt(y + 49))\" text-anchor=\"middle\" fill=\"white\" font-size=\"9\">\(escape(note))</text>")
                }
            }
        }
        for block in 0..<blocks {
            svg.append("<text x=\"\(fmt(left + Double(block) * (cell + gap) + cell / 2))\" y=\"\(fmt(top + 2 * (cell + gap) + 12))\" text-anchor=\"middle\" fill=\"#555\">block \(block)</text>")
        }
        if chart { svg += searchChart(source: source, context: context, top: top + 2 * (cell + gap) + 50) }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    /// D after each step of the search order, with the cumulative sparsity on the x axis labels.
    static func searchChart(source: ModelIR, context: PassContext, top: Double) -> [String] {
        let values = context.searchDiscrepancies
        let left = 70.0, width = 500.0, height = 180.0
        let maximum = max(values.max() ?? 1, 1e-12)
        var lines = ["<text x=\"10\" y=\"\(fmt(top))\" font-size=\"13\">discrepancy D along the search order</text>"]
        let y0 = top + 20
        lines.append("<line x1=\"\(fmt(left))\" y1=\"\(fmt(y0 + height))\" x2=\"\(fmt(left + width))\" y2=\"\(fmt(y0 + height))\" stroke=\"#333\"/>")
        lines.append("<line x1=\"\(fmt(left))\" y1=\"\(fmt(y0))\" x2=\"\(fmt(left))\" y2=\"\(fmt(y0 + height))\" stroke=\"#333\"/>")
        lines.append("<text x=\"\(fmt(left - 6))\" y=\"\(fmt(y0 + 4))\" text-anchor=\"end\">\(short(maximum))</text>")
        lines.append("<text x=\"\(fmt(left - 6))\" y=\"\(fmt(y0 + height + 4))\" text-anchor=\"end\">0</text>")
        var removed = 0
        var points: [String] = []
        for (step, value) in values.enumerated() {
            let x = left + width * Double(step + 1) / Double(values.count)
            let y = y0 + height * (1 - value / maximum)
            points.append("\(fmt(x)),\(fmt(y))")
            let slot = context.searchOrder[step]
            removed += source.parameterCount(ofSubBlock: slot)
            let sparsity = Double(removed) / Double(max(source.sourceParameters, 1))
            lines.append("<circle cx=\"\(fmt(x))\" cy=\"\(fmt(y))\" r=\"3\" fill=\"#c53030\"><title>step \(step + 1): skip \(slot), D = \(value)</title></circle>")
            lines.append("<text x=\"\(fmt(x))\" y=\"\(fmt(y0 + height + 16))\" text-anchor=\"middle\" font-size=\"9\">\(slot)</text>")
            lines.append("<text x=\"\(fmt(x))\" y=\"\(fmt(y0 + height + 28))\" text-anchor=\"middle\" font-size=\"8\" fill=\"#555\">\(percent(sparsity))</text>")
        }
        lines.append("<polyline fill=\"none\" stroke=\"#c53030\" stroke-width=\"1.5\" points=\"\(fmt(left)),\(fmt(y0 + height)) \(points.joined(separator: " "))\"/>")
        lines.append("<text x=\"\(fmt(left + width / 2))\" y=\"\(fmt(y0 + height + 44))\" text-anchor=\"middle\" fill=\"#555\">sub-block skipped at each step (cumulative sparsity below)</text>")
        return lines
    }

    static func fmt(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }

    static func short(_ value: Double) -> String {
        if value >= 100 { return String(Int(value.rounded())) }
        var digits = 3
        var scaled = value
        while scaled < 1 && digits < 9 { scaled *= 10; digits += 1 }
        let factor = pow10(digits - 1)
        return String((value * factor).rounded() / factor)
    }

    static func pow10(_ n: Int) -> Double { (0..<max(n, 0)).reduce(1.0) { acc, _ in acc * 10 } }

    static func percent(_ fraction: Double) -> String {
        let tenths = Int((fraction * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }

    static func compact(_ n: Int) -> String {
        if n >= 1_000_000 { return "\(Double(n / 100_000) / 10)M" }
        if n >= 1000 { return "\(Double(n / 100) / 10)k" }
        return String(n)
    }

    static func grouped(_ n: Int) -> String {
        let digits = String(n)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(ch)
        }
        return out
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
