/*
 * skrr_mpi.h — Open MPI, loaded at run time with dlopen, never linked.
 *
 * Why dlopen: plain `skrrc` must start on machines without MPI, and MPI is only wanted when the
 * process was launched by mpirun. A link-time dependency would make libmpi (and its own
 * dependencies: PMIx, hwloc, libfabric, UCX, ...) a requirement of every run, and of every
 * machine that builds skrrc.
 *
 * Why no MPI header: Open MPI's handles are addresses of exported globals (MPI_COMM_WORLD is
 * &ompi_mpi_comm_world, MPI_DOUBLE is &ompi_mpi_double, MPI_BYTE is &ompi_mpi_byte), its thread
 * levels are the enum 0..3 below, and the few functions used here have the standard C
 * signatures; all of them are stable across libmpi.so.40 (Open MPI 3.0 to 5.x). Resolving them
 * with dlsym needs no `mpi.h`, so building skrrc needs no libopenmpi-dev. The price: this speaks
 * Open MPI's ABI only. MPICH-derived libraries use integer handles; loading one is refused with
 * a message (it exports no ompi_mpi_comm_world).
 *
 * Every call is made on MPI_COMM_WORLD. Thread-safety: skrr_mpi_load() is idempotent and
 * thread-safe (pthread_once); the MPI calls must not run concurrently (we ask for
 * MPI_THREAD_SERIALIZED: one search loop makes them, not always on the main thread).
 */
#ifndef SKRR_MPI_H
#define SKRR_MPI_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Open MPI's thread levels (enum in its mpi.h, fixed since 1.x). */
#define SKRR_MPI_THREAD_SINGLE 0
#define SKRR_MPI_THREAD_FUNNELED 1
#define SKRR_MPI_THREAD_SERIALIZED 2
#define SKRR_MPI_THREAD_MULTIPLE 3

/* The library dlopen'ed unless SKRR_MPI_LIBRARY names another (path or soname). */
#define SKRR_MPI_DEFAULT_LIBRARY "libmpi.so.40"

/* --- Detection (no MPI involved) ---------------------------------------- */

/* The name of the environment variable showing that an MPI launcher started this process
 * (Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE; PMIx launchers such as `srun --mpi=pmix` set
 * PMIX_RANK), or NULL when there is none: then MPI must not be touched. Static string. */
const char *skrr_mpi_launcher_variable(void);

/* --- Loading and start-up --------------------------------------------------- */

/* dlopen libmpi (RTLD_GLOBAL: Open MPI's own plug-ins resolve symbols of libmpi and
 * libopen-pal against the global scope) and resolve every symbol below. Returns 0, or -1 with a
 * message in err. Idempotent: later calls return the first call's result and message. */
int skrr_mpi_load(char *err, size_t errlen);

/* MPI_Init_thread(NULL, NULL, required, &provided). Returns 0 with *provided set, or -1 with a
 * message. Call once, after a successful load. */
int skrr_mpi_init(int required, int *provided, char *err, size_t errlen);

/* The file that was dlopen'ed, and MPI_Get_library_version's text (NULL before a load /
 * an init). Static strings. */
const char *skrr_mpi_library_path(void);
const char *skrr_mpi_library_version(void);

/* --- Calls on MPI_COMM_WORLD (return 0, or -1 if not initialised or MPI failed) ---------- */

int skrr_mpi_rank(int *rank);
int skrr_mpi_size(int *size);
int skrr_mpi_barrier(void);

/* MPI_Allgatherv of doubles: `send` holds this rank's `send_count` values; rank r's land at
 * recv[displs[r] ..< displs[r] + counts[r]] on every rank. */
int skrr_mpi_allgatherv_doubles(const double *send, int send_count, double *recv, const int *counts,
                                const int *displs);

/* MPI_Bcast of `count` bytes from rank `root`. */
int skrr_mpi_bcast_bytes(void *buffer, int count, int root);

/* MPI_Finalize (collective). */
int skrr_mpi_finalize(void);

/* Writes `message` (if not NULL) to file descriptor `fd`, then MPI_Abort(MPI_COMM_WORLD, code):
 * mpirun kills every rank and exits with `code`. Never returns (falls back to _exit(code) when
 * MPI is not initialised). */
void skrr_mpi_abort(int fd, const char *message, int code) __attribute__((noreturn));

#ifdef __cplusplus
}
#endif

#endif /* SKRR_MPI_H */
