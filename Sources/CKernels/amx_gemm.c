// `--compute bf16` on Intel AMX (Sapphire Rapids and later): TDPBF16PS multiplies a 16 x 32 bf16
// tile by a 32 x 16 one into 16 x 16 f32 sums, 8192 multiply-adds per instruction against 32 for
// AVX-512's vdpbf16ps. The search scores candidates on thousands of rows at once, where the
// AVX-512 BF16 kernel runs no faster than exact f32 (BENCHMARKS.md); tiles are what make bf16
// scoring pay.
//
// Shapes: C[m x n] (+)= A[m x k] . W[n x k]^T. A (activations) is loaded straight into tiles, so
// the caller lays it out padded: rows to a multiple of 32, depth to a multiple of 32, zeros in the
// padding. W is the stored weight matrix; tiles want it "VNNI-packed" (each 32-bit word holds one
// output channel's two consecutive k values), so blocks of W are repacked into the scratch. Blocks
// are AMX_NC channels by AMX_KC depth (512 KB of bf16: L2-resident while every row block of A
// streams past it); the register block is 32 x 32 outputs in four accumulator tiles.
//
// Arithmetic, which the portable reference below reproduces bit for bit. Intel documents
// TDPBF16PS as a sequential sum of products; measured on an Emerald Rapids Xeon it is not: for each
// 32-value step of k, the products at even and at odd positions are summed in two separate f32
// chains from zero, the two chains are added, and that is added to the running output (starting
// from +0, or from C when accumulating). Every operation rounds to nearest even in f32, denormal
// results become zero and bf16 inputs with a zero exponent count as zero (the instruction's fixed
// DAZ/FTZ). A product of two bf16 values is exact in f32, so fused and unfused steps agree. The
// tests compare the kernel with the reference bit for bit, so a CPU that sums otherwise fails them
// rather than drifting unnoticed. Sums carried from one depth block to the next go through C in
// memory, exactly, so an output depends on neither m, n, the blocking nor a caller's split.
#include "skrr_kernels.h"
#include "cpu_probe.h"

#include <math.h>
#include <float.h>
#include <string.h>

#define AMX_NC 256
#define AMX_KC 1024

int skrr_amx_padded(int count) { return (count + 31) / 32 * 32; }

size_t skrr_amx_bf16_scratch_bytes(void) {
    // The packed W block, 32 x 32 f32 of staging for edge blocks, the 64-byte tile configuration,
    // and slack to align each to 64 bytes.
    return (size_t)AMX_NC * AMX_KC * 2 + 32 * 32 * 4 + 64 + 3 * 64;
}

void skrr_bf16_rows_padded(int rows, int k, const float *x, int ldx, uint16_t *a, int lda) {
    int vector = skrr_bf16_supported();
    for (int r = 0; r < rows; r++) {
        uint16_t *row = a + (size_t)r * lda;
        if (vector) {
            skrr_f32_to_bf16(x + (size_t)r * ldx, row, (size_t)k);
        } else {
            // The same rounding, kept as f32: a bf16 value is the high half of its f32 bits.
            float chunk[256];
            for (int p = 0; p < k; p += 256) {
                int count = k - p < 256 ? k - p : 256;
                skrr_round_to_bf16_f32(x + (size_t)r * ldx + p, chunk, (size_t)count);
                for (int i = 0; i < count; i++) {
                    uint32_t bits;
                    memcpy(&bits, &chunk[i], 4);
                    row[p + i] = (uint16_t)(bits >> 16);
                }
            }
        }
        memset(row + k, 0, (size_t)(lda - k) * 2);
    }
}

static inline float bf16_daz(uint16_t bits) {
    uint32_t wide = (bits & 0x7F80u) == 0 ? (uint32_t)(bits & 0x8000u) << 16 : (uint32_t)bits << 16;
    float value;
    memcpy(&value, &wide, 4);
    return value;
}

static inline float flush(float value) { return fabsf(value) < FLT_MIN ? copysignf(0.0f, value) : value; }

void skrr_amx_bf16_gemm_reference(int m, int n, int k, const uint16_t *a, int lda, const uint16_t *w, int ldw, float *c,
                                  int ldc, int accumulate) {
    int depth = skrr_amx_padded(k);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float sum = accumulate ? c[(size_t)i * ldc + j] : 0.0f;
            for (int p0 = 0; p0 < depth; p0 += 32) {
                float lanes[2] = {0.0f, 0.0f};
                for (int p = p0; p < p0 + 32; p++) {
                    float x = bf16_daz(a[(size_t)i * lda + p]), y = p < k ? bf16_daz(w[(size_t)j * ldw + p]) : 0.0f;
                    lanes[p & 1] = flush(fmaf(x, y, lanes[p & 1]));
                }
                sum = flush(sum + flush(lanes[0] + lanes[1]));
            }
            c[(size_t)i * ldc + j] = sum;
        }
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

// Linux hands out the 8 KB tile register state only to a process that asks for it.
#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

// Asking twice is harmless (the permission request is idempotent), so the probe shares the
// other kernels' keep-the-answer helper.
static int detect_amx(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    int tile = (edx >> 24) & 1, bf16 = (edx >> 22) & 1;
    if (!tile || !bf16 || !skrr_bf16_supported()) return 0;
    if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) != 0) return 0;
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & (3u << 17)) == (3u << 17);  // XTILECFG and XTILEDATA enabled by the OS
}

int skrr_amx_bf16_supported(void) {
    static int known = -1;
    return cpu_probe_once(&known, detect_amx);
}

typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t bytes_per_row[16];
    uint8_t rows[16];
} tile_config;

#define TARGET __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw")))

// Tiles: 0-3 the 32 x 32 accumulators (rows i..i+15 / i+16..i+31 by channels j..j+15 / j+16..),
// 4-5 two row blocks of A, 6-7 two channel blocks of W. All 16 rows x 64 bytes.
TARGET static void configure(tile_config *config) {
    memset(config, 0, sizeof *config);
    config->palette = 1;
    for (int t = 0; t < 8; t++) {
        config->rows[t] = 16;
        config->bytes_per_row[t] = 64;
    }
    _tile_loadconfig(config);
}

// In-place transpose of a 16 x 16 matrix of 32-bit words held as 16 rows: afterwards rows[c]
// word j is what rows[j] word c was. Pairs of words interleave (32, then 64 bits) within each
// 128-bit lane, then 128-bit lanes are exchanged twice.
TARGET static inline void transpose16(__m512i rows[16]) {
    __m512i a[16], b[16];
    for (int i = 0; i < 16; i += 2) {
        a[i] = _mm512_unpacklo_epi32(rows[i], rows[i + 1]);
        a[i + 1] = _mm512_unpackhi_epi32(rows[i], rows[i + 1]);
    }
    // b[4q + w], lane L: rows 4q..4q+3 at column 4L + w.
    for (int q = 0; q < 16; q += 4) {
        b[q] = _mm512_unpacklo_epi64(a[q], a[q + 2]);
        b[q + 1] = _mm512_unpackhi_epi64(a[q], a[q + 2]);
        b[q + 2] = _mm512_unpacklo_epi64(a[q + 1], a[q + 3]);
        b[q + 3] = _mm512_unpackhi_epi64(a[q + 1], a[q + 3]);
    }
    for (int w = 0; w < 4; w++) {
        __m512i c0 = _mm512_shuffle_i32x4(b[w], b[4 + w], 0x44), c1 = _mm512_shuffle_i32x4(b[w], b[4 + w], 0xEE);
        __m512i c2 = _mm512_shuffle_i32x4(b[8 + w], b[12 + w], 0x44), c3 = _mm512_shuffle_i32x4(b[8 + w], b[12 + w], 0xEE);
        rows[w] = _mm512_shuffle_i32x4(c0, c2, 0x88);
        rows[4 + w] = _mm512_shuffle_i32x4(c0, c2, 0xDD);
        rows[8 + w] = _mm512_shuffle_i32x4(c1, c3, 0x88);
        rows[12 + w] = _mm512_shuffle_i32x4(c1, c3, 0xDD);
    }
}

// Packs W rows [0, channels) and depth [p0, p0 + depth) (depth a multiple of 32) into `block`:
// tile (t, q) for channels 16t.. and depth p0 + 32q.. at offset (t * chunks + q) * 512 values, row
// r of the tile holding, for each of its 16 channels, the pair at depth 2r, 2r + 1. Channels past
// `channels` and depth past `k` are zero. `tiles` channel tiles are written (an even count).
TARGET static void pack_block(const uint16_t *w, int ldw, int channels, int k, int p0, int depth, int tiles,
                              uint16_t *block) {
    int chunks = depth / 32;
    for (int t = 0; t < tiles; t++) {
        for (int q = 0; q < chunks; q++) {
            uint32_t *tile = (uint32_t *)(block + ((size_t)t * chunks + q) * 512);
            int base = p0 + 32 * q;
            // 16 channel rows of 32 values (zero-padded), transposed as 16 x 16 words.
            __m512i rowsv[16];
            for (int j = 0; j < 16; j++) {
                int channel = 16 * t + j, valid = k - base;
                if (channel >= channels || valid <= 0) { rowsv[j] = _mm512_setzero_si512(); continue; }
                const uint16_t *src = w + (size_t)channel * ldw + base;
                rowsv[j] = valid >= 32 ? _mm512_loadu_si512(src)
                                       : _mm512_maskz_loadu_epi16((__mmask32)((1ull << valid) - 1), src);
            }
            transpose16(rowsv);
            for (int r = 0; r < 16; r++) _mm512_storeu_si512(tile + 16 * r, rowsv[r]);
        }
    }
}

TARGET void skrr_amx_bf16_gemm(int m, int n, int k, const uint16_t *a, int lda, const uint16_t *w, int ldw, float *c,
                               int ldc, int accumulate, void *scratch) {
    if (m <= 0 || n <= 0) return;
    if (!skrr_amx_bf16_supported()) {
        skrr_amx_bf16_gemm_reference(m, n, k, a, lda, w, ldw, c, ldc, accumulate);
        return;
    }
    uintptr_t base = ((uintptr_t)scratch + 63) & ~(uintptr_t)63;
    uint16_t *block = (uint16_t *)base;
    float *staging = (float *)(base + (size_t)AMX_NC * AMX_KC * 2);
    tile_config *config = (tile_config *)((uintptr_t)staging + 32 * 32 * 4);
    configure(config);
    int depth = skrr_amx_padded(k), rows = skrr_amx_padded(m);
    for (int j0 = 0; j0 < n; j0 += AMX_NC) {
        int channels = n - j0 < AMX_NC ? n - j0 : AMX_NC;
        int tiles = (channels + 31) / 32 * 2;
        for (int p0 = 0; p0 < depth; p0 += AMX_KC) {
            int kb = depth - p0 < AMX_KC ? depth - p0 : AMX_KC, chunks = kb / 32;
            pack_block(w + (size_t)j0 * ldw, ldw, channels, k, p0, kb, tiles, block);
            int fresh = p0 == 0 && !accumulate;
            for (int i0 = 0; i0 < rows; i0 += 32) {
                for (int t = 0; t < tiles; t += 2) {
                    int col = j0 + 16 * t;
                    // Valid rows and columns of this 32 x 32 block (both at least 1).
                    int vr = m - i0 < 32 ? m - i0 : 32, vc = n - col < 32 ? n - col : 32, full = vr == 32 && vc == 32;
                    float *out = c + (size_t)i0 * ldc + col, *target = out;
                    size_t stride = (size_t)ldc * 4;
                    if (!full) {
                        // Edge block: through a 32 x 32 staging copy of the valid outputs.
                        memset(staging, 0, 32 * 32 * 4);
                        if (!fresh)
                            for (int r = 0; r < vr; r++) memcpy(staging + 32 * r, out + (size_t)r * ldc, (size_t)vc * 4);
                        target = staging;
                        stride = 128;
                    }
                    if (fresh) {
                        _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
                    } else {
                        _tile_loadd(0, target, stride);
                        _tile_loadd(1, target + 16, stride);
                        _tile_loadd(2, (char *)target + 16 * stride, stride);
                        _tile_loadd(3, (char *)target + 16 * stride + 64, stride);
                    }
                    const uint16_t *a0 = a + (size_t)i0 * lda + p0, *a1 = a0 + (size_t)16 * lda;
                    const uint16_t *b0 = block + (size_t)t * chunks * 512, *b1 = b0 + (size_t)chunks * 512;
                    for (int q = 0; q < chunks; q++) {
                        _tile_loadd(4, a0 + 32 * q, lda * 2);
                        _tile_loadd(6, b0 + 512 * q, 64);
                        _tile_dpbf16ps(0, 4, 6);
                        _tile_loadd(7, b1 + 512 * q, 64);
                        _tile_dpbf16ps(1, 4, 7);
                        _tile_loadd(5, a1 + 32 * q, lda * 2);
                        _tile_dpbf16ps(2, 5, 6);
                        _tile_dpbf16ps(3, 5, 7);
                    }
                    _tile_stored(0, target, stride);
                    _tile_stored(1, target + 16, stride);
                    _tile_stored(2, (char *)target + 16 * stride, stride);
                    _tile_stored(3, (char *)target + 16 * stride + 64, stride);
                    if (!full)
                        for (int r = 0; r < vr; r++) memcpy(out + (size_t)r * ldc, staging + 32 * r, (size_t)vc * 4);
                }
            }
        }
    }
    _tile_release();
}

#else

int skrr_amx_bf16_supported(void) { return 0; }
void skrr_amx_bf16_gemm(int m, int n, int k, const uint16_t *a, int lda, const uint16_t *w, int ldw, float *c,
                        int ldc, int accumulate, void *scratch) {
    (void)scratch;
    skrr_amx_bf16_gemm_reference(m, n, k, a, lda, w, ldw, c, ldc, accumulate);
}

#endif
