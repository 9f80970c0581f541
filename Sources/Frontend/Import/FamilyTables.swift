import SkrrIR

/// A component of the encoder whose tensors an importer looks up by role.
enum ComponentID: Equatable {
    case embeddings
    case positionBias
    case subBlock(kind: SubBlockKind, block: Int)
    case finalNorm
    case head(HeadKind)

    var label: String {
        switch self {
        case .embeddings: return "embeddings"
        case .positionBias: return "position_bias"
        case let .subBlock(kind, block): return "\(kind.rawValue) block \(block)"
        case .finalNorm: return "final_norm"
        case let .head(kind): return "head \(kind.rawValue)"
        }
    }
}

/// How one family names its tensors. `names` gives the checkpoint keys that may hold a role,
/// preferred first (later ones are tied aliases, e.g. T5's `encoder.embed_tokens.weight`).
protocol FamilyNameTable {
    func names(_ component: ComponentID, role: String) -> [String]
    /// Keys that belong to the checkpoint but not to the encoder (decoder, lm_head, vision tower, buffers).
    func isIgnored(_ key: String) -> Bool
}

/// T5 v1.1, original T5 and UMT5 (`T5EncoderModel`, `T5ForConditionalGeneration`, `UMT5EncoderModel`).
struct T5NameTable: FamilyNameTable {
    func names(_ component: ComponentID, role: String) -> [String] {
        switch component {
        case .embeddings:
            return role == "token" ? ["shared.weight", "encoder.embed_tokens.weight"] : []
        case .positionBias:
            return ["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"]
        case let .subBlock(.attention, i):
            let base = "encoder.block.\(i).layer.0"
            switch role {
            case "norm.weight": return ["\(base).layer_norm.weight"]
            case "relative_bias": return ["\(base).SelfAttention.relative_attention_bias.weight"]
            default: return ["\(base).SelfAttention.\(role)"]  // q.weight, k.weight, v.weight, o.weight
            }
        case let .subBlock(.ffn, i):
            let base = "encoder.block.\(i).layer.1"
            return role == "norm.weight" ? ["\(base).layer_norm.weight"] : ["\(base).DenseReluDense.\(role)"]
        case .finalNorm:
            return ["encoder.final_layer_norm.\(role)"]
        case .head:
            return []
        }
    }

    func isIgnored(_ key: String) -> Bool {
        key.hasPrefix("decoder.") || key.hasPrefix("lm_head.")
    }
}

/// CLIP text towers (`CLIPTextModel`, `CLIPTextModelWithProjection`, the text half of `CLIPModel`).
/// Checkpoints written by transformers ≤ 4 (all SD/SDXL/SD3/FLUX releases) prefix the tower with
/// `text_model.`; transformers 5 writes `CLIPTextModel` without it. Both are read.
struct CLIPNameTable: FamilyNameTable {
    /// `"text_model."` or `""`.
    var prefix: String

    static let linearNames = ["q": "q_proj", "k": "k_proj", "v": "v_proj", "o": "out_proj", "wi": "mlp.fc1", "wo": "mlp.fc2"]

    func names(_ component: ComponentID, role: String) -> [String] {
        switch component {
        case .embeddings:
            return ["\(prefix)embeddings.\(role)_embedding.weight"]  // token, position
        case let .subBlock(kind, i):
            let base = "\(prefix)encoder.layers.\(i)"
            let parts = role.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return [] }
            if parts[0] == "norm" { return ["\(base).layer_norm\(kind == .attention ? 1 : 2).\(parts[1])"] }
            guard let module = CLIPNameTable.linearNames[parts[0]] else { return [] }
            return [kind == .attention ? "\(base).self_attn.\(module).\(parts[1])" : "\(base).\(module).\(parts[1])"]
        case .finalNorm:
            return ["\(prefix)final_layer_norm.\(role)"]
        case .head(.projection):
            return ["text_projection.weight"]
        case .positionBias, .head:
            return []
        }
    }

    func isIgnored(_ key: String) -> Bool {
        key == "\(prefix)embeddings.position_ids" || key.hasPrefix("vision_model.")
            || key.hasPrefix("visual_projection.") || key == "logit_scale"
    }
}

/// BERT-family encoders (`BertModel`, and `bert.`-prefixed task checkpoints).
struct BERTNameTable: FamilyNameTable {
    /// `"bert."` when the checkpoint comes from a task model such as `BertForMaskedLM`.
    var prefix: String

    func names(_ component: ComponentID, role: String) -> [String] {
        let p = prefix
        switch component {
        case .embeddings:
            switch role {
            case "token": return ["\(p)embeddings.word_embeddings.weight"]
            case "position": return ["\(p)embeddings.position_embeddings.weight"]
            case "token_type": return ["\(p)embeddings.token_type_embeddings.weight"]
            default: return ["\(p)embeddings.LayerNorm.\(role.dropFirst("norm.".count))"]
            }
        case let .subBlock(kind, i):
            let base = "\(p)encoder.layer.\(i)"
            let parts = role.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return [] }
            let module: String
            switch (kind, parts[0]) {
            case (.attention, "q"): module = "attention.self.query"
            case (.attention, "k"): module = "attention.self.key"
            case (.attention, "v"): module = "attention.self.value"
            case (.attention, "o"): module = "attention.output.dense"
            case (.attention, "norm"): module = "attention.output.LayerNorm"
            case (.ffn, "wi"): module = "intermediate.dense"
            case (.ffn, "wo"): module = "output.dense"
            case (.ffn, "norm"): module = "output.LayerNorm"
            default: return []
            }
            return ["\(base).\(module).\(parts[1])"]
        case .head(.firstTokenTanh):
            return ["\(p)pooler.\(role)"]  // dense.weight, dense.bias
        case .positionBias, .finalNorm, .head:
            return []
        }
    }

    func isIgnored(_ key: String) -> Bool {
        key == "\(prefix)embeddings.position_ids" || key.hasPrefix("cls.")
    }
}
