/* Per-thread error message storage for libskrr (Sources/CAPI): C11 thread-local storage, so
 * skrr_last_error() needs no lock and no Swift runtime support for thread locals. */
#ifndef SKRR_ABI_ERRORS_H
#define SKRR_ABI_ERRORS_H

/* Copies `message` as this thread's last error (NULL clears it). */
void skrr_abi_set_error(const char *message);

#endif
