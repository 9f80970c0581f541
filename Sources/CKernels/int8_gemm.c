// `--compute int8`: int8 weights (one f32 scale per output row) times activations quantized to
// int8 per row on the fly, summed exactly in int32. On AVX-512 VNNI one vpdpbusd does 64
// multiply-adds of u8 x s8, four times an f32 FMA's 16. vpdpbusd wants one operand unsigned, so
// an activation code q (-127..127) is stored as q + 128 and each output subtracts
// 128 x (sum of that weight row's codes), computed while the row is packed. Integer sums are
// exact, so the VNNI kernel and the portable one give bit-identical outputs.
#include "skrr_kernels.h"
#include "cpu_probe.h"

#include <math.h>
#include <string.h>

// Output channels per packed panel: three 16-lane vectors, with 8 rows of activations that is
// 24 accumulators in 32 zmm registers.
#define PANEL 48
#define ROWS 8

static inline int round_up4(int k) { return (k + 3) & ~3; }

int skrr_i8_quantized_stride(int k) { return round_up4(k > 0 ? k : 1); }

size_t skrr_i8_gemm_scratch_bytes(int k) { return (size_t)PANEL * (size_t)round_up4(k) + PANEL * sizeof(int32_t) + 64; }

// One row: scale = amax / 127, q = round-half-even(x * (127 / amax)) clamped to +-127, stored +128.
// A row of zeros gets scale 0 (all codes 128); a row holding NaN or infinity gets scale NaN, so
// every output of that row is NaN and the caller's finiteness check names it.
static void quantize_row(const float *x, int k, uint8_t *q, int ldq, float *scale) {
    float amax = 0;
    int finite = 1;
    for (int i = 0; i < k; i++) {
        float a = fabsf(x[i]);
        if (!(a <= 3.4028234663852886e38f)) finite = 0;
        else if (a > amax) amax = a;
    }
    memset(q, 128, (size_t)ldq);
    if (!finite) { *scale = NAN; return; }
    if (amax == 0) { *scale = 0; return; }
    float inverse = 127.0f / amax;
    for (int i = 0; i < k; i++) {
        long v = lrintf(x[i] * inverse);
        if (v > 127) v = 127;
        if (v < -127) v = -127;
        q[i] = (uint8_t)(v + 128);
    }
    *scale = amax / 127.0f;
}


// Writes one output: the exact integer sum, then acc * (xscale * wscale) in f32.
static inline void store(float *c, int32_t acc, float xscale, float wscale, int accumulate) {
    float value = (float)acc * (xscale * wscale);
    *c = accumulate ? *c + value : value;
}

void skrr_i8_gemm_reference(int m, int n, int k, const uint8_t *xq, int ldq, const float *xscales, const int8_t *w,
                            int ldw, const float *wscales, float *c, int ldc, int accumulate) {
    for (int j = 0; j < n; j++) {
        const int8_t *wr = w + (size_t)j * ldw;
        for (int r = 0; r < m; r++) {
            const uint8_t *xr = xq + (size_t)r * ldq;
            int32_t acc = 0;
            for (int i = 0; i < k; i++) acc += ((int32_t)xr[i] - 128) * (int32_t)wr[i];
            store(c + (size_t)r * ldc + j, acc, xscales[r], wscales[j], accumulate);
        }
    }
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

static int detect_vnni(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    int avx512f = (ebx >> 16) & 1, avx512bw = (ebx >> 30) & 1, avx512vl = (ebx >> 31) & 1, vnni = (ecx >> 11) & 1;
    if (!(avx512f && avx512bw && avx512vl && vnni)) return 0;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !((ecx >> 27) & 1)) return 0;
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 0xE6) == 0xE6;
}

// Asked on every product.
int skrr_i8_vnni_supported(void) {
    static int known = -1;
    return cpu_probe_once(&known, detect_vnni);
}

#define TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

// Packs `cols` (<= PANEL) rows of W as [k/4][PANEL][4] bytes (zeros past k and past cols), and
// each row's code sum into sums[PANEL]. A group of four codes is one 32-bit word, so packing is
// a transpose of words: one masked gather per 16 rows and group (a byte-by-byte copy measured as
// slow as the products it feeds at T5-XXL shape). The sums come from the packed panel through
// vpdpbusd against ones.
TARGET static void pack_panel(int cols, int k, const int8_t *w, int ldw, int8_t *packed, int32_t *sums) {
    int full = k / 4, k4 = round_up4(k);
    const __m512i lane = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                            _mm512_set1_epi32(ldw));
    for (int v = 0; v < PANEL / 16; v++) {
        int count = cols - 16 * v;
        __mmask16 mask = count >= 16 ? (__mmask16)0xFFFF : count <= 0 ? (__mmask16)0 : (__mmask16)((1u << count) - 1);
        const int8_t *base = w + (size_t)(16 * v < cols ? 16 * v : 0) * ldw;
        for (int p = 0; p < full; p++) {
            __m512i words = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), mask, lane, base + 4 * p, 1);
            _mm512_storeu_si512(packed + (size_t)p * (PANEL * 4) + 64 * v, words);
        }
    }
    if (k4 != 4 * full) {
        int8_t *group = packed + (size_t)full * (PANEL * 4);
        memset(group, 0, PANEL * 4);
        for (int j = 0; j < cols; j++)
            for (int i = 4 * full; i < k; i++) group[j * 4 + (i & 3)] = w[(size_t)j * ldw + i];
    }
    const __m512i ones = _mm512_set1_epi8(1);
    __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0;
    for (int p = 0; p < k4; p += 4) {
        const int8_t *b = packed + (size_t)p * PANEL;
        s0 = _mm512_dpbusd_epi32(s0, ones, _mm512_loadu_si512(b));
        s1 = _mm512_dpbusd_epi32(s1, ones, _mm512_loadu_si512(b + 64));
        s2 = _mm512_dpbusd_epi32(s2, ones, _mm512_loadu_si512(b + 128));
    }
    _mm512_storeu_si512(sums, s0);
    _mm512_storeu_si512(sums + 16, s1);
    _mm512_storeu_si512(sums + 32, s2);
}

// quantize_row on AVX-512, with the same results: amax from the largest magnitude's bits (a
// magnitude's bits order like its value; at or past 0x7F800000 it is infinity or NaN), codes by
// vcvtps2dq under the default rounding (nearest, ties to even, as lrintf).
TARGET static void quantize_row_avx512(const float *x, int k, uint8_t *q, int ldq, float *scale) {
    const __m512i magnitude = _mm512_set1_epi32(0x7FFFFFFF);
    __m512i largest = _mm512_setzero_si512();
    int i = 0;
    for (; i + 16 <= k; i += 16)
        largest = _mm512_max_epu32(largest, _mm512_and_si512(_mm512_loadu_si512(x + i), magnitude));
    uint32_t bits = _mm512_reduce_max_epu32(largest);
    for (; i < k; i++) {
        uint32_t b;
        memcpy(&b, x + i, 4);
        b &= 0x7FFFFFFFu;
        if (b > bits) bits = b;
    }
    memset(q, 128, (size_t)ldq);
    if (bits >= 0x7F800000u) { *scale = NAN; return; }
    if (bits == 0) { *scale = 0; return; }
    float amax;
    memcpy(&amax, &bits, 4);
    float inverse = 127.0f / amax;
    const __m512 factor = _mm512_set1_ps(inverse);
    const __m512i high = _mm512_set1_epi32(127), low = _mm512_set1_epi32(-127), offset = _mm512_set1_epi32(128);
    for (i = 0; i < k; i += 16) {
        int valid = k - i < 16 ? k - i : 16;
        __mmask16 mask = (__mmask16)((1u << valid) - 1);
        __m512i v = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(mask, x + i), factor));
        v = _mm512_add_epi32(_mm512_max_epi32(_mm512_min_epi32(v, high), low), offset);
        _mm_mask_storeu_epi8(q + i, mask, _mm512_cvtepi32_epi8(v));
    }
    *scale = amax / 127.0f;
}

// `rows` (<= ROWS) rows of activations against one packed panel; acc[r][v] covers channels
// 16v..16v+15. The unused rows read row 0 again and are not stored.
TARGET static void panel_kernel(int rows, int cols, int k4, const uint8_t *xq, int ldq, const float *xscales,
                                const int8_t *packed, const int32_t *sums, const float *wscales, float *c, int ldc,
                                int accumulate) {
    __m512i acc[ROWS][3];
    for (int r = 0; r < ROWS; r++) acc[r][0] = acc[r][1] = acc[r][2] = _mm512_setzero_si512();
    const uint8_t *xr[ROWS];
    for (int r = 0; r < ROWS; r++) xr[r] = xq + (size_t)(r < rows ? r : 0) * ldq;
    for (int p = 0; p < k4; p += 4) {
        const int8_t *b = packed + (size_t)p * PANEL;
        __m512i b0 = _mm512_loadu_si512(b), b1 = _mm512_loadu_si512(b + 64), b2 = _mm512_loadu_si512(b + 128);
        for (int r = 0; r < ROWS; r++) {
            int32_t four;
            memcpy(&four, xr[r] + p, 4);
            __m512i a = _mm512_set1_epi32(four);
            acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], a, b0);
            acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], a, b1);
            acc[r][2] = _mm512_dpbusd_epi32(acc[r][2], a, b2);
        }
    }
    int32_t lanes[PANEL];
    for (int r = 0; r < rows; r++) {
        _mm512_storeu_si512(lanes, acc[r][0]);
        _mm512_storeu_si512(lanes + 16, acc[r][1]);
        _mm512_storeu_si512(lanes + 32, acc[r][2]);
        for (int j = 0; j < cols; j++)
            store(c + (size_t)r * ldc + j, lanes[j] - 128 * sums[j], xscales[r], wscales[j], accumulate);
    }
}

TARGET static void vnni_gemm(int m, int n, int k, const uint8_t *xq, int ldq, const float *xscales, const int8_t *w,
                             int ldw, const float *wscales, float *c, int ldc, int accumulate, void *scratch) {
    int k4 = round_up4(k);
    int32_t *sums = (int32_t *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    int8_t *packed = (int8_t *)(sums + PANEL);
    for (int j = 0; j < n; j += PANEL) {
        int cols = n - j < PANEL ? n - j : PANEL;
        pack_panel(cols, k, w + (size_t)j * ldw, ldw, packed, sums);
        for (int r = 0; r < m; r += ROWS) {
            int rows = m - r < ROWS ? m - r : ROWS;
            panel_kernel(rows, cols, k4, xq + (size_t)r * ldq, ldq, xscales + r, packed, sums, wscales + j,
                         c + (size_t)r * ldc + j, ldc, accumulate);
        }
    }
}

#else

int skrr_i8_vnni_supported(void) { return 0; }

#endif

void skrr_i8_quantize_rows(int m, int k, const float *x, int ldx, uint8_t *q, int ldq, float *scales) {
#if defined(__x86_64__)
    if (skrr_i8_vnni_supported()) {
        for (int r = 0; r < m; r++) quantize_row_avx512(x + (size_t)r * ldx, k, q + (size_t)r * ldq, ldq, scales + r);
        return;
    }
#endif
    for (int r = 0; r < m; r++) quantize_row(x + (size_t)r * ldx, k, q + (size_t)r * ldq, ldq, scales + r);
}

void skrr_i8_quantize_rows_reference(int m, int k, const float *x, int ldx, uint8_t *q, int ldq, float *scales) {
    for (int r = 0; r < m; r++) quantize_row(x + (size_t)r * ldx, k, q + (size_t)r * ldq, ldq, scales + r);
}

void skrr_i8_gemm(int m, int n, int k, const uint8_t *xq, int ldq, const float *xscales, const int8_t *w, int ldw,
                  const float *wscales, float *c, int ldc, int accumulate, void *scratch) {
#if defined(__x86_64__)
    // Past 65,536 a lane's sum of (q + 128) x w products could pass 2^31; the portable loop sums
    // q x w, which stays exact to 133,000.
    if (k <= 65536 && skrr_i8_vnni_supported()) {
        vnni_gemm(m, n, k, xq, ldq, xscales, w, ldw, wscales, c, ldc, accumulate, scratch);
        return;
    }
#endif
    (void)scratch;
    skrr_i8_gemm_reference(m, n, k, xq, ldq, xscales, w, ldw, wscales, c, ldc, accumulate);
}
