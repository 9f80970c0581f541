import SkrrSupport

/// Reads the IR text form back into a `ModelIR`. Syntax errors carry line and column; semantic
/// problems (unknown tensors, wrong shapes, bad schedules) are left to `IRVerifier`, which
/// reports all of them at once.
public struct IRParser {
    private var tokens: [IRToken]
    private var position = 0
    private let source: String

    /// `source` names the input in messages (a file path, or `<stdin>`).
    public static func parse(_ text: String, source: String = "<input>") throws -> ModelIR {
        var lexer = IRLexer(text, source: source)
        var parser = IRParser(tokens: try lexer.tokenize(), source: source)
        return try parser.parseModel()
    }

    private init(tokens: [IRToken], source: String) {
        self.tokens = tokens
        self.source = source
    }

    // MARK: token helpers

    private var current: IRToken { tokens[position] }

    private func error(_ message: String, at token: IRToken? = nil) -> SkrrError {
        let token = token ?? current
        return SkrrError(file: source, "line \(token.line), column \(token.column): \(message)")
    }

    private func describe(_ token: IRToken) -> String {
        switch token.kind {
        case let .word(w): return "'\(w)'"
        case let .integer(i): return "'\(i)'"
        case let .number(n): return "'\(n)'"
        case let .string(s): return "string \(TextSyntax.quote(s))"
        case let .tensor(t): return "tensor %\(t)"
        case let .symbol(c): return "'\(c)'"
        case .end: return "end of input"
        }
    }

    private mutating func next() -> IRToken {
        let token = tokens[position]
        if position < tokens.count - 1 { position += 1 }
        return token
    }

    private mutating func expectWord(_ word: String) throws {
        guard case .word(word) = current.kind else { throw error("expected '\(word)', found \(describe(current))") }
        position += 1
    }

    private mutating func expectSymbol(_ symbol: Character) throws {
        guard case .symbol(symbol) = current.kind else { throw error("expected '\(symbol)', found \(describe(current))") }
        position += 1
    }

    private mutating func isSymbol(_ symbol: Character) -> Bool {
        if case .symbol(symbol) = current.kind { return true }
        return false
    }

    private mutating func word(_ what: String) throws -> String {
        guard case let .word(w) = current.kind else { throw error("expected \(what), found \(describe(current))") }
        position += 1
        return w
    }

    private mutating func integer(_ what: String) throws -> Int {
        guard case let .integer(i) = current.kind else { throw error("expected \(what), found \(describe(current))") }
        position += 1
        return i
    }

    private mutating func string(_ what: String) throws -> String {
        guard case let .string(s) = current.kind else { throw error("expected \(what), found \(describe(current))") }
        position += 1
        return s
    }

    private mutating func tensorName() throws -> String {
        guard case let .tensor(t) = current.kind else { throw error("expected a tensor reference (%name), found \(describe(current))") }
        position += 1
        return t
    }

    private mutating func enumValue<E: RawRepresentable & CaseIterable>(_ type: E.Type, _ what: String) throws -> E
    where E.RawValue == String {
        let token = current
        let text = try word(what)
        guard let value = E(rawValue: text) else {
            let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
            throw error("unknown \(what) '\(text)' (expected one of: \(allowed))", at: token)
        }
        return value
    }

    // MARK: grammar

    private mutating func parseModel() throws -> ModelIR {
        try expectWord("model")
        let family = try enumValue(Family.self, "family")
        let name = try string("the model name")
        try expectSymbol("{")
        var root: String?
        var sourceParams: Int?
        var files: [String] = []
        var tokenizer: TokenizerRef?
        var config: ModelConfig?
        var tensors: [TensorDecl] = []
        var embeddings: [Operand]?
        var positionBias: [Operand]?
        var subBlocks: [SubBlock] = []
        var finalNorm: [Operand]?
        var heads: [Head] = []
        var schedule: [Slot]?

        while !isSymbol("}") {
            let keywordToken = current
            let keyword = try word("a declaration")
            func once<T>(_ existing: T?) throws {
                if existing != nil { throw error("'\(keyword)' declared twice", at: keywordToken) }
            }
            switch keyword {
            case "root":
                try once(root)
                root = try string("the root path")
            case "source_params":
                try once(sourceParams)
                sourceParams = try integer("a parameter count")
            case "file":
                let index = try integer("a file index")
                guard index == files.count else {
                    throw error("file indices must count up from 0: expected \(files.count), found \(index)", at: keywordToken)
                }
                files.append(try string("a file path"))
            case "tokenizer":
                try once(tokenizer)
                let kind = try enumValue(TokenizerKind.self, "tokenizer kind")
                var paths: [String] = []
                while case let .string(path) = current.kind {
                    paths.append(path)
                    position += 1
                }
                var lowercase = false
                if case .word("lowercase") = current.kind {
                    lowercase = true
                    position += 1
                }
                tokenizer = TokenizerRef(kind: kind, files: paths, lowercase: lowercase)
            case "config":
                try once(config)
                config = try parseConfig()
            case "tensors":
                guard tensors.isEmpty else { throw error("'tensors' declared twice", at: keywordToken) }
                tensors = try parseTensors()
            case "embeddings":
                try once(embeddings)
                embeddings = try parseOperands()
            case "position_bias":
                try once(positionBias)
                positionBias = try parseOperands()
            case "subblock":
                let index = try integer("a sub-block index")
                let kind = try enumValue(SubBlockKind.self, "sub-block kind")
                try expectWord("block")
                let block = try integer("a block index")
                subBlocks.append(SubBlock(index: index, kind: kind, block: block, operands: try parseOperands()))
            case "final_norm":
                try once(finalNorm)
                finalNorm = try parseOperands()
            case "head":
                let headName = try word("a head name")
                let kind = try enumValue(HeadKind.self, "head kind")
                let operands = isSymbol("{") ? try parseOperands() : []
                heads.append(Head(name: headName, kind: kind, operands: operands))
            case "schedule":
                try once(schedule)
                schedule = try parseSchedule()
            default:
                throw error("unknown declaration '\(keyword)'", at: keywordToken)
            }
        }
        try expectSymbol("}")
        guard case .end = current.kind else { throw error("unexpected \(describe(current)) after the model") }

        let endToken = current
        func require<T>(_ value: T?, _ what: String) throws -> T {
            guard let value else { throw error("the model has no '\(what)' declaration", at: endToken) }
            return value
        }
        return ModelIR(
            family: family, name: name, root: try require(root, "root"),
            sourceParameters: try require(sourceParams, "source_params"), files: files, tokenizer: tokenizer,
            config: try require(config, "config"), tensors: tensors, embeddings: try require(embeddings, "embeddings"),
            positionBias: positionBias, subBlocks: subBlocks, finalNorm: finalNorm, heads: heads,
            schedule: try require(schedule, "schedule"))
    }

    private mutating func parseOperands() throws -> [Operand] {
        try expectSymbol("{")
        var operands: [Operand] = []
        while !isSymbol("}") {
            let roleToken = current
            let role = try word("an operand role")
            if operands.contains(where: { $0.role == role }) { throw error("operand '\(role)' given twice", at: roleToken) }
            operands.append(Operand(role: role, tensor: try tensorName()))
        }
        try expectSymbol("}")
        return operands
    }

    private mutating func parseTensors() throws -> [TensorDecl] {
        try expectSymbol("{")
        var tensors: [TensorDecl] = []
        while !isSymbol("}") {
            let name = try tensorName()
            let dtypeToken = current
            let dtypeName = try word("a dtype")
            guard let dtype = DType(irName: dtypeName) else {
                throw error("unknown dtype '\(dtypeName)'", at: dtypeToken)
            }
            try expectSymbol("[")
            var shape: [Int] = []
            while !isSymbol("]") {
                if !shape.isEmpty { try expectSymbol(",") }
                shape.append(try integer("a dimension"))
            }
            try expectSymbol("]")
            let originToken = current
            switch try word("'file' or 'merge'") {
            case "file":
                let file = try integer("a file index")
                try expectWord("offset")
                let offset = try integer("a byte offset")
                try expectWord("bytes")
                let length = try integer("a byte count")
                tensors.append(TensorDecl(name: name, dtype: dtype, shape: shape,
                                          location: TensorLocation(file: file, offset: offset, length: length)))
            case "merge":
                try expectWord("base")
                let base = try tensorName()
                try expectWord("deltas")
                try expectSymbol("[")
                var deltas: [String] = []
                while !isSymbol("]") {
                    if !deltas.isEmpty { try expectSymbol(",") }
                    deltas.append(try tensorName())
                }
                try expectSymbol("]")
                tensors.append(TensorDecl(name: name, dtype: dtype, shape: shape, origin: .merge(base: base, deltas: deltas)))
            case let other:
                throw error("expected 'file' or 'merge' after the shape of %\(name), found '\(other)'", at: originToken)
            }
        }
        try expectSymbol("}")
        return tensors
    }

    private mutating func parseSchedule() throws -> [Slot] {
        try expectSymbol("{")
        var slots: [Slot] = []
        while !isSymbol("}") {
            let slotToken = current
            try expectWord("slot")
            let index = try integer("a slot index")
            guard index == slots.count else {
                throw error("slots must count up from 0: expected slot \(slots.count), found \(index)", at: slotToken)
            }
            let action = try word("'run' or 'skip'")
            switch action {
            case "run": slots.append(.run(try integer("a sub-block index")))
            case "skip": slots.append(.skip)
            default: throw error("expected 'run' or 'skip', found '\(action)'", at: slotToken)
            }
        }
        try expectSymbol("}")
        return slots
    }

    private mutating func parseConfig() throws -> ModelConfig {
        try expectSymbol("{")
        var values: [String: IRToken] = [:]
        while !isSymbol("}") {
            let keyToken = current
            let key = try word("a config key")
            guard IRParser.configKeys.contains(key) else { throw error("unknown config key '\(key)'", at: keyToken) }
            guard values[key] == nil else { throw error("config key '\(key)' given twice", at: keyToken) }
            values[key] = next()
        }
        let closing = current
        try expectSymbol("}")
        var reader = ConfigReader(values: values, parser: self, closing: closing)
        return try reader.read()
    }

    static let configKeys: Set<String> = [
        "hidden_size", "num_layers", "num_heads", "head_dim", "ffn_size", "vocab_size", "norm",
        "norm_placement", "norm_eps", "activation", "gated_ffn", "linear_bias", "attention_scale", "causal",
        "positions", "last_layer_includes_final_norm", "relative_buckets", "relative_max_distance", "max_positions",
        "type_vocab_size", "projection_dim", "bos_token_id", "eos_token_id", "pad_token_id",
    ]

    /// Typed access to the `config { ... }` block's raw values.
    private struct ConfigReader {
        let values: [String: IRToken]
        let parser: IRParser
        let closing: IRToken

        func token(_ key: String) throws -> IRToken {
            guard let token = values[key] else { throw parser.error("config is missing '\(key)'", at: closing) }
            return token
        }
        func int(_ key: String) throws -> Int {
            let t = try token(key)
            guard case let .integer(value) = t.kind else { throw parser.error("config '\(key)' must be an integer", at: t) }
            return value
        }
        func optionalInt(_ key: String) throws -> Int? { values[key] == nil ? nil : try int(key) }
        func double(_ key: String) throws -> Double {
            let t = try token(key)
            switch t.kind {
            case let .integer(value): return Double(value)
            case let .number(text):
                guard let value = Double(text), value.isFinite else {
                    throw parser.error("config '\(key)' is not a finite number: '\(text)'", at: t)
                }
                return value
            default: throw parser.error("config '\(key)' must be a number", at: t)
            }
        }
        func bool(_ key: String) throws -> Bool {
            let t = try token(key)
            switch t.kind {
            case .word("true"): return true
            case .word("false"): return false
            default: throw parser.error("config '\(key)' must be true or false", at: t)
            }
        }
        func choice<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type) throws -> E where E.RawValue == String {
            let t = try token(key)
            guard case let .word(text) = t.kind, let value = E(rawValue: text) else {
                let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
                throw parser.error("config '\(key)' must be one of: \(allowed)", at: t)
            }
            return value
        }

        mutating func read() throws -> ModelConfig {
            ModelConfig(
                hiddenSize: try int("hidden_size"), numLayers: try int("num_layers"), numHeads: try int("num_heads"),
                headDim: try int("head_dim"), ffnSize: try int("ffn_size"), vocabSize: try int("vocab_size"),
                norm: try choice("norm", NormKind.self), normPlacement: try choice("norm_placement", NormPlacement.self),
                normEps: try double("norm_eps"), activation: try choice("activation", Activation.self),
                gatedFFN: try bool("gated_ffn"), linearBias: try bool("linear_bias"),
                attentionScale: try choice("attention_scale", AttentionScale.self), causal: try bool("causal"),
                positions: try choice("positions", PositionEncoding.self),
                lastLayerIncludesFinalNorm: try bool("last_layer_includes_final_norm"),
                relativeBuckets: try optionalInt("relative_buckets"),
                relativeMaxDistance: try optionalInt("relative_max_distance"),
                maxPositions: try optionalInt("max_positions"), typeVocabSize: try optionalInt("type_vocab_size"),
                projectionDim: try optionalInt("projection_dim"), bosTokenId: try optionalInt("bos_token_id"),
                eosTokenId: try optionalInt("eos_token_id"), padTokenId: try optionalInt("pad_token_id"))
        }
    }
}
