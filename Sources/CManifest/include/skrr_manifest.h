/*
 * skrr_manifest.h — Swift-callable helpers around the protobuf-c code
 * generated from proto/manifest.proto (manifest.pb-c.h).
 *
 * Why: protobuf-c initialises messages with *__INIT macros that Swift cannot
 * import, and a message tree is a web of malloc'ed C pointers. These helpers
 * allocate initialised messages (through the generated *__init() functions),
 * copy strings/bytes/arrays into malloc'ed storage, and append to repeated
 * fields, so that every tree — built from Swift or produced by unpacking —
 * has one ownership rule:
 *
 *   Every pointer in a tree is owned by its parent and was allocated with
 *   malloc; skrr_manifest_free() (= protobuf_c_message_free_unpacked with the
 *   default allocator) frees the whole tree.
 *
 * So: never store a pointer to Swift-managed memory in a message; use the
 * setters below. Functions that take a child message take ownership of it
 * only when they succeed (return 0); on failure (-1, out of memory or a NULL
 * argument) the caller still owns it.
 */
#ifndef SKRR_MANIFEST_H
#define SKRR_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "manifest.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The newest format_version of a single-encoder file this code writes (a
 * pipeline file, which holds several, is version 3). */
#define SKRR_MANIFEST_FORMAT_VERSION 2u

/* --- Constructors: malloc + the generated *__init(); NULL if out of memory. */
Skrr__Manifest *skrr_manifest_new(void); /* format_version preset to 2; the writer lowers it to 1 without int8 tensors */
Skrr__ModelHyper *skrr_model_hyper_new(void);
Skrr__TokenId *skrr_token_id_new(uint32_t id);
Skrr__Tensor *skrr_tensor_new(void);
Skrr__Operand *skrr_operand_new(const char *role, uint32_t tensor);
Skrr__SubBlock *skrr_sub_block_new(Skrr__SubBlockKind kind, uint32_t block);
Skrr__Slot *skrr_slot_new_skip(void);
Skrr__Slot *skrr_slot_new_run(uint32_t sub_block);
Skrr__Embeddings *skrr_embeddings_new(void);
Skrr__FinalNorm *skrr_final_norm_new(void);
Skrr__Head *skrr_head_new(const char *name);
Skrr__Extent *skrr_extent_new(uint64_t offset, uint64_t length, uint64_t checksum);
Skrr__TokenizerFile *skrr_tokenizer_file_new(const char *name);
Skrr__Tokenizer *skrr_tokenizer_new(Skrr__TokenizerKind kind);
Skrr__Preset *skrr_preset_new(void);
Skrr__Provenance *skrr_provenance_new(void);
Skrr__Pipeline *skrr_pipeline_new(const char *kind);
Skrr__PipelineMember *skrr_pipeline_member_new(const char *name, uint64_t offset, uint64_t length,
                                               uint64_t header_checksum);

/* --- Field setters (copy their input; free the previous value). */

/* Any `char *` string field: *field = strdup(value) (NULL value = ""). */
int skrr_pb_set_string(char **field, const char *value);
/* Tensor.shape = copy of dims[0..<n]. */
int skrr_tensor_set_shape(Skrr__Tensor *t, const uint64_t *dims, size_t n);
/* TokenizerFile.content = data (copy of len bytes) / extent (taken). */
int skrr_tokenizer_file_set_data(Skrr__TokenizerFile *f, const void *bytes, size_t len);
int skrr_tokenizer_file_set_extent(Skrr__TokenizerFile *f, Skrr__Extent *extent);
/* Slot.action = skip / run. */
int skrr_slot_set_skip(Skrr__Slot *s);
int skrr_slot_set_run(Skrr__Slot *s, uint32_t sub_block);

/* --- Appending to repeated message fields (take ownership on success). */
int skrr_manifest_add_tensor(Skrr__Manifest *m, Skrr__Tensor *t);
int skrr_manifest_add_sub_block(Skrr__Manifest *m, Skrr__SubBlock *b);
int skrr_manifest_add_slot(Skrr__Manifest *m, Skrr__Slot *s);
int skrr_manifest_add_head(Skrr__Manifest *m, Skrr__Head *h);
int skrr_sub_block_add_operand(Skrr__SubBlock *b, Skrr__Operand *op);
int skrr_embeddings_add_operand(Skrr__Embeddings *e, Skrr__Operand *op);
int skrr_final_norm_add_operand(Skrr__FinalNorm *n, Skrr__Operand *op);
int skrr_head_add_operand(Skrr__Head *h, Skrr__Operand *op);
int skrr_tokenizer_add_file(Skrr__Tokenizer *t, Skrr__TokenizerFile *f);
int skrr_pipeline_add_member(Skrr__Pipeline *p, Skrr__PipelineMember *member);

/* --- Reading helpers (Swift cannot easily reach into the anonymous unions). */
/* 1 if the slot is a skip, 0 otherwise. */
int skrr_slot_is_skip(const Skrr__Slot *s);
/* 1 and *sub_block set if the slot runs a sub-block, 0 otherwise. */
int skrr_slot_get_run(const Skrr__Slot *s, uint32_t *sub_block);
/* Inline bytes of a TokenizerFile (NULL / 0 if it holds an extent or nothing). */
const uint8_t *skrr_tokenizer_file_data(const Skrr__TokenizerFile *f, size_t *len);
/* Extent of a TokenizerFile (NULL if it holds inline bytes or nothing). */
const Skrr__Extent *skrr_tokenizer_file_extent(const Skrr__TokenizerFile *f);

/* --- Serialization. */

/* Bytes needed to serialize m. */
size_t skrr_manifest_packed_size(const Skrr__Manifest *m);
/* Serialize m into buf if cap >= the packed size; returns the packed size
 * either way (so a return > cap means "nothing written, retry bigger").
 * Output is deterministic: fields in field-number order, repeated fields in
 * list order. */
size_t skrr_manifest_pack_to(const Skrr__Manifest *m, uint8_t *buf, size_t cap);
/* Parse len bytes; NULL if they are not a well-formed Manifest (truncated
 * inside a field, bad wire type, bad varint, lengths past the end, ...).
 * NOTE: protobuf has no end marker — bytes cut exactly at a top-level field
 * boundary still parse. The container header's manifest length and checksum
 * are what catch that; semantic validation is the loader's job. Also let
 * through, by design or by protobuf-c's choice: unknown fields (kept, for
 * forward compatibility), enum values outside the enum, and string fields
 * that are not valid UTF-8 (validate before turning them into Swift Strings;
 * String(cString:) would silently repair them). */
Skrr__Manifest *skrr_manifest_unpack(const uint8_t *data, size_t len);
/* Free a tree from skrr_manifest_unpack (NULL allowed). */
void skrr_manifest_free_unpacked(Skrr__Manifest *m);
/* Free a tree built with the helpers above (NULL allowed). Same function as
 * skrr_manifest_free_unpacked, under the name that reads right at call sites. */
void skrr_manifest_free(Skrr__Manifest *m);

#ifdef __cplusplus
}
#endif

#endif /* SKRR_MANIFEST_H */
