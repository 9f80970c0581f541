/// Growable f32 buffers owned by one interpreter (or one `MatrixProduct`), kept between runs so a
/// forward pass allocates only its output.
final class Workspace {
    /// The sub-block's input after the pre-norm (`rows × d`).
    let normed = ScratchBuffer()
    /// q, k, v and the attention context, or the FFN's two `rows × d_ff` branches (one row group).
    let arena = ScratchBuffer()
    /// Several batches' hidden states side by side (a slot run over batches at once).
    let gathered = ScratchBuffer()
    /// One `length × length` score matrix per worker.
    let scores = ScratchBuffer()
    /// A GEMM's input rounded to bf16 (bf16 compute), two values per f32 slot.
    let bf16Input = ScratchBuffer()
    /// A GEMM's input rounded to bf16 values kept as f32 (bf16 compute without AVX-512 BF16).
    let roundedInput = ScratchBuffer()
    /// A GEMM's input quantized to int8 per row (int8 compute), four codes per f32 slot, and
    /// the rows' scales.
    let quantizedInput = ScratchBuffer()
    let inputScales = ScratchBuffer()
    /// Copies of misaligned f32 weight matrices (mapped ones are used in place), one per matrix
    /// of the sub-block.
    private var matrices: [ScratchBuffer] = []
    /// Per worker: the blocks of a half-precision weight matrix and of the input that a product
    /// is packing (HalfWeightProduct), 1–2 MB each whatever the matrix.
    private var packings: [ScratchBuffer] = []

    func matrix(_ index: Int) -> ScratchBuffer { Workspace.buffer(index, in: &matrices) }

    func packing(_ worker: Int) -> ScratchBuffer { Workspace.buffer(worker, in: &packings) }

    private static func buffer(_ index: Int, in buffers: inout [ScratchBuffer]) -> ScratchBuffer {
        while buffers.count <= index { buffers.append(ScratchBuffer()) }
        return buffers[index]
    }
}

/// Uninitialised f32 storage that grows on demand; growing discards the contents.
final class ScratchBuffer {
    private var pointer = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    private var capacity = 1

    func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            pointer.deallocate()
            pointer = .allocate(capacity: count)
            capacity = count
        }
        return pointer
    }

    deinit { pointer.deallocate() }
}
