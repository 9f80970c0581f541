import SkrrIR
import SkrrRuntime
import SkrrSupport

/// Lowers a verified `ModelIR` to the runtime's `EncoderProgram`: roles become tensor indices,
/// the schedule becomes slots holding the weights they run. Tensors of eliminated sub-blocks
/// are not needed, so a model after dead-weight-elim lowers just as well.
public enum Lowering {
    /// The tokenizer files a model names, as the runtime loads them (paths under its root).
    public static func tokenizerFiles(_ model: ModelIR) -> TokenizerFiles? {
        model.tokenizer.map { ref in
            TokenizerFiles(kind: TokenizerKindName(rawValue: ref.kind.rawValue)!,
                           paths: ref.files.map { FileSystem.join(model.root, $0) }, lowercase: ref.lowercase)
        }
    }

    public static func lower(_ model: ModelIR) throws -> EncoderProgram {
        try IRVerifier.verify(model, source: model.name)
        var index: [String: Int] = [:]
        var tensors: [ProgramTensor] = []
        for tensor in model.tensors {
            guard let dtype = WeightType(tensor.dtype) else {
                throw SkrrError(key: tensor.name, "dtype \(tensor.dtype.irName) cannot be executed (f32, f16, bf16 can)")
            }
            index[tensor.name] = tensors.count
            tensors.append(ProgramTensor(name: tensor.name, dtype: dtype, shape: tensor.shape))
        }
        func lookup(_ operands: [Operand], _ role: String, in what: String) throws -> Int {
            guard let name = operands.first(where: { $0.role == role })?.tensor, let found = index[name] else {
                throw SkrrError(key: what, "has no tensor for role '\(role)'")
            }
            return found
        }
        func optional(_ operands: [Operand], _ role: String) -> Int? {
            operands.first(where: { $0.role == role }).flatMap { index[$0.tensor] }
        }
        func norm(_ operands: [Operand], prefix: String, in what: String) throws -> NormWeights {
            NormWeights(weight: try lookup(operands, prefix + "weight", in: what), bias: optional(operands, prefix + "bias"))
        }
        func linear(_ operands: [Operand], _ name: String, in what: String) throws -> LinearWeights {
            LinearWeights(weight: try lookup(operands, name + ".weight", in: what), bias: optional(operands, name + ".bias"))
        }

        let c = model.config
        let spec = EncoderSpec(
            hiddenSize: c.hiddenSize, numHeads: c.numHeads, headDim: c.headDim, ffnSize: c.ffnSize, vocabSize: c.vocabSize,
            norm: c.norm == .rms ? .rms : .layer, postNorm: c.normPlacement == .post, normEps: c.normEps,
            activation: RuntimeActivation(rawValue: c.activation.rawValue)!, gatedFFN: c.gatedFFN,
            scaleScores: c.attentionScale == .invSqrtHeadDim, causal: c.causal,
            relativeBuckets: c.positions == .learned ? nil : c.relativeBuckets,
            relativeMaxDistance: c.positions == .learned ? nil : c.relativeMaxDistance,
            maxPositions: c.maxPositions, eosTokenId: c.eosTokenId, padTokenId: c.padTokenId,
            finalNormInsideStack: c.lastLayerIncludesFinalNorm)

        let e = model.embeddings
        let embeddings = EmbeddingWeights(
            token: try lookup(e, "token", in: "embeddings"), position: optional(e, "position"),
            tokenType: optional(e, "token_type"),
            norm: optional(e, "norm.weight") == nil ? nil : try norm(e, prefix: "norm.", in: "embeddings"))

        var slots: [ProgramSlot] = []
        for entry in model.schedule {
            guard case let .run(source) = entry else {
                slots.append(.skip)
                continue
            }
            let block = model.subBlocks[source]
            let what = "subblock \(source)"
            let ops = block.operands
            switch block.kind {
            case .attention:
                slots.append(.attention(AttentionWeights(
                    norm: try norm(ops, prefix: "norm.", in: what), q: try linear(ops, "q", in: what),
                    k: try linear(ops, "k", in: what), v: try linear(ops, "v", in: what), o: try linear(ops, "o", in: what),
                    relativeBias: optional(ops, "relative_bias")), source: source))
            case .ffn:
                let gated = c.gatedFFN
                slots.append(.ffn(FFNWeights(
                    norm: try norm(ops, prefix: "norm.", in: what), wi: try linear(ops, gated ? "wi_0" : "wi", in: what),
                    wiGate: gated ? try linear(ops, "wi_1", in: what) : nil, wo: try linear(ops, "wo", in: what)),
                    source: source))
            }
        }

        var pooling: Pooling?
        var projection: Int?
        for head in model.heads {
            switch head.kind {
            case .eosToken: pooling = .eosToken
            case .argmaxToken: pooling = .argmaxToken
            case .firstTokenTanh: pooling = .firstTokenTanh(try linear(head.operands, "dense", in: "head \(head.name)"))
            case .projection: projection = try lookup(head.operands, "weight", in: "head \(head.name)")
            }
        }

        let tokenizer = tokenizerFiles(model)
        return EncoderProgram(
            spec: spec, tensors: tensors, embeddings: embeddings,
            sharedPositionBias: try model.positionBias.map { try lookup($0, "table", in: "position_bias") },
            slots: slots, finalNorm: try model.finalNorm.map { try norm($0, prefix: "", in: "final_norm") },
            pooling: pooling, projection: projection, tokenizer: tokenizer)
    }
}
