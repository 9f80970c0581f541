import CBLAS
import CKernels
import SkrrSupport

/// How a linear layer whose weights are stored in bf16, f16 or int8 computes exact f32 products
/// of the stored values (`Interpreter.halfWeightKernel`; for int8, of fl(q · row scale)). Neither widens a whole matrix: the scratch is about 1–2 MB
/// per worker whatever the layer (docs/openblas.md, "Half-precision weights").
public enum HalfWeightKernel: String, Sendable, CaseIterable {
    /// Our packing GEMM (Sources/CKernels/widening_gemm.c): weights are widened while they are
    /// packed for an AVX2+FMA register kernel, so each weight is read once, as 16 bits.
    case packed
    /// Row panels of the matrix widened into a small buffer, one OpenBLAS sgemm per panel: runs
    /// everywhere and uses OpenBLAS's best kernels (AVX-512 ones included), at the cost of
    /// repacking the input once per panel.
    case panels

    /// `packed` on AVX2+FMA CPUs without AVX-512, where it measured 0.8–1.03× OpenBLAS's sgemm
    /// time on the same matrices in f32 (BENCHMARKS.md); `panels` elsewhere: on AVX-512 CPUs
    /// OpenBLAS's 512-bit kernels can be up to twice as fast as any AVX2 kernel, and without AVX2
    /// ours cannot run. `SKRR_HALF_KERNEL=packed|panels` overrides the choice (read once).
    public static let preferred: HalfWeightKernel = {
        // `packed` falls back to `panels` per call where it cannot run (`resolved`), so any name counts.
        if let chosen = KernelOverride.chosen("SKRR_HALF_KERNEL", runnable: { (_: HalfWeightKernel) in true }) {
            return chosen
        }
        let avx512 = skrr_blas_cpu_flags() & UInt32(SKRR_CPU_AVX512F) != 0
        return !avx512 && skrr_wgemm_supported(SKRR_HALF_BF16) == 1 ? .packed : .panels
    }()

    /// The kernel that runs for weights of `dtype` at `address`: `packed` needs the CPU features
    /// and 2-byte-aligned weights, and falls back to `panels` without them.
    func resolved(for dtype: WeightType, at address: UnsafeRawPointer) -> HalfWeightKernel {
        guard self == .packed, Int(bitPattern: address) % dtype.byteSize == 0 else { return .panels }
        return skrr_wgemm_supported(HalfWeightProduct.halfKind(dtype)) == 1 ? .packed : .panels
    }
}

/// `C[rows × columns] (+)= X · Wᵀ` for the columns `columns` of a weight matrix W stored
/// `[out, in]` in bf16, f16 or int8 (with `scales`, one per row of W), on the calling thread. Products are exact (widening is exact) and
/// summed in f32; the order of the sums differs from a whole-matrix sgemm. Callers split the
/// columns over threads, each with its own scratch.
enum HalfWeightProduct {
    /// Rows of W per panel and columns of W (the depth) per sgemm call in the `panels` kernel:
    /// 512 × 1024 f32 = 2 MB, and 512 output columns per call keep OpenBLAS's repacking of X
    /// small next to the multiply-adds (1 copy per 1024 of them; 256 × 2048 measured up to 1.2×
    /// sgemm's time at 512–2048 rows, this 1.0–1.1×).
    static let panelRows = 512
    static let panelDepth = 1024

    /// Floats of scratch one call needs.
    static func scratchCount(_ kernel: HalfWeightKernel) -> Int {
        switch kernel {
        case .packed: return skrr_wgemm_scratch_floats()
        case .panels: return panelRows * panelDepth
        }
    }

    /// Column ranges to split a product over: multiples of `granule` (the packed kernel's 16-wide
    /// register block), each worth at least `minimumWork` multiply-adds.
    static func columnRanges(_ columns: Int, rows: Int, depth: Int, workers: Int, minimumWork: Int) -> [Range<Int>] {
        let granule = 16, blocks = (columns + granule - 1) / granule
        let blockWork = max(1, rows * depth * granule)
        let ranges = Parallel.ranges(blocks, pieces: workers, minimum: max(1, minimumWork / blockWork))
        return ranges.map { ($0.lowerBound * granule)..<min(columns, $0.upperBound * granule) }
    }

    static func halfKind(_ dtype: WeightType) -> Int32 {
        switch dtype {
        case .f16: return SKRR_HALF_F16
        case .int8: return SKRR_WEIGHT_I8
        case .bf16, .f32: return SKRR_HALF_BF16
        }
    }

    /// `kernel` must be `resolved` for these weights; `scratch` holds `scratchCount(kernel)` floats;
    /// `scales` (every row of W's) is given exactly when `dtype` is int8.
    static func multiply(_ kernel: HalfWeightKernel, x: UnsafePointer<Float>, rows: Int, depth: Int,
                         weights: UnsafeRawPointer, dtype: WeightType, scales: UnsafePointer<Float>? = nil, columns: Range<Int>,
                         into c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, scratch: UnsafeMutablePointer<Float>) {
        precondition(dtype != .f32, "f32 weights multiply through OpenBLAS directly")
        precondition((scales != nil) == dtype.isScaled, "int8 weights, and only they, come with row scales")
        guard !columns.isEmpty, rows > 0 else { return }
        let rowBytes = depth * dtype.byteSize
        switch kernel {
        case .packed where dtype == .int8:
            skrr_wgemm_i8(Int32(rows), Int32(columns.count), Int32(depth), x, Int32(depth),
                          (weights + columns.lowerBound * rowBytes).assumingMemoryBound(to: Int8.self), Int32(depth),
                          scales! + columns.lowerBound, c + columns.lowerBound, Int32(ldc), accumulate ? 1 : 0, scratch)
        case .packed:
            skrr_wgemm(Int32(rows), Int32(columns.count), Int32(depth), x, Int32(depth),
                       (weights + columns.lowerBound * rowBytes).assumingMemoryBound(to: UInt16.self), Int32(depth),
                       halfKind(dtype), c + columns.lowerBound, Int32(ldc), accumulate ? 1 : 0, scratch)
        case .panels:
            for first in stride(from: columns.lowerBound, to: columns.upperBound, by: panelRows) {
                let count = min(panelRows, columns.upperBound - first)
                for start in stride(from: 0, to: depth, by: panelDepth) {
                    let width = min(panelDepth, depth - start)
                    for row in 0..<count {
                        let source = weights + (first + row) * rowBytes + start * dtype.byteSize
                        WeightConversion.toFloat(UnsafeRawBufferPointer(start: source, count: width * dtype.byteSize), dtype: dtype,
                                                 count: width, into: scratch + row * width, scale: scales?[first + row] ?? 1)
                    }
                    BLAS.sgemm(m: rows, n: count, k: width, a: x + start, lda: depth, b: scratch, ldb: width, transposeB: true,
                               c: c + first, ldc: ldc, beta: accumulate || start > 0 ? 1 : 0)
                }
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
