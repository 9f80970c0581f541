// `--compute bf16` on Intel AMX (Sapphire Rapids and later): TDPBF16PS multiplies a 16 x 32 bf16
// tile by a 32 x 16 one into 16 x 16 f32 sums, 8192 multiply-adds per instruction against 32 for
// AVX-512's vdpbf16ps. The search scores candidates on thousands of rows at once, where the
// AVX-512 BF16 kernel runs no faster than exact f32 (BENCHMARKS.md); tiles are what make bf16
// scoring pay.
//
// Shapes: C[m x n] (+)= A[m x k] . W[n x k]^T. The caller lays A (activations) out padded: rows
// to a multiple of 32, depth to a multiple of 32, zeros in the padding. W is the stored weight
// matrix; tiles want it "VNNI-packed" (each 32-bit word holds one output channel's two consecutive
// k values), so blocks of W are repacked into the scratch.
//
// Blocking, for one core's caches (L1d 48 KB, L2 2 MB) and memory that delivers only 10-20 GB/s
// to one core. A W block is AMX_NC channels by AMX_KC depth (512 KB: it stays in L2 while every
// row block of A streams past it, so W is packed once per call). For each 32-row block of A, its
// 32 x AMX_KC slice is copied into contiguous 1 KB tiles (32 KB), which stay in L1 across all the
// channel pairs of the W block, while the W tiles are read from L2 with TILELOADDT1, the tile load
// with a non-temporal hint, so that they do not evict the A tiles (measured, bench/amx_gemm/micro.c:
// 32-row A blocks by W pairs at depth 512 run at ~1.7 TFLOP/s on one core with it, ~1.35 without).
// With both operands coming from L2 (the previous kernel: A loaded straight from its rows, 16 rows
// lda * 2 bytes apart, and a 1024-deep block) the tile loads, not the tile products, set the pace.
// The register block is 32 x 32 outputs in four accumulator tiles. Memory latency is hidden by
// doing the next row block's work in small pieces between the current one's tile products: its A
// rows are copied into the second of two tile panels and its outputs prefetched into L2. Sums
// carried from one depth block to the next go through C; AMX_KC = 512 doubles that traffic against
// 1024, which the L1-resident A tiles more than pay for. (Keeping a 1024- or 2048-deep block and
// carrying the sums through C, in L2, every 512 was slower: each 32 x 32 block then stops and
// restarts its accumulators twice as often, and the tiles are not renamed.)
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

#define AMX_NC 512
#define AMX_KC 512

int skrr_amx_padded(int count) { return (count + 31) / 32 * 32; }

size_t skrr_amx_bf16_scratch_bytes(void) {
    // The packed W block, two packed 32-row panels of A (the one in use and the next), 32 x 32 f32
    // of staging for edge blocks, the 64-byte tile configuration, and slack to align each to 64 bytes.
    return (size_t)AMX_NC * AMX_KC * 2 + (size_t)2 * 32 * AMX_KC * 2 + 32 * 32 * 4 + 64 + 4 * 64;
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

// Packs W rows [0, channels) and depth [p0, p0 + depth) (depth a multiple of 32) into `block`,
// one channel pair (32 channels) after another so that a pair's tiles are one contiguous stream:
// tile (t, q) for channels 16t.. and depth p0 + 32q.. at offset ((t / 2) * chunks + q) * 1024 +
// (t % 2) * 512 values, row r of the tile holding, for each of its 16 channels, the pair at depth
// 2r, 2r + 1. Channels past `channels` and depth past `k` are zero. `tiles` channel tiles are
// written (an even count).
TARGET static void pack_block(const uint16_t *w, int ldw, int channels, int k, int p0, int depth, int tiles,
                              uint16_t *block) {
    int chunks = depth / 32;
    for (int t = 0; t < tiles; t++) {
        for (int q = 0; q < chunks; q++) {
            uint32_t *tile = (uint32_t *)(block + ((size_t)(t / 2) * chunks + q) * 1024 + (t % 2) * 512);
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

// Copies 32 rows of A, depth [p0, p0 + depth), into contiguous tiles: for each 32-step q, the tile
// of rows 0-15 then the tile of rows 16-31 (512 values each), 64-byte aligned. Straight from A a
// tile load touches 16 rows lda * 2 bytes apart, which at k = 4096 or 10240 all fall in one L1 set
// (12 ways), so they could never stay in L1; packed, the panel is 32 KB of contiguous lines.
TARGET static void pack_rows(const uint16_t *a, int lda, int p0, int depth, uint16_t *panel) {
    int chunks = depth / 32;
    for (int r = 0; r < 32; r++) {
        const uint16_t *src = a + (size_t)r * lda + p0;
        uint16_t *dst = panel + (r / 16) * 512 + (r % 16) * 32;
        for (int q = 0; q < chunks; q++) _mm512_store_si512(dst + (size_t)q * 1024, _mm512_loadu_si512(src + 32 * q));
    }
}

// pack_rows for the next row block, a few 64-byte lines at a time between the current block's tile
// products: the loads from L3 or memory then wait behind tile instructions instead of stalling a
// packing loop. Each copy also prefetches the same line of the row block after that into L2, a
// whole row block ahead.
typedef struct {
    const uint16_t *src;    // the next line to copy: row r of the block at depth 32 q
    uint16_t *dst;          // where it goes in the panel
    const char *later;      // the same line of the row block after that (or NULL)
    size_t lda;
    int chunks;             // 32-steps of depth
    int r, q;               // position of the next line
    int left;               // lines still to copy (0 when there is no next block)
    int per_step;           // lines per 32-step
} row_packer;

// Counters, not divisions: this runs between tile instructions, several times per 32-step.
TARGET static inline void pack_lines(row_packer *p, int count) {
    for (; count > 0 && p->left > 0; count--, p->left--) {
        if (p->later) _mm_prefetch(p->later, _MM_HINT_T1);
        _mm512_store_si512(p->dst, _mm512_loadu_si512(p->src));
        if (++p->q < p->chunks) {
            p->src += 32;
            p->dst += 1024;
            if (p->later) p->later += 64;
        } else {
            // Next row, back to depth 0: rows are lda apart in A, 64 bytes apart in a panel tile,
            // and rows 16-31 start the second tile of each pair.
            p->q = 0;
            p->r++;
            p->src += p->lda - 32 * (size_t)(p->chunks - 1);
            p->dst = p->dst - (size_t)1024 * (p->chunks - 1) + (p->r == 16 ? 512 - 15 * 32 : 32);
            if (p->later) p->later += p->lda * 2 - 64 * (size_t)(p->chunks - 1);
        }
    }
}

// Prefetch into L2 of the next row block's outputs, spread over the current row block like the
// packing of A: with ldc at 16-40 KB every output row is its own stream, which the hardware
// prefetchers do not follow, and the first tile loads of C would otherwise wait on memory.
typedef struct {
    const char *line;  // the next line to prefetch
    size_t stride;     // bytes between output rows
    int row_lines;     // lines per row (the block's channels)
    int column;        // position of `line` in its row
    int left;          // lines still to prefetch
    int per_step;
} output_prefetch;

TARGET static inline void prefetch_lines(output_prefetch *p) {
    for (int count = p->per_step; count > 0 && p->left > 0; count--, p->left--) {
        _mm_prefetch(p->line, _MM_HINT_T1);
        if (++p->column < p->row_lines) {
            p->line += 64;
        } else {
            p->column = 0;
            p->line += p->stride - (size_t)64 * (p->row_lines - 1);
        }
    }
}

// One 32 x 32 block of outputs over `chunks` 32-steps of k: accumulators 0-3 start from zero or
// from `target` (row stride `stride` bytes), every step adds its four tile products in k order,
// and the sums go back to `target`. A tiles come from the L1-resident panel `ap`; W tiles from the
// L2-resident block `bp` through TILELOADDT1 (each is used once per row block, so keeping it in
// L1 would only evict A). Between steps, a little of the next row block is packed and prefetched.
TARGET static inline void tile_block(const uint16_t *ap, const uint16_t *bp, int chunks, float *target,
                                     size_t stride, int fresh, row_packer *packer, output_prefetch *outputs) {
    if (fresh) {
        _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
    } else {
        _tile_loadd(0, target, stride);
        _tile_loadd(1, target + 16, stride);
        _tile_loadd(2, (char *)target + 16 * stride, stride);
        _tile_loadd(3, (char *)target + 16 * stride + 64, stride);
    }
    for (int q = 0; q < chunks; q++) {
        const uint16_t *a0 = ap + (size_t)q * 1024, *b0 = bp + (size_t)q * 1024;
        _tile_loadd(4, a0, 64);
        _tile_stream_loadd(6, b0, 64);
        _tile_dpbf16ps(0, 4, 6);
        _tile_stream_loadd(7, b0 + 512, 64);
        _tile_dpbf16ps(1, 4, 7);
        _tile_loadd(5, a0 + 512, 64);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
        pack_lines(packer, packer->per_step);
        prefetch_lines(outputs);
    }
    _tile_stored(0, target, stride);
    _tile_stored(1, target + 16, stride);
    _tile_stored(2, (char *)target + 16 * stride, stride);
    _tile_stored(3, (char *)target + 16 * stride + 64, stride);
}

// `count` split into the fewest blocks of at most `most` (a multiple of 32), as equal as multiples
// of 32 allow: the size of every block but perhaps the last. (n = 2048 as 4 x 512; depth 10240 as
// 20 x 512; n = 513 as 288 + 225 rather than 512 + 1.)
static int even_block(int count, int most) {
    int blocks = (count + most - 1) / most;
    return ((count + blocks - 1) / blocks + 31) / 32 * 32;
}

// The 32 x 32 output blocks of one 32-row block i0 against the packed W block (`tiles` channel
// tiles from column j0, `chunks` 32-steps from depth p0), A from `current`; meanwhile the next row
// block is packed into `following` and its outputs are prefetched.
TARGET static void row_block(int m, int n, int rows, int i0, int j0, int tiles, int p0, int chunks, int fresh,
                             const uint16_t *a, int lda, const uint16_t *block, const uint16_t *current,
                             uint16_t *following, float *c, int ldc, float *staging) {
    size_t c_stride = (size_t)ldc * 4;
    int steps = tiles / 2 * chunks, channels = n - j0 < 16 * tiles ? n - j0 : 16 * tiles;
    row_packer packer = {a + (size_t)(i0 + 32) * lda + p0, following,
                         i0 + 64 < rows ? (const char *)(a + (size_t)(i0 + 64) * lda + p0) : NULL,
                         (size_t)lda, chunks, 0, 0, i0 + 32 < rows ? 32 * chunks : 0, 0};
    packer.per_step = (packer.left + steps - 1) / steps;
    int next_rows = m - i0 - 32 < 32 ? m - i0 - 32 : 32, row_lines = (channels * 4 + 63) / 64;
    output_prefetch outputs = {(const char *)(c + (size_t)(i0 + 32) * ldc + j0), c_stride, row_lines, 0,
                               next_rows > 0 ? next_rows * row_lines : 0, 0};
    outputs.per_step = (outputs.left + steps - 1) / steps;
    for (int t = 0; t < tiles; t += 2) {
        int col = j0 + 16 * t;
        // Valid rows and columns of this 32 x 32 block (both at least 1).
        int vr = m - i0 < 32 ? m - i0 : 32, vc = n - col < 32 ? n - col : 32, full = vr == 32 && vc == 32;
        float *out = c + (size_t)i0 * ldc + col, *target = out;
        size_t stride = c_stride;
        if (!full) {
            // Edge block: through a 32 x 32 staging copy of the valid outputs.
            memset(staging, 0, 32 * 32 * 4);
            if (!fresh)
                for (int r = 0; r < vr; r++) memcpy(staging + 32 * r, out + (size_t)r * ldc, (size_t)vc * 4);
            target = staging;
            stride = 128;
        }
        tile_block(current, block + (size_t)(t / 2) * chunks * 1024, chunks, target, stride, fresh, &packer, &outputs);
        if (!full)
            for (int r = 0; r < vr; r++) memcpy(out + (size_t)r * ldc, staging + 32 * r, (size_t)vc * 4);
    }
    pack_lines(&packer, packer.left);  // whatever the steps left (per_step rounds up: normally nothing)
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
    uint16_t *panels[2] = {(uint16_t *)(base + (size_t)AMX_NC * AMX_KC * 2),
                           (uint16_t *)(base + (size_t)AMX_NC * AMX_KC * 2 + (size_t)32 * AMX_KC * 2)};
    float *staging = (float *)((uintptr_t)panels[1] + (size_t)32 * AMX_KC * 2);
    tile_config *config = (tile_config *)((uintptr_t)staging + 32 * 32 * 4);
    configure(config);
    int depth = skrr_amx_padded(k), rows = skrr_amx_padded(m);
    int nc = even_block(n, AMX_NC), kc = even_block(depth, AMX_KC);
    for (int j0 = 0; j0 < n; j0 += nc) {
        int channels = n - j0 < nc ? n - j0 : nc, tiles = (channels + 31) / 32 * 2;
        for (int p0 = 0; p0 < depth; p0 += kc) {
            int kb = depth - p0 < kc ? depth - p0 : kc;
            pack_block(w + (size_t)j0 * ldw, ldw, channels, k, p0, kb, tiles, block);
            pack_rows(a, lda, p0, kb, panels[0]);
            // Depth blocks in order, each adding to what C holds: every output sees its 32-steps in
            // increasing k whatever the blocking.
            int fresh = p0 == 0 && !accumulate;
            for (int i0 = 0; i0 < rows; i0 += 32)
                row_block(m, n, rows, i0, j0, tiles, p0, kb / 32, fresh, a, lda, block, panels[(i0 / 32) % 2],
                          panels[(i0 / 32 + 1) % 2], c, ldc, staging);
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
