// A small bf16 GEMM on AVX-512 BF16 (vdpbf16ps): 32 multiply-adds per instruction against 16
// for an f32 FMA. Debian's OpenBLAS 0.3.21 has no sbgemm, and the interpreter's linear layers
// are exactly this shape: activations [rows x in] times a weight matrix stored [out x in], so
// both operands are read along k and every output is a dot product. A 4 x 4 block of outputs
// keeps 16 accumulators in registers; each 32-element step of k loads 4 rows of A and 4 of B.
#include "skrr_kernels.h"
#include "cpu_probe.h"

#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

static int detect_bf16(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    int avx512f = (ebx >> 16) & 1, avx512bw = (ebx >> 30) & 1, avx512vl = (ebx >> 31) & 1;
    if (!__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) return 0;
    int bf16 = (eax >> 5) & 1;
    if (!(avx512f && avx512bw && avx512vl && bf16)) return 0;
    // The OS must save the zmm state (XCR0 bits 1, 2, 5, 6, 7).
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !((ecx >> 27) & 1)) return 0;
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 0xE6) == 0xE6;
}

// Callers ask per product (a search on a small model spent 82 % of its time probing when every
// call ran cpuid).
int skrr_bf16_supported(void) {
    static int known = -1;
    return cpu_probe_once(&known, detect_bf16);
}

// Matches vcvtneps2bf16 exactly, so the vector body and the scalar tail agree: nearest, ties to
// even, NaN stays (quiet) NaN, and subnormal inputs become signed zero (the instruction treats
// them as zero; activations that small do not matter to a GEMM).
static inline uint16_t round_to_bf16(float value) {
    uint32_t bits;
    memcpy(&bits, &value, 4);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((bits >> 16) | 0x40);
    if ((bits & 0x7F800000u) == 0) return (uint16_t)((bits >> 16) & 0x8000);
    bits += 0x7FFFu + ((bits >> 16) & 1u);
    return (uint16_t)(bits >> 16);
}

__attribute__((target("avx512f,avx512bf16,avx512bw,avx512vl")))
void skrr_f32_to_bf16(const float *src, uint16_t *dst, size_t count) {
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        __m256bh packed = _mm512_cvtneps_pbh(_mm512_loadu_ps(src + i));
        _mm256_storeu_si256((__m256i *)(dst + i), (__m256i)packed);
    }
    for (; i < count; i++) dst[i] = round_to_bf16(src[i]);
}

#define TARGET __attribute__((target("avx512f,avx512bf16,avx512bw,avx512vl")))

// Loads 32 bf16 values of a row from p, zero past `valid` (the tail of k).
TARGET static inline __m512bh load_row(const uint16_t *p, int valid) {
    if (valid >= 32) return (__m512bh)_mm512_loadu_si512(p);
    __mmask32 mask = valid <= 0 ? 0 : (__mmask32)((1ull << valid) - 1);
    return (__m512bh)_mm512_maskz_loadu_epi16(mask, p);
}

TARGET static inline void store(float *c, float value, int accumulate) { *c = accumulate ? *c + value : value; }

// The full 4 x 4 block: outputs (i..i+3, j..j+3).
TARGET static void block4x4(int k, const uint16_t *a, int lda, const uint16_t *b, int ldb, float *c, int ldc,
                            int accumulate) {
    __m512 s00 = _mm512_setzero_ps(), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
    __m512 s20 = s00, s21 = s00, s22 = s00, s23 = s00, s30 = s00, s31 = s00, s32 = s00, s33 = s00;
    for (int p = 0; p < k; p += 32) {
        int valid = k - p;
        __m512bh b0 = load_row(b + p, valid), b1 = load_row(b + ldb + p, valid);
        __m512bh b2 = load_row(b + 2 * (size_t)ldb + p, valid), b3 = load_row(b + 3 * (size_t)ldb + p, valid);
        __m512bh a0 = load_row(a + p, valid);
        s00 = _mm512_dpbf16_ps(s00, a0, b0); s01 = _mm512_dpbf16_ps(s01, a0, b1);
        s02 = _mm512_dpbf16_ps(s02, a0, b2); s03 = _mm512_dpbf16_ps(s03, a0, b3);
        __m512bh a1 = load_row(a + lda + p, valid);
        s10 = _mm512_dpbf16_ps(s10, a1, b0); s11 = _mm512_dpbf16_ps(s11, a1, b1);
        s12 = _mm512_dpbf16_ps(s12, a1, b2); s13 = _mm512_dpbf16_ps(s13, a1, b3);
        __m512bh a2 = load_row(a + 2 * (size_t)lda + p, valid);
        s20 = _mm512_dpbf16_ps(s20, a2, b0); s21 = _mm512_dpbf16_ps(s21, a2, b1);
        s22 = _mm512_dpbf16_ps(s22, a2, b2); s23 = _mm512_dpbf16_ps(s23, a2, b3);
        __m512bh a3 = load_row(a + 3 * (size_t)lda + p, valid);
        s30 = _mm512_dpbf16_ps(s30, a3, b0); s31 = _mm512_dpbf16_ps(s31, a3, b1);
        s32 = _mm512_dpbf16_ps(s32, a3, b2); s33 = _mm512_dpbf16_ps(s33, a3, b3);
    }
    __m512 sums[16] = {s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23, s30, s31, s32, s33};
    for (int r = 0; r < 4; r++)
        for (int q = 0; q < 4; q++) store(c + (size_t)r * ldc + q, _mm512_reduce_add_ps(sums[4 * r + q]), accumulate);
}

// Any block up to 4 x 4 at the edges, one output at a time.
TARGET static void edge(int rows, int cols, int k, const uint16_t *a, int lda, const uint16_t *b, int ldb, float *c,
                        int ldc, int accumulate) {
    for (int r = 0; r < rows; r++)
        for (int q = 0; q < cols; q++) {
            __m512 s = _mm512_setzero_ps();
            for (int p = 0; p < k; p += 32)
                s = _mm512_dpbf16_ps(s, load_row(a + (size_t)r * lda + p, k - p), load_row(b + (size_t)q * ldb + p, k - p));
            store(c + (size_t)r * ldc + q, _mm512_reduce_add_ps(s), accumulate);
        }
}

TARGET void skrr_bf16_gemm(int m, int n, int k, const uint16_t *a, int lda, const uint16_t *b, int ldb, float *c, int ldc,
                           int accumulate) {
    // Columns in panels of 64 so the B rows of a panel (64 x k bf16) stay in L2 while every row
    // block of A streams past them.
    for (int j0 = 0; j0 < n; j0 += 64) {
        int j1 = j0 + 64 < n ? j0 + 64 : n;
        for (int i = 0; i < m; i += 4) {
            int rows = m - i < 4 ? m - i : 4;
            for (int j = j0; j < j1; j += 4) {
                int cols = j1 - j < 4 ? j1 - j : 4;
                const uint16_t *ap = a + (size_t)i * lda, *bp = b + (size_t)j * ldb;
                float *cp = c + (size_t)i * ldc + j;
                if (rows == 4 && cols == 4) block4x4(k, ap, lda, bp, ldb, cp, ldc, accumulate);
                else edge(rows, cols, k, ap, lda, bp, ldb, cp, ldc, accumulate);
            }
        }
    }
}

#else

int skrr_bf16_supported(void) { return 0; }
void skrr_f32_to_bf16(const float *src, uint16_t *dst, size_t count) { (void)src; (void)dst; (void)count; }
void skrr_bf16_gemm(int m, int n, int k, const uint16_t *a, int lda, const uint16_t *b, int ldb, float *c, int ldc,
                    int accumulate) {
    (void)m; (void)n; (void)k; (void)a; (void)lda; (void)b; (void)ldb; (void)c; (void)ldc; (void)accumulate;
}

#endif
