/*
 * skrr_blas.c — dlopen-based OpenBLAS loader. See include/skrr_blas.h and
 * docs/openblas.md. Nothing in this file references an OpenBLAS symbol at
 * link time; everything goes through dlsym.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "skrr_blas.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SONAME "libopenblas.so.0"

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int,
                         const float *, int, float, float *, int);
typedef void (*sbgemm_fn)(int, int, int, int, int, int, float, const uint16_t *, int,
                          const uint16_t *, int, float, float *, int);
typedef void (*set_threads_fn)(int);
typedef int (*get_threads_fn)(void);
typedef char *(*str_fn)(void);

static struct {
    int rc;
    char err[512];
    void *handle;
    sgemm_fn sgemm;
    sbgemm_fn sbgemm;
    set_threads_fn set_threads;
    get_threads_fn get_threads;
    str_fn corename;
    str_fn config;
    int has_coretype;
    char coretype[64];
    int source;
    char path[4096];
} g;

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
/* Published with release order after g is filled; readers use acquire. */
static atomic_int g_loaded;

static int loaded(void) { return atomic_load_explicit(&g_loaded, memory_order_acquire); }

static void copy_str(char *dst, size_t cap, const char *src) {
    if (!dst || cap == 0) return;
    snprintf(dst, cap, "%s", src ? src : "");
}

/* ---------------------------------------------------------------- choice */

const char *skrr_blas_choose_coretype(const char *user_value, unsigned cpu_flags,
                                      unsigned lib_cores) {
    if (user_value && user_value[0]) return user_value;
    const unsigned avx512 = SKRR_CPU_AVX512F | SKRR_CPU_AVX512BW | SKRR_CPU_AVX512VL;
    if ((cpu_flags & avx512) == avx512) {
        if ((cpu_flags & SKRR_CPU_AVX512BF16) && (lib_cores & SKRR_LIB_COOPERLAKE))
            return "Cooperlake";
        if (lib_cores & SKRR_LIB_SKYLAKEX) return "SkylakeX";
    }
    /* Every AVX-512 CPU has AVX2, but be explicit about it. */
    if ((cpu_flags & SKRR_CPU_AVX2) && (lib_cores & SKRR_LIB_HASWELL)) return "Haswell";
    return NULL;
}

unsigned skrr_blas_cpu_flags(void) {
    unsigned f = 0;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) f |= SKRR_CPU_AVX2;
    if (__builtin_cpu_supports("avx512f")) f |= SKRR_CPU_AVX512F;
    if (__builtin_cpu_supports("avx512bw")) f |= SKRR_CPU_AVX512BW;
    if (__builtin_cpu_supports("avx512vl")) f |= SKRR_CPU_AVX512VL;
    if (__builtin_cpu_supports("avx512bf16")) f |= SKRR_CPU_AVX512BF16;
#endif
    return f;
}

/* ------------------------------------------------------- library location */

/* Map a whole file read-only. Returns NULL on failure. */
static const unsigned char *map_file(const char *path, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    void *p = MAP_FAILED;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return NULL;
    *len = (size_t)st.st_size;
    return p;
}

unsigned skrr_blas_scan_library_cores(const char *path) {
    size_t len = 0;
    const unsigned char *p = path ? map_file(path, &len) : NULL;
    if (!p) return 0;
    /* The names of OpenBLAS's DYNAMIC_ARCH corename[] table, NUL-terminated
     * in .rodata; force_coretype() accepts exactly these. */
    unsigned m = 0;
    if (memmem(p, len, "Haswell", sizeof "Haswell")) m |= SKRR_LIB_HASWELL;
    if (memmem(p, len, "SkylakeX", sizeof "SkylakeX")) m |= SKRR_LIB_SKYLAKEX;
    if (memmem(p, len, "Cooperlake", sizeof "Cooperlake")) m |= SKRR_LIB_COOPERLAKE;
    munmap((void *)p, len);
    return m;
}

/* Is `path` an ELF shared object for this process's architecture? */
static int elf_usable(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    unsigned char h[20];
    ssize_t n = read(fd, h, sizeof h);
    close(fd);
    if (n != (ssize_t)sizeof h || memcmp(h, ELFMAG, SELFMAG) != 0) return 0;
    if (h[EI_CLASS] != (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32)) return 0;
    uint16_t machine;
    memcpy(&machine, h + 18, 2); /* e_machine; host byte order == file's for usable libs */
#if defined(__x86_64__)
    return machine == EM_X86_64;
#elif defined(__aarch64__)
    return machine == EM_AARCH64;
#else
    (void)machine;
    return 1;
#endif
}

static int try_dir(const char *dir, size_t dirlen, const char *name, char *out, size_t cap) {
    if (dirlen == 0) return 0; /* empty LD_LIBRARY_PATH entry means ".": skip */
    int n = snprintf(out, cap, "%.*s/%s", (int)dirlen, dir, name);
    if (n < 0 || (size_t)n >= cap) return 0;
    return access(out, R_OK) == 0 && elf_usable(out);
}

/* Look `name` up in /etc/ld.so.cache (glibc "glibc-ld.so.cache1.1" format,
 * optionally preceded by the old "ld.so-1.7.0" table). */
static int from_ld_cache(const char *name, char *out, size_t cap) {
    size_t len = 0;
    const unsigned char *p = map_file("/etc/ld.so.cache", &len);
    if (!p) return 0;
    int found = 0;
    size_t off = 0;
    if (len >= 16 && memcmp(p, "ld.so-1.7.0", 11) == 0) {
        uint32_t nold;
        memcpy(&nold, p + 12, 4);
        off = 16 + (size_t)nold * 12;
        off = (off + 7) & ~(size_t)7;
    }
    static const char magic[] = "glibc-ld.so.cache1.1";
    if (off + 48 <= len && memcmp(p + off, magic, sizeof magic - 1) == 0) {
        uint32_t nlibs;
        memcpy(&nlibs, p + off + 20, 4);
        const size_t base = off, first = off + 48;
        for (uint32_t i = 0; i < nlibs && !found; i++) {
            size_t e = first + (size_t)i * 24;
            if (e + 24 > len) break;
            uint32_t key, value;
            memcpy(&key, p + e + 4, 4);
            memcpy(&value, p + e + 8, 4);
            /* String offsets are relative to the new-format header. */
            if (base + key >= len || base + value >= len) continue;
            const char *k = (const char *)p + base + key;
            const char *v = (const char *)p + base + value;
            if (!memchr(k, 0, len - base - key) || !memchr(v, 0, len - base - value)) continue;
            if (strcmp(k, name) == 0 && strlen(v) < cap && elf_usable(v)) {
                strcpy(out, v);
                found = 1;
            }
        }
    }
    munmap((void *)p, len);
    return found;
}

/* Approximate the dynamic loader's search for a bare soname, so that the file
 * we scan for core names is the file we then dlopen (by that full path). */
static int resolve_library(const char *name, char *out, size_t cap) {
    const char *llp = getenv("LD_LIBRARY_PATH");
    if (llp) {
        const char *s = llp;
        for (;;) {
            size_t n = strcspn(s, ":;");
            if (try_dir(s, n, name, out, cap)) return 1;
            if (!s[n]) break;
            s += n + 1;
        }
    }
    if (from_ld_cache(name, out, cap)) return 1;
    static const char *const dirs[] = {
#if defined(__x86_64__)
        "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
#elif defined(__aarch64__)
        "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
#endif
        "/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib",
    };
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        if (try_dir(dirs[i], strlen(dirs[i]), name, out, cap)) return 1;
    return 0;
}

/* ------------------------------------------------------------------ load */

/* Record a load failure; messages longer than g.err are truncated. */
__attribute__((format(printf, 1, 2))) static void fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    g.rc = -1;
    vsnprintf(g.err, sizeof g.err, fmt, ap);
    va_end(ap);
}

static void do_load(void) {
    const char *override = getenv("SKRR_OPENBLAS_LIBRARY");
    void *h = NULL;
    if (!override || !override[0]) {
        override = NULL;
        /* Someone else (a linked dependency, an embedding host) loaded it
         * first: its coretype is already fixed and the environment is moot. */
        h = dlopen(SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
    }
    const char *user = getenv("OPENBLAS_CORETYPE");
    if (h) {
        g.source = SKRR_CORETYPE_ALREADY_LOADED;
        if (user && user[0]) {
            g.has_coretype = 1;
            copy_str(g.coretype, sizeof g.coretype, user);
        }
    } else {
        char resolved[4096];
        const char *target;
        unsigned lib_cores = 0;
        if (override) {
            target = override;
            if (strchr(override, '/')) lib_cores = skrr_blas_scan_library_cores(override);
        } else if (resolve_library(SONAME, resolved, sizeof resolved)) {
            target = resolved;
            lib_cores = skrr_blas_scan_library_cores(resolved);
        } else {
            target = SONAME; /* let the loader find it (RUNPATH, ...) */
        }
        if (lib_cores == 0) lib_cores = SKRR_LIB_ASSUMED;

        const char *choice = skrr_blas_choose_coretype(user, skrr_blas_cpu_flags(), lib_cores);
        if (user && user[0]) {
            g.source = SKRR_CORETYPE_FROM_USER;
        } else if (choice) {
            /* Only reached when unset or empty, so the user's value is never lost. */
            if (setenv("OPENBLAS_CORETYPE", choice, 1) != 0) {
                fail("setenv(OPENBLAS_CORETYPE=%s) failed", choice);
                return;
            }
            g.source = SKRR_CORETYPE_CHOSEN;
        } else {
            g.source = SKRR_CORETYPE_UNSET;
        }
        if (choice) {
            g.has_coretype = 1;
            copy_str(g.coretype, sizeof g.coretype, choice);
        }
        dlerror();
        h = dlopen(target, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            const char *e = dlerror();
            fail("cannot load OpenBLAS (%s); install libopenblas0 (Debian: "
                 "libopenblas0-pthread) or set SKRR_OPENBLAS_LIBRARY [%s]",
                 target, e ? e : "unknown dlopen error");
            return;
        }
    }
    g.handle = h;
    /* OpenBLAS read the variable in its constructor, during dlopen. A value we chose ourselves
     * is taken out of the environment again, so a host process (libskrr) and its children see
     * the environment they had. */
    if (g.source == SKRR_CORETYPE_CHOSEN) unsetenv("OPENBLAS_CORETYPE");

    struct link_map *lm = NULL;
    if (dlinfo(h, RTLD_DI_LINKMAP, &lm) == 0 && lm && lm->l_name && lm->l_name[0])
        copy_str(g.path, sizeof g.path, lm->l_name);
    else
        copy_str(g.path, sizeof g.path, override ? override : SONAME);

#define REQUIRE(field, type, sym)                                                   \
    do {                                                                            \
        g.field = (type)dlsym(h, sym);                                              \
        if (!g.field) {                                                             \
            fail("OpenBLAS at %s does not export %s", g.path, sym);                 \
            return;                                                                 \
        }                                                                           \
    } while (0)
    REQUIRE(sgemm, sgemm_fn, "cblas_sgemm");
    REQUIRE(set_threads, set_threads_fn, "openblas_set_num_threads");
    REQUIRE(get_threads, get_threads_fn, "openblas_get_num_threads");
    REQUIRE(corename, str_fn, "openblas_get_corename");
    REQUIRE(config, str_fn, "openblas_get_config");
#undef REQUIRE
    g.sbgemm = (sbgemm_fn)dlsym(h, "cblas_sbgemm"); /* optional: BUILD_BFLOAT16 */

    /* Our prototypes use 32-bit int for blasint; an INTERFACE64 build
     * (normally named libopenblas64) would read garbage dimensions. */
    const char *cfg = g.config();
    if (cfg && strstr(cfg, "USE64BITINT")) {
        fail("OpenBLAS at %s uses 64-bit integers (%s); need the 32-bit-int build",
             g.path, cfg);
        return;
    }
    g.rc = 0;
    atomic_store_explicit(&g_loaded, 1, memory_order_release);
}

int skrr_blas_load(char *err, size_t errlen) {
    pthread_once(&g_once, do_load);
    if (g.rc != 0) {
        copy_str(err, errlen, g.err);
        return -1;
    }
    if (err && errlen) err[0] = 0;
    return 0;
}

int skrr_blas_is_loaded(void) { return loaded(); }

/* -------------------------------------------------------------- wrappers */

int skrr_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
               const float *a, int lda, const float *b, int ldb, float beta, float *c,
               int ldc) {
    if (!loaded()) return -1;
    g.sgemm(order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return 0;
}

int skrr_sbgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
                const uint16_t *a, int lda, const uint16_t *b, int ldb, float beta,
                float *c, int ldc) {
    if (!loaded() || !g.sbgemm) return -1;
    g.sbgemm(order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return 0;
}

int skrr_blas_has_sbgemm(void) { return loaded() && g.sbgemm != NULL; }

int skrr_blas_set_threads(int n) {
    if (!loaded()) return -1;
    g.set_threads(n);
    return 0;
}

int skrr_blas_get_threads(void) { return loaded() ? g.get_threads() : -1; }

const char *skrr_blas_corename(void) { return loaded() ? g.corename() : NULL; }
const char *skrr_blas_config(void) { return loaded() ? g.config() : NULL; }
const char *skrr_blas_coretype_env(void) {
    return loaded() && g.has_coretype ? g.coretype : NULL;
}
int skrr_blas_coretype_source(void) { return loaded() ? g.source : -1; }
const char *skrr_blas_library_path(void) { return loaded() ? g.path : NULL; }
