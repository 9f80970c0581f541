import SkrrIR
import SkrrSupport

/// One step of a pass pipeline as written: `skip-search{sparsity=0.4 beam=3}` becomes
/// name `skip-search` with options `[sparsity: 0.4, beam: 3]`.
public struct PassInvocation: Equatable, Sendable {
    public var name: String
    public var options: [(key: String, value: String)]

    public init(name: String, options: [(key: String, value: String)] = []) {
        self.name = name
        self.options = options
    }

    public static func == (lhs: PassInvocation, rhs: PassInvocation) -> Bool {
        lhs.name == rhs.name && lhs.options.count == rhs.options.count
            && zip(lhs.options, rhs.options).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    public var description: String {
        options.isEmpty ? name : name + "{" + options.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + "}"
    }
}

/// Parses pipeline strings: comma-separated pass names, each optionally followed by
/// `{key=value key=value}`. An empty string is the empty pipeline (the identity).
public enum PipelineParser {
    public static func parse(_ text: String) throws -> [PassInvocation] {
        var passes: [PassInvocation] = []
        var rest = Substring(text)
        func trimSpaces() { while rest.first == " " { rest = rest.dropFirst() } }
        trimSpaces()
        if rest.isEmpty { return [] }
        while true {
            trimSpaces()
            let name = rest.prefix(while: { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            guard !name.isEmpty else {
                throw SkrrError(key: text, "expected a pass name at '\(rest)'")
            }
            rest = rest.dropFirst(name.count)
            var invocation = PassInvocation(name: String(name))
            trimSpaces()
            if rest.first == "{" {
                guard let close = rest.firstIndex(of: "}") else {
                    throw SkrrError(key: text, "unclosed '{' in the options of pass '\(name)'")
                }
                let body = rest[rest.index(after: rest.startIndex)..<close]
                for item in body.split(separator: " ", omittingEmptySubsequences: true) {
                    let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                    guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                        throw SkrrError(key: text, "option '\(item)' of pass '\(name)' is not key=value")
                    }
                    if invocation.options.contains(where: { $0.key == parts[0] }) {
                        throw SkrrError(key: text, "option '\(parts[0])' of pass '\(name)' is given twice")
                    }
                    invocation.options.append((String(parts[0]), String(parts[1])))
                }
                rest = rest[rest.index(after: close)...]
            }
            passes.append(invocation)
            trimSpaces()
            if rest.isEmpty { return passes }
            guard rest.first == "," else { throw SkrrError(key: text, "expected ',' between passes at '\(rest)'") }
            rest = rest.dropFirst()
        }
    }
}
