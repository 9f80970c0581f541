import CKernels
import SkrrSupport

/// Feed-forward slots over the rows of many batches at once. An FFN acts on each position alone,
/// so a search that holds its calibration prompts as many small batches (grouped by length) can
/// run one FFN over all their rows: the weights are read and widened once per call instead of
/// once per batch. On T5-XXL with 16 short prompts the search spent nearly all its time in the
/// widening GEMM over batches of 3–43 rows, each streaming an FFN's 252 MB of bf16 weights.
extension Interpreter {
    /// Whether `applyRows` gives every row exactly the bits `apply` gives it in its own batch:
    /// an FFN slot whose matrices are bf16/f16 multiplied by the packing kernel, whose sums
    /// (256-long FMA chains added in order) do not depend on how the rows are split or where a
    /// row sits. f32 weights (OpenBLAS may choose kernels by size), the `panels` kernel (sgemm per
    /// panel) and the AVX-512 BF16 kernel make no such promise, so their slots are not fused.
    public func rowWiseFusable(_ slot: ProgramSlot) -> Bool {
        guard case let .ffn(w, _) = slot else { return false }
        let matrices = [w.wi, w.wo] + (w.wiGate.map { [$0] } ?? [])
        return matrices.allSatisfy { layer in
            let info = program.tensors[layer.weight]
            guard info.dtype == .bf16 || info.dtype == .f16 else { return false }
            let base = weights.bytes(ofTensor: layer.weight).baseAddress!
            if info.dtype == .bf16 && compute == .bf16 && skrr_bf16_supported() == 1 { return false }
            return halfWeightKernel.resolved(for: info.dtype, at: base) == .packed
        }
    }

    /// Runs a `rowWiseFusable` slot on `rows` rows of hidden states (`rows × hidden size`, any
    /// batches' rows side by side), in place, split over this interpreter's workers.
    public func applyRows(_ slot: ProgramSlot, to hidden: UnsafeMutablePointer<Float>, rows: Int) throws {
        guard case let .ffn(w, _) = slot, rowWiseFusable(slot) else {
            throw SkrrError(key: "slot", "only feed-forward slots with bf16/f16 weights on the packing kernel run row-wise")
        }
        guard rows > 0 else { return }
        try splittingWork { try feedForward(hidden, w, rows: rows) }
    }
}
