/// Which weights (roles) each component of an encoder has, and the shape of each, as a function
/// of the encoder's sizes. The one table behind the compiler's IR signatures (SkrrIR) and the
/// runtime's check of a loaded program (SkrrRuntime), which cannot import each other; both
/// import this. Weights are `[out, in]` as in PyTorch.
public enum WeightShapes {
    /// The sizes and structure the shapes depend on. A size left nil is not pinned: the
    /// runtime accepts any positive size where the hyper-parameters do not fix it (the compiler
    /// always knows it).
    public struct Parameters: Sendable {
        public var hiddenSize: Int
        /// num_heads × head_dim, which T5 allows to differ from `hiddenSize`.
        public var innerAttentionSize: Int
        public var ffnSize: Int
        public var vocabSize: Int
        public var numHeads: Int
        public var relativeBuckets: Int?
        public var maxPositions: Int?
        public var typeVocabSize: Int?
        public var projectionDim: Int?
        /// LayerNorm has a bias, RMSNorm does not.
        public var normBias: Bool
        public var linearBias: Bool
        /// `wi_0` and `wi_1` (activated and linear branch) instead of one `wi`.
        public var gatedFFN: Bool
        /// A relative-position table in every attention sub-block (UMT5).
        public var relativeBiasPerLayer: Bool
        public var learnedPositions: Bool
        public var tokenTypes: Bool
        /// Post-norm encoders (BERT) normalise the embedding sum before the first block.
        public var embeddingNorm: Bool

        public init(hiddenSize: Int, innerAttentionSize: Int, ffnSize: Int, vocabSize: Int, numHeads: Int,
                    relativeBuckets: Int?, maxPositions: Int?, typeVocabSize: Int?, projectionDim: Int?, normBias: Bool,
                    linearBias: Bool, gatedFFN: Bool, relativeBiasPerLayer: Bool, learnedPositions: Bool, tokenTypes: Bool,
                    embeddingNorm: Bool) {
            self.hiddenSize = hiddenSize
            self.innerAttentionSize = innerAttentionSize
            self.ffnSize = ffnSize
            self.vocabSize = vocabSize
            self.numHeads = numHeads
            self.relativeBuckets = relativeBuckets
            self.maxPositions = maxPositions
            self.typeVocabSize = typeVocabSize
            self.projectionDim = projectionDim
            self.normBias = normBias
            self.linearBias = linearBias
            self.gatedFFN = gatedFFN
            self.relativeBiasPerLayer = relativeBiasPerLayer
            self.learnedPositions = learnedPositions
            self.tokenTypes = tokenTypes
            self.embeddingNorm = embeddingNorm
        }
    }

    /// One weight of a component: its role and its shape (a nil dimension: any positive size).
    public struct Role: Equatable, Sendable {
        public var name: String
        public var shape: [Int?]
        public init(_ name: String, _ shape: [Int?]) {
            self.name = name
            self.shape = shape
        }
    }

    /// `<prefix>weight` and, for LayerNorm, `<prefix>bias`.
    static func norm(_ prefix: String, _ p: Parameters) -> [Role] {
        let d = p.hiddenSize
        return [Role("\(prefix)weight", [d])] + (p.normBias ? [Role("\(prefix)bias", [d])] : [])
    }

    static func linear(_ name: String, out: Int?, in inputs: Int, bias: Bool) -> [Role] {
        [Role("\(name).weight", [out, inputs])] + (bias ? [Role("\(name).bias", [out])] : [])
    }

    public static func attention(_ p: Parameters) -> [Role] {
        let d = p.hiddenSize, inner = p.innerAttentionSize
        var roles = norm("norm.", p)
        for name in ["q", "k", "v"] { roles += linear(name, out: inner, in: d, bias: p.linearBias) }
        roles += linear("o", out: d, in: inner, bias: p.linearBias)
        if p.relativeBiasPerLayer { roles += positionTable(p, role: "relative_bias") }
        return roles
    }

    public static func ffn(_ p: Parameters) -> [Role] {
        let d = p.hiddenSize, f = p.ffnSize
        var roles = norm("norm.", p)
        if p.gatedFFN {
            roles += linear("wi_0", out: f, in: d, bias: p.linearBias)
            roles += linear("wi_1", out: f, in: d, bias: p.linearBias)
        } else {
            roles += linear("wi", out: f, in: d, bias: p.linearBias)
        }
        roles += linear("wo", out: d, in: f, bias: p.linearBias)
        return roles
    }

    public static func embeddings(_ p: Parameters) -> [Role] {
        let d = p.hiddenSize
        var roles = [Role("token", [p.vocabSize, d])]
        if p.learnedPositions { roles.append(Role("position", [p.maxPositions, d])) }
        if p.tokenTypes { roles.append(Role("token_type", [p.typeVocabSize, d])) }
        if p.embeddingNorm { roles += norm("norm.", p) }
        return roles
    }

    /// A relative-position table, `[buckets, heads]`: T5's shared one (role "table" in the IR)
    /// or a UMT5 attention sub-block's own ("relative_bias").
    public static func positionTable(_ p: Parameters, role: String = "table") -> [Role] {
        [Role(role, [p.relativeBuckets, p.numHeads])]
    }

    public static func finalNorm(_ p: Parameters) -> [Role] { norm("", p) }

    /// BERT's pooler: `tanh(dense(first token))`, always with a bias.
    public static func poolerDense(_ p: Parameters) -> [Role] {
        linear("dense", out: p.hiddenSize, in: p.hiddenSize, bias: true)
    }

    /// CLIP's text projection of the pooled output: bias-free.
    public static func projection(_ p: Parameters) -> [Role] { [Role("weight", [p.projectionDim, p.hiddenSize])] }
}
