import SkrrIR
import SkrrSupport

/// What an importer learns from `config.json`: the family, its exact numerics, the heads it
/// has, and the name table to find its tensors.
struct FamilyDescription {
    var family: Family
    var config: ModelConfig
    /// Heads that must be present.
    var heads: [(name: String, kind: HeadKind)]
    /// Heads included only when their tensors are in the checkpoint (BERT's pooler, CLIP's projection).
    var optionalHeads: [(name: String, kind: HeadKind)]
    var table: FamilyNameTable
}

enum FamilyConfigs {
    static let supported = "t5, umt5, clip_text_model, clip, bert"

    /// Chooses the family from `model_type` (or `architectures` when it is absent).
    static func describe(_ reader: ConfigReader, tensorNames: Set<String>) throws -> FamilyDescription {
        let architectures = try reader.strings("architectures")
        var modelType = try reader.string("model_type", default: "")
        if modelType.isEmpty {
            if architectures.contains(where: { $0.hasPrefix("UMT5") }) { modelType = "umt5" }
            else if architectures.contains(where: { $0.hasPrefix("T5") }) { modelType = "t5" }
            else if architectures.contains(where: { $0.hasPrefix("CLIPText") }) { modelType = "clip_text_model" }
            else if architectures.contains(where: { $0.hasPrefix("Bert") }) { modelType = "bert" }
        }
        switch modelType {
        case "t5", "mt5": return try t5(reader, perLayerBias: false)
        case "umt5": return try t5(reader, perLayerBias: true)
        case "clip_text_model", "clip":
            let prefix = tensorNames.contains("text_model.embeddings.token_embedding.weight") ? "text_model." : ""
            if modelType == "clip" {
                let text = try reader.nested("text_config")
                return try clip(text, projectionDim: try reader.optionalInt("projection_dim", max: ResourceLimits.dimension) ?? 512,
                                architectures: architectures, prefix: prefix)
            }
            return try clip(reader, projectionDim: try reader.optionalInt("projection_dim", max: ResourceLimits.dimension), architectures: architectures, prefix: prefix)
        case "bert":
            let prefix = tensorNames.contains("bert.embeddings.word_embeddings.weight") ? "bert." : ""
            return try bert(reader, prefix: prefix)
        case "":
            throw SkrrError(file: reader.path, key: "model_type",
                            "missing, and architectures \(architectures) name no supported family (supported: \(supported))")
        default:
            let arch = architectures.isEmpty ? "" : " (architectures: \(architectures.joined(separator: ", ")))"
            throw SkrrError(file: reader.path, key: "model_type",
                            "unsupported architecture '\(modelType)'\(arch); supported: \(supported)")
        }
    }

    static func activation(_ name: String, reader: ConfigReader, key: String) throws -> Activation {
        switch name {
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": return .geluTanh
        case "gelu": return .gelu
        case "quick_gelu": return .quickGelu
        case "relu": return .relu
        default:
            throw SkrrError(file: reader.path, key: reader.prefix + key,
                            "unsupported activation '\(name)' (supported: gelu, gelu_new, gelu_pytorch_tanh, quick_gelu, relu)")
        }
    }

    static func t5(_ r: ConfigReader, perLayerBias: Bool) throws -> FamilyDescription {
        // HF: "gated-gelu" is gated with gelu_new (tanh); otherwise the last dash-part names the activation.
        let projection = try r.string("feed_forward_proj", default: "relu")
        let parts = projection.split(separator: "-").map(String.init)
        let gated = parts.count == 2 && parts[0] == "gated"
        guard parts.count == 1 || gated else {
            throw SkrrError(file: r.path, key: "feed_forward_proj",
                            "'\(projection)' is not a valid feed-forward spec ('gated-ACT' or 'ACT')")
        }
        let act = projection == "gated-gelu" ? Activation.geluTanh : try activation(parts.last!, reader: r, key: "feed_forward_proj")
        let dModel = try r.int("d_model", max: ResourceLimits.dimension)
        let config = ModelConfig(
            hiddenSize: dModel, numLayers: try r.int("num_layers", max: ResourceLimits.layers), numHeads: try r.int("num_heads", max: ResourceLimits.dimension),
            headDim: try r.int("d_kv", max: ResourceLimits.dimension), ffnSize: try r.int("d_ff", max: ResourceLimits.dimension), vocabSize: try r.int("vocab_size", max: ResourceLimits.vocabulary),
            norm: .rms, normPlacement: .pre, normEps: try r.positiveDouble("layer_norm_epsilon", default: 1e-6),
            activation: act, gatedFFN: gated, linearBias: false, attentionScale: .none, causal: false,
            positions: perLayerBias ? .relativePerLayer : .relativeShared,
            // T5Stack applies final_layer_norm before appending the last hidden_states entry.
            lastLayerIncludesFinalNorm: true,
            relativeBuckets: try r.int("relative_attention_num_buckets", default: 32, max: ResourceLimits.relativeBuckets),
            relativeMaxDistance: try r.int("relative_attention_max_distance", default: 128, max: ResourceLimits.relativeMaxDistance),
            eosTokenId: try r.optionalInt("eos_token_id", max: ResourceLimits.vocabulary) ?? 1, padTokenId: try r.optionalInt("pad_token_id", max: ResourceLimits.vocabulary) ?? 0)
        return FamilyDescription(family: perLayerBias ? .umt5 : .t5, config: config, heads: [], optionalHeads: [],
                                 table: T5NameTable())
    }

    static func clip(_ r: ConfigReader, projectionDim: Int?, architectures: [String], prefix: String) throws -> FamilyDescription {
        let hidden = try r.int("hidden_size", max: ResourceLimits.dimension)
        let heads = try r.int("num_attention_heads", max: ResourceLimits.dimension)
        guard hidden % heads == 0 else {
            throw SkrrError(file: r.path, key: r.prefix + "num_attention_heads",
                            "hidden_size \(hidden) is not divisible by \(heads) heads")
        }
        let eos = try r.optionalInt("eos_token_id", max: ResourceLimits.vocabulary) ?? 49407
        let config = ModelConfig(
            hiddenSize: hidden, numLayers: try r.int("num_hidden_layers", max: ResourceLimits.layers), numHeads: heads, headDim: hidden / heads,
            ffnSize: try r.int("intermediate_size", max: ResourceLimits.dimension), vocabSize: try r.int("vocab_size", max: ResourceLimits.vocabulary), norm: .layer,
            normPlacement: .pre, normEps: try r.positiveDouble("layer_norm_eps", default: 1e-5),
            activation: try activation(try r.string("hidden_act", default: "quick_gelu"), reader: r, key: "hidden_act"),
            gatedFFN: false, linearBias: true, attentionScale: .invSqrtHeadDim, causal: true, positions: .learned,
            // CLIPTextTransformer applies final_layer_norm after its encoder has returned hidden_states.
            lastLayerIncludesFinalNorm: false,
            maxPositions: try r.int("max_position_embeddings", default: 77, max: ResourceLimits.positions), projectionDim: projectionDim,
            bosTokenId: try r.optionalInt("bos_token_id", max: ResourceLimits.vocabulary) ?? 49406, eosTokenId: eos,
            padTokenId: try r.optionalInt("pad_token_id", max: ResourceLimits.vocabulary) ?? 1)
        // transformers pools at the largest id for legacy configs whose eos_token_id is 2.
        let pooled: HeadKind = eos == 2 ? .argmaxToken : .eosToken
        let wantsProjection = architectures.contains { $0.hasSuffix("WithProjection") || $0 == "CLIPModel" }
        let projection = [(name: "projected", kind: HeadKind.projection)]
        return FamilyDescription(
            family: .clip, config: config, heads: [(name: "pooled", kind: pooled)] + (wantsProjection ? projection : []),
            optionalHeads: wantsProjection ? [] : projection, table: CLIPNameTable(prefix: prefix))
    }

    static func bert(_ r: ConfigReader, prefix: String) throws -> FamilyDescription {
        let hidden = try r.int("hidden_size", max: ResourceLimits.dimension)
        let heads = try r.int("num_attention_heads", max: ResourceLimits.dimension)
        guard hidden % heads == 0 else {
            throw SkrrError(file: r.path, key: "num_attention_heads", "hidden_size \(hidden) is not divisible by \(heads) heads")
        }
        let positionType = try r.string("position_embedding_type", default: "absolute")
        guard positionType == "absolute" else {
            throw SkrrError(file: r.path, key: "position_embedding_type", "unsupported '\(positionType)' (supported: absolute)")
        }
        let config = ModelConfig(
            hiddenSize: hidden, numLayers: try r.int("num_hidden_layers", max: ResourceLimits.layers), numHeads: heads, headDim: hidden / heads,
            ffnSize: try r.int("intermediate_size", max: ResourceLimits.dimension), vocabSize: try r.int("vocab_size", max: ResourceLimits.vocabulary), norm: .layer,
            normPlacement: .post, normEps: try r.positiveDouble("layer_norm_eps", default: 1e-12),
            activation: try activation(try r.string("hidden_act", default: "gelu"), reader: r, key: "hidden_act"),
            gatedFFN: false, linearBias: true, attentionScale: .invSqrtHeadDim, causal: false, positions: .learned,
            // Post-norm: there is no final norm to include.
            lastLayerIncludesFinalNorm: false,
            maxPositions: try r.int("max_position_embeddings", default: 512, max: ResourceLimits.positions),
            typeVocabSize: try r.int("type_vocab_size", default: 2, max: ResourceLimits.tokenTypes), padTokenId: try r.optionalInt("pad_token_id", max: ResourceLimits.vocabulary) ?? 0)
        return FamilyDescription(family: .bert, config: config, heads: [],
                                 optionalHeads: [(name: "pooled", kind: .firstTokenTanh)], table: BERTNameTable(prefix: prefix))
    }
}
