/*
 * skrr_mpi.c — dlopen-based Open MPI loader. See include/skrr_mpi.h. Nothing in this file
 * references an MPI symbol at link time; everything goes through dlsym.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "skrr_mpi.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Opaque Open MPI handles: pointers to its predefined objects. */
typedef void *handle_t;

typedef int (*init_thread_fn)(int *, char ***, int, int *);
typedef int (*comm_int_fn)(handle_t, int *);
typedef int (*comm_fn)(handle_t);
typedef int (*allgatherv_fn)(const void *, int, handle_t, void *, const int *, const int *, handle_t,
                             handle_t);
typedef int (*bcast_fn)(void *, int, handle_t, int, handle_t);
typedef int (*abort_fn)(handle_t, int);
typedef int (*void_fn)(void);
typedef int (*version_fn)(char *, int *);
typedef int (*error_string_fn)(int, char *, int *);

static struct {
    int rc;
    char err[768];
    char path[4096];
    char version[512];
    int initialized;
    handle_t comm_world, type_double, type_byte;
    init_thread_fn init_thread;
    comm_int_fn comm_rank, comm_size;
    comm_fn barrier;
    allgatherv_fn allgatherv;
    bcast_fn bcast;
    abort_fn abort_;
    void_fn finalize;
    version_fn get_library_version;
    error_string_fn error_string;
} g;

static pthread_once_t g_once = PTHREAD_ONCE_INIT;

/* Records a load failure (messages longer than g.err are cut). */
#define FAIL(...) (g.rc = -1, (void)snprintf(g.err, sizeof g.err, __VA_ARGS__))

static void copy_out(char *dst, size_t cap, const char *src) {
    if (dst && cap) snprintf(dst, cap, "%s", src ? src : "");
}

const char *skrr_mpi_launcher_variable(void) {
    static const char *const names[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = getenv(names[i]);
        if (v && v[0]) return names[i];
    }
    return NULL;
}

static void do_load(void) {
    const char *target = getenv("SKRR_MPI_LIBRARY");
    if (!target || !target[0]) target = SKRR_MPI_DEFAULT_LIBRARY;
    void *h = dlopen(target, RTLD_NOW | RTLD_GLOBAL);
    if (!h) {
        FAIL("cannot load Open MPI (%s): %s; install Open MPI (Debian: openmpi-bin, which brings "
             "libopenmpi3) on every node, or set SKRR_MPI_LIBRARY to its libmpi.so.40",
             target, dlerror()); /* set by the failed dlopen */
        return;
    }
    /* Open MPI's predefined handles first: their absence means another MPI. */
    g.comm_world = dlsym(h, "ompi_mpi_comm_world");
    /* The file named in messages: the one defining MPI_COMM_WORLD, else what was asked for. */
    Dl_info info;
    const char *file = g.comm_world && dladdr(g.comm_world, &info) && info.dli_fname ? info.dli_fname : target;
    copy_out(g.path, sizeof g.path, file);
    if (!g.comm_world) {
        FAIL("%s is not Open MPI (it exports no ompi_mpi_comm_world); skrrc speaks Open MPI's "
             "ABI only: run it with Open MPI's mpirun and libmpi.so.40",
             g.path);
        return;
    }
    /* Everything else, by name into g: a missing one means an Open MPI too old or broken. */
    const struct {
        const char *name;
        void **slot;
    } required[] = {
        {"ompi_mpi_double", (void **)&g.type_double},
        {"ompi_mpi_byte", (void **)&g.type_byte},
        {"MPI_Init_thread", (void **)&g.init_thread},
        {"MPI_Comm_rank", (void **)&g.comm_rank},
        {"MPI_Comm_size", (void **)&g.comm_size},
        {"MPI_Barrier", (void **)&g.barrier},
        {"MPI_Allgatherv", (void **)&g.allgatherv},
        {"MPI_Bcast", (void **)&g.bcast},
        {"MPI_Abort", (void **)&g.abort_},
        {"MPI_Finalize", (void **)&g.finalize},
        {"MPI_Get_library_version", (void **)&g.get_library_version},
        {"MPI_Error_string", (void **)&g.error_string},
    };
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        *required[i].slot = dlsym(h, required[i].name);
        if (!*required[i].slot) {
            FAIL("Open MPI at %s does not export %s", g.path, required[i].name);
            return;
        }
    }
    g.rc = 0;
}

int skrr_mpi_load(char *err, size_t errlen) {
    pthread_once(&g_once, do_load);
    if (g.rc != 0) {
        copy_out(err, errlen, g.err);
        return -1;
    }
    copy_out(err, errlen, "");
    return 0;
}

/* Describes MPI error `code` from `call` into err. */
static void describe(int code, const char *call, char *err, size_t errlen) {
    char text[512] = "";
    int len = 0;
    if (g.error_string && g.error_string(code, text, &len) != 0) text[0] = 0;
    if (err && errlen) snprintf(err, errlen, "%s failed with MPI error %d%s%s", call, code, text[0] ? ": " : "", text);
}

int skrr_mpi_init(int required, int *provided, char *err, size_t errlen) {
    if (skrr_mpi_load(err, errlen) != 0) return -1;
    if (g.initialized) {
        copy_out(err, errlen, "MPI is already initialised");
        return -1;
    }
    int level = -1;
    int rc = g.init_thread(NULL, NULL, required, &level);
    if (rc != 0) {
        describe(rc, "MPI_Init_thread", err, errlen);
        return -1;
    }
    g.initialized = 1;
    if (provided) *provided = level;
    char text[512] = "";
    int len = 0;
    if (g.get_library_version(text, &len) == 0) {
        /* The text ends with a newline in some versions; keep the first line. */
        text[strcspn(text, "\r\n")] = 0;
        copy_out(g.version, sizeof g.version, text);
    }
    copy_out(err, errlen, "");
    return 0;
}

const char *skrr_mpi_library_path(void) { return g.rc == 0 && g.path[0] ? g.path : NULL; }
const char *skrr_mpi_library_version(void) { return g.initialized && g.version[0] ? g.version : NULL; }

int skrr_mpi_rank(int *rank) {
    return g.initialized && g.comm_rank(g.comm_world, rank) == 0 ? 0 : -1;
}

int skrr_mpi_size(int *size) {
    return g.initialized && g.comm_size(g.comm_world, size) == 0 ? 0 : -1;
}

int skrr_mpi_barrier(void) { return g.initialized && g.barrier(g.comm_world) == 0 ? 0 : -1; }

int skrr_mpi_allgatherv_doubles(const double *send, int send_count, double *recv, const int *counts,
                                const int *displs) {
    if (!g.initialized) return -1;
    return g.allgatherv(send, send_count, g.type_double, recv, counts, displs, g.type_double,
                        g.comm_world) == 0
               ? 0
               : -1;
}

int skrr_mpi_bcast_bytes(void *buffer, int count, int root) {
    if (!g.initialized) return -1;
    return g.bcast(buffer, count, g.type_byte, root, g.comm_world) == 0 ? 0 : -1;
}

int skrr_mpi_finalize(void) {
    if (!g.initialized) return -1;
    g.initialized = 0;
    return g.finalize() == 0 ? 0 : -1;
}

void skrr_mpi_abort(int fd, const char *message, int code) {
    if (message) {
        size_t len = strlen(message), off = 0;
        while (off < len) {
            ssize_t n = write(fd, message + off, len - off);
            if (n <= 0) break;
            off += (size_t)n;
        }
    }
    if (g.initialized) g.abort_(g.comm_world, code);
    _exit(code);
}
