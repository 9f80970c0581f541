#!/usr/bin/env python3
"""Regenerate every tiny text-encoder checkpoint under fixtures/ (deterministic).

    python3 scripts/make_fixtures.py            # rewrites fixtures/<name>/ for every name below
    python3 scripts/make_fixtures.py --out DIR  # somewhere else (e.g. to diff against the committed copy)

Needs: torch (CPU), transformers 5.x, safetensors, numpy, regex (a transformers
dependency) and the Debian `sentencepiece` package for `spm_train`.  No network:
every model is built from a config object with seeded random weights, every
tokenizer is trained here from the PartiPrompts calibration prompts
(Sources/Driver/Prompts/parti-calibration.txt, a copy of ../shared/data/prompts; Apache-2.0, Google LLC).
Running the script twice gives byte-identical files (single-threaded torch,
per-fixture seeds, spm_train with one thread and no sampling, our own BPE and
WordPiece trainers with explicit tie-breaks).

Every shape is deliberately "odd" so that an importer or interpreter that
hard-codes a real model's proportions fails loudly:
  * attention inner width != hidden width (T5: 3 heads x d_kv 20 = 60 vs d_model 48;
    UMT5: 3 x 16 = 48 vs 36; t5-relu: 5 x 12 = 60 vs 40),
  * head counts 2/3/5, hidden sizes 32/36/40/48 and FFN widths 48/50/52/56/60/68/72
    that are not 4x the hidden size,
  * vocabularies of 277 (SentencePiece), 814 (CLIP BPE) and 397 (WordPiece) rows --
    none a multiple of 8,
  * only 8 relative-attention buckets with max_distance 12/16 while the reference
    batch has a 23-token row, so the log-spaced "far" buckets are exercised,
  * all LayerNorm/RMSNorm gains are drawn from U(0.5, 1.5) and all biases from
    N(0, 0.2) (HF's init would leave them at 1 and 0 and hide mapping bugs); linear
    weights are N(0, 1/fan_in) (T5 q additionally / sqrt(d_kv), as T5 does),
    embeddings and relative-attention biases N(0, 1).

Fixtures (folder names are referenced by the Swift tests; keep them):
  t5-v1_1/          T5EncoderModel, gated-gelu (gelu_new) T5 v1.1, f32.
  t5-v1_1-bf16/     the same weights rounded to bf16 (config dtype bfloat16).
  t5-v1_1-sharded/  the same f32 model in >= 3 shards + model.safetensors.index.json.
  t5-relu/          original T5 (ReLU FFN: wi/wo instead of wi_0/wi_1/wo).
  umt5/             UMT5EncoderModel: a relative_attention_bias in *every* layer.
  t5-full/          T5ForConditionalGeneration (1 decoder layer) saved whole, plus an
                    untied lm_head.weight added the way real T5 v1.1 checkpoints have
                    it (transformers 5 always ties and would not write it): decoder.*
                    and lm_head.* must be ignored by an encoder importer.
  clip/             CLIPTextModel, quick_gelu, saved by transformers 5 *without* the
                    legacy "text_model." key prefix.
  clip-proj/        CLIPTextModelWithProjection, exact (erf) gelu, projection 36 -> 28;
                    its keys *do* carry "text_model." (+ text_projection.weight).
  bert/             BertModel with pooler (WordPiece vocab.txt, lower-cased).
  pixart-pipeline/  diffusers layout: model_index.json, text_encoder/ (= t5-v1_1),
                    tokenizer/ (T5 SentencePiece).  Other components are listed in
                    model_index.json but their folders are absent.
  sd3-pipeline/     diffusers layout: text_encoder/ + tokenizer/ (= clip-proj, BPE) and
                    text_encoder_3/ + tokenizer_3/ (= t5-v1_1, SentencePiece);
                    text_encoder_2/tokenizer_2 are [null, null].

Each model folder 1-9 also holds reference.safetensors (f32 / i64), computed by
loading the folder back with from_pretrained(dtype=float32, eager attention):
  input_ids [3, 23] i64, attention_mask [3, 23] i64 -- ragged rows of length
      5, 23, 1 (T5 family: random ids, last one </s>) or 5, 23, 2 (CLIP: BOS ... EOS,
      BERT: [CLS] ... [SEP]), right-padded with the tokenizer's pad id;
  last_hidden_state [3, 23, d]  (padded query rows included: they follow HF's
      semantics of attending to the valid keys; compare them or mask them out);
  CLIP: pooler_output [3, d] (hidden state at the first EOS), hidden_states_penultimate
      [3, 23, d] (= hidden_states[-2], before final_layer_norm); clip-proj also
      text_embeds [3, 28]; BERT: pooler_output [3, d];
  single_input_ids [1, L2] / single_last_hidden_state [1, L2, d]: the model's own
      tokenizer on __metadata__["single_prompt"] = "a red cube on a glass table",
      unpadded (plus single_pooler_output / single_text_embeds where they exist).
fixtures/README.md (also written by this script) lists the exact configs,
vocabulary sizes and special-token ids.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tokenizer_corpus as tc  # noqa: E402
from safetensors_writer import write_safetensors  # noqa: E402

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

import transformers  # noqa: E402
from safetensors import safe_open  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import (  # noqa: E402
    BertConfig,
    BertModel,
    BertTokenizer,
    CLIPTextConfig,
    CLIPTextModel,
    CLIPTextModelWithProjection,
    CLIPTokenizer,
    T5Config,
    T5EncoderModel,
    T5ForConditionalGeneration,
    T5Tokenizer,
    UMT5Config,
    UMT5EncoderModel,
)

try:
    transformers.utils.logging.disable_progress_bar()
except AttributeError:  # pragma: no cover
    pass

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SINGLE_PROMPT = "a red cube on a glass table"
SPM_VOCAB = 277
CLIP_MERGES = 300  # -> 512 byte tokens + 300 merges + 2 specials = 814
BERT_VOCAB = 397
REF_LENGTHS_T5 = (5, 23, 1)
REF_LENGTHS_BOS = (5, 23, 2)
MODEL_FOLDERS = ["t5-v1_1", "t5-v1_1-bf16", "t5-v1_1-sharded", "t5-relu", "umt5", "t5-full",
                 "clip", "clip-proj", "bert"]
PIPELINE_FOLDERS = ["pixart-pipeline", "sd3-pipeline"]
# Heading of the README section about sd3-full/ and flux-full/ (scripts/make_pipeline_fixtures.py).
PIPELINE_SECTION = "## Full pipelines (scripts/make_pipeline_fixtures.py)"
T5_TOKENIZER_FILES = ["spiece.model", "tokenizer.json", "tokenizer_config.json"]
CLIP_TOKENIZER_FILES = ["vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json"]
BERT_TOKENIZER_FILES = ["vocab.txt", "tokenizer.json", "tokenizer_config.json"]


# ---------------------------------------------------------------------------
# configs
# ---------------------------------------------------------------------------

def t5_common(vocab_size: int) -> dict:
    return dict(vocab_size=vocab_size, layer_norm_epsilon=1e-6, dropout_rate=0.0, pad_token_id=0,
                eos_token_id=1, decoder_start_token_id=0, tie_word_embeddings=False)


def configs(spm_vocab: int, clip_vocab: int, clip_bos: int, clip_eos: int, bert_vocab: int) -> dict:
    return {
        "t5-v1_1": T5Config(feed_forward_proj="gated-gelu", d_model=48, num_heads=3, d_kv=20, d_ff=72,
                            num_layers=3, relative_attention_num_buckets=8,
                            relative_attention_max_distance=16, **t5_common(spm_vocab)),
        "t5-relu": T5Config(feed_forward_proj="relu", d_model=40, num_heads=5, d_kv=12, d_ff=56,
                            num_layers=2, relative_attention_num_buckets=8,
                            relative_attention_max_distance=12, **t5_common(spm_vocab)),
        "umt5": UMT5Config(feed_forward_proj="gated-gelu", d_model=36, num_heads=3, d_kv=16, d_ff=52,
                           num_layers=3, relative_attention_num_buckets=8,
                           relative_attention_max_distance=16, **t5_common(spm_vocab)),
        "t5-full": T5Config(feed_forward_proj="gated-gelu", d_model=32, num_heads=2, d_kv=16, d_ff=48,
                            num_layers=2, num_decoder_layers=1, relative_attention_num_buckets=8,
                            relative_attention_max_distance=16, **t5_common(spm_vocab)),
        "clip": CLIPTextConfig(vocab_size=clip_vocab, hidden_size=40, intermediate_size=68,
                               num_hidden_layers=3, num_attention_heads=5, max_position_embeddings=77,
                               hidden_act="quick_gelu", layer_norm_eps=1e-5, attention_dropout=0.0,
                               bos_token_id=clip_bos, eos_token_id=clip_eos, pad_token_id=clip_eos),
        "clip-proj": CLIPTextConfig(vocab_size=clip_vocab, hidden_size=36, intermediate_size=60,
                                    num_hidden_layers=2, num_attention_heads=3, max_position_embeddings=77,
                                    projection_dim=28, hidden_act="gelu", layer_norm_eps=1e-5,
                                    attention_dropout=0.0, bos_token_id=clip_bos, eos_token_id=clip_eos,
                                    pad_token_id=clip_eos),
        "bert": BertConfig(vocab_size=bert_vocab, hidden_size=36, num_attention_heads=3, num_hidden_layers=2,
                           intermediate_size=50, max_position_embeddings=64, type_vocab_size=2,
                           hidden_act="gelu", layer_norm_eps=1e-12, pad_token_id=0),
    }


SEEDS = {"t5-v1_1": 1101, "t5-relu": 1201, "umt5": 1301, "t5-full": 1401, "clip": 2101,
         "clip-proj": 2201, "bert": 3101}


# ---------------------------------------------------------------------------
# weights
# ---------------------------------------------------------------------------

EMBEDDING_SUFFIXES = ("shared.weight", "embed_tokens.weight", "token_embedding.weight",
                      "position_embedding.weight", "word_embeddings.weight", "position_embeddings.weight",
                      "token_type_embeddings.weight", "relative_attention_bias.weight")


@torch.no_grad()
def randomize_(model: torch.nn.Module, seed: int, t5_d_kv: int | None = None) -> None:
    """Overwrite every parameter with seeded values (see module docstring)."""
    g = torch.Generator().manual_seed(seed)
    for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
        if p.dim() == 1:
            if name.endswith("bias"):
                v = torch.randn(p.shape, generator=g) * 0.2
            else:  # LayerNorm / T5 RMSNorm gain
                v = torch.rand(p.shape, generator=g) + 0.5
        elif name.endswith(EMBEDDING_SUFFIXES):
            v = torch.randn(p.shape, generator=g)
        else:  # nn.Linear weight [out, in]
            v = torch.randn(p.shape, generator=g) / p.shape[1] ** 0.5
            if t5_d_kv is not None and name.endswith("SelfAttention.q.weight"):
                v = v / t5_d_kv ** 0.5
        p.copy_(v.to(p.dtype))


def build_model(cls, config, seed: int, t5_d_kv: int | None = None):
    torch.manual_seed(seed)
    model = cls(config)
    randomize_(model, seed, t5_d_kv)
    return model.eval()


# ---------------------------------------------------------------------------
# tokenizers
# ---------------------------------------------------------------------------

def make_t5_tokenizer(prompts: list[str], work: str) -> dict:
    folder = os.path.join(work, "t5-tokenizer")
    os.makedirs(folder)
    spm_path = tc.train_sentencepiece(prompts, SPM_VOCAB, os.path.join(folder, "spiece.model"))
    model = tc.read_spm_model(spm_path)
    tok = T5Tokenizer(vocab=[(p, s) for p, s, _ in model["pieces"]],
                      _spm_precompiled_charsmap=model["normalizer"]["precompiled_charsmap"],
                      extra_ids=0, model_max_length=512)
    tok.save_pretrained(folder)
    tok = T5Tokenizer.from_pretrained(folder)
    # Cross-check against the reference SentencePiece implementation.
    import sentencepiece

    sp = sentencepiece.SentencePieceProcessor(model_file=spm_path)
    probes = prompts + [SINGLE_PROMPT, "ＡＢＣ ｒｅｄ　cube ﬁne x² café (e\u0301) ½", "  two   spaces\tand tab "]
    for text in probes:
        want = sp.encode(text) + [1]
        got = tok(text).input_ids
        if got != want:
            raise SystemExit(f"T5 tokenizer mismatch on {text!r}: {got} vs {want}")
    assert len(tok) == SPM_VOCAB == sp.get_piece_size()
    assert (tok.pad_token_id, tok.eos_token_id, tok.unk_token_id) == (0, 1, 2)
    return {"folder": folder, "tok": tok, "vocab_size": len(tok), "files": T5_TOKENIZER_FILES,
            "normalizer": model["normalizer"]["name"],
            "charsmap_bytes": len(model["normalizer"]["precompiled_charsmap"])}


def make_clip_tokenizer(prompts: list[str], work: str) -> dict:
    folder = os.path.join(work, "clip-tokenizer")
    os.makedirs(folder)
    vocab, merges = tc.train_clip_bpe(prompts, CLIP_MERGES)
    tc.write_clip_files(vocab, merges, folder)
    # Build from the files themselves (tokenizers' BPE reads vocab.json / merges.txt by path).
    tok = CLIPTokenizer(vocab=os.path.join(folder, "vocab.json"), merges=os.path.join(folder, "merges.txt"),
                        model_max_length=77)
    tok.save_pretrained(folder)
    tok = CLIPTokenizer.from_pretrained(folder)
    for text in prompts + [SINGLE_PROMPT, "A  RED\tCube!! 123 ünïcode's"]:
        want = tc.clip_bpe_encode(text, vocab, merges)
        got = tok(text).input_ids
        if got != want:
            raise SystemExit(f"CLIP tokenizer mismatch on {text!r}: {got} vs {want}")
    decoded = tok.decode(tok("a red cube").input_ids, skip_special_tokens=True)
    if decoded != "a red cube":
        raise SystemExit(f"CLIP tokenizer does not round-trip: {decoded!r}")
    bos, eos = vocab["<|startoftext|>"], vocab["<|endoftext|>"]
    assert (tok.bos_token_id, tok.eos_token_id, tok.pad_token_id) == (bos, eos, eos)
    assert len(tok) == len(vocab)
    return {"folder": folder, "tok": tok, "vocab_size": len(vocab), "bos": bos, "eos": eos,
            "merges": len(merges), "files": CLIP_TOKENIZER_FILES}


def make_bert_tokenizer(prompts: list[str], work: str) -> dict:
    folder = os.path.join(work, "bert-tokenizer")
    os.makedirs(folder)
    words = tc.build_wordpiece_vocab(prompts, BERT_VOCAB)
    with open(os.path.join(folder, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("".join(w + "\n" for w in words))
    tok = BertTokenizer(vocab={w: i for i, w in enumerate(words)}, do_lower_case=True, model_max_length=64)
    tok.save_pretrained(folder)
    tok = BertTokenizer.from_pretrained(folder)
    ids = tok(SINGLE_PROMPT).input_ids
    if ids[0] != 2 or ids[-1] != 3 or tok.decode(ids, skip_special_tokens=True) != SINGLE_PROMPT:
        raise SystemExit(f"BERT tokenizer does not round-trip: {ids}")
    assert [tok.pad_token_id, tok.unk_token_id, tok.cls_token_id, tok.sep_token_id, tok.mask_token_id] == [0, 1, 2, 3, 4]
    assert len(tok) == BERT_VOCAB
    return {"folder": folder, "tok": tok, "vocab_size": len(words), "files": BERT_TOKENIZER_FILES}


def copy_tokenizer(info: dict, dest: str) -> None:
    os.makedirs(dest, exist_ok=True)
    for name in info["files"]:
        shutil.copyfile(os.path.join(info["folder"], name), os.path.join(dest, name))


# ---------------------------------------------------------------------------
# reference outputs
# ---------------------------------------------------------------------------

def ragged_batch(seed: int, lengths, vocab_lo: int, vocab_hi: int, pad: int, first: int | None, last: int):
    g = torch.Generator().manual_seed(seed)
    L = max(lengths)
    ids = torch.full((len(lengths), L), pad, dtype=torch.int64)
    mask = torch.zeros((len(lengths), L), dtype=torch.int64)
    for row, n in enumerate(lengths):
        seq = torch.randint(vocab_lo, vocab_hi, (n,), generator=g)
        if first is not None:
            seq[0] = first
        seq[-1] = last
        ids[row, :n] = seq
        mask[row, :n] = 1
    return ids, mask


def f32(t: torch.Tensor) -> torch.Tensor:
    return t.detach().to(torch.float32).contiguous()


@torch.no_grad()
def reference(kind: str, cls, folder: str, ids, mask, single_ids) -> dict:
    model = cls.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager").eval()
    for p in model.parameters():
        assert p.dtype == torch.float32
    out = {"input_ids": ids, "attention_mask": mask, "single_input_ids": single_ids}
    ones = torch.ones_like(single_ids)
    if kind == "t5":
        enc = model.get_encoder() if isinstance(model, T5ForConditionalGeneration) else model
        out["last_hidden_state"] = f32(enc(input_ids=ids, attention_mask=mask).last_hidden_state)
        out["single_last_hidden_state"] = f32(enc(input_ids=single_ids, attention_mask=ones).last_hidden_state)
    elif kind in ("clip", "clip-proj"):
        text_model = model.text_model if kind == "clip-proj" else model
        for prefix, x, m in (("", ids, mask), ("single_", single_ids, ones)):
            r = text_model(input_ids=x, attention_mask=m, output_hidden_states=True)
            n_layers = model.config.num_hidden_layers
            assert len(r.hidden_states) == n_layers + 1
            torch.testing.assert_close(text_model.final_layer_norm(r.hidden_states[-1]), r.last_hidden_state)
            out[prefix + "last_hidden_state"] = f32(r.last_hidden_state)
            out[prefix + "pooler_output"] = f32(r.pooler_output)
            if prefix == "":
                out["hidden_states_penultimate"] = f32(r.hidden_states[-2])
            if kind == "clip-proj":
                full = model(input_ids=x, attention_mask=m)
                torch.testing.assert_close(full.last_hidden_state, r.last_hidden_state)
                torch.testing.assert_close(full.text_embeds, model.text_projection(r.pooler_output))
                out[prefix + "text_embeds"] = f32(full.text_embeds)
        # pooling must pick the first EOS: check against an explicit gather
        eos_pos = (ids == model.config.eos_token_id).int().argmax(-1)
        assert torch.equal(eos_pos, mask.sum(-1) - 1)
    elif kind == "bert":
        for prefix, x, m in (("", ids, mask), ("single_", single_ids, ones)):
            r = model(input_ids=x, attention_mask=m, token_type_ids=torch.zeros_like(x))
            out[prefix + "last_hidden_state"] = f32(r.last_hidden_state)
            out[prefix + "pooler_output"] = f32(r.pooler_output)
    else:
        raise ValueError(kind)
    for k, v in out.items():
        assert torch.isfinite(v.float()).all(), k
    return out


def write_reference(folder: str, tensors: dict, meta: dict) -> None:
    write_safetensors(os.path.join(folder, "reference.safetensors"), tensors, meta)


# ---------------------------------------------------------------------------
# README
# ---------------------------------------------------------------------------

def folder_listing(root: str, name: str) -> list[str]:
    rows = []
    base = os.path.join(root, name)
    for dirpath, _, files in sorted(os.walk(base)):
        for f in sorted(files):
            p = os.path.join(dirpath, f)
            rows.append(f"{os.path.relpath(p, base)} ({os.path.getsize(p):,} B)")
    return rows


def tensor_names(path: str) -> list[str]:
    with safe_open(path, "pt") as f:
        return sorted(f.keys())


def spm_version() -> str:
    import subprocess

    spm = shutil.which("spm_train")
    if spm is None:
        return "Python sentencepiece trainer"
    proc = subprocess.run([spm, "--version"], capture_output=True, text=True)
    return (proc.stdout or proc.stderr).strip().replace("sentencepiece", "spm_train") or "spm_train"


def write_readme(root: str, summary: dict) -> None:
    t5, clip, bert = summary["t5_tok"], summary["clip_tok"], summary["bert_tok"]
    lines = [
        "# Test fixtures",
        "",
        "Generated by `python3 scripts/make_fixtures.py` -- do not edit by hand; rerunning the script",
        "reproduces every file byte for byte (transformers %s, torch %s, %s)." % (
            transformers.__version__, torch.__version__.split("+")[0], spm_version()),
        "All weights are seeded random numbers (except `t5-trained/` and `t5-deep/`, see below): the models compute",
        "nothing meaningful, they only pin down *shapes, key names, file layouts and numerics* for the",
        "importer and interpreter tests.",
        "",
        "## Why the shapes are odd",
        "",
        "- attention inner width (heads x d_kv) differs from the hidden width: t5-v1_1 3x20=60 vs 48,",
        "  t5-relu 5x12=60 vs 40, umt5 3x16=48 vs 36, t5-full 2x16=32 = 32 (the one 'normal' case);",
        "- head counts 2, 3 and 5; FFN widths that are not 4 x hidden (72, 56, 52, 48, 68, 60, 50);",
        f"- vocabularies of {t5['vocab_size']}, {clip['vocab_size']} and {bert['vocab_size']} rows (not multiples of 8);",
        "- only 8 relative-attention buckets with max_distance 12/16, while the reference batch has a",
        "  23-token row, so the logarithmic far buckets and the clamp to the last bucket are exercised;",
        "- every norm gain is drawn from U(0.5, 1.5) and every bias from N(0, 0.2), so a swapped",
        "  weight/bias, a dropped bias or a LayerNorm-vs-RMSNorm mix-up changes the output; linear weights",
        "  are N(0, 1/fan_in) (T5 q additionally / sqrt(d_kv)), embeddings and relative biases N(0, 1).",
        "",
        "## Fixtures",
        "",
        "| folder | class | notes |",
        "| --- | --- | --- |",
        "| `t5-v1_1/` | T5EncoderModel | T5 v1.1: gated-gelu FFN (`wi_0`, `wi_1`, `wo`), gelu_new (tanh) activation, f32 |",
        "| `t5-v1_1-bf16/` | T5EncoderModel | the same weights rounded to bf16 (`dtype: bfloat16` in config.json) |",
        "| `t5-v1_1-sharded/` | T5EncoderModel | the same f32 weights in %d shards + `model.safetensors.index.json` |"
        % summary["num_shards"],
        "| `t5-relu/` | T5EncoderModel | original T5: ReLU FFN (`wi`, `wo`) |",
        "| `umt5/` | UMT5EncoderModel | every layer has its own `relative_attention_bias` |",
        "| `t5-full/` | T5ForConditionalGeneration | encoder + 1 decoder layer + untied `lm_head.weight`: decoder.*/lm_head.* must be ignored |",
        "| `clip/` | CLIPTextModel | quick_gelu, causal mask; keys *without* the `text_model.` prefix (transformers 5 layout) |",
        "| `clip-proj/` | CLIPTextModelWithProjection | exact (erf) gelu, `text_projection` 36 -> 28; keys *with* `text_model.` prefix |",
        "| `bert/` | BertModel | post-LN encoder + tanh pooler, WordPiece |",
        "| `pixart-pipeline/` | diffusers folder | `model_index.json`, `text_encoder/` (= t5-v1_1), `tokenizer/` (T5) |",
        "| `sd3-pipeline/` | diffusers folder | `text_encoder/`+`tokenizer/` (= clip-proj, BPE), `text_encoder_3/`+`tokenizer_3/` (= t5-v1_1) |",
        "| `t5-trained/` | T5EncoderModel | **trained** weights: T5 v1.1, 8 blocks, d_model 128, vocab 1000, distilled from all-MiniLM-L6-v2 (not written by this script) |",
        "| `t5-deep/` | T5EncoderModel | **trained** weights: T5 v1.1, 24 blocks, d_model 128, vocab 2000, distilled from all-MiniLM-L6-v2 on synthetic captions, pooled + per-word objectives (not written by this script) |",
        "",
        "`t5-trained/` is the first fixture whose hidden states mean something, so pruning *decisions*",
        "(which sub-blocks to skip or re-use) can be tested and benchmarked on it. It is written by",
        "`python3 scripts/train_t5_fixture.py` (about 10 minutes on one CPU core; this script leaves the",
        "folder alone), and its own README.md documents the data, the training, the held-out results and",
        "its reference.safetensors (three real prompts, row lengths 20, 136 and 2, instead of random ids).",
        "",
        "`t5-deep/` is the deeper trained witness: 24 blocks (48 sub-blocks, T5-XXL's depth), trained on",
        "20,000 synthetic captions (scripts/caption_corpus.py) that share no 8-word run with any calibration",
        "or held-out prompt, with a per-word distillation objective beside the pooled one so that every",
        "token position carries meaning. It is written by `python3 scripts/train_t5_deep.py` (about 24 minutes on",
        "one CPU core; this script leaves the folder alone); its README.md documents the corpus, the",
        "training, the held-out results and its reference.safetensors (row lengths 20, 157 and 2).",
        "",
        "The pipeline folders list the other components (transformer, vae, scheduler) in",
        "`model_index.json` as a real pipeline does, but those sub-folders are not present;",
        "sd3's `text_encoder_2`/`tokenizer_2` are `[null, null]`.",
        "",
        "The `t5-full` checkpoint is what `save_pretrained` writes plus one tensor: transformers 5",
        "always ties `lm_head` to `shared` and therefore omits it, whereas real T5 v1.1 checkpoints carry an",
        "untied `lm_head.weight`; the script adds a seeded random one (the encoder output does not depend on it).",
        "",
        "## Tokenizers",
        "",
        f"- **T5 SentencePiece** (`spiece.model`, unigram, {t5['vocab_size']} pieces): `<pad>`=0, `</s>`=1, `<unk>`=2,",
        "  no BOS, no sentinel `<extra_id_N>` tokens (`extra_ids=0`, so tokenizer size == model vocab_size).",
        "  Trained with `spm_train` (see `SPM_FLAGS` in scripts/tokenizer_corpus.py). Its normalizer is a",
        f"  compiled NFKC *subset* (`{t5['normalizer']}`, {t5['charsmap_bytes']} B precompiled_charsmap: full-width",
        "  ASCII, ligatures, super-scripts, fractions, NBSP and other spaces, tab, composing accents) instead",
        "  of the 240 KB nmt_nfkc table, to keep the folders small. The encoder appends `</s>`.",
        f"- **CLIP BPE** (`vocab.json` + `merges.txt`, OpenAI CLIP layout): ids 0-255 the byte-to-unicode",
        f"  characters, 256-511 the same with `</w>`, 512-{511 + clip['merges']} one per merge ({clip['merges']} merges, trained",
        f"  by scripts/tokenizer_corpus.py), `<|startoftext|>`={clip['bos']}, `<|endoftext|>`={clip['eos']};",
        f"  pad = unk = `<|endoftext|>` ({clip['eos']}). vocab size {clip['vocab_size']}, `model_max_length` 77.",
        f"- **BERT WordPiece** (`vocab.txt`, {bert['vocab_size']} entries, lower-cased): `[PAD]`=0, `[UNK]`=1,",
        "  `[CLS]`=2, `[SEP]`=3, `[MASK]`=4, then characters, `##` characters, frequent `##` suffixes and words.",
        "",
        "transformers %s writes `tokenizer.json` + `tokenizer_config.json` only (no `special_tokens_map.json`," % transformers.__version__,
        "and not the vocabulary files); the script copies `spiece.model` / `vocab.json` + `merges.txt` /",
        "`vocab.txt` next to them.",
        "",
        "## reference.safetensors",
        "",
        "For every model folder except the pipelines. Computed by loading the folder back with",
        "`from_pretrained(folder, dtype=float32, attn_implementation=\"eager\")` in eval mode (the bf16",
        "fixture therefore runs its bf16-rounded weights in f32). Tensors (f32 unless noted):",
        "",
        "- `input_ids` [3, 23] i64, `attention_mask` [3, 23] i64: ragged rows of length 5, 23, 1 (T5 family:",
        "  random ids ending in `</s>`) or 5, 23, 2 (CLIP: `<|startoftext|>` ... `<|endoftext|>`; BERT:",
        "  `[CLS]` ... `[SEP]`), right-padded with the pad id (T5 0, CLIP `<|endoftext|>`, BERT 0);",
        "- `last_hidden_state` [3, 23, d]. Padded *query* rows are included and follow HF semantics",
        "  (they attend to the valid keys); tests may compare only rows where `attention_mask` is 1;",
        "- CLIP / clip-proj: `pooler_output` [3, d] (state at the first `<|endoftext|>`),",
        "  `hidden_states_penultimate` [3, 23, d] (`hidden_states[-2]`, before `final_layer_norm`);",
        "  clip-proj: `text_embeds` [3, 28]; BERT: `pooler_output` [3, d] (token_type_ids all 0);",
        "- `single_input_ids` [1, L] i64 + `single_last_hidden_state` [1, L, d] (+ `single_pooler_output`,",
        "  `single_text_embeds`): the fixture's own tokenizer on `__metadata__[\"single_prompt\"]`",
        f"  = \"{SINGLE_PROMPT}\", unpadded.",
        "",
        "## Exact configs",
        "",
    ]
    for name in MODEL_FOLDERS:
        with open(os.path.join(root, name, "config.json"), encoding="utf-8") as f:
            cfg = json.load(f)
        cfg.pop("transformers_version", None)
        lines += [f"### `{name}/`", "", "```json", json.dumps(cfg, sort_keys=True), "```", ""]
        if name == "t5-v1_1-sharded":
            lines += ["Tensor files: " + ", ".join(f"`{s}`" for s in summary["shards"]), ""]
        else:
            names = tensor_names(os.path.join(root, name, "model.safetensors"))
            lines += [f"{len(names)} tensors: " + ", ".join(f"`{n}`" for n in compress_names(names)), ""]
    lines += [
        "## Files",
        "",
    ]
    for name in MODEL_FOLDERS + PIPELINE_FOLDERS:
        lines += [f"- `{name}/`: " + "; ".join(folder_listing(root, name))]
    lines += [
        "",
        "## Attribution",
        "",
        "The tokenizers are trained on prompts from PartiPrompts (google-research/parti,",
        "`PartiPrompts.tsv`), Copyright Google LLC, licensed under the Apache License 2.0; the prompts",
        "themselves are not stored here, only vocabularies derived from them.",
        "",
    ]
    # The section scripts/make_pipeline_fixtures.py documents its folders in is kept as it is.
    path = os.path.join(root, "README.md")
    kept = ""
    if os.path.exists(path):
        old = open(path, encoding="utf-8").read()
        start = old.find(PIPELINE_SECTION)
        kept = old[start:] if start >= 0 else ""
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + kept)


def compress_names(names: list[str]) -> list[str]:
    """Collapse per-layer names: encoder.block.{0..2}.layer.0.SelfAttention.q.weight."""
    import re

    groups: dict[str, list[int]] = {}
    order: list[str] = []
    for n in names:
        m = re.match(r"^(.*?\.(?:block|layers|layer))\.(\d+)\.(.*)$", n)
        key = f"{m.group(1)}.{{i}}.{m.group(3)}" if m else n
        if key not in groups:
            groups[key] = []
            order.append(key)
        if m:
            groups[key].append(int(m.group(2)))
    out = []
    for key in order:
        idx = groups[key]
        if idx:
            rng = "{%d..%d}" % (min(idx), max(idx)) if len(idx) > 1 else str(idx[0])
            out.append(key.replace("{i}", rng))
        else:
            out.append(key)
    return out


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(REPO, "fixtures"), help="output root (default: fixtures/)")
    ap.add_argument("--prompts", default=tc.DEFAULT_PROMPTS, help="calibration prompt file")
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    root = os.path.abspath(args.out)
    os.makedirs(root, exist_ok=True)
    for name in MODEL_FOLDERS + PIPELINE_FOLDERS:
        shutil.rmtree(os.path.join(root, name), ignore_errors=True)

    prompts = tc.read_prompts(args.prompts)
    with tempfile.TemporaryDirectory(prefix="skrrc-fixtures-") as work:
        t5_tok = make_t5_tokenizer(prompts, work)
        clip_tok = make_clip_tokenizer(prompts, work)
        bert_tok = make_bert_tokenizer(prompts, work)
        cfgs = configs(t5_tok["vocab_size"], clip_tok["vocab_size"], clip_tok["bos"], clip_tok["eos"],
                       bert_tok["vocab_size"])
        summary = {"t5_tok": t5_tok, "clip_tok": clip_tok, "bert_tok": bert_tok}

        t5_single = t5_tok["tok"](SINGLE_PROMPT, return_tensors="pt").input_ids
        clip_single = clip_tok["tok"](SINGLE_PROMPT, return_tensors="pt").input_ids
        bert_single = bert_tok["tok"](SINGLE_PROMPT, return_tensors="pt").input_ids
        t5_batch = ragged_batch(7, REF_LENGTHS_T5, 3, t5_tok["vocab_size"], pad=0, first=None, last=1)
        clip_batch = ragged_batch(8, REF_LENGTHS_BOS, 0, clip_tok["bos"], pad=clip_tok["eos"],
                                  first=clip_tok["bos"], last=clip_tok["eos"])
        bert_batch = ragged_batch(9, REF_LENGTHS_BOS, 5, bert_tok["vocab_size"], pad=0, first=2, last=3)

        def save(name, model, tok_info, **save_kw):
            folder = os.path.join(root, name)
            model.save_pretrained(folder, safe_serialization=True, **save_kw)
            copy_tokenizer(tok_info, folder)
            return folder

        def finish(name, cls, kind, batch, single, extra_meta=None):
            folder = os.path.join(root, name)
            tensors = reference(kind, cls, folder, batch[0], batch[1], single)
            meta = {"format": "pt", "fixture": name, "model_class": cls.__name__,
                    "single_prompt": SINGLE_PROMPT, "generator": "scripts/make_fixtures.py"}
            meta.update(extra_meta or {})
            write_reference(folder, tensors, meta)

        # 1-3: T5 v1.1 encoder, f32 / bf16 / sharded
        t5 = build_model(T5EncoderModel, cfgs["t5-v1_1"], SEEDS["t5-v1_1"], t5_d_kv=20)
        save("t5-v1_1", t5, t5_tok)
        finish("t5-v1_1", T5EncoderModel, "t5", t5_batch, t5_single)
        save("t5-v1_1-sharded", t5, t5_tok, max_shard_size="100KB")
        finish("t5-v1_1-sharded", T5EncoderModel, "t5", t5_batch, t5_single)
        shard_dir = os.path.join(root, "t5-v1_1-sharded")
        summary["shards"] = sorted(f for f in os.listdir(shard_dir) if f.startswith("model"))
        summary["num_shards"] = sum(1 for f in summary["shards"] if f.endswith(".safetensors"))
        assert summary["num_shards"] >= 3, summary["shards"]
        t5_bf16 = build_model(T5EncoderModel, cfgs["t5-v1_1"], SEEDS["t5-v1_1"], t5_d_kv=20).to(torch.bfloat16)
        save("t5-v1_1-bf16", t5_bf16, t5_tok)
        finish("t5-v1_1-bf16", T5EncoderModel, "t5", t5_batch, t5_single,
               {"weights": "bf16 checkpoint upcast to f32"})

        # 4-6: original T5, UMT5, full encoder-decoder T5
        save("t5-relu", build_model(T5EncoderModel, cfgs["t5-relu"], SEEDS["t5-relu"], t5_d_kv=12),
             t5_tok)
        finish("t5-relu", T5EncoderModel, "t5", t5_batch, t5_single)
        save("umt5", build_model(UMT5EncoderModel, cfgs["umt5"], SEEDS["umt5"], t5_d_kv=16),
             t5_tok)
        finish("umt5", UMT5EncoderModel, "t5", t5_batch, t5_single)
        full = build_model(T5ForConditionalGeneration, cfgs["t5-full"], SEEDS["t5-full"], t5_d_kv=16)
        folder = save("t5-full", full, t5_tok)
        add_untied_lm_head(os.path.join(folder, "model.safetensors"), SEEDS["t5-full"] + 1)
        finish("t5-full", T5ForConditionalGeneration, "t5", t5_batch, t5_single)

        # 7-9: CLIP, CLIP with projection, BERT
        save("clip", build_model(CLIPTextModel, cfgs["clip"], SEEDS["clip"]), clip_tok)
        finish("clip", CLIPTextModel, "clip", clip_batch, clip_single)
        save("clip-proj", build_model(CLIPTextModelWithProjection, cfgs["clip-proj"], SEEDS["clip-proj"]),
             clip_tok)
        finish("clip-proj", CLIPTextModelWithProjection, "clip-proj", clip_batch, clip_single)
        save("bert", build_model(BertModel, cfgs["bert"], SEEDS["bert"]), bert_tok)
        finish("bert", BertModel, "bert", bert_batch, bert_single)

        # 10-11: diffusers pipeline folders
        make_pipelines(root, t5_tok, clip_tok)
        write_readme(root, summary)
    sanity_checks(root)
    for dirpath, _, files in os.walk(root):
        for f in files:
            os.chmod(os.path.join(dirpath, f), 0o644)  # save_pretrained leaves 0600 on weights

    total = 0
    for name in MODEL_FOLDERS + PIPELINE_FOLDERS:
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(os.path.join(root, name)) for f in fs)
        total += size
        print(f"{name:18s} {size / 1024:8.1f} KiB")
        assert size < 1_000_000, f"{name} is too large"
    print(f"{'total':18s} {total / 1024:8.1f} KiB -> {root}")


def sanity_checks(root: str) -> None:
    """Cross-fixture invariants (cheap; fail loudly rather than commit a bad fixture)."""
    from safetensors.torch import load_file

    ref = {n: load_file(os.path.join(root, n, "reference.safetensors")) for n in MODEL_FOLDERS}
    base, sharded, bf16 = ref["t5-v1_1"], ref["t5-v1_1-sharded"], ref["t5-v1_1-bf16"]
    for k in base:  # same weights, same inputs -> bit-identical outputs
        assert torch.equal(base[k], sharded[k]), k
    diff = (base["last_hidden_state"] - bf16["last_hidden_state"]).abs().max().item()
    assert 0 < diff < 0.2, f"bf16 reference differs by {diff}"
    w32 = load_file(os.path.join(root, "t5-v1_1", "model.safetensors"))
    w16 = load_file(os.path.join(root, "t5-v1_1-bf16", "model.safetensors"))
    assert w32.keys() == w16.keys()
    for k in w32:
        assert w16[k].dtype == torch.bfloat16 and torch.equal(w32[k].to(torch.bfloat16), w16[k]), k
    for n in MODEL_FOLDERS:  # pads are masked, real tokens are not
        ids, mask = ref[n]["input_ids"], ref[n]["attention_mask"]
        assert mask.sum(-1).tolist() in ([5, 23, 1], [5, 23, 2]), n
        assert ref[n]["single_input_ids"].shape[0] == 1 and ids.dtype == torch.int64


def add_untied_lm_head(path: str, seed: int) -> None:
    """Append a separate lm_head.weight like real (untied) T5 v1.1 checkpoints have."""
    from safetensors.torch import load_file

    tensors = load_file(path)
    with safe_open(path, "pt") as f:
        meta = f.metadata()
    if "lm_head.weight" in tensors:
        return
    shared = tensors["shared.weight"]
    g = torch.Generator().manual_seed(seed)
    tensors["lm_head.weight"] = (torch.randn(shared.shape, generator=g) / shared.shape[1] ** 0.5).to(shared.dtype)
    save_file(tensors, path, metadata=meta)


def make_pipelines(root: str, t5_tok: dict, clip_tok: dict) -> None:
    def copy_encoder(src: str, dest: str) -> None:
        os.makedirs(dest)
        for f in ("config.json", "model.safetensors"):
            shutil.copyfile(os.path.join(root, src, f), os.path.join(dest, f))

    def write_index(folder: str, index: dict) -> None:
        with open(os.path.join(folder, "model_index.json"), "w", encoding="utf-8") as f:
            f.write(json.dumps(index, indent=2) + "\n")

    pixart = os.path.join(root, "pixart-pipeline")
    os.makedirs(pixart)
    write_index(pixart, {
        "_class_name": "PixArtSigmaPipeline",
        "_diffusers_version": "0.30.0",
        "scheduler": ["diffusers", "DPMSolverMultistepScheduler"],
        "text_encoder": ["transformers", "T5EncoderModel"],
        "tokenizer": ["transformers", "T5Tokenizer"],
        "transformer": ["diffusers", "PixArtTransformer2DModel"],
        "vae": ["diffusers", "AutoencoderKL"],
    })
    copy_encoder("t5-v1_1", os.path.join(pixart, "text_encoder"))
    copy_tokenizer(t5_tok, os.path.join(pixart, "tokenizer"))

    sd3 = os.path.join(root, "sd3-pipeline")
    os.makedirs(sd3)
    write_index(sd3, {
        "_class_name": "StableDiffusion3Pipeline",
        "_diffusers_version": "0.30.0",
        "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"],
        "text_encoder": ["transformers", "CLIPTextModelWithProjection"],
        "text_encoder_2": [None, None],
        "text_encoder_3": ["transformers", "T5EncoderModel"],
        "tokenizer": ["transformers", "CLIPTokenizer"],
        "tokenizer_2": [None, None],
        "tokenizer_3": ["transformers", "T5TokenizerFast"],
        "transformer": ["diffusers", "SD3Transformer2DModel"],
        "vae": ["diffusers", "AutoencoderKL"],
    })
    copy_encoder("clip-proj", os.path.join(sd3, "text_encoder"))
    copy_tokenizer(clip_tok, os.path.join(sd3, "tokenizer"))
    copy_encoder("t5-v1_1", os.path.join(sd3, "text_encoder_3"))
    copy_tokenizer(t5_tok, os.path.join(sd3, "tokenizer_3"))


if __name__ == "__main__":
    main()
