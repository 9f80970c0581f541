import SkrrSupport

/// Tokens of the IR text form. Newlines are not significant; `//` starts a comment that runs to
/// the end of the line (comments are derived by the printer and ignored here).
struct IRToken: Equatable {
    enum Kind: Equatable {
        case word(String)  // keywords, enum values, roles, dtype[...] heads
        case integer(Int)
        case number(String)  // any other numeric spelling (floats)
        case string(String)
        case tensor(String)  // %name or %"name"
        case symbol(Character)  // { } [ ] ,
        case end
    }
    var kind: Kind
    var line: Int
    var column: Int
}

struct IRLexer {
    private let scalars: [Unicode.Scalar]
    private var index = 0
    private var line = 1
    private var column = 1
    private let source: String

    init(_ text: String, source: String) {
        scalars = Array(text.unicodeScalars)
        self.source = source
    }

    func error(_ message: String, line: Int, column: Int) -> SkrrError {
        SkrrError(file: source, "line \(line), column \(column): \(message)")
    }

    private var current: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    private mutating func advance() {
        if scalars[index] == "\n" { line += 1; column = 1 } else { column += 1 }
        index += 1
    }

    static func isWordCharacter(_ s: Unicode.Scalar) -> Bool {
        switch s {
        case "a"..."z", "A"..."Z", "0"..."9", "_", ".", "-", "+": return true
        default: return false
        }
    }

    mutating func tokenize() throws -> [IRToken] {
        var tokens: [IRToken] = []
        while true {
            skipTrivia()
            let startLine = line, startColumn = column
            guard let scalar = current else {
                tokens.append(IRToken(kind: .end, line: startLine, column: startColumn))
                return tokens
            }
            let kind: IRToken.Kind
            switch scalar {
            case "{", "}", "[", "]", ",":
                advance()
                kind = .symbol(Character(scalar))
            case "\"":
                kind = .string(try readString())
            case "%":
                advance()
                if current == "\"" {
                    kind = .tensor(try readString())
                } else {
                    let name = readWhile(TextSyntax.isBareNameCharacter)
                    guard !name.isEmpty else { throw error("expected a tensor name after '%'", line: startLine, column: startColumn) }
                    kind = .tensor(name)
                }
            case _ where IRLexer.isWordCharacter(scalar):
                let word = readWhile(IRLexer.isWordCharacter)
                if let value = Int(word) {
                    kind = .integer(value)
                } else if let first = word.unicodeScalars.first, first == "-" || ("0"..."9").contains(first) {
                    kind = .number(word)
                } else {
                    kind = .word(word)
                }
            default:
                throw error("unexpected character '\(scalar)'", line: startLine, column: startColumn)
            }
            tokens.append(IRToken(kind: kind, line: startLine, column: startColumn))
        }
    }

    private mutating func skipTrivia() {
        while let scalar = current {
            if scalar == " " || scalar == "\n" || scalar == "\t" || scalar == "\r" {
                advance()
            } else if scalar == "/" && index + 1 < scalars.count && scalars[index + 1] == "/" {
                while let c = current, c != "\n" { advance() }
            } else {
                return
            }
        }
    }

    private mutating func readWhile(_ predicate: (Unicode.Scalar) -> Bool) -> String {
        var out = String.UnicodeScalarView()
        while let scalar = current, predicate(scalar) {
            out.append(scalar)
            advance()
        }
        return String(out)
    }

    private mutating func readString() throws -> String {
        let startLine = line, startColumn = column
        advance()  // opening quote
        var out = String.UnicodeScalarView()
        while true {
            guard let scalar = current, scalar != "\n" else {
                throw error("unterminated string", line: startLine, column: startColumn)
            }
            advance()
            if scalar == "\"" { return String(out) }
            if scalar != "\\" {
                out.append(scalar)
                continue
            }
            guard let escape = current else { throw error("unterminated string", line: startLine, column: startColumn) }
            advance()
            switch escape {
            case "\"": out.append("\"")
            case "\\": out.append("\\")
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "u":
                guard current == "{" else { throw error("expected '{' after \\u", line: line, column: column) }
                advance()
                let hex = readWhile { $0 != "}" && $0 != "\n" }
                guard current == "}", let code = UInt32(hex, radix: 16), let value = Unicode.Scalar(code) else {
                    throw error("invalid \\u{...} escape", line: line, column: column)
                }
                advance()
                out.append(value)
            default:
                throw error("invalid escape '\\\(escape)'", line: line, column: column)
            }
        }
    }
}
