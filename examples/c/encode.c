/* encode.c: libskrr from C. Opens an encoder, encodes the prompts given on the command line,
 * prints each result array's name, dtype and shape, and writes the first array's raw bytes
 * (row-major) to OUT.
 *
 *   cc -I Sources/CSkrrABI/include examples/c/encode.c -L .build/release -lskrr \
 *      -Wl,-rpath,$PWD/.build/release -o encode
 *   ./encode t5.skrr OUT.bin "a red cube on a glass table" "two dogs"
 */
#include <stdio.h>
#include <stdlib.h>

#include "skrr.h"

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s MODEL OUT PROMPT...\n", argv[0]);
        return 64;
    }
    if (skrr_abi_version() != SKRR_ABI_VERSION) {
        fprintf(stderr, "libskrr ABI %d, header %d\n", skrr_abi_version(), SKRR_ABI_VERSION);
        return 1;
    }
    skrr_encoder *encoder = skrr_open(argv[1], NULL, NULL, 1);
    if (!encoder) {
        fprintf(stderr, "error: %s\n", skrr_last_error());
        return 1;
    }
    skrr_result *result = skrr_encode_prompts(encoder, (const char *const *)(argv + 3), (size_t)(argc - 3), NULL, NULL, 0);
    if (!result) {
        fprintf(stderr, "error: %s\n", skrr_last_error());
        skrr_close(encoder);
        return 1;
    }
    for (size_t i = 0; i < skrr_result_count(result); i++) {
        printf("%s %s", skrr_result_name(result, i), skrr_result_dtype(result, i) == SKRR_FLOAT32 ? "float32" : "int64");
        const int64_t *shape = skrr_result_shape(result, i);
        for (size_t d = 0; d < skrr_result_ndim(result, i); d++) printf(" %lld", (long long)shape[d]);
        printf("\n");
    }
    FILE *out = fopen(argv[2], "wb");
    int status = out && fwrite(skrr_result_data(result, 0), 1, skrr_result_nbytes(result, 0), out) == skrr_result_nbytes(result, 0) ? 0 : 1;
    if (out) fclose(out);
    skrr_result_free(result);
    skrr_close(encoder);
    return status;
}
