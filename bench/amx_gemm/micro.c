// Ceiling experiments for amx_gemm.c's inner loop: a bare TDPBF16PS loop, then the 32 x 32 tile block
// over packed data (no packing, no C traffic: accumulators go to one small staging block) with A
// and W blocks of chosen sizes, so that they come from L1 or L2, for a few depths and four orders
// of tile loads and products within a 32-step. -DSTREAM_B loads the W tiles of order 0 with
// TILELOADDT1 (what the kernel does). Build and run:
//   clang -O2 [-DSTREAM_B] -o micro bench/amx_gemm/micro.c && ./micro
// This VM's speed swings by 2x for seconds at a time: run it several times and compare the best.
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#define TARGET __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw")))
typedef struct { uint8_t palette, start_row, reserved[14]; uint16_t bytes_per_row[16]; uint8_t rows[16]; } tile_config;
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int order = 0;
#ifdef STREAM_B
#define LOAD_B _tile_stream_loadd
#else
#define LOAD_B _tile_loadd
#endif
TARGET static void block(const uint16_t *ap, const uint16_t *bp, int chunks, float *c) {
    _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
    if (order == 0)
    for (int q = 0; q < chunks; q++) {
        const uint16_t *a0 = ap + (size_t)q * 1024, *b0 = bp + (size_t)q * 1024;
        _tile_loadd(4, a0, 64); LOAD_B(6, b0, 64); _tile_dpbf16ps(0, 4, 6);
        LOAD_B(7, b0 + 512, 64); _tile_dpbf16ps(1, 4, 7);
        _tile_loadd(5, a0 + 512, 64); _tile_dpbf16ps(2, 5, 6); _tile_dpbf16ps(3, 5, 7);
    }
    else if (order == 1)
    for (int q = 0; q < chunks; q++) {
        const uint16_t *a0 = ap + (size_t)q * 1024, *b0 = bp + (size_t)q * 1024;
        _tile_loadd(4, a0, 64); _tile_loadd(6, b0, 64); _tile_loadd(7, b0 + 512, 64); _tile_loadd(5, a0 + 512, 64);
        _tile_dpbf16ps(0, 4, 6); _tile_dpbf16ps(1, 4, 7); _tile_dpbf16ps(2, 5, 6); _tile_dpbf16ps(3, 5, 7);
    }
    else if (order == 2)
    for (int q = 0; q < chunks; q += 2) {
        const uint16_t *a0 = ap + (size_t)q * 1024, *b0 = bp + (size_t)q * 1024;
        // q: T00 T01 T11 T10 ; q+1: T01 T00 T10 T11
        _tile_loadd(4, a0, 64); _tile_loadd(6, b0, 64); _tile_dpbf16ps(0, 4, 6);
        _tile_loadd(7, b0 + 512, 64); _tile_dpbf16ps(1, 4, 7);
        _tile_loadd(5, a0 + 512, 64); _tile_dpbf16ps(3, 5, 7); _tile_dpbf16ps(2, 5, 6);
        a0 += 1024; b0 += 1024;
        _tile_loadd(4, a0, 64); _tile_loadd(7, b0 + 512, 64); _tile_dpbf16ps(1, 4, 7);
        _tile_loadd(6, b0, 64); _tile_dpbf16ps(0, 4, 6);
        _tile_loadd(5, a0 + 512, 64); _tile_dpbf16ps(2, 5, 6); _tile_dpbf16ps(3, 5, 7);
    }
    else
    for (int q = 0; q < chunks; q++) {
        const uint16_t *a0 = ap + (size_t)q * 1024, *b0 = bp + (size_t)q * 1024;
        _tile_loadd(4, a0, 64); _tile_loadd(6, b0, 64); _tile_dpbf16ps(0, 4, 6);
        _tile_loadd(5, a0 + 512, 64); _tile_dpbf16ps(2, 5, 6);
        _tile_loadd(7, b0 + 512, 64); _tile_dpbf16ps(1, 4, 7); _tile_dpbf16ps(3, 5, 7);
    }
    _tile_stored(0, c, 128); _tile_stored(1, c + 16, 128); _tile_stored(2, c + 512, 128); _tile_stored(3, c + 528, 128);
}
// apanels A blocks of (32 x kc), bpanels B pair panels of (32 x kc); loop A outer (A reused over B) or B outer.
TARGET static double run(int kc, int apanels, int bpanels, int b_outer, uint16_t *a, uint16_t *b, float *c) {
    int chunks = kc / 32; double best = 1e30;
    for (int rep = 0; rep < 20; rep++) {
        double t0 = now();
        for (int it = 0; it < 4; it++)
        for (int x = 0; x < (b_outer ? bpanels : apanels); x++)
            for (int y = 0; y < (b_outer ? apanels : bpanels); y++) {
                int i = b_outer ? y : x, j = b_outer ? x : y;
                block(a + (size_t)i * chunks * 1024, b + (size_t)j * chunks * 1024, chunks, c);
            }
        double t = now() - t0; if (t < best) best = t;
    }
    return 4.0 * apanels * bpanels * 2.0 * 32 * 32 * kc / best * 1e-9;
}
TARGET int main(void) {
    syscall(SYS_arch_prctl, 0x1023, 18);
    tile_config cfg; memset(&cfg, 0, sizeof cfg); cfg.palette = 1;
    for (int t = 0; t < 8; t++) { cfg.rows[t] = 16; cfg.bytes_per_row[t] = 64; }
    _tile_loadconfig(&cfg);
    uint16_t *a = aligned_alloc(64, 64 << 20), *b = aligned_alloc(64, 64 << 20); float *c = aligned_alloc(64, 4096);
    for (size_t i = 0; i < (32u << 20); i++) { a[i] = 0x3f80; b[i] = 0x3f80; }
    {
        _tile_loadd(4, a, 64); _tile_loadd(5, a, 64); _tile_loadd(6, b, 64); _tile_loadd(7, b, 64);
        for (int rep = 0; rep < 5; rep++) {
            double t0 = now();
            for (int i = 0; i < 1000000; i++) {
                _tile_dpbf16ps(0, 4, 6); _tile_dpbf16ps(1, 4, 7); _tile_dpbf16ps(2, 5, 6); _tile_dpbf16ps(3, 5, 7);
            }
            printf("bare TDP: %.0f GFLOP/s\n", 4e6 * 16384 / (now() - t0) * 1e-9);
        }
    }
    for (order = 0; order < 4; order++) { printf("order %d\n", order);
    int kcs[] = {256, 512, 1024};
    for (int s = 0; s < 3; s++) {
        int kc = kcs[s];
        printf("kc %4d: A1xB1 %5.0f | A(1 blk) x B(16 blk, L2) %5.0f | A(16,L2) x B(16,L2) a-outer %5.0f b-outer %5.0f | A(64) x B(8) a-outer %5.0f\n", kc,
               run(kc, 1, 1, 0, a, b, c), run(kc, 1, 16, 0, a, b, c), run(kc, 16, 16, 0, a, b, c), run(kc, 16, 16, 1, a, b, c), run(kc, 64, 8, 0, a, b, c));
    }}
}
