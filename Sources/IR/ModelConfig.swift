/// The numerics of an encoder, spelled out explicitly so the interpreter executes attributes,
/// never family names: a T5 and a CLIP differ only in the values below (docs/architecture.md §3).
public struct ModelConfig: Equatable, Sendable {
    public var hiddenSize: Int
    public var numLayers: Int
    public var numHeads: Int
    public var headDim: Int
    public var ffnSize: Int
    public var vocabSize: Int
    public var norm: NormKind
    public var normPlacement: NormPlacement
    public var normEps: Double
    public var activation: Activation
    public var gatedFFN: Bool
    /// Whether linear layers carry biases (CLIP, BERT) or not (T5).
    public var linearBias: Bool
    public var attentionScale: AttentionScale
    public var causal: Bool
    public var positions: PositionEncoding
    /// Whether the last layer's hidden state (`layer:N`, transformers' `hidden_states[-1]`)
    /// is taken after the final norm. T5 and UMT5 apply their final norm inside the encoder
    /// stack, so that entry is normed; CLIP applies it after the stack, so it is the raw output
    /// of the last block; post-norm encoders (BERT) have no final norm. The family decides it,
    /// so the importer sets it and everything below reads the attribute, not the family.
    public var lastLayerIncludesFinalNorm: Bool
    public var relativeBuckets: Int?
    public var relativeMaxDistance: Int?
    public var maxPositions: Int?
    public var typeVocabSize: Int?
    public var projectionDim: Int?
    public var bosTokenId: Int?
    public var eosTokenId: Int?
    public var padTokenId: Int?

    public init(
        hiddenSize: Int, numLayers: Int, numHeads: Int, headDim: Int, ffnSize: Int, vocabSize: Int,
        norm: NormKind, normPlacement: NormPlacement, normEps: Double, activation: Activation,
        gatedFFN: Bool, linearBias: Bool, attentionScale: AttentionScale, causal: Bool,
        positions: PositionEncoding, lastLayerIncludesFinalNorm: Bool, relativeBuckets: Int? = nil,
        relativeMaxDistance: Int? = nil, maxPositions: Int? = nil, typeVocabSize: Int? = nil, projectionDim: Int? = nil,
        bosTokenId: Int? = nil, eosTokenId: Int? = nil, padTokenId: Int? = nil
    ) {
        self.hiddenSize = hiddenSize
        self.numLayers = numLayers
        self.numHeads = numHeads
        self.headDim = headDim
        self.ffnSize = ffnSize
        self.vocabSize = vocabSize
        self.norm = norm
        self.normPlacement = normPlacement
        self.normEps = normEps
        self.activation = activation
        self.gatedFFN = gatedFFN
        self.linearBias = linearBias
        self.attentionScale = attentionScale
        self.causal = causal
        self.positions = positions
        self.lastLayerIncludesFinalNorm = lastLayerIncludesFinalNorm
        self.relativeBuckets = relativeBuckets
        self.relativeMaxDistance = relativeMaxDistance
        self.maxPositions = maxPositions
        self.typeVocabSize = typeVocabSize
        self.projectionDim = projectionDim
        self.bosTokenId = bosTokenId
        self.eosTokenId = eosTokenId
        self.padTokenId = padTokenId
    }

    /// Width of the concatenated attention heads; T5 allows it to differ from `hiddenSize`.
    public var innerAttentionSize: Int { numHeads * headDim }
}

public enum NormKind: String, CaseIterable, Sendable {
    /// `x * rsqrt(mean(x²) + eps) * w` (T5): no mean subtraction, no bias.
    case rms
    /// Standard LayerNorm with weight and bias (CLIP, BERT).
    case layer
}

public enum NormPlacement: String, CaseIterable, Sendable {
    /// `x + f(norm(x))` (T5, CLIP).
    case pre
    /// `norm(x + f(x))` (BERT).
    case post
}

public enum Activation: String, CaseIterable, Sendable {
    case geluTanh = "gelu_tanh"
    case gelu = "gelu"
    case quickGelu = "quick_gelu"
    case relu = "relu"
}

public enum AttentionScale: String, CaseIterable, Sendable {
    /// T5 folds the scale into its initialisation: scores are not scaled.
    case none
    case invSqrtHeadDim = "inv_sqrt_head_dim"
}

public enum PositionEncoding: String, CaseIterable, Sendable {
    /// One bucketed bias table (in block 0 of T5) added in every layer.
    case relativeShared = "relative_shared"
    /// A bias table per attention sub-block (UMT5).
    case relativePerLayer = "relative_per_layer"
    /// Learned absolute position embeddings added to the token embeddings (CLIP, BERT).
    case learned
}
