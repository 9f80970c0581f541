import SkrrSupport

/// One slot over many batches at once. A search holds its calibration prompts as many small
/// batches (grouped by exact length, so nothing is padded); run one at a time, every batch
/// streams the slot's weights again. On T5-XXL with 16 short prompts (batches of 3–43 rows) the
/// search spent nearly all its time in the widening GEMM re-reading 252 MB of bf16 FFN weights
/// per batch. Here the position-wise parts (norms, q/k/v/o, the FFN) run over all batches' rows
/// side by side, and only the attention scores stay per sequence.
extension Interpreter {
    /// Whether `apply(_:toAll:)` gives every row exactly the bits `apply(_:to:)` gives it in its
    /// own batch: every matrix of the slot is bf16/f16 and multiplied by the packing kernel,
    /// whose sums (256-long FMA chains added in order) do not depend on how rows are split or
    /// where a row sits, or (bf16 compute) by the AMX kernel, whose sums do not either. f32
    /// weights (OpenBLAS may choose kernels by size), the `panels` kernel (sgemm per panel) and
    /// the AVX-512 BF16 kernel make no such promise and are not batched.
    public func rowWiseFusable(_ slot: ProgramSlot) -> Bool {
        let matrices: [LinearWeights]
        switch slot {
        case .skip: return false
        case let .ffn(w, _): matrices = [w.wi, w.wo] + (w.wiGate.map { [$0] } ?? [])
        case let .attention(w, _): matrices = [w.q, w.k, w.v, w.o]
        }
        return matrices.allSatisfy { layer in
            let info = program.tensors[layer.weight]
            guard info.dtype == .bf16 || info.dtype == .f16 || info.dtype == .int8 else { return false }
            let base = weights.bytes(ofTensor: layer.weight).baseAddress!
            if let kernel = bf16ComputeKernel(for: info.dtype, at: base) { return kernel == .amx }
            return halfWeightKernel.resolved(for: info.dtype, at: base) == .packed
        }
    }

    /// Runs a `rowWiseFusable` slot on every state, in place, split over this interpreter's
    /// workers: states go in groups of at most `groupRows` rows (a larger state alone), each
    /// group's rows through one product per matrix.
    public func apply(_ slot: ProgramSlot, toAll states: inout [ForwardState]) throws {
        guard rowWiseFusable(slot) else {
            throw SkrrError(key: "slot", "only slots whose matrices are bf16/f16 on the packing kernel (or bf16 on AMX) run over batches at once")
        }
        let d = spec.hiddenSize
        let input: LinearWeights
        switch slot {
        case let .attention(w, _): input = w.q
        case let .ffn(w, _): input = w.wi
        case .skip: return
        }
        for state in states { try checkWidth(state.hidden, rows: state.batch * state.length, input) }
        try splittingWork {
            var first = 0
            while first < states.count {
                var end = first + 1, rows = states[first].hidden.count / d
                while end < states.count && rows + states[end].hidden.count / d <= Interpreter.groupRows {
                    rows += states[end].hidden.count / d
                    end += 1
                }
                let x = workspace.gathered.reserve(rows * d)
                var offset = 0
                for i in first..<end {
                    states[i].hidden.withUnsafeBufferPointer { (x + offset).update(from: $0.baseAddress!, count: $0.count) }
                    offset += states[i].hidden.count
                }
                switch slot {
                case let .ffn(w, _):
                    try feedForward(x, w, rows: rows)
                case let .attention(w, _) where end - first == 1 && rows > Interpreter.groupRows:
                    // One large state: the per-batch path bounds q, k, v by sequence groups.
                    let state = states[first]
                    try attention(x, w, bias: try attentionBias(w, length: state.length, shared: state.sharedBias),
                                  keep: state.keep, batch: state.batch, length: state.length)
                case let .attention(w, _):
                    let spans = try states[first..<end].map {
                        AttentionSpan(sequences: $0.batch, length: $0.length, keep: $0.keep, keepOffset: 0,
                                      bias: try attentionBias(w, length: $0.length, shared: $0.sharedBias))
                    }
                    attentionGroup(x, rows: rows, w.norm, try stagedAttention(w), spans)
                case .skip:
                    break
                }
                offset = 0
                for i in first..<end {
                    let count = states[i].hidden.count
                    states[i].hidden.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: x + offset, count: count) }
                    offset += count
                }
                first = end
            }
        }
    }
}
