/// The operand roles each component must have, with their shapes, as a function of the config.
/// One table serves the importers' expectations, the verifier and the interpreter, so the three
/// cannot drift apart. Weights are `[out, in]` as in PyTorch.
public struct RoleSpec: Equatable, Sendable {
    public var role: String
    public var shape: [Int]
    public init(_ role: String, _ shape: [Int]) {
        self.role = role
        self.shape = shape
    }
}

public enum Signatures {
    static func normRoles(_ prefix: String, _ config: ModelConfig) -> [RoleSpec] {
        let d = config.hiddenSize
        switch config.norm {
        case .rms: return [RoleSpec("\(prefix)weight", [d])]
        case .layer: return [RoleSpec("\(prefix)weight", [d]), RoleSpec("\(prefix)bias", [d])]
        }
    }

    static func linearRoles(_ name: String, out: Int, in inputs: Int, bias: Bool) -> [RoleSpec] {
        var roles = [RoleSpec("\(name).weight", [out, inputs])]
        if bias { roles.append(RoleSpec("\(name).bias", [out])) }
        return roles
    }

    public static func subBlock(_ kind: SubBlockKind, _ config: ModelConfig) -> [RoleSpec] {
        let d = config.hiddenSize
        let bias = config.linearBias
        switch kind {
        case .attention:
            let inner = config.innerAttentionSize
            var roles = normRoles("norm.", config)
            for name in ["q", "k", "v"] { roles += linearRoles(name, out: inner, in: d, bias: bias) }
            roles += linearRoles("o", out: d, in: inner, bias: bias)
            if config.positions == .relativePerLayer {
                roles.append(RoleSpec("relative_bias", [config.relativeBuckets ?? 0, config.numHeads]))
            }
            return roles
        case .ffn:
            let f = config.ffnSize
            var roles = normRoles("norm.", config)
            if config.gatedFFN {
                roles += linearRoles("wi_0", out: f, in: d, bias: bias)
                roles += linearRoles("wi_1", out: f, in: d, bias: bias)
            } else {
                roles += linearRoles("wi", out: f, in: d, bias: bias)
            }
            roles += linearRoles("wo", out: d, in: f, bias: bias)
            return roles
        }
    }

    public static func embeddings(_ config: ModelConfig) -> [RoleSpec] {
        let d = config.hiddenSize
        var roles = [RoleSpec("token", [config.vocabSize, d])]
        if config.positions == .learned { roles.append(RoleSpec("position", [config.maxPositions ?? 0, d])) }
        if let types = config.typeVocabSize { roles.append(RoleSpec("token_type", [types, d])) }
        // Post-LN encoders (BERT) normalise the embedding sum before the first block.
        if config.normPlacement == .post { roles += normRoles("norm.", config) }
        return roles
    }

    public static func positionBias(_ config: ModelConfig) -> [RoleSpec] {
        [RoleSpec("table", [config.relativeBuckets ?? 0, config.numHeads])]
    }

    public static func finalNorm(_ config: ModelConfig) -> [RoleSpec] { normRoles("", config) }

    public static func head(_ kind: HeadKind, _ config: ModelConfig) -> [RoleSpec] {
        let d = config.hiddenSize
        switch kind {
        case .eosToken, .argmaxToken: return []
        case .firstTokenTanh: return linearRoles("dense", out: d, in: d, bias: true)
        case .projection: return [RoleSpec("weight", [config.projectionDim ?? 0, d])]
        }
    }

    /// Whether the model has a final norm after the last block (pre-LN encoders do).
    public static func hasFinalNorm(_ config: ModelConfig) -> Bool { config.normPlacement == .pre }

    /// Whether the model has a shared relative-position table outside the sub-blocks.
    public static func hasSharedPositionBias(_ config: ModelConfig) -> Bool {
        config.positions == .relativeShared
    }
}
