import CManifest

/// One protobuf enum of the manifest and the Swift values it stands for. Each mapping is
/// written once, here: the decoder reads with `value(_:)`, the writer (SkrrBackend) writes
/// with `wire(_:)`, so the two directions cannot drift apart.
package struct ManifestEnum<Value: Equatable & Sendable, Wire: RawRepresentable & Equatable & Sendable>: Sendable
where Wire.RawValue == UInt32 {
    package let cases: [(value: Value, wire: Wire)]
    /// How the decoder's messages describe the valid wire values ("PRE (1) or POST (2)").
    package let expected: String

    init(_ cases: [(value: Value, wire: Wire)], expected: String) {
        self.cases = cases
        self.expected = expected
    }

    /// The value a wire number stands for; nil for a number this reader does not know.
    package func value(_ wire: Wire) -> Value? { cases.first { $0.wire == wire }?.value }

    /// The wire number of a value. Every table lists every value of its Swift type (tested),
    /// so a miss is a programming error, not bad input.
    package func wire(_ value: Value) -> Wire {
        guard let entry = cases.first(where: { $0.value == value }) else { preconditionFailure("no manifest enum value for \(value)") }
        return entry.wire
    }
}

/// Where a T5-style encoder keeps its relative-position table, or whether it learns absolute
/// positions instead: the manifest's `PositionEncoding`.
package enum ManifestPositionEncoding: Sendable, CaseIterable {
    /// One table, stored with the embeddings (role "relative_bias"), used by every attention slot.
    case relativeShared
    /// A table per attention sub-block (UMT5), role "relative_bias" there.
    case relativePerLayer
    /// Learned absolute positions (role "position" in the embeddings).
    case learned
}

/// The kinds of output a preset can name; `layer` carries its index in `Preset.output_layer`.
package enum ManifestOutputKind: Sendable, CaseIterable {
    case hidden, pooled, projected, layer
}

extension OutputSelection {
    /// The preset's `output` field for this selection (a layer's index goes in `output_layer`).
    package var manifestKind: ManifestOutputKind {
        switch self {
        case .hidden: return .hidden
        case .pooled: return .pooled
        case .projected: return .projected
        case .layer: return .layer
        }
    }

    /// The selection a preset's `output` and `output_layer` fields name.
    package init(manifestKind: ManifestOutputKind, layer: Int) {
        switch manifestKind {
        case .hidden: self = .hidden
        case .pooled: self = .pooled
        case .projected: self = .projected
        case .layer: self = .layer(layer)
        }
    }
}

/// Every enum of the manifest schema (proto/manifest.proto). The `expected` texts are the
/// loader's messages as they have always read; they differ in style and are kept so.
package enum ManifestEnums {
    package static let normKind = ManifestEnum<RuntimeNorm, Skrr__NormKind>(
        [(.rms, SKRR__NORM_KIND__NORM_KIND_RMS), (.layer, SKRR__NORM_KIND__NORM_KIND_LAYER)],
        expected: "NORM_KIND_RMS (1) or NORM_KIND_LAYER (2)")

    /// The value is `EncoderSpec.postNorm`.
    package static let normPlacement = ManifestEnum<Bool, Skrr__NormPlacement>(
        [(false, SKRR__NORM_PLACEMENT__NORM_PLACEMENT_PRE), (true, SKRR__NORM_PLACEMENT__NORM_PLACEMENT_POST)],
        expected: "PRE (1) or POST (2)")

    package static let activation = ManifestEnum<RuntimeActivation, Skrr__Activation>(
        [(.geluTanh, SKRR__ACTIVATION__ACTIVATION_GELU_TANH), (.gelu, SKRR__ACTIVATION__ACTIVATION_GELU_ERF),
         (.quickGelu, SKRR__ACTIVATION__ACTIVATION_QUICK_GELU), (.relu, SKRR__ACTIVATION__ACTIVATION_RELU)],
        expected: "1...4")

    /// The value is `EncoderSpec.scaleScores`.
    package static let attentionScaling = ManifestEnum<Bool, Skrr__AttentionScaling>(
        [(false, SKRR__ATTENTION_SCALING__ATTENTION_SCALING_NONE),
         (true, SKRR__ATTENTION_SCALING__ATTENTION_SCALING_INV_SQRT_HEAD_DIM)],
        expected: "NONE (1) or INV_SQRT_HEAD_DIM (2)")

    package static let positionEncoding = ManifestEnum<ManifestPositionEncoding, Skrr__PositionEncoding>(
        [(.relativeShared, SKRR__POSITION_ENCODING__POSITION_ENCODING_RELATIVE_SHARED),
         (.relativePerLayer, SKRR__POSITION_ENCODING__POSITION_ENCODING_RELATIVE_PER_LAYER),
         (.learned, SKRR__POSITION_ENCODING__POSITION_ENCODING_LEARNED)],
        expected: "1...3")

    /// Weight dtypes only: the schema's I32 exists but never holds weights (the decoder says so).
    package static let dtype = ManifestEnum<WeightType, Skrr__DType>(
        [(.f32, SKRR__DTYPE__DTYPE_F32), (.f16, SKRR__DTYPE__DTYPE_F16), (.bf16, SKRR__DTYPE__DTYPE_BF16),
         (.int8, SKRR__DTYPE__DTYPE_I8)],
        expected: "f32 (1), f16 (2), bf16 (3) or i8 (5)")

    /// The value is the sub-block's place in its block: 0 attention, 1 FFN (sub-block
    /// 2·block + value, the numbering slots and `ProgramSlot.source` use).
    package static let subBlockKind = ManifestEnum<Int, Skrr__SubBlockKind>(
        [(0, SKRR__SUB_BLOCK_KIND__SUB_BLOCK_KIND_ATTENTION), (1, SKRR__SUB_BLOCK_KIND__SUB_BLOCK_KIND_FFN)],
        expected: "ATTENTION (1) or FFN (2)")

    package static let tokenizerKind = ManifestEnum<TokenizerKindName, Skrr__TokenizerKind>(
        [(.sentencepiece, SKRR__TOKENIZER_KIND__TOKENIZER_KIND_SENTENCEPIECE),
         (.clipBPE, SKRR__TOKENIZER_KIND__TOKENIZER_KIND_CLIP_BPE),
         (.wordpiece, SKRR__TOKENIZER_KIND__TOKENIZER_KIND_WORDPIECE)],
        expected: "1...3")

    package static let outputKind = ManifestEnum<ManifestOutputKind, Skrr__OutputKind>(
        [(.hidden, SKRR__OUTPUT_KIND__OUTPUT_KIND_HIDDEN), (.pooled, SKRR__OUTPUT_KIND__OUTPUT_KIND_POOLED),
         (.projected, SKRR__OUTPUT_KIND__OUTPUT_KIND_PROJECTED), (.layer, SKRR__OUTPUT_KIND__OUTPUT_KIND_LAYER)],
        expected: "1...4")
}
