/*
 * skrr.h: the C interface of libskrr, skrrc's runtime as a shared library.
 *
 * Open an encoder (a runtime file .skrr, an IR file .ir, or a model: .safetensors file,
 * *.safetensors.index.json, model folder, or diffusers pipeline folder with an encoder name),
 * encode prompts or token ids, read the arrays diffusers' pipelines take, free everything.
 * The arrays are the ones `skrrc run -o OUT.safetensors` writes, bit for bit.
 *
 * Errors: a function that fails returns NULL (or a negative value) and leaves a message in
 * skrr_last_error(), which is per thread (like dlerror) and stays valid until that thread's
 * next skrr_ call. Messages name the file and the tensor or key, expected vs actual.
 *
 * Threads: every handle is independent; several threads may each use their own handle at
 * once. Calls on one handle from several threads are serialised by the handle (safe, not
 * parallel). Results are owned by the caller and may be used from any thread.
 *
 * What the library does to the host process (and nothing else):
 *  - OpenBLAS is loaded with dlopen on the first open, with OPENBLAS_CORETYPE chosen for this
 *    CPU when the variable is unset (Debian's OpenBLAS otherwise runs its slowest kernels on
 *    some CPUs; docs/openblas.md). The variable is set in the environment for the load only
 *    and removed again once OpenBLAS has read it. If the host already loaded the same
 *    libopenblas.so.0, that copy is shared as it is.
 *  - During an encode call OpenBLAS runs single-threaded (the interpreter splits the work over
 *    its own threads); the thread count the call found is restored when the last concurrent
 *    call returns. Nothing is pinned for good.
 *  - libskrr itself installs no signal or atexit handlers. The Swift runtime it links does,
 *    when it loads: crash handlers for SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE and SIGABRT,
 *    unless SWIFT_BACKTRACE=enable=no is in the environment at that moment. A host that keeps
 *    its own handlers sets it before loading libskrr (the Python package does, for the load
 *    only, unless SWIFT_BACKTRACE is already set).
 */
#ifndef SKRR_H
#define SKRR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version of this header; skrr_abi_version() returns the library's. */
#define SKRR_ABI_VERSION 1

typedef struct skrr_encoder skrr_encoder;
typedef struct skrr_result skrr_result;

enum skrr_dtype { SKRR_FLOAT32 = 0, SKRR_INT64 = 1 };

int skrr_abi_version(void);

/* The message of the last failed call on this thread ("" if none). */
const char *skrr_last_error(void);

/* Opens an encoder. encoder: a text encoder folder name inside a diffusers pipeline (NULL
 * otherwise). pipeline: "generic", "pixart-sigma", "sd3", "flux" or "sdxl" (NULL: the
 * runtime file's preset, or generic). weight_check: scan a model's weights for NaN/Inf. */
skrr_encoder *skrr_open(const char *path, const char *encoder, const char *pipeline, int weight_check);
void skrr_close(skrr_encoder *encoder);

/* The preset's name and fixed padding length (0: pads to the longest sequence). */
const char *skrr_encoder_pipeline(const skrr_encoder *encoder);
int64_t skrr_encoder_max_length(const skrr_encoder *encoder);
/* Width of the hidden states. */
int64_t skrr_encoder_width(const skrr_encoder *encoder);

/* Encodes `count` UTF-8 prompts. output: "hidden", "pooled", "projected", "layer:N" or NULL
 * (what the runtime file stores, else hidden). compute: "f32", "bf16" or "int8" (NULL: f32).
 * max_tokens: tokens a sequence may have (0: 4096). */
skrr_result *skrr_encode_prompts(skrr_encoder *encoder, const char *const *prompts, size_t count,
                                 const char *output, const char *compute, int64_t max_tokens);
/* Encodes `count` token-id sequences, sequence i being ids[i][0 .. lengths[i]). */
skrr_result *skrr_encode_ids(skrr_encoder *encoder, const int32_t *const *ids, const size_t *lengths, size_t count,
                             const char *output, const char *compute, int64_t max_tokens);

/* A result's arrays: "prompt_embeds" [batch, seq, width] float32, "prompt_attention_mask"
 * [batch, seq] int64, "pooled_prompt_embeds" [batch, width] float32 (present when the encoder
 * pools), in that order; for output "pooled"/"projected" only "pooled_prompt_embeds". */
size_t skrr_result_count(const skrr_result *result);
const char *skrr_result_name(const skrr_result *result, size_t index);
int skrr_result_dtype(const skrr_result *result, size_t index);
size_t skrr_result_ndim(const skrr_result *result, size_t index);
const int64_t *skrr_result_shape(const skrr_result *result, size_t index);
/* Row-major data, valid until skrr_result_free. */
const void *skrr_result_data(const skrr_result *result, size_t index);
size_t skrr_result_nbytes(const skrr_result *result, size_t index);
void skrr_result_free(skrr_result *result);

#ifdef __cplusplus
}
#endif

#endif
