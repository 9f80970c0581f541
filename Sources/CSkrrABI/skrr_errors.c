#include <stdlib.h>
#include <string.h>

#include "skrr.h"
#include "skrr_abi_errors.h"

static _Thread_local char *last_error = NULL;

void skrr_abi_set_error(const char *message) {
    free(last_error);
    last_error = message ? strdup(message) : NULL;
}

const char *skrr_last_error(void) { return last_error ? last_error : ""; }
