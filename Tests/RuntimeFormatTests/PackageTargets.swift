import Foundation

/// The targets `Package.swift` declares and the names each depends on, read from its text so
/// the runtime's independence can be checked without running SwiftPM inside the tests (a
/// nested SwiftPM would wait on the lock of the build that runs them). Whitespace, line breaks,
/// comments and the order of arguments do not matter; `.target(name:)`, `.byName(name:)` and
/// `.product(name:)` dependencies count by their name.
struct PackageTargets {
    /// Target name → names of its direct dependencies.
    private(set) var dependencies: [String: [String]] = [:]

    init(manifest text: String) {
        let tokens = PackageTargets.tokenize(text)
        var i = 0
        while i + 2 < tokens.count {
            if tokens[i] == .symbol("."), case let .word(kind) = tokens[i + 1], kind.hasSuffix("arget"),
               tokens[i + 2] == .symbol("("), let end = PackageTargets.closing(tokens, from: i + 2) {
                let call = Array(tokens[(i + 3)..<end])
                if let name = PackageTargets.argument("name", in: call) {
                    dependencies[name] = PackageTargets.dependencyNames(in: call)
                }
                i = end
            }
            i += 1
        }
    }

    /// Every target reachable from `target` through dependencies, `target` excluded.
    func closure(of target: String) -> Set<String> {
        var seen = Set<String>(), pending = dependencies[target] ?? []
        while let next = pending.popLast() {
            if seen.insert(next).inserted { pending += dependencies[next] ?? [] }
        }
        return seen
    }

    enum Token: Equatable {
        case word(String)
        case string(String)
        case symbol(Character)
    }

    /// Words, string literals and punctuation; comments dropped (string contents such as
    /// `https://` are not comments).
    static func tokenize(_ text: String) -> [Token] {
        var tokens: [Token] = []
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "/" && i + 1 < chars.count && chars[i + 1] == "/" {
                while i < chars.count && chars[i] != "\n" { i += 1 }
            } else if c == "/" && i + 1 < chars.count && chars[i + 1] == "*" {
                i += 2
                while i + 1 < chars.count && !(chars[i] == "*" && chars[i + 1] == "/") { i += 1 }
                i += 2
            } else if c == "\"" {
                var value = ""
                i += 1
                while i < chars.count && chars[i] != "\"" {
                    if chars[i] == "\\" && i + 1 < chars.count { i += 1 }
                    value.append(chars[i])
                    i += 1
                }
                tokens.append(.string(value))
                i += 1
            } else if c.isLetter || c == "_" {
                var word = ""
                while i < chars.count && (chars[i].isLetter || chars[i].isNumber || chars[i] == "_") {
                    word.append(chars[i])
                    i += 1
                }
                tokens.append(.word(word))
            } else {
                if !c.isWhitespace { tokens.append(.symbol(c)) }
                i += 1
            }
        }
        return tokens
    }

    /// Index of the bracket closing the one at `start`.
    static func closing(_ tokens: [Token], from start: Int) -> Int? {
        var depth = 0
        for i in start..<tokens.count {
            switch tokens[i] {
            case .symbol("("), .symbol("["): depth += 1
            case .symbol(")"), .symbol("]"):
                depth -= 1
                if depth == 0 { return i }
            default: break
            }
        }
        return nil
    }

    /// The string given to `label:` at the top level of a call's arguments.
    static func argument(_ label: String, in call: [Token]) -> String? {
        var depth = 0
        for i in 0..<call.count {
            switch call[i] {
            case .symbol("("), .symbol("["): depth += 1
            case .symbol(")"), .symbol("]"): depth -= 1
            case .word(label) where depth == 0 && i + 2 < call.count && call[i + 1] == .symbol(":"):
                if case let .string(value) = call[i + 2] { return value }
            default: break
            }
        }
        return nil
    }

    /// Names in the `dependencies: [...]` argument: plain strings and `name:` of nested calls.
    static func dependencyNames(in call: [Token]) -> [String] {
        guard let label = call.firstIndex(of: .word("dependencies")), label + 2 < call.count,
              call[label + 1] == .symbol(":"), call[label + 2] == .symbol("["),
              let end = closing(call, from: label + 2) else { return [] }
        var names: [String] = []
        var depth = 0
        var i = label + 3
        while i < end {
            switch call[i] {
            case .symbol("("), .symbol("["): depth += 1
            case .symbol(")"), .symbol("]"): depth -= 1
            case let .string(value) where depth == 0: names.append(value)
            case .word("name") where depth == 1 && i + 2 < end && call[i + 1] == .symbol(":"):
                if case let .string(value) = call[i + 2] { names.append(value) }
                i += 2
            default: break
            }
            i += 1
        }
        return names
    }
}
