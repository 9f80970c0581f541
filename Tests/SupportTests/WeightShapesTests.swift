import SkrrSupport
import Testing

/// The shared role/shape table, pinned for the three shapes of encoder it serves.
@Suite struct WeightShapesTests {
    /// T5 v1.1 as the compiler sees it: RMS norm, no biases, gated FFN, inner width ≠ hidden.
    static let t5 = WeightShapes.Parameters(
        hiddenSize: 48, innerAttentionSize: 60, ffnSize: 72, vocabSize: 277, numHeads: 5, relativeBuckets: 8,
        maxPositions: nil, typeVocabSize: nil, projectionDim: nil, normBias: false, linearBias: false, gatedFFN: true,
        relativeBiasPerLayer: false, learnedPositions: false, tokenTypes: false, embeddingNorm: false)
    /// BERT: LayerNorm, biases, plain FFN, learned positions, token types, embedding norm.
    static let bert = WeightShapes.Parameters(
        hiddenSize: 32, innerAttentionSize: 32, ffnSize: 64, vocabSize: 100, numHeads: 4, relativeBuckets: nil,
        maxPositions: 40, typeVocabSize: 2, projectionDim: 16, normBias: true, linearBias: true, gatedFFN: false,
        relativeBiasPerLayer: false, learnedPositions: true, tokenTypes: true, embeddingNorm: true)

    func table(_ roles: [WeightShapes.Role]) -> [String] {
        roles.map { "\($0.name) [" + $0.shape.map { $0.map(String.init) ?? "N" }.joined(separator: ", ") + "]" }
    }

    @Test func t5() {
        #expect(table(WeightShapes.attention(Self.t5)) == [
            "norm.weight [48]", "q.weight [60, 48]", "k.weight [60, 48]", "v.weight [60, 48]", "o.weight [48, 60]",
        ])
        #expect(table(WeightShapes.ffn(Self.t5)) == ["norm.weight [48]", "wi_0.weight [72, 48]", "wi_1.weight [72, 48]", "wo.weight [48, 72]"])
        #expect(table(WeightShapes.embeddings(Self.t5)) == ["token [277, 48]"])
        #expect(table(WeightShapes.positionTable(Self.t5)) == ["table [8, 5]"])
        #expect(table(WeightShapes.finalNorm(Self.t5)) == ["weight [48]"])
    }

    @Test func umt5KeepsATablePerAttentionSubBlock() {
        var umt5 = Self.t5
        umt5.relativeBiasPerLayer = true
        #expect(table(WeightShapes.attention(umt5)).last == "relative_bias [8, 5]")
    }

    @Test func bert() {
        #expect(table(WeightShapes.attention(Self.bert)) == [
            "norm.weight [32]", "norm.bias [32]", "q.weight [32, 32]", "q.bias [32]", "k.weight [32, 32]", "k.bias [32]",
            "v.weight [32, 32]", "v.bias [32]", "o.weight [32, 32]", "o.bias [32]",
        ])
        #expect(table(WeightShapes.ffn(Self.bert)) == [
            "norm.weight [32]", "norm.bias [32]", "wi.weight [64, 32]", "wi.bias [64]", "wo.weight [32, 64]", "wo.bias [32]",
        ])
        #expect(table(WeightShapes.embeddings(Self.bert)) == [
            "token [100, 32]", "position [40, 32]", "token_type [2, 32]", "norm.weight [32]", "norm.bias [32]",
        ])
        #expect(table(WeightShapes.poolerDense(Self.bert)) == ["dense.weight [32, 32]", "dense.bias [32]"])
        #expect(table(WeightShapes.projection(Self.bert)) == ["weight [16, 32]"])
    }

    /// A size left out is open (the runtime's reading of a size the hyper-parameters do not fix).
    @Test func sizesLeftOutStayOpen() {
        var open = Self.bert
        open.maxPositions = nil
        open.typeVocabSize = nil
        open.projectionDim = nil
        #expect(table(WeightShapes.embeddings(open)).prefix(3) == ["token [100, 32]", "position [N, 32]", "token_type [N, 32]"])
        #expect(table(WeightShapes.projection(open)) == ["weight [N, 32]"])
    }
}
