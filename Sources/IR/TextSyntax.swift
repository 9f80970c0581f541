/// Spelling rules shared by the printer and the parser, so the two cannot disagree.
enum TextSyntax {
    static let header = "// skrrc IR, format 1"

    /// Characters allowed in a bare `%name`; anything else is written `%"quoted"`.
    static func isBareNameCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "_", ".", "-": return true
        default: return false
        }
    }

    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func tensorReference(_ name: String) -> String {
        if !name.isEmpty && name.unicodeScalars.allSatisfy(isBareNameCharacter) { return "%" + name }
        return "%" + quote(name)
    }

    /// `12,345` — parameter counts are read by people; thousands separators help.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(ch)
        }
        return value < 0 ? "-" + out : out
    }

    static func percent(_ fraction: Double) -> String {
        let hundredths = Int((fraction * 10000).rounded())
        let whole = hundredths / 100, rest = hundredths % 100
        return "\(whole).\(rest < 10 ? "0" : "")\(rest)%"
    }
}
