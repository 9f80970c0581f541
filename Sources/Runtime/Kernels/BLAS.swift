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

    public static func setThreads(_ count: Int) { _ = skrr_blas_set_threads(Int32(count)) }

    /// Threads OpenBLAS would use: its own setting, or while `singleThreaded` bodies are
    /// running, the setting they saved (that is what the interpreter splits its work over).
    static var threadCount: Int {
        state.withLock { state in
            if state.active > 0 { return state.saved }
            return max(1, Int(skrr_blas_get_threads()))
        }
    }

    /// Runs `body` with OpenBLAS set to one thread, restoring its thread count afterwards. Bodies
    /// may overlap (interpreters running on several threads): the first sets one thread, the
    /// last restores the count the first saw.
    static func singleThreaded<T>(_ body: () throws -> T) rethrows -> T {
        state.withLock { state in
            if state.active == 0 {
                state.saved = max(1, Int(skrr_blas_get_threads()))
                if state.saved > 1 { _ = skrr_blas_set_threads(1) }
            }
            state.active += 1
        }
        defer {
            state.withLock { state in
                state.active -= 1
                if state.active == 0 && state.saved > 1 { _ = skrr_blas_set_threads(Int32(state.saved)) }
            }
        }
        return try body()
    }

    private struct ThreadState { var active = 0; var saved = 1 }
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
