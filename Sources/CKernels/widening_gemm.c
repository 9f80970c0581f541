// Exact f32 products with weights stored in bf16, f16 or int8, without widening whole matrices.
//
// The interpreter's linear layers compute C[m x n] = X[m x k] . W[n x k]^T with W a weight matrix
// stored [out, in] in half precision. Widening W to f32 first and calling sgemm costs a
// weight-sized buffer per matrix and two extra passes over it (write f32, let sgemm read and
// pack it again). A GEMM packs its B operand anyway, so this one widens while packing: each
// KC x NC block of W is read once as 16-bit values, widened and transposed into the micro-panel
// layout the register kernel reads, and used for every row of X. The only scratch is that block
// and one MC x KC block of X (skrr_wgemm_scratch_floats, about 1.2 MB whatever the matrix size).
//
// Structure (the Goto/BLIS loop nest): jc over n by NC, pc over k by KC, ic over m by MC, then
// NR-wide column panels and MR-tall row panels through a 6 x 16 AVX2+FMA micro-kernel (12 ymm
// accumulators). Products are exact in f32 (widening is exact and FMA rounds once, as sgemm's
// does); each output sums its k in KC-long FMA chains that are then added to C in order, so a
// value does not depend on how m or n are split between calls or threads.
//
// int8 weights (`--weight-dtype int8`) carry one f32 scale per row of W (per output channel):
// the packer stores fl(q * scale[row]), so the product is exactly that of an f32 GEMM on the
// dequantized matrix, and each weight is read as one byte.
#include "skrr_kernels.h"

#include <stdint.h>
#include <string.h>

// Register block and cache blocks. MC x KC floats of X (120 KB) stay in L2 while the kernel
// sweeps the packed W block; KC x NR floats of W (16 KB) stay in L1 across the row panels; the
// KC x NC block of W (1 MB) is the L3-resident operand. Measured on Zen 3 (docs/openblas.md).
enum { MR = 6, NR = 16, KC = 256, MC = 120, NC = 1024 };

size_t skrr_wgemm_scratch_floats(void) {
    // Packed W block, packed X block, 8 floats of slack for the overlapping stores of the X
    // packer, and 16 to align the start to 64 bytes.
    return (size_t)KC * NC + (size_t)MC * KC + 8 + 16;
}

#if defined(__x86_64__)
#include <immintrin.h>

int skrr_wgemm_supported(int half_kind) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return 0;
    if (half_kind == SKRR_HALF_F16 && !__builtin_cpu_supports("f16c")) return 0;
    return half_kind == SKRR_HALF_BF16 || half_kind == SKRR_HALF_F16 || half_kind == SKRR_WEIGHT_I8;
}

#define TARGET __attribute__((target("avx2,fma,f16c")))

// Eight consecutive 16-bit weights as f32: bf16 is the top half of an f32, f16 goes through
// vcvtph2ps (exact for every f16 value, subnormals included).
TARGET static inline __m256 widen8(const uint16_t *p, int half_kind) {
    __m128i bits = _mm_loadu_si128((const __m128i *)p);
    if (half_kind == SKRR_HALF_F16) return _mm256_cvtph_ps(bits);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(bits), 16));
}

TARGET static inline float widen1(uint16_t bits, int half_kind) {
    if (half_kind == SKRR_HALF_F16) return _cvtsh_ss(bits);
    uint32_t wide = (uint32_t)bits << 16;
    float value;
    memcpy(&value, &wide, 4);
    return value;
}

// r[i] holds row i of an 8 x 8 block; afterwards r[i] holds column i.
TARGET static inline void transpose8(__m256 r[8]) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(u0, u4, 0x20); r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    r[2] = _mm256_permute2f128_ps(u2, u6, 0x20); r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    r[4] = _mm256_permute2f128_ps(u0, u4, 0x31); r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    r[6] = _mm256_permute2f128_ps(u2, u6, 0x31); r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

// One W micro-panel: rows [0, rows) (rows <= NR) and columns [0, kc) of W, widened, as
// out[p * NR + r]; rows past `rows` are zero so the kernel can always compute 16 columns.
TARGET static void pack_w(const uint16_t *w, int ldw, int rows, int kc, int half_kind, float *out) {
    int p = 0;
    if (rows == NR) {
        for (; p + 8 <= kc; p += 8) {
            for (int half = 0; half < 2; half++) {
                __m256 r[8];
                for (int i = 0; i < 8; i++) r[i] = widen8(w + (size_t)(half * 8 + i) * ldw + p, half_kind);
                transpose8(r);
                for (int i = 0; i < 8; i++) _mm256_storeu_ps(out + (size_t)(p + i) * NR + half * 8, r[i]);
            }
        }
    }
    for (; p < kc; p++)
        for (int r = 0; r < NR; r++) out[(size_t)p * NR + r] = r < rows ? widen1(w[(size_t)r * ldw + p], half_kind) : 0.f;
}

// pack_w for int8 weights: row r of the panel is scale[r] * q[r][p], rounded once to f32.
TARGET static void pack_w_i8(const int8_t *w, int ldw, const float *scales, int rows, int kc, float *out) {
    int p = 0;
    if (rows == NR) {
        for (; p + 8 <= kc; p += 8) {
            for (int half = 0; half < 2; half++) {
                __m256 r[8];
                for (int i = 0; i < 8; i++) {
                    int row = half * 8 + i;
                    __m128i bytes = _mm_loadl_epi64((const __m128i *)(w + (size_t)row * ldw + p));
                    __m256 q = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes));
                    r[i] = _mm256_mul_ps(q, _mm256_set1_ps(scales[row]));
                }
                transpose8(r);
                for (int i = 0; i < 8; i++) _mm256_storeu_ps(out + (size_t)(p + i) * NR + half * 8, r[i]);
            }
        }
    }
    for (; p < kc; p++)
        for (int r = 0; r < NR; r++) out[(size_t)p * NR + r] = r < rows ? (float)w[(size_t)r * ldw + p] * scales[r] : 0.f;
}

// One X micro-panel: rows [0, rows) (rows <= MR) and columns [0, kc) of X as out[p * MR + r],
// zero rows past `rows`. The 8-wide stores overlap the next column by two floats, which the
// next store overwrites; the last one writes two floats past the panel (the scratch's slack).
TARGET static void pack_x(const float *x, int ldx, int rows, int kc, float *out) {
    int p = 0;
    if (rows == MR) {
        for (; p + 8 <= kc; p += 8) {
            __m256 r[8];
            for (int i = 0; i < MR; i++) r[i] = _mm256_loadu_ps(x + (size_t)i * ldx + p);
            r[6] = r[7] = _mm256_setzero_ps();
            transpose8(r);
            for (int i = 0; i < 8; i++) _mm256_storeu_ps(out + (size_t)(p + i) * MR, r[i]);
        }
    }
    for (; p < kc; p++)
        for (int r = 0; r < MR; r++) out[(size_t)p * MR + r] = r < rows ? x[(size_t)r * ldx + p] : 0.f;
}

// C[6 x 16] = (add ? C : 0) + sum over p of a[p * 6 + i] * b[p * 16 + j].
TARGET static void kernel(int kc, const float *a, const float *b, float *c, int ldc, int add) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    // The C tile's rows are far apart (ldc): ask for them now, they are needed after the loop.
    for (int i = 0; i < MR; i++) {
        _mm_prefetch((const char *)(c + (size_t)i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + (size_t)i * ldc + NR - 1), _MM_HINT_T0);
    }
    for (int p = 0; p < kc; p++) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8), av;
        av = _mm256_broadcast_ss(a + 0); c00 = _mm256_fmadd_ps(av, b0, c00); c01 = _mm256_fmadd_ps(av, b1, c01);
        av = _mm256_broadcast_ss(a + 1); c10 = _mm256_fmadd_ps(av, b0, c10); c11 = _mm256_fmadd_ps(av, b1, c11);
        av = _mm256_broadcast_ss(a + 2); c20 = _mm256_fmadd_ps(av, b0, c20); c21 = _mm256_fmadd_ps(av, b1, c21);
        av = _mm256_broadcast_ss(a + 3); c30 = _mm256_fmadd_ps(av, b0, c30); c31 = _mm256_fmadd_ps(av, b1, c31);
        av = _mm256_broadcast_ss(a + 4); c40 = _mm256_fmadd_ps(av, b0, c40); c41 = _mm256_fmadd_ps(av, b1, c41);
        av = _mm256_broadcast_ss(a + 5); c50 = _mm256_fmadd_ps(av, b0, c50); c51 = _mm256_fmadd_ps(av, b1, c51);
        a += MR;
        b += NR;
    }
    __m256 rows[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    for (int i = 0; i < MR; i++) {
        float *row = c + (size_t)i * ldc;
        __m256 v0 = rows[i][0], v1 = rows[i][1];
        if (add) {
            v0 = _mm256_add_ps(_mm256_loadu_ps(row), v0);
            v1 = _mm256_add_ps(_mm256_loadu_ps(row + 8), v1);
        }
        _mm256_storeu_ps(row, v0);
        _mm256_storeu_ps(row + 8, v1);
    }
}

// A partial tile at the bottom or right edge: the full kernel into a local tile, then the
// `rows x cols` part added or stored, in the same order as the full kernel's.
TARGET static void edge_kernel(int kc, const float *a, const float *b, float *c, int ldc, int add, int rows, int cols) {
    float tile[MR * NR];
    kernel(kc, a, b, tile, NR, 0);
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            float *out = c + (size_t)i * ldc + j;
            *out = add ? *out + tile[i * NR + j] : tile[i * NR + j];
        }
}

static inline int min_int(int a, int b) { return a < b ? a : b; }

// The loop nest for every weight kind: `w` is uint16_t (bf16, f16) or int8_t (int8, with
// `scales` holding one float per row of W).
TARGET static void wgemm(int m, int n, int k, const float *x, int ldx, const void *w, int ldw, int kind,
                         const float *scales, float *c, int ldc, int accumulate, float *scratch) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        if (!accumulate)
            for (int i = 0; i < m; i++) memset(c + (size_t)i * ldc, 0, (size_t)n * sizeof(float));
        return;
    }
    float *packed_w = (float *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    float *packed_x = packed_w + (size_t)KC * NC;
    for (int jc = 0; jc < n; jc += NC) {
        int nc = min_int(NC, n - jc);
        for (int pc = 0; pc < k; pc += KC) {
            int kc = min_int(KC, k - pc), add = accumulate || pc > 0;
            for (int ic = 0; ic < m; ic += MC) {
                int mc = min_int(MC, m - ic);
                for (int ir = 0; ir < mc; ir += MR)
                    pack_x(x + (size_t)(ic + ir) * ldx + pc, ldx, min_int(MR, mc - ir), kc, packed_x + (size_t)ir * kc);
                for (int jr = 0; jr < nc; jr += NR) {
                    int cols = min_int(NR, nc - jr);
                    float *panel = packed_w + (size_t)jr * kc;
                    // W is packed during the first row block, panel by panel, while the panel
                    // is still in L1 for its first use; later row blocks reuse it from L2/L3.
                    if (ic == 0) {
                        size_t row = (size_t)(jc + jr);
                        if (kind == SKRR_WEIGHT_I8)
                            pack_w_i8((const int8_t *)w + row * ldw + pc, ldw, scales + row, cols, kc, panel);
                        else
                            pack_w((const uint16_t *)w + row * ldw + pc, ldw, cols, kc, kind, panel);
                    }
                    for (int ir = 0; ir < mc; ir += MR) {
                        int rows = min_int(MR, mc - ir);
                        float *out = c + (size_t)(ic + ir) * ldc + jc + jr;
                        if (rows == MR && cols == NR) kernel(kc, packed_x + (size_t)ir * kc, panel, out, ldc, add);
                        else edge_kernel(kc, packed_x + (size_t)ir * kc, panel, out, ldc, add, rows, cols);
                    }
                }
            }
        }
    }
}

TARGET void skrr_wgemm(int m, int n, int k, const float *x, int ldx, const uint16_t *w, int ldw, int half_kind, float *c,
                       int ldc, int accumulate, float *scratch) {
    wgemm(m, n, k, x, ldx, w, ldw, half_kind, NULL, c, ldc, accumulate, scratch);
}

TARGET void skrr_wgemm_i8(int m, int n, int k, const float *x, int ldx, const int8_t *w, int ldw, const float *scales,
                          float *c, int ldc, int accumulate, float *scratch) {
    wgemm(m, n, k, x, ldx, w, ldw, SKRR_WEIGHT_I8, scales, c, ldc, accumulate, scratch);
}

#else

int skrr_wgemm_supported(int half_kind) { (void)half_kind; return 0; }
void skrr_wgemm_i8(int m, int n, int k, const float *x, int ldx, const int8_t *w, int ldw, const float *scales,
                   float *c, int ldc, int accumulate, float *scratch) {
    (void)m; (void)n; (void)k; (void)x; (void)ldx; (void)w; (void)ldw; (void)scales; (void)c; (void)ldc;
    (void)accumulate; (void)scratch;
}
void skrr_wgemm(int m, int n, int k, const float *x, int ldx, const uint16_t *w, int ldw, int half_kind, float *c,
                int ldc, int accumulate, float *scratch) {
    (void)m; (void)n; (void)k; (void)x; (void)ldx; (void)w; (void)ldw; (void)half_kind; (void)c; (void)ldc;
    (void)accumulate; (void)scratch;
}

#endif
