/*
 * skrr_spm.h — a pure-C face for the SentencePiece C++ API
 * (libsentencepiece, <sentencepiece_processor.h>), for Swift.
 *
 * No C++ exception ever crosses this boundary: every entry point catches all
 * exceptions and reports them as an error return. All ids are validated
 * against the vocabulary before reaching SentencePiece (which indexes its
 * piece table without bounds checks).
 *
 * Thread-safety: a loaded skrr_spm is immutable; all functions taking a
 * `const skrr_spm *` may be called concurrently. skrr_spm_free must not race
 * with any other use of the same handle.
 *
 * Buffer convention: functions that produce variable-size output take
 * (buf, cap), write min(needed, cap) elements and return `needed` (for
 * strings: bytes excluding the NUL; the output is NUL-terminated whenever
 * cap > 0, truncating if needed). Call again with a bigger buffer when the
 * return value exceeds cap. A negative return means an error; the message is
 * then available from skrr_spm_last_error() on the same thread.
 */
#ifndef SKRR_SPM_H
#define SKRR_SPM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct skrr_spm skrr_spm;

/* Load a model from the bytes of a serialized ModelProto (the contents of a
 * ".model" file) — the runtime file embeds the tokenizer this way. The bytes
 * are copied; the caller may free them afterwards. Returns NULL on failure
 * with a message in err (err may be NULL; it is NUL-terminated if errlen > 0).
 * Caveat: protobuf has no end marker, so bytes cut exactly between two
 * vocabulary entries still load (as a smaller vocabulary). Integrity is the
 * container's job (the runtime file checksums every embedded file). */
skrr_spm *skrr_spm_load_from_bytes(const void *data, size_t len, char *err, size_t errlen);

/* Load a model from a ".model" file. Same error convention. */
skrr_spm *skrr_spm_load_file(const char *path, char *err, size_t errlen);

/* Free a handle (NULL is allowed). */
void skrr_spm_free(skrr_spm *h);

/* Number of pieces in the vocabulary (valid ids are 0 ..< vocab size). */
int32_t skrr_spm_vocab_size(const skrr_spm *h);

/* Id of a piece (len bytes, need not be NUL-terminated); unk id if absent. */
int32_t skrr_spm_piece_to_id(const skrr_spm *h, const char *piece, size_t len);

/* Copy the piece of `id` into buf (buffer convention). -1 if id is out of range. */
int64_t skrr_spm_id_to_piece(const skrr_spm *h, int32_t id, char *buf, size_t cap);

/* Special ids as configured at training time; -1 when disabled. */
int32_t skrr_spm_pad_id(const skrr_spm *h);
int32_t skrr_spm_eos_id(const skrr_spm *h);
int32_t skrr_spm_unk_id(const skrr_spm *h);
int32_t skrr_spm_bos_id(const skrr_spm *h);

/* Tokenize `len` bytes of UTF-8 into ids (buffer convention). Ids only: no
 * bos/eos is added — the caller appends </s> where the model wants it.
 * Returns the number of ids, or -1 on error. */
int64_t skrr_spm_encode(const skrr_spm *h, const char *text, size_t len, int32_t *ids,
                        size_t cap);

/* Detokenize ids into UTF-8 text (buffer convention). -1 on error, including
 * an id outside 0 ..< vocab size. */
int64_t skrr_spm_decode(const skrr_spm *h, const int32_t *ids, size_t n, char *buf,
                        size_t cap);

/* The message of the last failed call on this thread ("" if none). The pointer
 * stays valid until the next call into this library on the same thread. */
const char *skrr_spm_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* SKRR_SPM_H */
