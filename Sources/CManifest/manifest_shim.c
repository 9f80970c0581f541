/*
 * manifest_shim.c — constructors, setters and (un)packing helpers for the
 * protobuf-c manifest types. See include/skrr_manifest.h for the ownership rule.
 */
#include "skrr_manifest.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ constructors */

#define DEFINE_NEW(fn, Type, init)                  \
    Type *fn(void) {                                \
        Type *m = malloc(sizeof *m);                \
        if (m) init(m);                             \
        return m;                                   \
    }

static DEFINE_NEW(new_manifest, Skrr__Manifest, skrr__manifest__init)
DEFINE_NEW(skrr_model_hyper_new, Skrr__ModelHyper, skrr__model_hyper__init)
static DEFINE_NEW(new_token_id, Skrr__TokenId, skrr__token_id__init)
DEFINE_NEW(skrr_tensor_new, Skrr__Tensor, skrr__tensor__init)
static DEFINE_NEW(new_operand, Skrr__Operand, skrr__operand__init)
static DEFINE_NEW(new_sub_block, Skrr__SubBlock, skrr__sub_block__init)
static DEFINE_NEW(new_slot, Skrr__Slot, skrr__slot__init)
DEFINE_NEW(skrr_embeddings_new, Skrr__Embeddings, skrr__embeddings__init)
DEFINE_NEW(skrr_final_norm_new, Skrr__FinalNorm, skrr__final_norm__init)
static DEFINE_NEW(new_head, Skrr__Head, skrr__head__init)
static DEFINE_NEW(new_extent, Skrr__Extent, skrr__extent__init)
static DEFINE_NEW(new_tokenizer_file, Skrr__TokenizerFile, skrr__tokenizer_file__init)
static DEFINE_NEW(new_tokenizer, Skrr__Tokenizer, skrr__tokenizer__init)
DEFINE_NEW(skrr_preset_new, Skrr__Preset, skrr__preset__init)
DEFINE_NEW(skrr_provenance_new, Skrr__Provenance, skrr__provenance__init)
static DEFINE_NEW(new_pipeline, Skrr__Pipeline, skrr__pipeline__init)
static DEFINE_NEW(new_pipeline_member, Skrr__PipelineMember, skrr__pipeline_member__init)
#undef DEFINE_NEW

static void free_message(void *m) {
    if (m) protobuf_c_message_free_unpacked((ProtobufCMessage *)m, NULL);
}

Skrr__Manifest *skrr_manifest_new(void) {
    Skrr__Manifest *m = new_manifest();
    if (m) m->format_version = SKRR_MANIFEST_FORMAT_VERSION;
    return m;
}

Skrr__TokenId *skrr_token_id_new(uint32_t id) {
    Skrr__TokenId *t = new_token_id();
    if (t) t->id = id;
    return t;
}

Skrr__Pipeline *skrr_pipeline_new(const char *kind) {
    Skrr__Pipeline *p = new_pipeline();
    if (!p) return NULL;
    if (skrr_pb_set_string(&p->kind, kind) != 0) {
        free_message(p);
        return NULL;
    }
    return p;
}

Skrr__PipelineMember *skrr_pipeline_member_new(const char *name, uint64_t offset, uint64_t length,
                                               uint64_t header_checksum) {
    Skrr__PipelineMember *member = new_pipeline_member();
    if (!member) return NULL;
    if (skrr_pb_set_string(&member->name, name) != 0) {
        free_message(member);
        return NULL;
    }
    member->offset = offset;
    member->length = length;
    member->header_checksum = header_checksum;
    return member;
}

Skrr__Operand *skrr_operand_new(const char *role, uint32_t tensor) {
    Skrr__Operand *op = new_operand();
    if (!op) return NULL;
    if (skrr_pb_set_string(&op->role, role) != 0) {
        free_message(op);
        return NULL;
    }
    op->tensor = tensor;
    return op;
}

Skrr__SubBlock *skrr_sub_block_new(Skrr__SubBlockKind kind, uint32_t block) {
    Skrr__SubBlock *b = new_sub_block();
    if (b) {
        b->kind = kind;
        b->block = block;
    }
    return b;
}

Skrr__Slot *skrr_slot_new_skip(void) {
    Skrr__Slot *s = new_slot();
    if (s) skrr_slot_set_skip(s);
    return s;
}

Skrr__Slot *skrr_slot_new_run(uint32_t sub_block) {
    Skrr__Slot *s = new_slot();
    if (s) skrr_slot_set_run(s, sub_block);
    return s;
}

Skrr__Head *skrr_head_new(const char *name) {
    Skrr__Head *h = new_head();
    if (!h) return NULL;
    if (skrr_pb_set_string(&h->name, name) != 0) {
        free_message(h);
        return NULL;
    }
    return h;
}

Skrr__Extent *skrr_extent_new(uint64_t offset, uint64_t length, uint64_t checksum) {
    Skrr__Extent *e = new_extent();
    if (e) {
        e->offset = offset;
        e->length = length;
        e->checksum = checksum;
    }
    return e;
}

Skrr__TokenizerFile *skrr_tokenizer_file_new(const char *name) {
    Skrr__TokenizerFile *f = new_tokenizer_file();
    if (!f) return NULL;
    if (skrr_pb_set_string(&f->name, name) != 0) {
        free_message(f);
        return NULL;
    }
    return f;
}

Skrr__Tokenizer *skrr_tokenizer_new(Skrr__TokenizerKind kind) {
    Skrr__Tokenizer *t = new_tokenizer();
    if (t) t->kind = kind;
    return t;
}

/* ----------------------------------------------------------------- setters */

int skrr_pb_set_string(char **field, const char *value) {
    if (!field) return -1;
    if (!value) value = "";
    size_t n = strlen(value) + 1;
    char *copy = malloc(n); /* not strdup: keep to ISO C */
    if (!copy) return -1;
    memcpy(copy, value, n);
    /* Initialised-but-unset string fields point at protobuf-c's shared
     * empty-string sentinel, which must never be freed. */
    if (*field && *field != protobuf_c_empty_string) free(*field);
    *field = copy;
    return 0;
}

int skrr_tensor_set_shape(Skrr__Tensor *t, const uint64_t *dims, size_t n) {
    if (!t || (!dims && n > 0)) return -1;
    uint64_t *copy = NULL;
    if (n > 0) {
        if (n > SIZE_MAX / sizeof *copy) return -1;
        copy = malloc(n * sizeof *copy);
        if (!copy) return -1;
        memcpy(copy, dims, n * sizeof *copy);
    }
    free(t->shape);
    t->shape = copy;
    t->n_shape = n;
    return 0;
}

/* Free whatever the TokenizerFile's oneof currently holds. */
static void clear_content(Skrr__TokenizerFile *f) {
    if (f->content_case == SKRR__TOKENIZER_FILE__CONTENT_DATA) {
        free(f->data.data);
        f->data.data = NULL;
        f->data.len = 0;
    } else if (f->content_case == SKRR__TOKENIZER_FILE__CONTENT_EXTENT) {
        free_message(f->extent);
        f->extent = NULL;
    }
    f->content_case = SKRR__TOKENIZER_FILE__CONTENT__NOT_SET;
}

int skrr_tokenizer_file_set_data(Skrr__TokenizerFile *f, const void *bytes, size_t len) {
    if (!f || (!bytes && len > 0)) return -1;
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) return -1;
    if (len) memcpy(copy, bytes, len);
    clear_content(f);
    f->data.data = copy;
    f->data.len = len;
    f->content_case = SKRR__TOKENIZER_FILE__CONTENT_DATA;
    return 0;
}

int skrr_tokenizer_file_set_extent(Skrr__TokenizerFile *f, Skrr__Extent *extent) {
    if (!f || !extent) return -1;
    clear_content(f);
    f->extent = extent;
    f->content_case = SKRR__TOKENIZER_FILE__CONTENT_EXTENT;
    return 0;
}

int skrr_slot_set_skip(Skrr__Slot *s) {
    if (!s) return -1;
    s->action_case = SKRR__SLOT__ACTION_SKIP;
    s->skip = 1;
    return 0;
}

int skrr_slot_set_run(Skrr__Slot *s, uint32_t sub_block) {
    if (!s) return -1;
    s->action_case = SKRR__SLOT__ACTION_RUN;
    s->run = sub_block;
    return 0;
}

/* --------------------------------------------------------------- appending */

#define DEFINE_ADD(fn, Parent, Child, field)                                   \
    int fn(Parent *p, Child *c) {                                              \
        if (!p || !c) return -1;                                               \
        if (p->n_##field >= SIZE_MAX / sizeof(Child *) - 1) return -1;         \
        Child **grown = realloc(p->field, (p->n_##field + 1) * sizeof *grown); \
        if (!grown) return -1;                                                 \
        grown[p->n_##field] = c;                                               \
        p->field = grown;                                                      \
        p->n_##field += 1;                                                     \
        return 0;                                                              \
    }

DEFINE_ADD(skrr_manifest_add_tensor, Skrr__Manifest, Skrr__Tensor, tensors)
DEFINE_ADD(skrr_manifest_add_sub_block, Skrr__Manifest, Skrr__SubBlock, sub_blocks)
DEFINE_ADD(skrr_manifest_add_slot, Skrr__Manifest, Skrr__Slot, slots)
DEFINE_ADD(skrr_manifest_add_head, Skrr__Manifest, Skrr__Head, heads)
DEFINE_ADD(skrr_sub_block_add_operand, Skrr__SubBlock, Skrr__Operand, operands)
DEFINE_ADD(skrr_embeddings_add_operand, Skrr__Embeddings, Skrr__Operand, operands)
DEFINE_ADD(skrr_final_norm_add_operand, Skrr__FinalNorm, Skrr__Operand, operands)
DEFINE_ADD(skrr_head_add_operand, Skrr__Head, Skrr__Operand, operands)
DEFINE_ADD(skrr_tokenizer_add_file, Skrr__Tokenizer, Skrr__TokenizerFile, files)
DEFINE_ADD(skrr_pipeline_add_member, Skrr__Pipeline, Skrr__PipelineMember, members)
#undef DEFINE_ADD

/* ----------------------------------------------------------------- reading */

int skrr_slot_is_skip(const Skrr__Slot *s) {
    return s && s->action_case == SKRR__SLOT__ACTION_SKIP;
}

int skrr_slot_get_run(const Skrr__Slot *s, uint32_t *sub_block) {
    if (!s || s->action_case != SKRR__SLOT__ACTION_RUN) return 0;
    if (sub_block) *sub_block = s->run;
    return 1;
}

const uint8_t *skrr_tokenizer_file_data(const Skrr__TokenizerFile *f, size_t *len) {
    if (!f || f->content_case != SKRR__TOKENIZER_FILE__CONTENT_DATA) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = f->data.len;
    return f->data.data;
}

const Skrr__Extent *skrr_tokenizer_file_extent(const Skrr__TokenizerFile *f) {
    if (!f || f->content_case != SKRR__TOKENIZER_FILE__CONTENT_EXTENT) return NULL;
    return f->extent;
}

/* ----------------------------------------------------------- serialization */

size_t skrr_manifest_packed_size(const Skrr__Manifest *m) {
    return m ? skrr__manifest__get_packed_size(m) : 0;
}

size_t skrr_manifest_pack_to(const Skrr__Manifest *m, uint8_t *buf, size_t cap) {
    if (!m) return 0;
    size_t need = skrr__manifest__get_packed_size(m);
    if (buf && cap >= need) skrr__manifest__pack(m, buf);
    return need;
}

Skrr__Manifest *skrr_manifest_unpack(const uint8_t *data, size_t len) {
    /* Zero bytes would parse as an all-default Manifest; no real file has an
     * empty manifest, so call it what it is: missing. */
    if (!data || len == 0) return NULL;
    return skrr__manifest__unpack(NULL, len, data);
}

void skrr_manifest_free_unpacked(Skrr__Manifest *m) {
    if (m) skrr__manifest__free_unpacked(m, NULL);
}

void skrr_manifest_free(Skrr__Manifest *m) { skrr_manifest_free_unpacked(m); }
