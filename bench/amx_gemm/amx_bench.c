// A/B benchmark of skrr_amx_bf16_gemm (the working tree's Sources/CKernels/amx_gemm.c) against the
// committed kernel (git HEAD, compiled by run.sh with its symbols renamed old_*). Both run on the
// same data in the same process, interleaved, best of N repetitions, because this VM's timings swing
// up to 2x between runs. Before timing, each shape checks that the two kernels give the same bits
// (fresh and accumulating).
//
// Usage: amx_bench [reps] [threads]   threads=1: one worker's share, single thread (default);
//                                     threads=2: both workers' halves at once, as LinearProduct runs them.
#define _GNU_SOURCE
#include "skrr_kernels.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

size_t old_amx_bf16_scratch_bytes(void);
void old_amx_bf16_gemm(int m, int n, int k, const uint16_t *a, int lda, const uint16_t *w, int ldw, float *c, int ldc,
                       int accumulate, void *scratch);

typedef void (*gemm_fn)(int, int, int, const uint16_t *, int, const uint16_t *, int, float *, int, int, void *);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static uint64_t state = 88172645463325252ull;
static float next_value(void) {
    state ^= state << 13; state ^= state >> 7; state ^= state << 17;
    return (float)((int64_t)(state >> 11) % 2001 - 1000) / 997.0f;
}

typedef struct {
    gemm_fn gemm;
    int m, n, k, lda, ldw, ldc, accumulate;
    const uint16_t *a, *w;
    float *c;
    void *scratch;
} job;

static void *run_job(void *arg) {
    job *j = arg;
    j->gemm(j->m, j->n, j->k, j->a, j->lda, j->w, j->ldw, j->c, j->ldc, j->accumulate, j->scratch);
    return NULL;
}

// One timed call: threads == 1 runs columns [0, n) of an n-wide C (ldc = full width); threads == 2
// runs [0, n/2) and [n/2, n) concurrently, each with its own scratch.
static double timed(gemm_fn gemm, int threads, int m, int n, int k, const uint16_t *a, int lda, const uint16_t *w,
                    float *c, int ldc, int accumulate, void *scratch[2]) {
    job jobs[2];
    // ALIAS=a, c or w (timing experiments only): that operand's rows all alias row 0, so it stays
    // in cache and its memory traffic disappears.
    const char *alias = getenv("ALIAS");
    int ldw = k;
    if (alias && strchr(alias, 'a')) lda = 0;
    if (alias && strchr(alias, 'c')) ldc = 0;
    if (alias && strchr(alias, 'w')) ldw = 0;
    int part = threads == 1 ? n : n / 2;
    for (int t = 0; t < threads; t++)
        jobs[t] = (job){gemm, m, t == threads - 1 ? n - t * part : part, k, lda, ldw, ldc, accumulate, a,
                        w + (size_t)t * part * k, c + (size_t)t * part, scratch[t]};
    double start = now();
    if (threads == 1) {
        run_job(&jobs[0]);
    } else {
        pthread_t other;
        pthread_create(&other, NULL, run_job, &jobs[1]);
        run_job(&jobs[0]);
        pthread_join(other, NULL);
    }
    return now() - start;
}

int main(int argc, char **argv) {
    int reps = argc > 1 ? atoi(argv[1]) : 10, threads = argc > 2 ? atoi(argv[2]) : 1;
    if (!skrr_amx_bf16_supported()) { fprintf(stderr, "no AMX-BF16 here\n"); return 1; }
    // (m, n, k): n is one worker's share when threads == 1 (T5-XXL: attention 4096/2, FFN wi 10240/2,
    // FFN wo 4096/2 at depth 10240) and the whole width when threads == 2.
    struct { int m, n, k; const char *name; } shapes1[] = {
        {2048, 2048, 4096, "attn q/k/v/o"}, {2048, 5120, 4096, "ffn wi"}, {2048, 2048, 10240, "ffn wo"},
        {8192, 2048, 4096, "attn m=8192"},
    }, shapes2[] = {
        {2048, 4096, 4096, "attn q/k/v/o"}, {2048, 10240, 4096, "ffn wi"}, {2048, 4096, 10240, "ffn wo"},
        {8192, 4096, 4096, "attn m=8192"},
    };
    size_t scratch_bytes = skrr_amx_bf16_scratch_bytes(), old_bytes = old_amx_bf16_scratch_bytes();
    void *scratch_new[2] = {malloc(scratch_bytes), malloc(scratch_bytes)};
    void *scratch_old[2] = {malloc(old_bytes), malloc(old_bytes)};
    printf("threads %d, best of %d; scratch old %zu new %zu bytes\n", threads, reps, old_bytes, scratch_bytes);
    int failures = 0;
    const char *only = getenv("SHAPE");  // e.g. SHAPE=2 runs the third shape only
    for (int s = 0; s < 4; s++) {
        if (only && atoi(only) != s) continue;
        int m = threads == 1 ? shapes1[s].m : shapes2[s].m, n = threads == 1 ? shapes1[s].n : shapes2[s].n;
        int k = threads == 1 ? shapes1[s].k : shapes2[s].k;
        if (getenv("M")) m = atoi(getenv("M"));  // e.g. M=512: the rows of a smaller batch group
        // In the runtime, ldc is the layer's whole output width (twice one worker's share).
        int lda = skrr_amx_padded(k), rows = skrr_amx_padded(m), ldc = threads == 1 ? 2 * n : n;
        uint16_t *a = aligned_alloc(64, (size_t)rows * lda * 2), *w = malloc((size_t)n * k * 2);
        float *x = malloc((size_t)m * k * 4), *c_old = aligned_alloc(64, (size_t)m * ldc * 4),
              *c_new = aligned_alloc(64, (size_t)m * ldc * 4);
        for (size_t i = 0; i < (size_t)m * k; i++) x[i] = next_value();
        memset(a, 0, (size_t)rows * lda * 2);
        skrr_bf16_rows_padded(m, k, x, k, a, lda);
        for (size_t i = 0; i < (size_t)n * k; i++) {
            float v = next_value();
            uint32_t bits;
            memcpy(&bits, &v, 4);
            w[i] = (uint16_t)(bits >> 16);
        }
        for (size_t i = 0; i < (size_t)m * ldc; i++) c_old[i] = c_new[i] = next_value();
        // Same bits: fresh, then accumulating onto the fresh result.
        for (int accumulate = 0; accumulate < 2; accumulate++) {
            timed(old_amx_bf16_gemm, threads, m, n, k, a, lda, w, c_old, ldc, accumulate, scratch_old);
            timed(skrr_amx_bf16_gemm, threads, m, n, k, a, lda, w, c_new, ldc, accumulate, scratch_new);
            if (memcmp(c_old, c_new, (size_t)m * ldc * 4) != 0) {
                printf("  MISMATCH %s accumulate %d\n", shapes1[s].name, accumulate);
                failures++;
            }
        }
        double best_old = 1e30, best_new = 1e30, worst_old = 0, worst_new = 0, ratios[256];
        for (int r = 0; r < reps && r < 256; r++) {
            double t_old = timed(old_amx_bf16_gemm, threads, m, n, k, a, lda, w, c_old, ldc, 0, scratch_old);
            double t_new = timed(skrr_amx_bf16_gemm, threads, m, n, k, a, lda, w, c_new, ldc, 0, scratch_new);
            if (t_old < best_old) best_old = t_old;
            if (t_new < best_new) best_new = t_new;
            if (t_old > worst_old) worst_old = t_old;
            if (t_new > worst_new) worst_new = t_new;
            ratios[r] = t_old / t_new;
        }
        // The median of the adjacent pairs' ratios: robust when the whole machine slows for a while.
        int count = reps < 256 ? reps : 256;
        for (int i = 1; i < count; i++)
            for (int j = i; j > 0 && ratios[j - 1] > ratios[j]; j--) { double t = ratios[j]; ratios[j] = ratios[j - 1]; ratios[j - 1] = t; }
        double flops = 2.0 * m * n * k;
        printf("%-13s m=%5d n=%5d k=%5d  old %6.0f GFLOP/s (worst %4.0f)  new %6.0f GFLOP/s (worst %4.0f)  best x%.2f  median pair x%.2f\n",
               shapes1[s].name, m, n, k, flops / best_old * 1e-9, flops / worst_old * 1e-9, flops / best_new * 1e-9,
               flops / worst_new * 1e-9, best_old / best_new, ratios[count / 2]);
        fflush(stdout);
        free(a); free(w); free(x); free(c_old); free(c_new);
    }
    return failures != 0;
}
