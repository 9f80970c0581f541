/// A small FileCheck of our own for compiler-style tests: the expected output is written as
/// `// CHECK:` lines next to the input, and matched against the actual output in order.
///
/// Supported directives (prefix configurable):
/// - `CHECK: text` — the next line containing `text` at or after the current position.
/// - `CHECK-NEXT: text` — the line right after the previous match contains `text`.
/// - `CHECK-SAME: text` — the line of the previous match contains `text` after that match.
/// - `CHECK-NOT: text` — `text` does not occur between the previous match and the next one.
/// Matching is literal, with runs of blanks treated as one space on both sides.
public struct FileCheck {
    public enum Directive: String, Sendable {
        case check = "CHECK", next = "CHECK-NEXT", same = "CHECK-SAME", not = "CHECK-NOT"
    }

    public struct Rule: Sendable {
        public var directive: Directive
        public var pattern: String
        public var line: Int
    }

    public let rules: [Rule]

    /// Extracts rules from comment lines such as `// CHECK-NEXT: slot 2 skip`.
    public init(checkSource: String, prefix: String = "CHECK") {
        var rules: [Rule] = []
        for (number, rawLine) in checkSource.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(rawLine)
            for directive in [Directive.next, .same, .not, .check] {
                let tag = directive.rawValue.replacingFirst("CHECK", with: prefix) + ":"
                guard let range = line.range(of: tag) else { continue }
                // Avoid "CHECK:" matching inside "CHECK-NEXT:"
                let before = line[..<range.lowerBound]
                if let last = before.last, last == "-" || last.isLetter { continue }
                let pattern = line[range.upperBound...].trimmingSpaces()
                rules.append(Rule(directive: directive, pattern: pattern, line: number + 1))
                break
            }
        }
        self.rules = rules
    }

    /// Returns nil on success, or a message explaining the first rule that failed.
    public func match(_ output: String) -> String? {
        if rules.isEmpty { return "no CHECK lines found" }
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map { normalize(String($0)) }
        var lineIndex = 0  // the line of the last match
        var column = 0  // end of the last match within that line
        var matchedAny = false
        var pendingNots: [Rule] = []

        func find(_ pattern: String, in line: String, from offset: Int) -> Int? {
            guard offset <= line.count else { return nil }
            let start = line.index(line.startIndex, offsetBy: offset)
            guard let range = line[start...].range(of: normalize(pattern)) else { return nil }
            return line.distance(from: line.startIndex, to: range.upperBound)
        }

        for rule in rules {
            switch rule.directive {
            case .not:
                pendingNots.append(rule)
            case .check:
                let from = matchedAny ? lineIndex + 1 : 0
                var found: Int?
                var end = 0
                for index in from..<max(from, lines.count) {
                    if let e = find(rule.pattern, in: lines[index], from: 0) { found = index; end = e; break }
                }
                guard let index = found else {
                    return "line \(rule.line): CHECK: '\(rule.pattern)' not found after output line \(from)"
                }
                for not in pendingNots {
                    for between in from..<index where find(not.pattern, in: lines[between], from: 0) != nil {
                        return "line \(not.line): CHECK-NOT: '\(not.pattern)' found at output line \(between + 1): \(lines[between])"
                    }
                }
                pendingNots = []
                lineIndex = index
                column = end
                matchedAny = true
            case .next:
                let index = matchedAny ? lineIndex + 1 : 0
                guard index < lines.count, let end = find(rule.pattern, in: lines[index], from: 0) else {
                    let actual = index < lines.count ? lines[index] : "<end of output>"
                    return "line \(rule.line): CHECK-NEXT: '\(rule.pattern)' does not match output line \(index + 1): \(actual)"
                }
                lineIndex = index
                column = end
                matchedAny = true
            case .same:
                guard matchedAny, let end = find(rule.pattern, in: lines[lineIndex], from: column) else {
                    return "line \(rule.line): CHECK-SAME: '\(rule.pattern)' not on output line \(lineIndex + 1): \(matchedAny ? lines[lineIndex] : "")"
                }
                column = end
            }
        }
        let from = matchedAny ? lineIndex + 1 : 0
        for not in pendingNots {
            for index in from..<max(from, lines.count) where find(not.pattern, in: lines[index], from: 0) != nil {
                return "line \(not.line): CHECK-NOT: '\(not.pattern)' found at output line \(index + 1): \(lines[index])"
            }
        }
        return nil
    }

    private func normalize(_ text: String) -> String {
        var out = ""
        var lastWasBlank = false
        for ch in text {
            if ch == " " || ch == "\t" {
                if !lastWasBlank { out.append(" ") }
                lastWasBlank = true
            } else {
                out.append(ch)
                lastWasBlank = false
            }
        }
        return out
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" }).reversed())
    }

    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return String(self) }
        return String(self[..<range.lowerBound]) + replacement + String(self[range.upperBound...])
    }
}
