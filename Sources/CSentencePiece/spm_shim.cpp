// spm_shim.cpp — extern "C" wrappers over sentencepiece::SentencePieceProcessor.
// See include/skrr_spm.h for the contract. Every entry point is noexcept in
// effect: exceptions are caught and turned into error returns.
#include "skrr_spm.h"

#include <sentencepiece_processor.h>

#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

struct skrr_spm {
    sentencepiece::SentencePieceProcessor sp;
};

namespace {

thread_local std::string last_error;

void set_error(const std::string &msg) {
    try {
        last_error = msg;
    } catch (...) {
        // Out of memory while reporting an error: keep whatever was there.
    }
}

void write_err(char *err, size_t errlen, const std::string &msg) {
    set_error(msg);
    if (!err || errlen == 0) return;
    size_t n = msg.size() < errlen - 1 ? msg.size() : errlen - 1;
    std::memcpy(err, msg.data(), n);
    err[n] = 0;
}

std::string describe_current_exception() {
    try {
        throw;
    } catch (const std::exception &e) {
        return std::string("C++ exception: ") + e.what();
    } catch (...) {
        return "unknown C++ exception";
    }
}

// Copy a string into (buf, cap) per the header's buffer convention.
int64_t copy_out(const std::string &s, char *buf, size_t cap) {
    if (buf && cap > 0) {
        size_t n = s.size() < cap - 1 ? s.size() : cap - 1;
        std::memcpy(buf, s.data(), n);
        buf[n] = 0;
    }
    return static_cast<int64_t>(s.size());
}

// A loaded model whose vocabulary is empty or lacks <unk> is useless and
// would make later calls misbehave; refuse it at load time.
skrr_spm *finish_load(std::unique_ptr<skrr_spm> h, const sentencepiece::util::Status &st,
                      const char *what, char *err, size_t errlen) {
    if (!st.ok()) {
        std::string detail = st.ToString();
        std::string msg = std::string("cannot load SentencePiece model from ") + what + ": ";
        // SentencePiece reports a protobuf parse failure as an "Internal"
        // error quoting its own source line; say what it means.
        if (detail.find("ParseFrom") != std::string::npos)
            msg += "not a serialized SentencePiece model (protobuf parse failed: the data is "
                   "truncated, corrupt, or another kind of file) [" + detail + "]";
        else
            msg += detail;
        write_err(err, errlen, msg);
        return nullptr;
    }
    const auto &sp = h->sp;
    if (sp.GetPieceSize() <= 0) {
        write_err(err, errlen, std::string("SentencePiece model from ") + what +
                                   " has an empty vocabulary");
        return nullptr;
    }
    int unk = sp.unk_id();
    if (unk < 0 || unk >= sp.GetPieceSize()) {
        write_err(err, errlen, std::string("SentencePiece model from ") + what +
                                   " has no valid <unk> id");
        return nullptr;
    }
    if (err && errlen) err[0] = 0;
    return h.release();
}

bool valid_id(const skrr_spm *h, int32_t id) {
    return id >= 0 && id < h->sp.GetPieceSize();
}

}  // namespace

extern "C" {

skrr_spm *skrr_spm_load_from_bytes(const void *data, size_t len, char *err, size_t errlen) {
    try {
        if (!data && len > 0) {
            write_err(err, errlen, "skrr_spm_load_from_bytes: NULL data");
            return nullptr;
        }
        if (len == 0) {
            // An empty string is a valid (empty) protobuf message; say what
            // actually happened instead of a confusing downstream error.
            write_err(err, errlen, "cannot load SentencePiece model from bytes: input is empty");
            return nullptr;
        }
        auto h = std::make_unique<skrr_spm>();
        absl::string_view bytes(static_cast<const char *>(data), len);
        auto st = h->sp.LoadFromSerializedProto(bytes);
        std::string what = "bytes (" + std::to_string(len) + " bytes)";
        return finish_load(std::move(h), st, what.c_str(), err, errlen);
    } catch (...) {
        write_err(err, errlen, "cannot load SentencePiece model from bytes: " +
                                   describe_current_exception());
        return nullptr;
    }
}

skrr_spm *skrr_spm_load_file(const char *path, char *err, size_t errlen) {
    try {
        if (!path) {
            write_err(err, errlen, "skrr_spm_load_file: NULL path");
            return nullptr;
        }
        auto h = std::make_unique<skrr_spm>();
        auto st = h->sp.Load(absl::string_view(path));
        return finish_load(std::move(h), st, path, err, errlen);
    } catch (...) {
        write_err(err, errlen, std::string("cannot load SentencePiece model from ") +
                                   (path ? path : "(null)") + ": " +
                                   describe_current_exception());
        return nullptr;
    }
}

void skrr_spm_free(skrr_spm *h) {
    try {
        delete h;
    } catch (...) {
    }
}

int32_t skrr_spm_vocab_size(const skrr_spm *h) {
    try {
        return h ? h->sp.GetPieceSize() : 0;
    } catch (...) {
        set_error(describe_current_exception());
        return 0;
    }
}

int32_t skrr_spm_piece_to_id(const skrr_spm *h, const char *piece, size_t len) {
    try {
        if (!h) return -1;
        if (!piece && len > 0) return h->sp.unk_id();
        return h->sp.PieceToId(absl::string_view(piece ? piece : "", len));
    } catch (...) {
        set_error(describe_current_exception());
        return -1;
    }
}

int64_t skrr_spm_id_to_piece(const skrr_spm *h, int32_t id, char *buf, size_t cap) {
    try {
        if (!h) {
            set_error("skrr_spm_id_to_piece: NULL handle");
            return -1;
        }
        if (!valid_id(h, id)) {
            set_error("skrr_spm_id_to_piece: id " + std::to_string(id) +
                      " outside vocabulary of " + std::to_string(h->sp.GetPieceSize()));
            return -1;
        }
        return copy_out(h->sp.IdToPiece(id), buf, cap);
    } catch (...) {
        set_error(describe_current_exception());
        return -1;
    }
}

#define SPECIAL_ID(fn, method)                 \
    int32_t fn(const skrr_spm *h) {            \
        try {                                  \
            return h ? h->sp.method() : -1;    \
        } catch (...) {                        \
            return -1;                         \
        }                                      \
    }
SPECIAL_ID(skrr_spm_pad_id, pad_id)
SPECIAL_ID(skrr_spm_eos_id, eos_id)
SPECIAL_ID(skrr_spm_unk_id, unk_id)
SPECIAL_ID(skrr_spm_bos_id, bos_id)
#undef SPECIAL_ID

int64_t skrr_spm_encode(const skrr_spm *h, const char *text, size_t len, int32_t *ids,
                        size_t cap) {
    try {
        if (!h) {
            set_error("skrr_spm_encode: NULL handle");
            return -1;
        }
        if (!text && len > 0) {
            set_error("skrr_spm_encode: NULL text");
            return -1;
        }
        std::vector<int> out;
        auto st = h->sp.Encode(absl::string_view(text ? text : "", len), &out);
        if (!st.ok()) {
            set_error("SentencePiece encode failed: " + st.ToString());
            return -1;
        }
        if (ids) {
            size_t n = out.size() < cap ? out.size() : cap;
            for (size_t i = 0; i < n; i++) ids[i] = static_cast<int32_t>(out[i]);
        }
        return static_cast<int64_t>(out.size());
    } catch (...) {
        set_error("SentencePiece encode failed: " + describe_current_exception());
        return -1;
    }
}

int64_t skrr_spm_decode(const skrr_spm *h, const int32_t *ids, size_t n, char *buf,
                        size_t cap) {
    try {
        if (!h) {
            set_error("skrr_spm_decode: NULL handle");
            return -1;
        }
        if (!ids && n > 0) {
            set_error("skrr_spm_decode: NULL ids");
            return -1;
        }
        std::vector<int> in(n);
        for (size_t i = 0; i < n; i++) {
            if (!valid_id(h, ids[i])) {
                set_error("skrr_spm_decode: id " + std::to_string(ids[i]) + " at index " +
                          std::to_string(i) + " outside vocabulary of " +
                          std::to_string(h->sp.GetPieceSize()));
                return -1;
            }
            in[i] = ids[i];
        }
        std::string text;
        auto st = h->sp.Decode(in, &text);
        if (!st.ok()) {
            set_error("SentencePiece decode failed: " + st.ToString());
            return -1;
        }
        return copy_out(text, buf, cap);
    } catch (...) {
        set_error("SentencePiece decode failed: " + describe_current_exception());
        return -1;
    }
}

const char *skrr_spm_last_error(void) { return last_error.c_str(); }

}  // extern "C"
