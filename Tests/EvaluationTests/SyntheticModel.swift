import SkrrEvaluation
import SkrrIR
import SkrrRuntime

/// A T5-v1.1-shaped model of any depth with seeded random weights held in memory, for
/// evaluation tests that need more sub-blocks than the fixtures have.
struct SyntheticModel {
    let ir: ModelIR
    let weights: MemoryWeights

    final class MemoryWeights: WeightSource, @unchecked Sendable {
        var storage: [[UInt8]] = []
        func bytes(ofTensor index: Int) -> UnsafeRawBufferPointer {
            storage[index].withUnsafeBytes { UnsafeRawBufferPointer(start: $0.baseAddress, count: $0.count) }
        }
    }

    /// `matrices`: the dtype the linear layers' weights are stored in (f32 or bf16, as T5-XXL ships);
    /// the embeddings, norms and position table stay f32.
    init(layers: Int, d: Int = 16, heads: Int = 2, headDim: Int = 8, ffn: Int = 24, vocab: Int = 50, seed: UInt64 = 1,
         matrices: WeightType = .f32) {
        var state = seed
        func random() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2000 - 1000) / 1000
        }
        let memory = MemoryWeights()
        var tensors: [TensorDecl] = []
        func add(_ name: String, _ shape: [Int], scale: Float, offset: Float = 0, dtype: WeightType = .f32) -> String {
            let count = shape.reduce(1, *)
            let values = (0..<count).map { _ in offset + scale * random() }
            if dtype == .bf16 {
                memory.storage.append(values.flatMap { value -> [UInt8] in
                    let top = UInt16(truncatingIfNeeded: value.bitPattern >> 16)
                    return [UInt8(truncatingIfNeeded: top), UInt8(truncatingIfNeeded: top >> 8)]
                })
            } else {
                memory.storage.append(values.withUnsafeBytes { Array($0) })
            }
            tensors.append(TensorDecl(name: name, dtype: dtype == .bf16 ? .bf16 : .f32, shape: shape,
                                      location: TensorLocation(file: 0, offset: 0, length: count * (dtype == .bf16 ? 2 : 4))))
            return name
        }
        func matrix(_ name: String, _ shape: [Int], scale: Float) -> String { add(name, shape, scale: scale, dtype: matrices) }
        let inner = heads * headDim
        let token = add("shared", [vocab, d], scale: 1)
        let table = add("bias", [8, heads], scale: 0.5)
        var blocks: [SubBlock] = []
        for i in 0..<layers {
            blocks.append(SubBlock(index: 2 * i, kind: .attention, block: i, operands: [
                Operand(role: "norm.weight", tensor: add("b\(i).an", [d], scale: 0.2, offset: 1)),
                Operand(role: "q.weight", tensor: matrix("b\(i).q", [inner, d], scale: 0.1)),
                Operand(role: "k.weight", tensor: matrix("b\(i).k", [inner, d], scale: 0.3)),
                Operand(role: "v.weight", tensor: matrix("b\(i).v", [inner, d], scale: 0.3)),
                Operand(role: "o.weight", tensor: matrix("b\(i).o", [d, inner], scale: 0.3)),
            ]))
            blocks.append(SubBlock(index: 2 * i + 1, kind: .ffn, block: i, operands: [
                Operand(role: "norm.weight", tensor: add("b\(i).fn", [d], scale: 0.2, offset: 1)),
                Operand(role: "wi_0.weight", tensor: matrix("b\(i).wi0", [ffn, d], scale: 0.3)),
                Operand(role: "wi_1.weight", tensor: matrix("b\(i).wi1", [ffn, d], scale: 0.3)),
                Operand(role: "wo.weight", tensor: matrix("b\(i).wo", [d, ffn], scale: 0.3)),
            ]))
        }
        let final = add("final", [d], scale: 0.2, offset: 1)
        let config = ModelConfig(
            hiddenSize: d, numLayers: layers, numHeads: heads, headDim: headDim, ffnSize: ffn, vocabSize: vocab,
            norm: .rms, normPlacement: .pre, normEps: 1e-6, activation: .geluTanh, gatedFFN: true, linearBias: false,
            attentionScale: .none, causal: false, positions: .relativeShared, lastLayerIncludesFinalNorm: true,
            relativeBuckets: 8, relativeMaxDistance: 16, eosTokenId: 1, padTokenId: 0)
        var model = ModelIR(
            family: .t5, name: "synthetic-\(layers)", root: "memory", sourceParameters: 0, files: ["memory"],
            tokenizer: nil, config: config, tensors: tensors, embeddings: [Operand(role: "token", tensor: token)],
            positionBias: [Operand(role: "table", tensor: table)], subBlocks: blocks,
            finalNorm: [Operand(role: "weight", tensor: final)], heads: [], schedule: blocks.map { .run($0.index) })
        model.sourceParameters = model.declaredParameters
        ir = model
        weights = memory
    }

    /// Seeded ragged prompts of ids in 2..<vocab, ending with EOS (1) like T5's tokenizer.
    static func prompts(count: Int, vocab: Int = 50, seed: UInt64 = 7) -> [[Int32]] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let length = 3 + Int(state >> 60)
            return (0..<length).map { _ -> Int32 in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Int32(2 + Int(state >> 33) % (vocab - 2))
            } + [1]
        }
    }
}

extension SyntheticModel {
    /// A D scorer on this model under the generic preset: `prompts` seeded prompts, plus the
    /// empty prompt unless `null` is false.
    func scorer(budget: Int = 1 << 30, prompts: Int = 12, null: Bool = true, fuseRows: Bool = true,
                boundRows: Int = 256, threads: Int? = nil) throws -> DiscrepancyScorer {
        var options = DiscrepancyScorer.Options()
        options.boundMinimumRows = boundRows
        options.threads = threads
        options.memoryBudget = budget
        options.includeNullPrompt = null
        options.fuseRows = fuseRows
        return try DiscrepancyScorer(model: ir, weights: weights, prompts: SyntheticModel.prompts(count: prompts), nullPrompt: [1],
                                     preset: try PipelinePreset.preset(for: .generic, clipEncoder: false), options: options)
    }

    /// The dense schedule with `slots` skipped.
    func skipping(_ slots: Set<Int>) -> [Slot] {
        ir.schedule.enumerated().map { slots.contains($0.offset) ? .skip : $0.element }
    }
}
