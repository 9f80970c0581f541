import CBLAS
import SkrrSupport

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

    /// C[m×n] = alpha · A[m×k] · op(B) + beta · C, row-major. `transposeB`: B is stored [n×k].
    @inline(__always)
    static func sgemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      transposeB: Bool, c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float = 0) {
        // CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112.
        _ = skrr_sgemm(101, 111, transposeB ? 112 : 111, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb),
                       beta, c, Int32(ldc))
    }
}
