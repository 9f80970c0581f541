import SkrrSupport

/// The encoder families the frontend imports. The family selects the tokenizer and the
/// importer's name table; execution is driven by `ModelConfig`, not by the family.
public enum Family: String, CaseIterable, Sendable {
    case t5
    case umt5
    case clip
    case bert
}

/// Where a tensor's bytes are: a byte range of one of the model's files.
public struct TensorLocation: Equatable, Sendable {
    public var file: Int
    public var offset: Int
    public var length: Int
    public init(file: Int, offset: Int, length: Int) {
        self.file = file
        self.offset = offset
        self.length = length
    }
}

/// Where a tensor's values come from.
public enum TensorOrigin: Equatable, Sendable {
    /// Bytes stored in one of the model's files.
    case file(TensorLocation)
    /// LaCo's layer merge (RDSC): `base + Σ_k (delta_k − base)`, computed in f32 in the order
    /// written and rounded once to the declared dtype. Inputs are tensors declared earlier, so
    /// merges may nest (a merged layer folded again) but never form a cycle.
    case merge(base: String, deltas: [String])

    /// The tensors this one is computed from (none for stored tensors).
    public var inputs: [String] {
        switch self {
        case .file: return []
        case let .merge(base, deltas): return [base] + deltas
        }
    }
}

/// A weight tensor: the IR never holds weight values, only their description and where they
/// come from (a file range, or an expression over other tensors).
public struct TensorDecl: Equatable, Sendable {
    public var name: String
    public var dtype: DType
    public var shape: [Int]
    public var origin: TensorOrigin

    public init(name: String, dtype: DType, shape: [Int], location: TensorLocation) {
        self.init(name: name, dtype: dtype, shape: shape, origin: .file(location))
    }

    public init(name: String, dtype: DType, shape: [Int], origin: TensorOrigin) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.origin = origin
    }

    /// The file range of a stored tensor; nil for a derived one.
    public var location: TensorLocation? {
        get {
            if case let .file(location) = origin { return location }
            return nil
        }
        set { if let newValue { origin = .file(newValue) } }
    }

    public var elementCount: Int { checkedElementCount(shape) ?? 0 }

    /// Bytes the tensor takes in its dtype, stored or once materialised.
    public var byteCount: Int { elementCount * dtype.byteSize }
}

/// A named use of a tensor inside a component (`q.weight`, `norm.weight`, `token`, ...).
public struct Operand: Equatable, Sendable {
    public var role: String
    public var tensor: String
    public init(role: String, tensor: String) {
        self.role = role
        self.tensor = tensor
    }
}

public enum SubBlockKind: String, CaseIterable, Sendable {
    /// Norm + self-attention + residual (sub-block `2i`).
    case attention
    /// Norm + feed-forward + residual (sub-block `2i+1`).
    case ffn
}

/// The unit the Skrr method skips and re-uses (docs/architecture.md §4).
public struct SubBlock: Equatable, Sendable {
    public var index: Int
    public var kind: SubBlockKind
    public var block: Int
    public var operands: [Operand]

    public init(index: Int, kind: SubBlockKind, block: Int, operands: [Operand]) {
        self.index = index
        self.kind = kind
        self.block = block
        self.operands = operands
    }

    public func tensor(for role: String) -> String? { operands.first(where: { $0.role == role })?.tensor }
}

/// One position of the schedule: run a sub-block (its own, or another's = re-use) or skip.
public enum Slot: Equatable, Sendable {
    case run(Int)
    case skip
}

public enum HeadKind: String, CaseIterable, Sendable {
    /// The final hidden state at the first EOS token (CLIP).
    case eosToken = "eos_token"
    /// The final hidden state at the largest token id (CLIP configs with legacy eos_token_id 2).
    case argmaxToken = "argmax_token"
    /// BERT's pooler: tanh(dense(first token)).
    case firstTokenTanh = "first_token_tanh"
    /// A bias-free linear map of the pooled output (CLIP's text_projection).
    case projection
}

/// An output besides the hidden states: pooled and projected embeddings.
public struct Head: Equatable, Sendable {
    public var name: String
    public var kind: HeadKind
    public var operands: [Operand]
    public init(name: String, kind: HeadKind, operands: [Operand] = []) {
        self.name = name
        self.kind = kind
        self.operands = operands
    }
}

public enum TokenizerKind: String, CaseIterable, Sendable {
    case sentencepiece
    case clipBPE = "clip_bpe"
    case wordpiece
}

/// Which tokenizer turns prompts into ids, and its files (relative to the model root).
public struct TokenizerRef: Equatable, Sendable {
    public var kind: TokenizerKind
    public var files: [String]
    public var lowercase: Bool
    public init(kind: TokenizerKind, files: [String], lowercase: Bool = false) {
        self.kind = kind
        self.files = files
        self.lowercase = lowercase
    }
}

/// A whole encoder: the layer graph the passes rewrite and the backend lowers.
///
/// Value-typed so a pass can copy, change and compare models freely; the text form
/// (`IRPrinter` / `IRParser`) is exact, so any model can be dumped, edited and read back.
public struct ModelIR: Equatable, Sendable {
    public var family: Family
    public var name: String
    /// The folder the model was imported from; `files` and tokenizer paths are relative to it.
    public var root: String
    /// Element count of every tensor of the source encoder: the denominator of sparsity.
    public var sourceParameters: Int
    public var files: [String]
    public var tokenizer: TokenizerRef?
    public var config: ModelConfig
    public var tensors: [TensorDecl]
    public var embeddings: [Operand]
    /// The shared relative-position table (T5); nil for per-layer tables or learned positions.
    public var positionBias: [Operand]?
    public var subBlocks: [SubBlock]
    public var finalNorm: [Operand]?
    public var heads: [Head]
    public var schedule: [Slot]

    /// The weight and tokenizer files the model reads, under `root`.
    public var inputFiles: [String] {
        (files + (tokenizer?.files ?? [])).map { FileSystem.join(root, $0) }
    }

    public init(
        family: Family, name: String, root: String, sourceParameters: Int, files: [String],
        tokenizer: TokenizerRef?, config: ModelConfig, tensors: [TensorDecl], embeddings: [Operand],
        positionBias: [Operand]?, subBlocks: [SubBlock], finalNorm: [Operand]?, heads: [Head],
        schedule: [Slot]
    ) {
        self.family = family
        self.name = name
        self.root = root
        self.sourceParameters = sourceParameters
        self.files = files
        self.tokenizer = tokenizer
        self.config = config
        self.tensors = tensors
        self.embeddings = embeddings
        self.positionBias = positionBias
        self.subBlocks = subBlocks
        self.finalNorm = finalNorm
        self.heads = heads
        self.schedule = schedule
    }

    public func tensor(named name: String) -> TensorDecl? { tensors.first(where: { $0.name == name }) }
}
