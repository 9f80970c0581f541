import CKernels
import SkrrSupport

/// Executes an `EncoderProgram` on token ids: embeddings, every slot of the schedule (skipped
/// slots are the identity, re-used slots run another sub-block's weights), final norm, pooling
/// and projection. Activations are f32; weights stay in their stored dtype and are multiplied
/// where they are mapped (LinearLayers.swift): half-precision matrices are widened a block at a
/// time while a GEMM packs them, never as a whole.
public final class Interpreter {
    public let program: EncoderProgram
    let weights: WeightSource
    var spec: EncoderSpec { program.spec }
    /// Buffers reused by every slot and every run (activations, attention scores, packing
    /// scratch): a forward pass allocates only its output.
    let workspace = Workspace()
    /// Small tensors (norm gains, biases, position tables) widened to f32 once, on first use.
    private var smallTensors: [Int: [Float]] = [:]
    /// Threads a run splits its work over: OpenBLAS's thread count, read when the run starts.
    private(set) var workers = 1
    /// How linear layers with bf16-stored weights multiply: `.f32` computes exact f32 products
    /// of the stored values (the default); `.bf16` rounds the activations to bf16 first, as
    /// PyTorch's bf16 compute does (~3 significant digits), and multiplies with the AVX-512 BF16
    /// kernel (about twice the throughput) or, on CPUs with only AVX2+FMA, with the exact kernel
    /// on the rounded activations (the same arithmetic, no faster). `.int8` quantizes the
    /// activations of each row (token) to int8 with its own scale and multiplies int8-stored
    /// weights with exact int32 sums (`skrr_i8_gemm`). Other dtypes ignore either.
    public var compute: ComputePrecision = .f32

    /// How exact products with bf16- or f16-stored weights run (`HalfWeightKernel.preferred`
    /// for this CPU by default). Both give exact f32 products of the stored weights; only the
    /// order of the f32 sums differs.
    public var halfWeightKernel: HalfWeightKernel = .preferred

    /// Whether this CPU can run `compute = .bf16`: AVX-512 BF16, or AVX2 and FMA.
    public static var bf16ComputeSupported: Bool {
        skrr_bf16_supported() == 1 || skrr_wgemm_supported(SKRR_HALF_BF16) == 1
    }

    /// Tokens per sequence a batch may have (`ResourceLimits`, docs/limits.md): checked before
    /// a batch's buffers are sized, so an over-long input fails with a message, never an abort.
    public var maxTokens = ResourceLimits.defaultTokensPerSequence

    /// An upper bound on `workers`. A caller that runs several interpreters side by side (one
    /// batch each) sets 1, so each batch is computed the same way whatever the thread count.
    public var workerLimit: Int?

    /// The threads the interpreter uses by default (OpenBLAS's configured count).
    public static var defaultThreads: Int {
        guard (try? BLAS.ensureLoaded()) != nil else { return 1 }
        return BLAS.threadCount
    }
    /// Rows a sub-block processes at a time (whole sequences for attention): bounds the
    /// intermediates (q, k, v, context; the FFN's `rows × d_ff` branches) whatever the batch.
    static let groupRows = 2048

    public init(program: EncoderProgram, weights: WeightSource) throws {
        try BLAS.ensureLoaded()
        self.program = program
        self.weights = weights
        try checkScales()
    }

    /// Every int8 tensor's row scales, as the kernels read them: one f32 per row, 4-byte aligned.
    private func checkScales() throws {
        for (index, tensor) in program.tensors.enumerated() where tensor.dtype.isScaled {
            let rows = tensor.shape.first ?? 1
            guard let scales = weights.scales(ofTensor: index) else {
                throw SkrrError(key: tensor.name, "is stored int8 but its weights come without row scales")
            }
            guard scales.count == rows * 4, Int(bitPattern: scales.baseAddress) % 4 == 0 else {
                throw SkrrError(key: tensor.name, "expects \(rows) aligned f32 row scales (\(rows * 4) bytes), got \(scales.count) bytes")
            }
        }
    }

    /// The row scales of int8 tensor `tensor` (checked at init).
    func rowScales(_ tensor: Int) -> UnsafePointer<Float> {
        weights.scales(ofTensor: tensor)!.baseAddress!.assumingMemoryBound(to: Float.self)
    }

    /// Runs the encoder. `layers` lists transformers-style `hidden_states` indices to return
    /// (negative counts from the end: -2 is the penultimate layer).
    public func run(_ batch: TokenBatch, layers requested: [Int] = []) throws -> EncoderOutput {
        guard !batch.ids.isEmpty else { throw SkrrError(key: "ids", "the batch is empty") }
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
        return try splittingWork { try forward(batch, layerIndices: layerIndices) }
    }

    /// The stages split their work over OpenBLAS's thread count themselves (Parallel.swift) and
    /// call OpenBLAS single-threaded meanwhile. Entry points call this once; stages never nest it.
    func splittingWork<T>(_ body: () throws -> T) rethrows -> T {
        workers = max(1, min(workerLimit ?? Int.max, BLAS.threadCount))
        return try BLAS.singleThreaded(body)
    }

    /// Embeddings, slots, final norm, pooling and projection, once `run` has checked its inputs:
    /// the staged steps (StagedForward.swift), keeping the requested hidden states on the way.
    private func forward(_ batch: TokenBatch, layerIndices: [Int]) throws -> EncoderOutput {
        let b = batch.ids.count, length = batch.length, d = spec.hiddenSize, blocks = program.blockCount
        var state = try prepared(batch)
        var states: [Int: [Float]] = [:]
        if layerIndices.contains(0) { states[0] = state.hidden }
        for (slot, entry) in program.slots.enumerated() {
            try step(entry, &state)
            let block = slot / 2 + 1
            if slot % 2 == 1 && layerIndices.contains(block) { states[block] = state.hidden }
        }
        try applyFinalNorm(&state)
        let x = state.hidden
        if program.finalNorm != nil && spec.finalNormInsideStack && layerIndices.contains(blocks) { states[blocks] = x }

        var output = EncoderOutput(batch: b, length: length, width: d, hidden: x, layers: states, pooled: nil,
                                   projected: nil, projectionWidth: nil, mask: state.mask)
        if let pooling = program.pooling {
            output.pooled = try pool(x, pooling, ids: state.ids, batch: batch, length: length)
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
        let rowBytes = d * table.dtype.byteSize
        try x.withUnsafeMutableBufferPointer { out in
            for (i, id) in ids.enumerated() {
                guard id >= 0 && Int(id) < spec.vocabSize else {
                    throw SkrrError(key: "ids", "token id \(id) (sequence \(i / length), position \(i % length)) is outside the vocabulary of \(spec.vocabSize)")
                }
                let row = UnsafeRawBufferPointer(rebasing: tokenBytes[(Int(id) * rowBytes)..<(Int(id) * rowBytes + rowBytes)])
                WeightConversion.toFloat(row, dtype: table.dtype, count: d, into: out.baseAddress! + i * d,
                                         scale: table.dtype.isScaled ? rowScales(program.embeddings.token)[Int(id)] : 1)
            }
        }
        if let position = program.embeddings.position {
            let maxPositions = program.tensors[position].shape[0]
            guard length <= maxPositions else {
                throw SkrrError(key: "ids", "sequences of \(length) tokens exceed the encoder's \(maxPositions) positions")
            }
            let positions = floats(position)
            x.withUnsafeMutableBufferPointer { out in positions.withUnsafeBufferPointer { table in
                for i in 0..<ids.count { Elementwise.add(out.baseAddress! + i * d, table.baseAddress! + (i % length) * d, count: d) }
            } }
        }
        if let tokenType = program.embeddings.tokenType {
            let types = floats(tokenType)
            let typeCount = program.tensors[tokenType].shape[0]
            for i in 0..<ids.count {
                let t = Int(tokenTypes?[i / length][safe: i % length] ?? 0)
                guard t >= 0 && t < typeCount else {
                    throw SkrrError(key: "token_types", "token type \(t) is outside 0..<\(typeCount)")
                }
                x.withUnsafeMutableBufferPointer { out in types.withUnsafeBufferPointer { table in
                    Elementwise.add(out.baseAddress! + i * d, table.baseAddress! + t * d, count: d)
                } }
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

    /// The pointer stages trust their sizes; `step` checks them first.
    func checkWidth(_ x: [Float], rows: Int, _ layer: LinearWeights) throws {
        let info = program.tensors[layer.weight]
        guard x.count == rows * info.shape[1] else {
            throw SkrrError(key: info.name, "expects inputs of width \(info.shape[1]), got \(x.count / max(rows, 1))")
        }
    }

    /// One attention sub-block on the residual stream `x` (`rows × d`), updated in place. Whole
    /// sequences go in groups of at most `groupRows` rows (at least one sequence), so q, k, v and
    /// the context stay small whatever the batch.
    func attention(_ x: UnsafeMutablePointer<Float>, _ w: AttentionWeights, bias: [Float]?, keep: [Float], batch: Int,
                   length: Int) throws {
        let d = spec.hiddenSize
        let staged = try stagedAttention(w)
        let perGroup = max(1, Interpreter.groupRows / max(length, 1))
        var first = 0
        while first < batch {
            let sequences = min(perGroup, batch - first)
            attentionGroup(x + first * length * d, rows: sequences * length, w.norm, staged,
                           [AttentionSpan(sequences: sequences, length: length, keep: keep, keepOffset: first * length, bias: bias)])
            first += sequences
        }
    }

    /// An attention slot's four matrices, staged once per call.
    struct StagedAttention { let q, k, v, o: StagedLinear }

    func stagedAttention(_ w: AttentionWeights) throws -> StagedAttention {
        let d = spec.hiddenSize, inner = spec.innerSize
        return StagedAttention(q: try staged(w.q, width: d, outWidth: inner, buffer: 0),
                               k: try staged(w.k, width: d, outWidth: inner, buffer: 1),
                               v: try staged(w.v, width: d, outWidth: inner, buffer: 2),
                               o: try staged(w.o, width: inner, outWidth: d, buffer: 3))
    }

    /// Sequences of one length lying side by side in an attention group: their mask multipliers
    /// (`keep` from `keepOffset` on) and their position bias.
    struct AttentionSpan {
        let sequences: Int
        let length: Int
        let keep: [Float]
        let keepOffset: Int
        let bias: [Float]?
    }

    /// The position bias an attention slot uses on sequences of `length`: its own relative table
    /// (UMT5) or the encoder's shared one.
    func attentionBias(_ w: AttentionWeights, length: Int, shared: [Float]?) throws -> [Float]? {
        try w.relativeBias.map { try positionBias(table: $0, length: length) } ?? shared
    }

    /// Attention on `rows` rows of `x` made of `spans` one after another: the norm and q, k, v, o
    /// over all rows at once, the scores per sequence. The rows of a batch's group of sequences
    /// (`attention`) or of several batches (`apply(_:toAll:)`) take the same path.
    func attentionGroup(_ x: UnsafeMutablePointer<Float>, rows: Int, _ norm: NormWeights, _ w: StagedAttention,
                        _ spans: [AttentionSpan]) {
        let inner = spec.innerSize
        let arena = workspace.arena.reserve(4 * rows * inner)
        let q = arena, k = arena + rows * inner, v = arena + 2 * rows * inner, context = arena + 3 * rows * inner
        let h = preNormed(x, norm, rows: rows)
        multiply(h, rows: rows, w.q, into: q)
        multiply(h, rows: rows, w.k, into: k)
        multiply(h, rows: rows, w.v, into: v)
        var at = 0
        for span in spans {
            span.keep.withUnsafeBufferPointer { keep in
                let keepSpan = keep.baseAddress! + span.keepOffset
                if let bias = span.bias {
                    bias.withUnsafeBufferPointer {
                        attentionCore(q: q + at, k: k + at, v: v + at, into: context + at, bias: $0.baseAddress!, keep: keepSpan,
                                      batch: span.sequences, length: span.length)
                    }
                } else {
                    attentionCore(q: q + at, k: k + at, v: v + at, into: context + at, bias: nil, keep: keepSpan,
                                  batch: span.sequences, length: span.length)
                }
            }
            at += span.sequences * span.length * inner
        }
        multiply(context, rows: rows, w.o, into: x, accumulate: true)
        postNorm(x, norm, rows: rows)
    }

    /// `softmax(q·kᵀ·scale + bias, masked)·v` for every (sequence, head) pair, pairs spread over
    /// the workers; each worker keeps its own `length × length` score matrix.
    func attentionCore(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                       into context: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, keep: UnsafePointer<Float>,
                       batch: Int, length: Int) {
        let inner = spec.innerSize, hd = spec.headDim, heads = spec.numHeads, causal = spec.causal
        let scale: Float = spec.scaleScores ? 1 / Float(hd).squareRoot() : 1
        let square = length * length
        let scores = workspace.scores.reserve(workers * square)
        // Two sgemms of length × length × head_dim per (sequence, head) pair.
        let pairWork = 2 * square * hd
        let attentionWorkers = batch * heads * pairWork >= 2 * Interpreter.minimumChunkWork ? workers : 1
        Parallel.forEach(batch * heads, workers: attentionWorkers) { pair, worker in
            let seq = pair / heads, head = pair % heads
            let s = scores + worker * square, offset = seq * length * inner + head * hd
            BLAS.sgemm(m: length, n: length, k: hd, a: q + offset, lda: inner, b: k + offset, ldb: inner,
                       transposeB: true, c: s, ldc: length)
            for qi in 0..<length {
                Elementwise.scoreRow(s + qi * length, width: length, scale: scale, bias: bias.map { $0 + head * square + qi * length },
                                     keep: keep + seq * length, lastKey: causal ? qi : nil)
            }
            Elementwise.softmaxRows(s, rows: length, width: length)
            BLAS.sgemm(m: length, n: hd, k: length, a: s, lda: length, b: v + offset, ldb: inner, transposeB: false,
                       c: context + offset, ldc: inner)
        }
    }

    /// One FFN sub-block on the residual stream `x` (`rows × d`), updated in place, in groups of
    /// at most `groupRows` rows so the `rows × d_ff` intermediates stay small.
    func feedForward(_ x: UnsafeMutablePointer<Float>, _ w: FFNWeights, rows total: Int) throws {
        let d = spec.hiddenSize, ff = program.tensors[w.wi.weight].shape[0]
        let wi = try staged(w.wi, width: d, outWidth: ff, buffer: 0)
        let wg = try w.wiGate.map { try staged($0, width: d, outWidth: ff, buffer: 1) }
        let wo = try staged(w.wo, width: ff, outWidth: d, buffer: 2)
        let activation = spec.activation
        var first = 0
        while first < total {
            let rows = min(Interpreter.groupRows, total - first)
            let xg = x + first * d
            let arena = workspace.arena.reserve((wg == nil ? 1 : 2) * rows * ff)
            let hidden = arena, linearBranch = arena + rows * ff
            let h = preNormed(xg, w.norm, rows: rows)
            multiply(h, rows: rows, wi, into: hidden)
            if let wg {
                multiply(h, rows: rows, wg, into: linearBranch)
                forEachRowRange(rows, workPerRow: 16 * ff) { r in
                    Elementwise.activateAndGate(hidden + r.lowerBound * ff, gate: linearBranch + r.lowerBound * ff,
                                                count: r.count * ff, activation)
                }
            } else {
                forEachRowRange(rows, workPerRow: 16 * ff) { r in Elementwise.activate(hidden + r.lowerBound * ff, count: r.count * ff, activation) }
            }
            multiply(hidden, rows: rows, wo, into: xg, accumulate: true)
            postNorm(xg, w.norm, rows: rows)
            first += rows
        }
    }

    /// Pre-norm models: the sub-block's input `norm(x)` in a workspace buffer. Post-norm: `x` itself.
    func preNormed(_ x: UnsafeMutablePointer<Float>, _ norm: NormWeights, rows: Int) -> UnsafePointer<Float> {
        guard !spec.postNorm else { return UnsafePointer(x) }
        let out = workspace.normed.reserve(rows * spec.hiddenSize)
        normalize(x, into: out, norm, rows: rows)
        return UnsafePointer(out)
    }

    /// Post-norm (BERT): `x ← norm(x + f)`; the `+ f` is already in `x` (accumulated by the GEMM).
    /// Pre-norm: nothing to do, the residual is `x + f`.
    func postNorm(_ x: UnsafeMutablePointer<Float>, _ norm: NormWeights, rows: Int) {
        if spec.postNorm { normalize(x, into: x, norm, rows: rows) }
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

    /// A small tensor (norm gains, biases, embedding tables) widened to f32, cached after the
    /// first call (they are tiny next to the matrices, and asked for in every slot of every run).
    func floats(_ tensor: Int) -> [Float] {
        if let cached = smallTensors[tensor] { return cached }
        let info = program.tensors[tensor]
        var out = [Float](repeating: 0, count: info.elementCount)
        let bytes = weights.bytes(ofTensor: tensor)
        out.withUnsafeMutableBufferPointer { out in
            guard info.dtype.isScaled else {
                WeightConversion.toFloat(bytes, dtype: info.dtype, count: info.elementCount, into: out.baseAddress!)
                return
            }
            // Never for a valid program (ProgramValidation keeps small tensors float), but exact anyway.
            let rows = info.shape.first ?? 1, width = info.elementCount / max(rows, 1), scales = rowScales(tensor)
            for row in 0..<rows {
                WeightConversion.toFloat(UnsafeRawBufferPointer(rebasing: bytes[(row * width)..<(row * width + width)]),
                                         dtype: .int8, count: width, into: out.baseAddress! + row * width, scale: scales[row])
            }
        }
        smallTensors[tensor] = out
        return out
    }

    func normalize(_ x: inout [Float], _ norm: NormWeights, rows: Int) throws {
        x.withUnsafeMutableBufferPointer { normalize($0.baseAddress!, into: $0.baseAddress!, norm, rows: rows) }
    }

    /// `out ← norm(x)` row by row over the workers; `out` may be `x`.
    func normalize(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, _ norm: NormWeights, rows: Int) {
        let d = spec.hiddenSize, eps = Float(spec.normEps), kind = spec.norm
        let weight = floats(norm.weight)
        let bias = norm.bias.map(floats)
        weight.withUnsafeBufferPointer { wp in withOptionalPointer(bias) { bp in
            forEachRowRange(rows, workPerRow: 8 * d) { r in
                let input = x + r.lowerBound * d, output = out + r.lowerBound * d
                switch kind {
                case .rms:
                    Elementwise.rmsNorm(input, rows: r.count, width: d, weight: wp.baseAddress!, eps: eps, out: output)
                case .layer:
                    Elementwise.layerNorm(input, rows: r.count, width: d, weight: wp.baseAddress!, bias: bp, eps: eps, out: output)
                }
            }
        } }
    }

    /// Runs `body` on `0..<rows` cut into one range per worker (`Parallel.forEachRowRange`).
    func forEachRowRange(_ rows: Int, workPerRow: Int, _ body: (Range<Int>) -> Void) {
        Parallel.forEachRowRange(rows, workPerRow: workPerRow, workers: workers, body)
    }

    /// Work (multiply-adds) below which a chunk is not worth a second thread.
    static let minimumChunkWork = Parallel.minimumChunkWork

    func withOptionalPointer<R>(_ values: [Float]?, _ body: (UnsafePointer<Float>?) throws -> R) rethrows -> R {
        guard let values else { return try body(nil) }
        return try values.withUnsafeBufferPointer { try body($0.baseAddress!) }
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

/// The arithmetic of linear layers whose weights are stored narrow (see `Interpreter.compute`).
public enum ComputePrecision: String, CaseIterable, Sendable {
    /// Exact f32 products of the stored values (int8: of code × row scale), f32 sums.
    case f32
    /// bf16-stored weights: activations rounded to bf16.
    case bf16
    /// int8-stored weights: activations quantized to int8 per row, exact int32 sums
    /// (AVX-512 VNNI; a portable loop with the same results elsewhere).
    case int8
}
