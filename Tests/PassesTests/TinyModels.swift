import SkrrIR
import SkrrSupport

/// T5-shaped models of any depth for search tests (d 4, 2 heads × 3, ffn 5: attention 100
/// params, ffn 64, embeddings 40, bias table 8, final norm 4). Tensor locations are consistent
/// but point at no real file: passes never read weights.
enum TinyModels {
    static func t5(layers: Int) -> ModelIR {
        var tensors: [TensorDecl] = []
        var offset = 0
        func add(_ name: String, _ shape: [Int]) -> String {
            let bytes = shape.reduce(1, *) * 4
            tensors.append(TensorDecl(name: name, dtype: .f32, shape: shape, location: TensorLocation(file: 0, offset: offset, length: bytes)))
            offset += bytes
            return name
        }
        let token = add("shared.weight", [10, 4])
        let table = add("bias.table", [4, 2])
        var blocks: [SubBlock] = []
        for i in 0..<layers {
            blocks.append(SubBlock(index: 2 * i, kind: .attention, block: i, operands: [
                Operand(role: "norm.weight", tensor: add("b\(i).attn.norm", [4])),
                Operand(role: "q.weight", tensor: add("b\(i).q", [6, 4])),
                Operand(role: "k.weight", tensor: add("b\(i).k", [6, 4])),
                Operand(role: "v.weight", tensor: add("b\(i).v", [6, 4])),
                Operand(role: "o.weight", tensor: add("b\(i).o", [4, 6])),
            ]))
            blocks.append(SubBlock(index: 2 * i + 1, kind: .ffn, block: i, operands: [
                Operand(role: "norm.weight", tensor: add("b\(i).ffn.norm", [4])),
                Operand(role: "wi_0.weight", tensor: add("b\(i).wi_0", [5, 4])),
                Operand(role: "wi_1.weight", tensor: add("b\(i).wi_1", [5, 4])),
                Operand(role: "wo.weight", tensor: add("b\(i).wo", [4, 5])),
            ]))
        }
        let final = add("final.norm", [4])
        let config = ModelConfig(
            hiddenSize: 4, numLayers: layers, numHeads: 2, headDim: 3, ffnSize: 5, vocabSize: 10, norm: .rms,
            normPlacement: .pre, normEps: 1e-6, activation: .geluTanh, gatedFFN: true, linearBias: false,
            attentionScale: .none, causal: false, positions: .relativeShared, lastLayerIncludesFinalNorm: true,
            relativeBuckets: 4, relativeMaxDistance: 8, eosTokenId: 1, padTokenId: 0)
        let model = ModelIR(
            family: .t5, name: "tiny-\(layers)", root: "nowhere", sourceParameters: 0, files: ["model.safetensors"],
            tokenizer: nil, config: config, tensors: tensors, embeddings: [Operand(role: "token", tensor: token)],
            positionBias: [Operand(role: "table", tensor: table)], subBlocks: blocks,
            finalNorm: [Operand(role: "weight", tensor: final)], heads: [], schedule: blocks.map { .run($0.index) })
        var result = model
        result.sourceParameters = model.declaredParameters
        return result
    }
}

/// A small deterministic generator so randomised tests are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
