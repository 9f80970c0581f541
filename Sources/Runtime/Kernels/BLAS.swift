import CBLAS
import SkrrSupport
import Synchronization

/// OpenBLAS, opened on first use after `OPENBLAS_CORETYPE` has been chosen for this CPU (see
/// docs/openblas.md): callers get the fast kernels without exporting anything.
public enum BLAS {
    private static let loadResult: String? = {
        var message = [CChar](repeating: 0, count: 512)
        if skrr_blas_load(&message, message.count) == 0 { return nil }
        return String(decoding: message.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    /// Loads the library once; throws with the loader's reason if it cannot.
    public static func ensureLoaded() throws {
        if let failure = loadResult { throw SkrrError("cannot load OpenBLAS: \(failure) (install libopenblas-dev)") }
    }

    public static var coreName: String {
        guard loadResult == nil, let name = skrr_blas_corename() else { return "unavailable" }
        return String(cString: name)
    }

    /// Sets the threads the interpreter splits its work over (and OpenBLAS's own count while the
    /// interpreter has not pinned it to one thread).
    public static func setThreads(_ count: Int) {
        state.withLock { state in
            state.configured = max(1, count)
            if !state.pinned { _ = skrr_blas_set_threads(Int32(max(1, count))) }
        }
    }

    /// Threads the interpreter splits its work over: OpenBLAS's own count as first seen
    /// (`OPENBLAS_NUM_THREADS` or the cores), or what `setThreads` chose since.
    static var threadCount: Int {
        state.withLock { state in state.configured ?? max(1, Int(skrr_blas_get_threads())) }
    }

    /// Runs `body` with OpenBLAS at one thread (the interpreter splits the work itself). The first
    /// call pins OpenBLAS to one thread for good: raising the count again wakes OpenBLAS's worker
    /// threads, which then spin in `sched_yield` on the other core for a while; done per sub-block
    /// in a search, that cost more than the work (a small model searched faster on one thread).
    ///
    /// In a host process (`restoreThreadsAfterEachCall`, set by libskrr) nothing stays pinned:
    /// the first of any overlapping calls sets one thread and the last one out restores the
    /// count it found, so a host that shares this OpenBLAS keeps its own setting.
    static func singleThreaded<T>(_ body: () throws -> T) rethrows -> T {
        let restores = state.withLock { state -> Bool in
            if state.restores {
                if state.active == 0 {
                    let found = max(1, Int(skrr_blas_get_threads()))
                    state.configured = state.configured ?? found
                    state.found = found
                    _ = skrr_blas_set_threads(1)
                }
                state.active += 1
                return true
            }
            guard !state.pinned else { return false }
            state.configured = state.configured ?? max(1, Int(skrr_blas_get_threads()))
            _ = skrr_blas_set_threads(1)
            state.pinned = true
            return false
        }
        defer {
            if restores {
                state.withLock { state in
                    state.active -= 1
                    if state.active == 0 { _ = skrr_blas_set_threads(Int32(state.found)) }
                }
            }
        }
        return try body()
    }

    /// Library mode: OpenBLAS's thread count is restored after every call instead of pinned.
    public static func restoreThreadsAfterEachCall() {
        state.withLock { $0.restores = true }
    }

    private struct ThreadState {
        var configured: Int?
        var pinned = false
        /// Library mode (`restoreThreadsAfterEachCall`): calls inside `singleThreaded` now, and
        /// the count the first of them found.
        var restores = false
        var active = 0
        var found = 1
    }
    private static let state = Mutex(ThreadState())

    /// C[m×n] = alpha · A[m×k] · op(B) + beta · C, row-major. `transposeB`: B is stored [n×k].
    @inline(__always)
    static func sgemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      transposeB: Bool, c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float = 0) {
        // CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112.
        _ = skrr_sgemm(101, 111, transposeB ? 112 : 111, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb),
                       beta, c, Int32(ldc))
    }
}
