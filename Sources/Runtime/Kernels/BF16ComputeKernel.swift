import CKernels
import Glibc

/// Which kernel runs `--compute bf16` (bf16 weights times activations rounded to bf16, f32
/// sums). The three give the same products and sum them in different orders, so their outputs
/// differ in the last bits; each is deterministic on its own.
public enum BF16ComputeKernel: String, Sendable, CaseIterable {
    /// Intel AMX tiles (Sources/CKernels/amx_gemm.c): about 8× the AVX-512 kernel on 2,048-row
    /// products, and a row's outputs do not depend on which rows share its product, so the
    /// search can run a slot over all calibration batches at once (RowWiseSlots).
    case amx
    /// AVX-512 BF16's vdpbf16ps (Sources/CKernels/bf16_gemm.c).
    case avx512
    /// Activations rounded to bf16 values kept in f32, then the exact half-weight GEMM: any CPU.
    case rounded

    /// The fastest this CPU runs; `SKRR_BF16_KERNEL=amx|avx512|rounded` picks another that it can
    /// run (read once; for comparing kernels).
    public static let preferred: BF16ComputeKernel = {
        if let chosen = KernelOverride.chosen("SKRR_BF16_KERNEL", runnable: { (kernel: BF16ComputeKernel) in kernel.isSupported }) {
            return chosen
        }
        return BF16ComputeKernel.allCases.first(where: \.isSupported) ?? .rounded
    }()

    var isSupported: Bool {
        switch self {
        case .amx: return skrr_amx_bf16_supported() == 1
        case .avx512: return skrr_bf16_supported() == 1
        case .rounded: return true
        }
    }
}
