import SkrrSupport

/// What the interpreter executes: the encoder's numerics, its tensor table and the lowered
/// schedule (which weights run in which slot). The backend lowers the compiler's IR into this;
/// the runtime file stores it. It mirrors the IR on purpose so the runtime never imports the
/// compiler.
public struct EncoderProgram: Equatable, Sendable {
    public var spec: EncoderSpec
    public var tensors: [ProgramTensor]
    public var embeddings: EmbeddingWeights
    /// T5's shared relative-position table, used by every attention slot.
    public var sharedPositionBias: Int?
    public var slots: [ProgramSlot]
    public var finalNorm: NormWeights?
    public var pooling: Pooling?
    /// Bias-free projection of the pooled output (CLIP's text_projection).
    public var projection: Int?
    public var tokenizer: TokenizerFiles?

    public init(spec: EncoderSpec, tensors: [ProgramTensor], embeddings: EmbeddingWeights, sharedPositionBias: Int?,
                slots: [ProgramSlot], finalNorm: NormWeights?, pooling: Pooling?, projection: Int?,
                tokenizer: TokenizerFiles?) {
        self.spec = spec
        self.tensors = tensors
        self.embeddings = embeddings
        self.sharedPositionBias = sharedPositionBias
        self.slots = slots
        self.finalNorm = finalNorm
        self.pooling = pooling
        self.projection = projection
        self.tokenizer = tokenizer
    }

    /// Number of transformer blocks (two slots each).
    public var blockCount: Int { slots.count / 2 }
}

public enum RuntimeNorm: String, Sendable, CaseIterable { case rms, layer }
public enum RuntimeActivation: String, Sendable, CaseIterable { case geluTanh = "gelu_tanh", gelu, quickGelu = "quick_gelu", relu }

/// The numerics of the encoder, as explicit values.
public struct EncoderSpec: Equatable, Sendable {
    public var hiddenSize: Int
    public var numHeads: Int
    public var headDim: Int
    public var ffnSize: Int
    public var vocabSize: Int
    public var norm: RuntimeNorm
    public var postNorm: Bool
    public var normEps: Double
    public var activation: RuntimeActivation
    public var gatedFFN: Bool
    public var scaleScores: Bool
    public var causal: Bool
    /// Relative-position buckets and max distance (T5, UMT5); nil for learned positions.
    public var relativeBuckets: Int?
    public var relativeMaxDistance: Int?
    public var maxPositions: Int?
    public var eosTokenId: Int?
    public var padTokenId: Int?
    /// T5 applies its final norm inside the stack, so transformers' last hidden_states entry is
    /// normed; CLIP applies it outside. This decides what `layer:-1` returns.
    public var finalNormInsideStack: Bool

    public init(hiddenSize: Int, numHeads: Int, headDim: Int, ffnSize: Int, vocabSize: Int, norm: RuntimeNorm,
                postNorm: Bool, normEps: Double, activation: RuntimeActivation, gatedFFN: Bool, scaleScores: Bool,
                causal: Bool, relativeBuckets: Int?, relativeMaxDistance: Int?, maxPositions: Int?, eosTokenId: Int?,
                padTokenId: Int?, finalNormInsideStack: Bool) {
        self.hiddenSize = hiddenSize
        self.numHeads = numHeads
        self.headDim = headDim
        self.ffnSize = ffnSize
        self.vocabSize = vocabSize
        self.norm = norm
        self.postNorm = postNorm
        self.normEps = normEps
        self.activation = activation
        self.gatedFFN = gatedFFN
        self.scaleScores = scaleScores
        self.causal = causal
        self.relativeBuckets = relativeBuckets
        self.relativeMaxDistance = relativeMaxDistance
        self.maxPositions = maxPositions
        self.eosTokenId = eosTokenId
        self.padTokenId = padTokenId
        self.finalNormInsideStack = finalNormInsideStack
    }

    public var innerSize: Int { numHeads * headDim }
}

public struct ProgramTensor: Equatable, Sendable {
    public var name: String
    public var dtype: WeightType
    public var shape: [Int]
    public init(name: String, dtype: WeightType, shape: [Int]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
    }
    public var elementCount: Int { shape.reduce(1, *) }
}

public struct NormWeights: Equatable, Sendable {
    public var weight: Int
    public var bias: Int?
    public init(weight: Int, bias: Int?) {
        self.weight = weight
        self.bias = bias
    }
}

public struct LinearWeights: Equatable, Sendable {
    public var weight: Int
    public var bias: Int?
    public init(weight: Int, bias: Int?) {
        self.weight = weight
        self.bias = bias
    }
}

public struct EmbeddingWeights: Equatable, Sendable {
    public var token: Int
    public var position: Int?
    public var tokenType: Int?
    public var norm: NormWeights?
    public init(token: Int, position: Int?, tokenType: Int?, norm: NormWeights?) {
        self.token = token
        self.position = position
        self.tokenType = tokenType
        self.norm = norm
    }
}

public struct AttentionWeights: Equatable, Sendable {
    public var norm: NormWeights
    public var q: LinearWeights, k: LinearWeights, v: LinearWeights, o: LinearWeights
    /// A per-layer relative-position table (UMT5).
    public var relativeBias: Int?
    public init(norm: NormWeights, q: LinearWeights, k: LinearWeights, v: LinearWeights, o: LinearWeights, relativeBias: Int?) {
        self.norm = norm
        self.q = q
        self.k = k
        self.v = v
        self.o = o
        self.relativeBias = relativeBias
    }
}

public struct FFNWeights: Equatable, Sendable {
    public var norm: NormWeights
    /// `wi` for plain FFNs; the activated branch `wi_0` for gated ones.
    public var wi: LinearWeights
    /// The linear branch `wi_1` of gated FFNs.
    public var wiGate: LinearWeights?
    public var wo: LinearWeights
    public init(norm: NormWeights, wi: LinearWeights, wiGate: LinearWeights?, wo: LinearWeights) {
        self.norm = norm
        self.wi = wi
        self.wiGate = wiGate
        self.wo = wo
    }
}

/// One schedule position. `source` is the sub-block whose weights run (≠ slot index: re-use).
public enum ProgramSlot: Equatable, Sendable {
    case skip
    case attention(AttentionWeights, source: Int)
    case ffn(FFNWeights, source: Int)
}

public enum Pooling: Equatable, Sendable {
    /// The final hidden state at the first `eos_token_id` (CLIP).
    case eosToken
    /// At the largest id (CLIP configs with legacy eos_token_id 2).
    case argmaxToken
    /// tanh(dense(first token)) (BERT's pooler).
    case firstTokenTanh(LinearWeights)
}

public enum TokenizerKindName: String, Sendable, CaseIterable {
    case sentencepiece, clipBPE = "clip_bpe", wordpiece

    /// The files each kind needs, in order, by the names a runtime file stores them under.
    public var fileNames: [String] {
        switch self {
        case .sentencepiece: return ["spiece.model"]
        case .clipBPE: return ["vocab.json", "merges.txt"]
        case .wordpiece: return ["vocab.txt"]
        }
    }
}

/// The tokenizer's files: where they are (a model folder), or their contents (a runtime file).
/// `paths` are absolute or relative to the current directory; when `contents` is set it holds
/// the bytes of each file in the same order and `paths` only name them (for messages).
public struct TokenizerFiles: Equatable, Sendable {
    public var kind: TokenizerKindName
    public var paths: [String]
    public var lowercase: Bool
    public var contents: [[UInt8]]?
    public init(kind: TokenizerKindName, paths: [String], lowercase: Bool, contents: [[UInt8]]? = nil) {
        self.kind = kind
        self.paths = paths
        self.lowercase = lowercase
        self.contents = contents
    }

    /// How many files each kind needs (`TokenizerKindName.fileNames`).
    public static func fileCount(_ kind: TokenizerKindName) -> Int { kind.fileNames.count }

    /// The same files with their bytes read in, so a program can travel without its folder.
    public func withContents(read: (String) throws -> [UInt8]) throws -> TokenizerFiles {
        if contents != nil { return self }
        var copy = self
        copy.contents = try paths.map(read)
        return copy
    }
}

/// Raw bytes of the program's tensors. Implemented over a safetensors mmap (running a model
/// folder) or over the runtime file's mmap; never copies whole weights.
public protocol WeightSource: Sendable {
    func bytes(ofTensor index: Int) -> UnsafeRawBufferPointer
    /// The f32 row scales of an `int8` tensor (4 bytes per row of its outermost dimension, as
    /// stored: little-endian, 4-byte aligned); nil for every other tensor.
    func scales(ofTensor index: Int) -> UnsafeRawBufferPointer?
}

extension WeightSource {
    /// Sources that only hold float tensors (checkpoints) have no scales.
    public func scales(ofTensor index: Int) -> UnsafeRawBufferPointer? { nil }
}
