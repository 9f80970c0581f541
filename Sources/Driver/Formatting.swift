/// Number formatting for reports, summaries, plots and `inspect`: fixed, locale-free spellings,
/// so outputs are byte-identical across machines.
enum Formatting {
    /// `1,234,567`.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return (value < 0 ? "-" : "") + out
    }

    /// `12.3%` (one decimal) of a fraction.
    static func percent(_ fraction: Double) -> String {
        let tenths = Int((fraction * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }

    /// One decimal, without a trailing `.0`: SVG coordinates and seconds.
    static func oneDecimal(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }

    /// Two decimals, always shown: `41.90`.
    static func twoDecimals(_ value: Double) -> String {
        let scaled = Int((value * 100).rounded())
        let fraction = abs(scaled % 100)
        return "\(scaled / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// Three significant digits for axis labels (`0.00123`, `45.6`, `1234`).
    static func threeSignificant(_ value: Double) -> String {
        if value >= 100 { return String(Int(value.rounded())) }
        var digits = 3
        var scaled = value
        while scaled < 1 && digits < 9 { scaled *= 10; digits += 1 }
        let factor = (0..<max(digits - 1, 0)).reduce(1.0) { acc, _ in acc * 10 }
        return String((value * factor).rounded() / factor)
    }

    /// `1.2M`, `3.4k`, `56`: parameter counts in small cells.
    static func compact(_ n: Int) -> String {
        if n >= 1_000_000 { return "\(Double(n / 100_000) / 10)M" }
        if n >= 1000 { return "\(Double(n / 100) / 10)k" }
        return String(n)
    }

    /// `12.5 MiB`, `1.2 GiB`, `3 KiB`.
    static func bytes(_ count: Int) -> String {
        if count >= 1 << 30 { return "\(oneDecimal(Double(count) / Double(1 << 30))) GiB" }
        if count >= 1 << 20 { return "\(oneDecimal(Double(count) / Double(1 << 20))) MiB" }
        return "\(oneDecimal(Double(count) / 1024)) KiB"
    }
}
