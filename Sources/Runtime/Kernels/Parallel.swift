import Dispatch

/// Splitting the interpreter's work over the cores. The encoder's stages are either row-local
/// (norms, projections, the FFN) or independent per (sequence, head) (the attention core), so
/// the interpreter cuts them into chunks itself and runs one chunk per worker, each calling
/// OpenBLAS single-threaded: no fork/join inside every GEMM, elementwise loops run on all cores
/// too, and a chunk's result never depends on which worker ran it (runs are deterministic).
enum Parallel {
    /// Runs `body(i, worker)` for `i` in `0..<count` on up to `workers` threads (the calling
    /// thread included); iteration `i` runs on worker `i % workers`, so per-worker scratch indexed
    /// by `worker` is never shared. Returns when all iterations are done.
    static func forEach(_ count: Int, workers: Int, _ body: (_ index: Int, _ worker: Int) -> Void) {
        let active = min(count, workers)
        if active <= 1 {
            for i in 0..<count { body(i, 0) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedBox(body)
            DispatchQueue.concurrentPerform(iterations: active) { worker in
                var i = worker
                while i < count {
                    shared.value(i, worker)
                    i += active
                }
            }
        }
    }

    /// Work (multiply-adds) below which a chunk is not worth a second thread.
    static let minimumChunkWork = 1 << 22

    /// Runs `body` on `0..<rows` cut into one range per worker. `workPerRow` is the row's cost in
    /// multiply-adds (or weighted elementwise operations): each range gets at least
    /// `minimumChunkWork` of it, because handing a worker less costs more in wake-ups than it
    /// saves (small models under a search ran slower on two threads than on one).
    static func forEachRowRange(_ rows: Int, workPerRow: Int, workers: Int, _ body: (Range<Int>) -> Void) {
        let minimumRows = max(16, minimumChunkWork / max(workPerRow, 1))
        let ranges = Parallel.ranges(rows, pieces: workers, minimum: minimumRows)
        Parallel.forEach(ranges.count, workers: workers) { i, _ in body(ranges[i]) }
    }

    /// `0..<total` cut into at most `pieces` near-equal ranges of at least `minimum` elements.
    static func ranges(_ total: Int, pieces: Int, minimum: Int) -> [Range<Int>] {
        let count = max(1, min(pieces, total / max(minimum, 1)))
        return (0..<count).map { i in (total * i / count)..<(total * (i + 1) / count) }
    }
}

/// Hands a non-Sendable value (a closure over raw pointers into buffers that the workers write
/// at disjoint offsets) to `concurrentPerform`. Safety is the caller's: chunks never overlap.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
