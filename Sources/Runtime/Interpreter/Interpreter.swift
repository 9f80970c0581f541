import SkrrSupport

/// Executes an `EncoderProgram` on token ids: embeddings, every slot of the schedule (skipped
/// slots are the identity, re-used slots run another sub-block's weights), final norm, pooling
/// and projection. Activations are f32; weights stay in their stored dtype and are widened one
/// matrix at a time.
public final class Interpreter {
    public let program: EncoderProgram
    let weights: WeightSource
    var spec: EncoderSpec { program.spec }
    /// Reusable buffer for widening one weight matrix to f32.
    private var scratch: [Float] = []

    public init(program: EncoderProgram, weights: WeightSource) throws {
        try BLAS.ensureLoaded()
        self.program = program
        self.weights = weights
    }

    /// Runs the encoder. `layers` lists transformers-style `hidden_states` indices to return
    /// (negative counts from the end: -2 is the penultimate layer).
    public func run(_ batch: TokenBatch, layers requested: [Int] = []) throws -> EncoderOutput {
        let b = batch.ids.count, length = batch.length, d = spec.hiddenSize
        guard b > 0 else { throw SkrrError(key: "ids", "the batch is empty") }
        if let empty = batch.ids.firstIndex(where: { $0.isEmpty }) {
            throw SkrrError(key: "ids", "sequence \(empty) is empty")
        }
        let blocks = program.blockCount
        let layerIndices = try requested.map { index -> Int in
            let resolved = index < 0 ? blocks + 1 + index : index
            guard resolved >= 0 && resolved <= blocks else {
                throw SkrrError(key: "layer:\(index)", "the encoder has hidden states 0...\(blocks) (or -\(blocks + 1)...-1)")
            }
            return resolved
        }

        var mask = [Int32](repeating: 0, count: b * length)
        for (row, ids) in batch.ids.enumerated() {
            for position in 0..<length where position < ids.count || !batch.maskPadding { mask[row * length + position] = 1 }
        }
        let padId = Int32(spec.padTokenId ?? 0)
        let ids: [Int32] = batch.ids.flatMap { $0 + [Int32](repeating: padId, count: length - $0.count) }

        var x = try embed(ids: ids, tokenTypes: batch.tokenTypes, batch: b, length: length)
        var states: [Int: [Float]] = [:]
        if layerIndices.contains(0) { states[0] = x }

        let sharedBias = try program.sharedPositionBias.map { try positionBias(table: $0, length: length) }
        for (slot, entry) in program.slots.enumerated() {
            switch entry {
            case .skip: break
            case let .attention(w, _):
                let bias = try w.relativeBias.map { try positionBias(table: $0, length: length) } ?? sharedBias
                try attention(&x, w, bias: bias, mask: mask, batch: b, length: length)
            case let .ffn(w, _):
                try feedForward(&x, w, rows: b * length)
            }
            let block = slot / 2 + 1
            if slot % 2 == 1 && layerIndices.contains(block) { states[block] = x }
        }
        if let norm = program.finalNorm {
            try normalize(&x, norm, rows: b * length)
            if spec.finalNormInsideStack && layerIndices.contains(blocks) { states[blocks] = x }
        }

        var output = EncoderOutput(batch: b, length: length, width: d, hidden: x, layers: states, pooled: nil,
                                   projected: nil, projectionWidth: nil, mask: mask)
        if let pooling = program.pooling {
            output.pooled = try pool(x, pooling, ids: ids, batch: batch, length: length)
            if let projection = program.projection, let pooled = output.pooled {
                let width = program.tensors[projection].shape[0]
                output.projected = try linear(pooled, rows: b, LinearWeights(weight: projection, bias: nil))
                output.projectionWidth = width
            }
        }
        try checkFinite(output)
        return output
    }

    // MARK: stages

    func embed(ids: [Int32], tokenTypes: [[Int32]]?, batch: Int, length: Int) throws -> [Float] {
        let d = spec.hiddenSize
        var x = [Float](repeating: 0, count: ids.count * d)
        let table = program.tensors[program.embeddings.token]
        let tokenBytes = weights.bytes(ofTensor: program.embeddings.token)
        let rowBytes = d * byteSize(table.dtype)
        try x.withUnsafeMutableBufferPointer { out in
            for (i, id) in ids.enumerated() {
                guard id >= 0 && Int(id) < spec.vocabSize else {
                    throw SkrrError(key: "ids", "token id \(id) (sequence \(i / length), position \(i % length)) is outside the vocabulary of \(spec.vocabSize)")
                }
                let row = UnsafeRawBufferPointer(rebasing: tokenBytes[(Int(id) * rowBytes)..<(Int(id) * rowBytes + rowBytes)])
                WeightConversion.toFloat(row, dtype: table.dtype, count: d, into: out.baseAddress! + i * d)
            }
        }
        if let position = program.embeddings.position {
            let maxPositions = program.tensors[position].shape[0]
            guard length <= maxPositions else {
                throw SkrrError(key: "ids", "sequences of \(length) tokens exceed the encoder's \(maxPositions) positions")
            }
            let positions = floats(position)
            for i in 0..<ids.count {
                let p = i % length
                for j in 0..<d { x[i * d + j] += positions[p * d + j] }
            }
        }
        if let tokenType = program.embeddings.tokenType {
            let types = floats(tokenType)
            let typeCount = program.tensors[tokenType].shape[0]
            for i in 0..<ids.count {
                let t = Int(tokenTypes?[i / length][safe: i % length] ?? 0)
                guard t >= 0 && t < typeCount else {
                    throw SkrrError(key: "token_types", "token type \(t) is outside 0..<\(typeCount)")
                }
                for j in 0..<d { x[i * d + j] += types[t * d + j] }
            }
        }
        if let norm = program.embeddings.norm { try normalize(&x, norm, rows: ids.count) }
        return x
    }

    /// `[heads, length, length]` additive bias from a `[buckets, heads]` table.
    func positionBias(table: Int, length: Int) throws -> [Float] {
        guard let buckets = spec.relativeBuckets, let distance = spec.relativeMaxDistance else {
            throw SkrrError(key: program.tensors[table].name, "a relative-position table needs relative_buckets and relative_max_distance")
        }
        let heads = spec.numHeads
        let values = floats(table)
        let bucketIndex = RelativePosition.bucketTable(length: length, numBuckets: buckets, maxDistance: distance)
        var bias = [Float](repeating: 0, count: heads * length * length)
        for h in 0..<heads {
            for i in 0..<(length * length) { bias[h * length * length + i] = values[Int(bucketIndex[i]) * heads + h] }
        }
        return bias
    }

    func attention(_ x: inout [Float], _ w: AttentionWeights, bias: [Float]?, mask: [Int32], batch: Int, length: Int) throws {
        let rows = batch * length, inner = spec.innerSize, hd = spec.headDim, heads = spec.numHeads
        var h = x
        if !spec.postNorm { try normalize(&h, w.norm, rows: rows) }
        let q = try linear(h, rows: rows, w.q), k = try linear(h, rows: rows, w.k), v = try linear(h, rows: rows, w.v)
        var context = [Float](repeating: 0, count: rows * inner)
        var scores = [Float](repeating: 0, count: length * length)
        let scale: Float = spec.scaleScores ? 1 / Float(hd).squareRoot() : 1
        let masked = -Float.greatestFiniteMagnitude
        q.withUnsafeBufferPointer { qp in k.withUnsafeBufferPointer { kp in v.withUnsafeBufferPointer { vp in
            context.withUnsafeMutableBufferPointer { cp in scores.withUnsafeMutableBufferPointer { sp in
                for seq in 0..<batch {
                    for head in 0..<heads {
                        let offset = seq * length * inner + head * hd
                        BLAS.sgemm(m: length, n: length, k: hd, a: qp.baseAddress! + offset, lda: inner,
                                   b: kp.baseAddress! + offset, ldb: inner, transposeB: true, c: sp.baseAddress!, ldc: length)
                        for qi in 0..<length {
                            for ki in 0..<length {
                                var value = sp[qi * length + ki] * scale
                                if let bias { value += bias[head * length * length + qi * length + ki] }
                                if mask[seq * length + ki] == 0 || (spec.causal && ki > qi) { value = masked }
                                sp[qi * length + ki] = value
                            }
                        }
                        Elementwise.softmaxRows(sp.baseAddress!, rows: length, width: length)
                        BLAS.sgemm(m: length, n: hd, k: length, a: sp.baseAddress!, lda: length,
                                   b: vp.baseAddress! + offset, ldb: inner, transposeB: false,
                                   c: cp.baseAddress! + offset, ldc: inner)
                    }
                }
            } }
        } } }
        let out = try linear(context, rows: rows, w.o)
        try residual(&x, out, norm: w.norm, rows: rows)
    }

    func feedForward(_ x: inout [Float], _ w: FFNWeights, rows: Int) throws {
        var h = x
        if !spec.postNorm { try normalize(&h, w.norm, rows: rows) }
        var hidden = try linear(h, rows: rows, w.wi)
        hidden.withUnsafeMutableBufferPointer { Elementwise.activate($0.baseAddress!, count: $0.count, spec.activation) }
        if let gate = w.wiGate {
            let linearBranch = try linear(h, rows: rows, gate)
            for i in hidden.indices { hidden[i] *= linearBranch[i] }
        }
        let out = try linear(hidden, rows: rows, w.wo)
        try residual(&x, out, norm: w.norm, rows: rows)
    }

    /// Pre-norm: `x + f`; post-norm (BERT): `norm(x + f)`.
    func residual(_ x: inout [Float], _ update: [Float], norm: NormWeights, rows: Int) throws {
        for i in x.indices { x[i] += update[i] }
        if spec.postNorm { try normalize(&x, norm, rows: rows) }
    }

    func pool(_ x: [Float], _ pooling: Pooling, ids: [Int32], batch: TokenBatch, length: Int) throws -> [Float] {
        let d = spec.hiddenSize, b = batch.ids.count
        var pooled = [Float](repeating: 0, count: b * d)
        func row(_ seq: Int) -> Int {
            let sequence = Array(ids[(seq * length)..<((seq + 1) * length)])
            switch pooling {
            case .eosToken:
                // transformers: argmax of (ids == eos), i.e. the first EOS, or 0 when there is none.
                return sequence.firstIndex(of: Int32(spec.eosTokenId ?? -1)) ?? 0
            case .argmaxToken:
                let maximum = sequence.max() ?? 0
                return sequence.firstIndex(of: maximum) ?? 0
            case .firstTokenTanh:
                return 0
            }
        }
        for seq in 0..<b {
            let source = (seq * length + row(seq)) * d
            for j in 0..<d { pooled[seq * d + j] = x[source + j] }
        }
        if case let .firstTokenTanh(dense) = pooling {
            pooled = try linear(pooled, rows: b, dense)
            for i in pooled.indices { pooled[i] = tanhf(pooled[i]) }
        }
        return pooled
    }

    // MARK: helpers

    func byteSize(_ type: WeightType) -> Int { type == .f32 ? 4 : 2 }

    /// A small tensor (norm gains, biases, embedding tables) widened to f32.
    func floats(_ tensor: Int) -> [Float] {
        let info = program.tensors[tensor]
        var out = [Float](repeating: 0, count: info.elementCount)
        out.withUnsafeMutableBufferPointer {
            WeightConversion.toFloat(weights.bytes(ofTensor: tensor), dtype: info.dtype, count: info.elementCount, into: $0.baseAddress!)
        }
        return out
    }

    func normalize(_ x: inout [Float], _ norm: NormWeights, rows: Int) throws {
        let d = spec.hiddenSize
        let weight = floats(norm.weight)
        let bias = norm.bias.map(floats)
        let input = x
        input.withUnsafeBufferPointer { inp in x.withUnsafeMutableBufferPointer { out in weight.withUnsafeBufferPointer { wp in
            switch spec.norm {
            case .rms:
                Elementwise.rmsNorm(inp.baseAddress!, rows: rows, width: d, weight: wp.baseAddress!, eps: Float(spec.normEps), out: out.baseAddress!)
            case .layer:
                if let bias {
                    bias.withUnsafeBufferPointer {
                        Elementwise.layerNorm(inp.baseAddress!, rows: rows, width: d, weight: wp.baseAddress!, bias: $0.baseAddress!,
                                              eps: Float(spec.normEps), out: out.baseAddress!)
                    }
                } else {
                    Elementwise.layerNorm(inp.baseAddress!, rows: rows, width: d, weight: wp.baseAddress!, bias: nil,
                                          eps: Float(spec.normEps), out: out.baseAddress!)
                }
            }
        } } }
    }

    /// `input[rows × in] · Wᵀ + b` with W stored `[out, in]` in its own dtype.
    func linear(_ input: [Float], rows: Int, _ layer: LinearWeights) throws -> [Float] {
        let info = program.tensors[layer.weight]
        let outWidth = info.shape[0], inWidth = info.shape[1]
        guard input.count == rows * inWidth else {
            throw SkrrError(key: info.name, "expects inputs of width \(inWidth), got \(input.count / max(rows, 1))")
        }
        var out = [Float](repeating: 0, count: rows * outWidth)
        let raw = weights.bytes(ofTensor: layer.weight)
        let aligned = info.dtype == .f32 && Int(bitPattern: raw.baseAddress) % 4 == 0
        if !aligned {
            if scratch.count < info.elementCount { scratch = [Float](repeating: 0, count: info.elementCount) }
            scratch.withUnsafeMutableBufferPointer {
                WeightConversion.toFloat(raw, dtype: info.dtype, count: info.elementCount, into: $0.baseAddress!)
            }
        }
        input.withUnsafeBufferPointer { inp in out.withUnsafeMutableBufferPointer { op in
            let a = inp.baseAddress!, c = op.baseAddress!
            func multiply(_ w: UnsafePointer<Float>) {
                BLAS.sgemm(m: rows, n: outWidth, k: inWidth, a: a, lda: inWidth, b: w, ldb: inWidth,
                           transposeB: true, c: c, ldc: outWidth)
            }
            if aligned {
                multiply(raw.baseAddress!.assumingMemoryBound(to: Float.self))
            } else {
                scratch.withUnsafeBufferPointer { multiply($0.baseAddress!) }
            }
        } }
        if let biasIndex = layer.bias {
            let bias = floats(biasIndex)
            for r in 0..<rows { for j in 0..<outWidth { out[r * outWidth + j] += bias[j] } }
        }
        return out
    }

    func checkFinite(_ output: EncoderOutput) throws {
        let groups: [(String, [Float]?)] = [("hidden states", output.hidden), ("pooled output", output.pooled),
                                            ("projected output", output.projected)]
        for (name, values) in groups {
            guard let values, let bad = values.firstIndex(where: { !$0.isFinite }) else { continue }
            throw SkrrError(key: name, "the encoder produced a non-finite value (\(values[bad])) at element \(bad); the weights or the input overflow f32")
        }
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}

#if canImport(Glibc)
import Glibc
#endif
