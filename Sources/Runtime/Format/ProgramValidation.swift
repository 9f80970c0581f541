import SkrrSupport

/// Checks that a program is safe to execute: every tensor reference is in range and every
/// tensor has the shape its role needs under the hyper-parameters, so the interpreter never
/// reads outside a weight. Collects every problem, not just the first.
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
        func norm(_ w: NormWeights?, _ what: String) {
            guard let w else { return }
            check(w.weight, "\(what) weight", [d])
            check(w.bias, "\(what) bias", [d])
        }
        func linear(_ w: LinearWeights, _ what: String, out: Int?, in width: Int) {
            check(w.weight, "\(what).weight", [out, width])
            if let out { check(w.bias, "\(what).bias", [out]) }
        }
        let e = program.embeddings
        check(e.token, "token embedding", [s.vocabSize, d])
        check(e.position, "position embedding", [nil, d])
        check(e.tokenType, "token-type embedding", [nil, d])
        norm(e.norm, "embedding norm")
        if let buckets = s.relativeBuckets {
            check(program.sharedPositionBias, "shared relative-position table", [buckets, s.numHeads])
        } else if program.sharedPositionBias != nil {
            problem("position_bias", "a relative-position table needs relative_buckets and relative_max_distance")
        }
        let perLayer = s.relativeBuckets != nil && program.sharedPositionBias == nil
        for (index, slot) in program.slots.enumerated() {
            switch slot {
            case .skip: continue
            case let .attention(w, source):
                let what = "sub-block \(source) (attention)"
                if index % 2 != 0 || source % 2 != 0 || source < 0 || source >= program.slots.count {
                    problem("slot \(index)", "cannot run \(what)")
                }
                norm(w.norm, "\(what) norm")
                for (name, l) in [("q", w.q), ("k", w.k), ("v", w.v)] { linear(l, "\(what) \(name)", out: inner, in: d) }
                linear(w.o, "\(what) o", out: d, in: inner)
                if perLayer {
                    if w.relativeBias == nil { problem(what, "per-layer relative positions need a 'relative_bias' table") }
                    check(w.relativeBias, "\(what) relative_bias", [s.relativeBuckets!, s.numHeads])
                } else if w.relativeBias != nil {
                    problem(what, "has a 'relative_bias' table, but the encoder does not use per-layer relative positions")
                }
            case let .ffn(w, source):
                let what = "sub-block \(source) (ffn)"
                if index % 2 != 1 || source % 2 != 1 || source < 0 || source >= program.slots.count {
                    problem("slot \(index)", "cannot run \(what)")
                }
                norm(w.norm, "\(what) norm")
                linear(w.wi, "\(what) wi", out: f, in: d)
                if let gate = w.wiGate { linear(gate, "\(what) wi_1", out: f, in: d) }
                if s.gatedFFN != (w.wiGate != nil) { problem(what, s.gatedFFN ? "a gated FFN needs wi_1" : "has wi_1, but the FFN is not gated") }
                linear(w.wo, "\(what) wo", out: d, in: f)
            }
        }
        if program.slots.count % 2 != 0 { problem("slots", "expected an even number of slots, got \(program.slots.count)") }
        norm(program.finalNorm, "final norm")
        if case let .firstTokenTanh(dense) = program.pooling { linear(dense, "pooler dense", out: d, in: d) }
        if let projection = program.projection {
            check(projection, "projection", [nil, d])
            if program.pooling == nil { problem("projection", "needs a pooling head") }
        }
        guard problems.isEmpty else {
            throw SkrrError(file: file, key: problems.count == 1 ? firstKey : nil,
                            problems.count == 1 ? String(problems[0].dropFirst(firstKey!.count + 4)) : "\(problems.count) problems in the program",
                            notes: problems.count == 1 ? [] : problems)
        }
    }
}
