/*
 * skrr_blas.h — OpenBLAS, loaded at run time with dlopen, never linked.
 *
 * Why dlopen: OpenBLAS picks its kernel set ("coretype") once, in a library
 * constructor that runs while the library is being loaded, from the
 * environment variable OPENBLAS_CORETYPE or else from its own CPUID table.
 * When that table does not know the CPU, it can silently fall back to the
 * SSE3 "Prescott" kernels, about 2.5-4x slower (docs/architecture.md §7; on the Zen 4
 * host measured in docs/openblas.md, 0.3.21 does detect the CPU, as
 * Cooperlake: there the setenv changes nothing, elsewhere it guards).
 * Setting OPENBLAS_CORETYPE is only effective BEFORE the library is loaded,
 * which a link-time dependency makes impossible. So skrr_blas_load() chooses
 * a coretype from CPUID, exports it (never overwriting the user's own value),
 * and only then dlopen()s "libopenblas.so.0". See docs/openblas.md.
 *
 * Thread-safety: skrr_blas_load() is idempotent and thread-safe (pthread_once),
 * but it calls setenv(), which races with concurrent getenv() in other threads
 * (a glibc limitation), so call it early, before spawning threads.
 * All other functions may be called from any thread after a successful load.
 */
#ifndef SKRR_BLAS_H
#define SKRR_BLAS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* CBLAS enum values (ABI-identical to enum CBLAS_ORDER / CBLAS_TRANSPOSE). */
#define SKRR_BLAS_ROW_MAJOR 101
#define SKRR_BLAS_COL_MAJOR 102
#define SKRR_BLAS_NO_TRANS 111
#define SKRR_BLAS_TRANS 112

/* CPU feature bits: input of skrr_blas_choose_coretype(). */
#define SKRR_CPU_AVX2 0x01u
#define SKRR_CPU_AVX512F 0x02u
#define SKRR_CPU_AVX512BW 0x04u
#define SKRR_CPU_AVX512VL 0x08u
#define SKRR_CPU_AVX512BF16 0x10u

/* Coretype names an OpenBLAS build understands in OPENBLAS_CORETYPE. */
#define SKRR_LIB_HASWELL 0x01u
#define SKRR_LIB_SKYLAKEX 0x02u
#define SKRR_LIB_COOPERLAKE 0x04u
/* What we assume when the library file cannot be located and scanned:
 * SkylakeX and Haswell exist in every DYNAMIC_ARCH build since 0.3.0;
 * Cooperlake only since 0.3.11. */
#define SKRR_LIB_ASSUMED (SKRR_LIB_HASWELL | SKRR_LIB_SKYLAKEX)

/* Where the OPENBLAS_CORETYPE seen by the library came from. */
#define SKRR_CORETYPE_UNSET 0          /* left unset: OpenBLAS autodetects */
#define SKRR_CORETYPE_FROM_USER 1      /* the user's environment; respected */
#define SKRR_CORETYPE_CHOSEN 2         /* chosen by skrr_blas_choose_coretype */
#define SKRR_CORETYPE_ALREADY_LOADED 3 /* OpenBLAS was in the process before us */

/* --- Pure functions (no side effects; testable) ------------------------- */

/* The OPENBLAS_CORETYPE value to use, or NULL to leave it unset.
 * user_value: the current OPENBLAS_CORETYPE (NULL or "" = unset). A non-empty
 *   user value is returned unchanged: the user always wins.
 * cpu_flags: SKRR_CPU_* bits. lib_cores: SKRR_LIB_* bits.
 * Order: avx512bf16 -> "Cooperlake"; avx512f+bw+vl -> "SkylakeX";
 * avx2 -> "Haswell"; each only if the library knows the name, falling
 * through to the next otherwise. Returned strings are static. */
const char *skrr_blas_choose_coretype(const char *user_value, unsigned cpu_flags,
                                      unsigned lib_cores);

/* SKRR_CPU_* bits of this CPU (via __builtin_cpu_supports, which also checks
 * that the OS saves the AVX/AVX-512 state). 0 on non-x86 hosts. */
unsigned skrr_blas_cpu_flags(void);

/* SKRR_LIB_* bits of the coretype names found in the library file at `path`
 * (OpenBLAS's DYNAMIC_ARCH core-name table). 0 if unreadable. */
unsigned skrr_blas_scan_library_cores(const char *path);

/* --- Loading --------------------------------------------------------------- */

/* Choose + export OPENBLAS_CORETYPE, dlopen OpenBLAS, resolve symbols.
 * Returns 0 on success, -1 on failure with a message in err (may be NULL).
 * Idempotent: later calls return the first call's result and message.
 * SKRR_OPENBLAS_LIBRARY, if set, is the path (or soname) to dlopen instead. */
int skrr_blas_load(char *err, size_t errlen);

/* 1 after a successful skrr_blas_load(), else 0. */
int skrr_blas_is_loaded(void);

/* --- Wrappers (return -1 if not loaded / unavailable, else 0) ------------- */

/* Same arguments as cblas_sgemm; order/trans are SKRR_BLAS_* values. */
int skrr_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
               const float *a, int lda, const float *b, int ldb, float beta, float *c,
               int ldc);

/* cblas_sbgemm: bf16 A and B (raw uint16_t bit patterns), f32 C. Returns -1
 * without touching C when the OpenBLAS build lacks it (BUILD_BFLOAT16=0,
 * e.g. Debian's 0.3.21). */
int skrr_sbgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
                const uint16_t *a, int lda, const uint16_t *b, int ldb, float beta,
                float *c, int ldc);

/* 1 if cblas_sbgemm was found, else 0 (also 0 before loading). */
int skrr_blas_has_sbgemm(void);

/* openblas_set_num_threads / openblas_get_num_threads. get returns -1 if not loaded. */
int skrr_blas_set_threads(int n);
int skrr_blas_get_threads(void);

/* --- Diagnostics (static strings; NULL if unknown / not loaded) ------------ */

/* openblas_get_corename(): the kernel set actually in use, e.g. "Cooperlake". */
const char *skrr_blas_corename(void);
/* openblas_get_config(): e.g. "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ...". */
const char *skrr_blas_config(void);
/* OPENBLAS_CORETYPE as the library saw it at load (ours or the user's);
 * NULL if it was left unset. */
const char *skrr_blas_coretype_env(void);
/* SKRR_CORETYPE_* describing skrr_blas_coretype_env(); -1 if not loaded. */
int skrr_blas_coretype_source(void);
/* The file that was dlopen'ed (or the soname if it could not be resolved). */
const char *skrr_blas_library_path(void);

#ifdef __cplusplus
}
#endif

#endif /* SKRR_BLAS_H */
