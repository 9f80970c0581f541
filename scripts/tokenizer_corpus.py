"""Deterministic tokenizer builders for the skrrc test fixtures.

Helper module for ``scripts/make_fixtures.py``; it has no side effects on import.
Everything here is a pure function of the calibration prompt file, so rerunning
gives byte-identical tokenizer files.

Three tokenizers are built from the PartiPrompts calibration prompts
(``Sources/Driver/Prompts/parti-calibration.txt``, a copy of ../shared/data/prompts; Apache-2.0, Google LLC):

* ``train_sentencepiece`` -- a T5-style SentencePiece unigram ``spiece.model``
  trained with the Debian ``spm_train`` binary (single thread, no sentence
  sampling, relative paths in a scratch directory so the embedded TrainerSpec is
  identical on every run).  Instead of the 240 KB ``nmt_nfkc`` table we compile a
  small NFKC subset (``NORMALIZATION_RULES``), so the model still carries a real
  ``precompiled_charsmap`` (full-width letters, ligatures, super-scripts, NBSP,
  combining accents) but stays ~6 KB.
* ``train_clip_bpe`` -- our own byte-level BPE merge trainer producing
  ``vocab.json`` + ``merges.txt`` in exactly OpenAI CLIP's layout: the 256
  byte-to-unicode characters, their ``</w>`` variants, one token per merge,
  then ``<|startoftext|>`` and ``<|endoftext|>``.
* ``build_wordpiece_vocab`` -- a lower-cased BERT ``vocab.txt``.

``read_spm_model`` is a ~40 line protobuf wire-format reader for ``spiece.model``
so neither ``protobuf`` nor the slow->fast converter of transformers is needed.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import struct
import subprocess
import tempfile
import unicodedata

import regex

# The project's copy of ../shared/data/prompts (identical files), so the scripts work from any clone.
PROMPTS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Sources", "Driver", "Prompts")
DEFAULT_PROMPTS = os.path.join(PROMPTS_DIR, "parti-calibration.txt")


def read_prompts(path: str = DEFAULT_PROMPTS) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


# ---------------------------------------------------------------------------
# SentencePiece (T5 / UMT5)
# ---------------------------------------------------------------------------

# Code points whose NFKC form is compiled into the spiece.model's
# precompiled_charsmap (a small stand-in for SentencePiece's nmt_nfkc table).
_NFKC_SINGLE = (
    list(range(0xFF01, 0xFF5F))  # full-width ASCII ！..～
    + [0x3000, 0x00A0, 0x2002, 0x2003, 0x2009]  # ideographic / no-break / en / em / thin space
    + [0x2026, 0x2122, 0x2460, 0x2461, 0x2462, 0x2160, 0x2161, 0x2162, 0x212B, 0x2126]
    + list(range(0xFB00, 0xFB07))  # ligatures ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ
    + [0x00B2, 0x00B3, 0x00B9, 0x2070] + list(range(0x2074, 0x207A))  # super-scripts
    + [0x00BD, 0x00BC, 0x00BE]  # vulgar fractions ½ ¼ ¾
)
_COMPOSE_BASES = "aeiouncAEIOUNC"
_COMPOSE_MARKS = (0x0300, 0x0301, 0x0302, 0x0303, 0x0308, 0x0327)


def normalization_rules_tsv() -> str:
    """spm_train --normalization_rule_tsv content (hex code points, tab separated)."""
    lines = []
    for cp in _NFKC_SINGLE:
        target = unicodedata.normalize("NFKC", chr(cp))
        lines.append(f"{cp:X}\t{' '.join(f'{ord(c):X}' for c in target)}")
    for base in _COMPOSE_BASES:
        for mark in _COMPOSE_MARKS:
            target = unicodedata.normalize("NFKC", base + chr(mark))
            if len(target) == 1:  # only pairs that really compose
                lines.append(f"{ord(base):X} {mark:X}\t{ord(target):X}")
    lines.append("9\t20")  # TAB -> space (nmt_nfkc does the same)
    return "\n".join(lines) + "\n"


SPM_FLAGS = [
    "--model_type=unigram",
    "--pad_id=0",
    "--eos_id=1",
    "--unk_id=2",
    "--bos_id=-1",
    "--pad_piece=<pad>",
    "--eos_piece=</s>",
    "--unk_piece=<unk>",
    "--character_coverage=1.0",
    "--num_threads=1",
    "--input_sentence_size=0",
    "--shuffle_input_sentence=false",
    "--random_seed=1234",
    "--max_sentencepiece_length=16",
    "--normalization_rule_tsv=rules.tsv",
]


def train_sentencepiece(prompts: list[str], vocab_size: int, out_path: str) -> str:
    """Train spiece.model with spm_train; returns the path written.

    The trainer spec stored inside the model records the input / prefix /
    rule-file names, so training happens in a scratch directory with fixed
    relative names.  With --num_threads=1 and no sampling the output is
    byte-identical across runs (verified by training twice and comparing hashes)."""
    spm = shutil.which("spm_train")
    with tempfile.TemporaryDirectory(prefix="skrrc-spm-") as tmp:
        with open(os.path.join(tmp, "corpus.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(prompts) + "\n")
        with open(os.path.join(tmp, "rules.tsv"), "w", encoding="utf-8") as f:
            f.write(normalization_rules_tsv())
        args = ["--input=corpus.txt", "--model_prefix=spiece", f"--vocab_size={vocab_size}"] + SPM_FLAGS
        if spm is not None:
            proc = subprocess.run([spm, *args, "--minloglevel=2"], cwd=tmp, capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"spm_train failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
        else:  # pragma: no cover - fallback, bytes then differ from the committed file
            import sentencepiece

            print("warning: spm_train not found (apt-get install sentencepiece); using the Python "
                  "trainer, spiece.model bytes will differ from the committed fixture")
            cwd = os.getcwd()
            os.chdir(tmp)
            try:
                sentencepiece.SentencePieceTrainer.train(" ".join(args))
            finally:
                os.chdir(cwd)
        shutil.copyfile(os.path.join(tmp, "spiece.model"), out_path)
    return out_path


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes):
    """Yield (field_number, wire_type, value) of one protobuf message."""
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            n, pos = _read_varint(buf, pos)
            value, pos = buf[pos:pos + n], pos + n
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield field, wire, value


def read_spm_model(path: str) -> dict:
    """Pieces (piece, score, type) and normalizer spec of a SentencePiece ModelProto."""
    with open(path, "rb") as f:
        buf = f.read()
    pieces, normalizer = [], {}
    for field, _, value in _fields(buf):
        if field == 1:  # repeated SentencePiece pieces
            piece, score, ptype = "", 0.0, 1
            for f2, _, v2 in _fields(value):
                if f2 == 1:
                    piece = v2.decode("utf-8")
                elif f2 == 2:
                    score = struct.unpack("<f", v2)[0]
                elif f2 == 3:
                    ptype = v2
            pieces.append((piece, score, ptype))
        elif field == 3:  # NormalizerSpec
            for f2, _, v2 in _fields(value):
                if f2 == 1:
                    normalizer["name"] = v2.decode("utf-8")
                elif f2 == 2:
                    normalizer["precompiled_charsmap"] = bytes(v2)
                elif f2 == 3:
                    normalizer["add_dummy_prefix"] = bool(v2)
                elif f2 == 4:
                    normalizer["remove_extra_whitespaces"] = bool(v2)
    return {"pieces": pieces, "normalizer": normalizer}


# ---------------------------------------------------------------------------
# CLIP byte-level BPE
# ---------------------------------------------------------------------------

CLIP_PATTERN = regex.compile(
    r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
    regex.IGNORECASE,
)


def bytes_to_unicode() -> dict[int, str]:
    """OpenAI's reversible byte -> printable unicode map (same order as CLIP/GPT-2)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def clip_words(text: str) -> list[str]:
    """CLIP pre-tokenization: whitespace clean, lower-case, regex split, byte-encode."""
    enc = bytes_to_unicode()
    text = regex.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip().lower()
    return ["".join(enc[b] for b in tok.encode("utf-8")) for tok in CLIP_PATTERN.findall(text)]


def train_clip_bpe(prompts: list[str], num_merges: int) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Classic BPE: repeatedly merge the most frequent adjacent pair.

    Words carry CLIP's end-of-word marker on their last symbol.  Ties are broken
    by the pair's strings (lexicographically smallest first), so the result does
    not depend on dict/hash ordering."""
    freq = collections.Counter()
    for p in prompts:
        freq.update(clip_words(p))
    words = {}
    for w, c in freq.items():
        syms = list(w)
        syms[-1] += "</w>"
        words[tuple(syms)] = words.get(tuple(syms), 0) + c
    merges: list[tuple[str, str]] = []
    for _ in range(num_merges):
        pairs = collections.Counter()
        for syms, c in words.items():
            for a, b in zip(syms, syms[1:]):
                pairs[(a, b)] += c
        if not pairs:
            break
        best = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        merges.append(best)
        merged = best[0] + best[1]
        new_words = {}
        for syms, c in words.items():
            out, i = [], 0
            while i < len(syms):
                if i + 1 < len(syms) and syms[i] == best[0] and syms[i + 1] == best[1]:
                    out.append(merged)
                    i += 2
                else:
                    out.append(syms[i])
                    i += 1
            new_words[tuple(out)] = new_words.get(tuple(out), 0) + c
        words = new_words
    base = list(bytes_to_unicode().values())
    tokens = base + [b + "</w>" for b in base] + ["".join(m) for m in merges]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    assert len(set(tokens)) == len(tokens), "duplicate BPE token"
    return {t: i for i, t in enumerate(tokens)}, merges


def write_clip_files(vocab: dict[str, int], merges: list[tuple[str, str]], folder: str) -> None:
    with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(vocab, ensure_ascii=False))
    with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))


def clip_bpe_encode(text: str, vocab: dict[str, int], merges: list[tuple[str, str]]) -> list[int]:
    """Reference (slow) CLIP encoder used to cross-check the transformers tokenizer."""
    ranks = {m: i for i, m in enumerate(merges)}
    ids = [vocab["<|startoftext|>"]]
    for w in clip_words(text):
        syms = list(w)
        syms[-1] += "</w>"
        while len(syms) > 1:
            cand = [(ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(syms, syms[1:]))]
            r, i = min(cand)
            if r == 1 << 30:
                break
            a, b = syms[i], syms[i + 1]
            out, j = [], 0
            while j < len(syms):
                if j + 1 < len(syms) and syms[j] == a and syms[j + 1] == b:
                    out.append(a + b)
                    j += 2
                else:
                    out.append(syms[j])
                    j += 1
            syms = out
        ids.extend(vocab[s] for s in syms)
    ids.append(vocab["<|endoftext|>"])
    return ids


# ---------------------------------------------------------------------------
# BERT WordPiece
# ---------------------------------------------------------------------------

BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def bert_words(text: str) -> list[str]:
    """BERT BasicTokenizer (lower-case, strip accents, split punctuation)."""
    text = unicodedata.normalize("NFD", text.lower())
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    out = []
    for chunk in text.split():
        cur = ""
        for c in chunk:
            cat = unicodedata.category(c)
            if cat.startswith("P") or (33 <= ord(c) <= 47) or (58 <= ord(c) <= 64) or (91 <= ord(c) <= 96) or (123 <= ord(c) <= 126):
                if cur:
                    out.append(cur)
                out.append(c)
                cur = ""
            else:
                cur += c
        if cur:
            out.append(cur)
    return out


def build_wordpiece_vocab(prompts: list[str], size: int, num_suffixes: int = 48) -> list[str]:
    """[PAD] [UNK] [CLS] [SEP] [MASK], every character and its ## form, then the
    most frequent ## suffixes and whole words (ties broken alphabetically)."""
    freq = collections.Counter()
    for p in prompts:
        freq.update(bert_words(p))
    chars = sorted({c for w in freq for c in w})
    inner = sorted({c for w in freq for c in w[1:]})
    vocab = BERT_SPECIALS + chars + ["##" + c for c in inner]
    seen = set(vocab)
    suffix = collections.Counter()
    for w, c in freq.items():
        for k in range(2, 5):
            if len(w) - k >= 2:
                suffix["##" + w[-k:]] += c
    for s, _ in sorted(suffix.items(), key=lambda kv: (-kv[1], kv[0]))[:num_suffixes]:
        if s not in seen:
            vocab.append(s)
            seen.add(s)
    for w, _ in sorted(freq.items(), key=lambda kv: (-kv[1], kv[0])):
        if len(vocab) >= size:
            break
        if w not in seen:
            vocab.append(w)
            seen.add(w)
    assert len(vocab) == size, (len(vocab), size)
    return vocab
