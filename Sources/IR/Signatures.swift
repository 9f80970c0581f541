import SkrrSupport

/// The operand roles each component must have, with their shapes, as a function of the config.
/// One table serves the importers' expectations, the verifier and the interpreter, so the three
/// cannot drift apart: the rules themselves are `WeightShapes` (SkrrSupport), shared with the
/// runtime's check of a loaded program; this gives them the IR's exact terms (every role the
/// config calls for, every size pinned). Weights are `[out, in]` as in PyTorch.
public struct RoleSpec: Equatable, Sendable {
    public var role: String
    public var shape: [Int]
    public init(_ role: String, _ shape: [Int]) {
        self.role = role
        self.shape = shape
    }
}

public enum Signatures {
    static func parameters(_ config: ModelConfig) -> WeightShapes.Parameters {
        WeightShapes.Parameters(
            hiddenSize: config.hiddenSize, innerAttentionSize: config.innerAttentionSize, ffnSize: config.ffnSize,
            vocabSize: config.vocabSize, numHeads: config.numHeads, relativeBuckets: config.relativeBuckets,
            maxPositions: config.maxPositions, typeVocabSize: config.typeVocabSize, projectionDim: config.projectionDim,
            normBias: config.norm == .layer, linearBias: config.linearBias, gatedFFN: config.gatedFFN,
            relativeBiasPerLayer: config.positions == .relativePerLayer, learnedPositions: config.positions == .learned,
            tokenTypes: config.typeVocabSize != nil, embeddingNorm: config.normPlacement == .post)
    }

    /// A size the config leaves out (say max_positions) becomes 0, which no declared tensor
    /// has, so the verifier reports the mismatch.
    static func specs(_ roles: [WeightShapes.Role]) -> [RoleSpec] {
        roles.map { RoleSpec($0.name, $0.shape.map { $0 ?? 0 }) }
    }

    public static func subBlock(_ kind: SubBlockKind, _ config: ModelConfig) -> [RoleSpec] {
        switch kind {
        case .attention: return specs(WeightShapes.attention(parameters(config)))
        case .ffn: return specs(WeightShapes.ffn(parameters(config)))
        }
    }

    public static func embeddings(_ config: ModelConfig) -> [RoleSpec] { specs(WeightShapes.embeddings(parameters(config))) }

    public static func positionBias(_ config: ModelConfig) -> [RoleSpec] { specs(WeightShapes.positionTable(parameters(config))) }

    public static func finalNorm(_ config: ModelConfig) -> [RoleSpec] { specs(WeightShapes.finalNorm(parameters(config))) }

    public static func head(_ kind: HeadKind, _ config: ModelConfig) -> [RoleSpec] {
        switch kind {
        case .eosToken, .argmaxToken: return []
        case .firstTokenTanh: return specs(WeightShapes.poolerDense(parameters(config)))
        case .projection: return specs(WeightShapes.projection(parameters(config)))
        }
    }

    /// Whether the model has a final norm after the last block (pre-LN encoders do).
    public static func hasFinalNorm(_ config: ModelConfig) -> Bool { config.normPlacement == .pre }

    /// Whether the model has a shared relative-position table outside the sub-blocks.
    public static func hasSharedPositionBias(_ config: ModelConfig) -> Bool {
        config.positions == .relativeShared
    }
}
