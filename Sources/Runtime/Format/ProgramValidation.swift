import SkrrSupport

/// Checks that a program is safe to execute: every tensor reference is in range and every
/// tensor has the shape its role needs under the hyper-parameters, so the interpreter never
/// reads outside a weight. Collects every problem, not just the first. The shapes come from
/// `WeightShapes`, the table the compiler's IR verifier uses too.
public enum ProgramValidation {
    public static func validate(_ program: EncoderProgram, file: String) throws {
        let s = program.spec
        let d = s.hiddenSize, inner = s.innerSize, f = s.ffnSize
        var problems: [String] = []
        var firstKey: String?
        func problem(_ key: String, _ message: String) {
            if firstKey == nil { firstKey = key }
            problems.append("'\(key)': \(message)")
        }
        for (dimension, value) in [("hidden_size", d), ("num_heads × head_dim", inner), ("ffn_size", f)]
        where value <= 0 || value > 1 << 24 {
            problem(dimension, "\(value) is not a usable size (1...\(1 << 24))")
        }
        func check(_ index: Int?, _ what: String, _ expected: [Int?]) {
            guard let index else { return }
            guard index >= 0 && index < program.tensors.count else {
                problem(what, "refers to tensor \(index), but there are \(program.tensors.count) tensors")
                return
            }
            let tensor = program.tensors[index]
            let matches = tensor.shape.count == expected.count
                && zip(tensor.shape, expected).allSatisfy { actual, want in want.map { $0 == actual } ?? (actual > 0) }
            if !matches {
                let want = "[" + expected.map { $0.map(String.init) ?? "N" }.joined(separator: ", ") + "]"
                problem(tensor.name, "as \(what), expected shape \(want), got \(formatShape(tensor.shape))")
            }
        }
        func norm(_ w: NormWeights?, _ what: String, _ shapes: RoleShapes, prefix: String) {
            guard let w else { return }
            check(w.weight, "\(what) weight", shapes[prefix + "weight"])
            check(w.bias, "\(what) bias", shapes[prefix + "bias"])
        }
        func linear(_ w: LinearWeights, _ what: String, _ shapes: RoleShapes, role: String) {
            check(w.weight, "\(what).weight", shapes[role + ".weight"])
            check(w.bias, "\(what).bias", shapes[role + ".bias"])
        }
        let parameters = s.shapeParameters(gatedFFN: s.gatedFFN)
        let embeddingShapes = RoleShapes(WeightShapes.embeddings(parameters))
        let e = program.embeddings
        check(e.token, "token embedding", embeddingShapes["token"])
        check(e.position, "position embedding", embeddingShapes["position"])
        check(e.tokenType, "token-type embedding", embeddingShapes["token_type"])
        norm(e.norm, "embedding norm", embeddingShapes, prefix: "norm.")
        if s.relativeBuckets != nil {
            check(program.sharedPositionBias, "shared relative-position table", RoleShapes(WeightShapes.positionTable(parameters))["table"])
        } else if program.sharedPositionBias != nil {
            problem("position_bias", "a relative-position table needs relative_buckets and relative_max_distance")
        }
        let perLayer = s.relativeBuckets != nil && program.sharedPositionBias == nil
        let attentionShapes = RoleShapes(WeightShapes.attention(parameters))
        for (index, slot) in program.slots.enumerated() {
            switch slot {
            case .skip: continue
            case let .attention(w, source):
                let what = "sub-block \(source) (attention)"
                if index % 2 != 0 || source % 2 != 0 || source < 0 || source >= program.slots.count {
                    problem("slot \(index)", "cannot run \(what)")
                }
                norm(w.norm, "\(what) norm", attentionShapes, prefix: "norm.")
                for (name, l) in [("q", w.q), ("k", w.k), ("v", w.v), ("o", w.o)] { linear(l, "\(what) \(name)", attentionShapes, role: name) }
                if perLayer {
                    if w.relativeBias == nil { problem(what, "per-layer relative positions need a 'relative_bias' table") }
                    check(w.relativeBias, "\(what) relative_bias", attentionShapes["relative_bias"])
                } else if w.relativeBias != nil {
                    problem(what, "has a 'relative_bias' table, but the encoder does not use per-layer relative positions")
                }
            case let .ffn(w, source):
                let what = "sub-block \(source) (ffn)"
                if index % 2 != 1 || source % 2 != 1 || source < 0 || source >= program.slots.count {
                    problem("slot \(index)", "cannot run \(what)")
                }
                // The shapes of the roles the sub-block has; a gating mismatch is reported below.
                let shapes = RoleShapes(WeightShapes.ffn(s.shapeParameters(gatedFFN: w.wiGate != nil)))
                norm(w.norm, "\(what) norm", shapes, prefix: "norm.")
                linear(w.wi, "\(what) wi", shapes, role: w.wiGate == nil ? "wi" : "wi_0")
                if let gate = w.wiGate { linear(gate, "\(what) wi_1", shapes, role: "wi_1") }
                if s.gatedFFN != (w.wiGate != nil) { problem(what, s.gatedFFN ? "a gated FFN needs wi_1" : "has wi_1, but the FFN is not gated") }
                linear(w.wo, "\(what) wo", shapes, role: "wo")
            }
        }
        if program.slots.count % 2 != 0 { problem("slots", "expected an even number of slots, got \(program.slots.count)") }
        norm(program.finalNorm, "final norm", RoleShapes(WeightShapes.finalNorm(parameters)), prefix: "")
        if case let .firstTokenTanh(dense) = program.pooling {
            linear(dense, "pooler dense", RoleShapes(WeightShapes.poolerDense(parameters)), role: "dense")
        }
        if let projection = program.projection {
            check(projection, "projection", RoleShapes(WeightShapes.projection(parameters))["weight"])
            if program.pooling == nil { problem("projection", "needs a pooling head") }
        }
        // int8 only where the kernels expect row scales: the linear matrices and the token table.
        let capable = program.int8CapableTensors
        for (index, tensor) in program.tensors.enumerated() where tensor.dtype.isScaled {
            if !capable.contains(index) {
                problem(tensor.name, "is stored int8, but only linear weights and the token embedding may be (norms, biases, position tables and heads stay f32, f16 or bf16)")
            } else if tensor.shape.count != 2 {
                problem(tensor.name, "an int8 tensor needs 2 dimensions (rows that carry a scale each), got \(formatShape(tensor.shape))")
            }
        }
        guard problems.isEmpty else {
            throw SkrrError(file: file, key: problems.count == 1 ? firstKey : nil,
                            problems.count == 1 ? String(problems[0].dropFirst(firstKey!.count + 4)) : "\(problems.count) problems in the program",
                            notes: problems.count == 1 ? [] : problems)
        }
    }
}

/// One component's role → shape table.
struct RoleShapes {
    let byRole: [String: [Int?]]

    init(_ roles: [WeightShapes.Role]) { byRole = Dictionary(uniqueKeysWithValues: roles.map { ($0.name, $0.shape) }) }

    /// The shape of `role`. The runtime's parameters allow every optional role, so a role the
    /// program structure names is always in the table.
    subscript(role: String) -> [Int?] {
        guard let shape = byRole[role] else { preconditionFailure("no shape rule for role '\(role)'") }
        return shape
    }
}

extension EncoderSpec {
    /// `WeightShapes` parameters for a program: every optional weight allowed (what is present
    /// is checked; whether it should be is a separate check), and the sizes the
    /// hyper-parameters do not fix (position, token-type and projection rows) left open.
    func shapeParameters(gatedFFN: Bool) -> WeightShapes.Parameters {
        WeightShapes.Parameters(
            hiddenSize: hiddenSize, innerAttentionSize: innerSize, ffnSize: ffnSize, vocabSize: vocabSize, numHeads: numHeads,
            relativeBuckets: relativeBuckets, maxPositions: nil, typeVocabSize: nil, projectionDim: nil, normBias: true,
            linearBias: true, gatedFFN: gatedFFN, relativeBiasPerLayer: true, learnedPositions: true, tokenTypes: true,
            embeddingNorm: true)
    }
}
