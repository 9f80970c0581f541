import SkrrSupport

/// Hidden states of a batch between two slots. A search keeps these at sub-block boundaries and
/// resumes from them, so candidates that share a prefix of the schedule share its work.
public struct ForwardState: Sendable {
    public var hidden: [Float]
    public let batch: Int
    public let length: Int
    /// 1 for positions that are real tokens (or attended padding), 0 for masked padding.
    public let mask: [Int32]
    /// The padded token ids (pooling finds the EOS / first token in them).
    let ids: [Int32]
    let sharedBias: [Float]?
    /// `mask` as the attention kernel's multipliers (1 attend, 0 masked), made once per batch.
    let keep: [Float]

    /// Bytes held, for memory budgets.
    public var byteCount: Int { hidden.count * 4 }
}

/// The forward pass in steps: `run` goes through the same `prepared` and `step` as the staged
/// entry points (`begin`, `apply`, `finish`), so padding, masking and position tables are made
/// in one place.
extension Interpreter {
    /// Embeds a batch: the state before slot 0.
    public func begin(_ batch: TokenBatch) throws -> ForwardState {
        guard !batch.ids.isEmpty, !batch.ids.contains(where: { $0.isEmpty }) else {
            throw SkrrError(key: "ids", "a batch needs at least one non-empty sequence")
        }
        return try prepared(batch)
    }

    /// Runs one slot's weights on the state (`.skip` is the identity). The slot's weights may be
    /// any sub-block's of the same kind: that is how re-use is evaluated.
    public func apply(_ slot: ProgramSlot, to state: inout ForwardState) throws {
        if slot == .skip { return }
        try splittingWork { try step(slot, &state) }
    }

    /// The state before slot 0 of a batch whose sequences are known to be non-empty: ids padded
    /// to the batch length, the mask (padding masked unless the batch attends it), embeddings,
    /// and the shared relative-position table.
    func prepared(_ batch: TokenBatch) throws -> ForwardState {
        try batch.checkLimits(maxTokens: maxTokens)
        let b = batch.ids.count, length = batch.length
        var mask = [Int32](repeating: 0, count: b * length)
        for (row, ids) in batch.ids.enumerated() {
            for position in 0..<length where position < ids.count || !batch.maskPadding { mask[row * length + position] = 1 }
        }
        let padId = Int32(spec.padTokenId ?? 0)
        let ids = batch.ids.flatMap { $0 + [Int32](repeating: padId, count: length - $0.count) }
        let hidden = try embed(ids: ids, tokenTypes: batch.tokenTypes, batch: b, length: length)
        let bias = try program.sharedPositionBias.map { try positionBias(table: $0, length: length) }
        return ForwardState(hidden: hidden, batch: b, length: length, mask: mask, ids: ids, sharedBias: bias,
                            keep: mask.map { Float($0 == 0 ? 0 : 1) })
    }

    /// One slot on the state, inside an entry point's `splittingWork`. An attention slot uses
    /// its own relative-position table if it has one (UMT5), else the shared one. The width
    /// checks guard the pointer stages against a caller-edited `hidden`.
    func step(_ slot: ProgramSlot, _ state: inout ForwardState) throws {
        let batch = state.batch, length = state.length, rows = batch * length
        switch slot {
        case .skip:
            return
        case let .attention(w, _):
            let bias = try attentionBias(w, length: length, shared: state.sharedBias)
            try checkWidth(state.hidden, rows: rows, w.q)
            let keep = state.keep
            try state.hidden.withUnsafeMutableBufferPointer {
                try attention($0.baseAddress!, w, bias: bias, keep: keep, batch: batch, length: length)
            }
        case let .ffn(w, _):
            try checkWidth(state.hidden, rows: rows, w.wi)
            try state.hidden.withUnsafeMutableBufferPointer { try feedForward($0.baseAddress!, w, rows: rows) }
        }
    }

    /// The final hidden states `[batch, length, width]` (final norm applied where the encoder has one).
    public func finish(_ state: ForwardState) throws -> [Float] {
        var state = state
        try applyFinalNorm(&state)
        return state.hidden
    }

    /// The final norm, in place, where the encoder has one (`run` needs no copy of the state).
    func applyFinalNorm(_ state: inout ForwardState) throws {
        if let norm = program.finalNorm { try normalize(&state.hidden, norm, rows: state.batch * state.length) }
    }

    /// The pooled output `[batch, width]` of a final state, projected when the encoder has a
    /// projection head (`[batch, projection_dim]`), as `run` computes them; nil without pooling.
    public func pooledOutput(_ state: ForwardState) throws -> [Float]? {
        guard let pooling = program.pooling else { return nil }
        let hidden = try finish(state)
        let batch = TokenBatch(ids: (0..<state.batch).map { Array(state.ids[($0 * state.length)..<(($0 + 1) * state.length)]) })
        let pooled = try splittingWork { try pool(hidden, pooling, ids: state.ids, batch: batch, length: state.length) }
        guard let projection = program.projection else { return pooled }
        return try splittingWork { try linear(pooled, rows: state.batch, LinearWeights(weight: projection, bias: nil)) }
    }
}
