#!/usr/bin/env python3
"""Write a T5-v1.1-shaped T5EncoderModel checkpoint (bf16, XXL: ~9.5 GB in 5 shards) with numpy only.

    python3 bench/make_large_checkpoint.py bench/out/t5-xxl                # seeded random weights (default)
    python3 bench/make_large_checkpoint.py bench/out/t5-large --size large # 24-layer T5-v1.1-large shape
    python3 bench/make_large_checkpoint.py bench/out/t5-xxl --seed 3       # other values, same shapes
    python3 bench/make_large_checkpoint.py bench/out/t5-xxl --zeros        # all-zero weights (sparse, instant)
    python3 bench/make_large_checkpoint.py DIR --num-layers 2              # smaller, same layout
    python3 bench/make_large_checkpoint.py DIR --tokenizer fixtures/t5-trained  # with a tokenizer, for prompts

The folder gets what transformers' save_pretrained writes for google/t5-v1_1-xxl's encoder
(T5EncoderModel): config.json, model-0000K-of-0000N.safetensors and
model.safetensors.index.json, with the same tensor names and shapes (XXL; --size large has
d_model 1024, d_ff 2816, 16 heads):

    shared.weight                                           [32128, 4096]
    encoder.block.{0..23}.layer.0.SelfAttention.{q,k,v,o}.weight   [4096, 4096]
    encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight   [32, 64]
    encoder.block.{i}.layer.0.layer_norm.weight             [4096]
    encoder.block.{i}.layer.1.DenseReluDense.wi_0/wi_1.weight  [10240, 4096]
    encoder.block.{i}.layer.1.DenseReluDense.wo.weight      [4096, 10240]
    encoder.block.{i}.layer.1.layer_norm.weight             [4096]
    encoder.final_layer_norm.weight                         [4096]

Values (default, --random): normal, from numpy's PCG64 seeded by (--seed, tensor name), so a
tensor's values depend on neither the shard layout nor the chunk size; scaled as transformers
initialises T5 so hidden states stay finite and O(1..10) through all layers: linear weights std
1/sqrt(fan_in) (the input width), the query 1/sqrt(d_model * d_kv) (T5 does not scale its
attention scores, the query does), embeddings std 1; and, unlike the init, norm gains
1 + 0.1 * N(0, 1) and the relative-position table std 1, as trained ones are. Rounded to bf16 (nearest, ties to even) and written in chunks of 16 M values
(~100 MB of RAM whatever the model). Random weights make every sub-block matter differently,
so a search over them is not degenerate (with zeros every discrepancy is 0).
--zeros leaves the data region to file.truncate() (all-zero bf16, sparse: no disk until read);
--pattern repeats a small finite bf16 sequence (the earlier non-zero fill).
--tokenizer DIR copies DIR's tokenizer files (spiece.model, tokenizer.json,
tokenizer_config.json) so prompts (and a search's calibration prompts) can be encoded; any T5
tokenizer whose ids fit the 32128-entry vocabulary works (fixtures/t5-trained has 1000).
Shards are packed greedily in module order up to --max-shard-size bytes (default 2e9, i.e.
transformers' "2GB"), which gives 5 shards for the full XXL model; inside a shard tensors are
sorted by name, as the safetensors library does for same-dtype tensors.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import sys
import zlib

CHUNK = 64 << 20
RANDOM_CHUNK = 16 << 20  # values generated at a time in --random mode

XXL = dict(d_model=4096, d_kv=64, num_heads=64, d_ff=10240, num_layers=24, vocab_size=32128,
           relative_attention_num_buckets=32, relative_attention_max_distance=128)
LARGE = dict(XXL, d_model=1024, num_heads=16, d_ff=2816)
SIZES = {"xxl": XXL, "large": LARGE}


def tensor_list(cfg: dict) -> list[tuple[str, list[int]]]:
    d, inner, ff = cfg["d_model"], cfg["num_heads"] * cfg["d_kv"], cfg["d_ff"]
    out = [("shared.weight", [cfg["vocab_size"], d])]
    for i in range(cfg["num_layers"]):
        p = f"encoder.block.{i}.layer"
        out += [(f"{p}.0.SelfAttention.q.weight", [inner, d]),
                (f"{p}.0.SelfAttention.k.weight", [inner, d]),
                (f"{p}.0.SelfAttention.v.weight", [inner, d]),
                (f"{p}.0.SelfAttention.o.weight", [d, inner])]
        if i == 0:
            out.append((f"{p}.0.SelfAttention.relative_attention_bias.weight",
                        [cfg["relative_attention_num_buckets"], cfg["num_heads"]]))
        out += [(f"{p}.0.layer_norm.weight", [d]),
                (f"{p}.1.DenseReluDense.wi_0.weight", [ff, d]),
                (f"{p}.1.DenseReluDense.wi_1.weight", [ff, d]),
                (f"{p}.1.DenseReluDense.wo.weight", [d, ff]),
                (f"{p}.1.layer_norm.weight", [d])]
    out.append(("encoder.final_layer_norm.weight", [d]))
    return out


def nbytes(shape: list[int]) -> int:
    n = 2  # bf16
    for s in shape:
        n *= s
    return n


def pack_shards(tensors, max_shard_size: int) -> list[list[tuple[str, list[int]]]]:
    shards, cur, size = [], [], 0
    for name, shape in tensors:
        b = nbytes(shape)
        if cur and size + b > max_shard_size:
            shards.append(cur)
            cur, size = [], 0
        cur.append((name, shape))
        size += b
    if cur:
        shards.append(cur)
    return shards


def bf16_pattern_chunk() -> bytes:
    """64 MiB of a repeating 251-value bf16 sequence in [-0.0625, 0.0625] (all finite)."""
    vals = []
    for k in range(251):
        f = ((k * 37) % 251 - 125) / 2000.0
        vals.append(struct.unpack("<I", struct.pack("<f", f))[0] >> 16)
    period = struct.pack(f"<{len(vals)}H", *vals)
    reps = CHUNK // len(period) + 1
    return (period * reps)[:CHUNK]


def scale(name: str, shape: list[int], cfg: dict) -> tuple[float, float]:
    """(mean, std) of a tensor's values in --random mode: transformers' T5 initialisation
    (T5PreTrainedModel._init_weights), except for norm gains and the position table."""
    if name.endswith("layer_norm.weight"):
        return 1.0, 0.1  # trained gains vary around 1; all-ones would make the norms trivial
    if name == "shared.weight" or "relative_attention_bias" in name:
        return 0.0, 1.0  # trained position tables are O(1..10), far from the init's 1/sqrt(d_model)
    if name.endswith("SelfAttention.q.weight"):
        # Scores are not scaled by 1/sqrt(d_kv) in T5; the query carries it, so scores stay O(1).
        return 0.0, (cfg["d_model"] * cfg["d_kv"]) ** -0.5
    return 0.0, shape[1] ** -0.5  # any other linear weight [out, in]: std 1/sqrt(fan_in)


def random_chunks(name: str, shape: list[int], seed: int, cfg: dict):
    """The tensor's values as bf16 bytes, RANDOM_CHUNK values at a time."""
    import numpy as np

    mean, std = scale(name, shape, cfg)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, zlib.crc32(name.encode())])))
    left = nbytes(shape) // 2
    while left > 0:
        n = min(left, RANDOM_CHUNK)
        values = rng.standard_normal(n, dtype=np.float32)
        values *= np.float32(std)
        values += np.float32(mean)
        bits = values.view(np.uint32)
        bits += np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))  # round to nearest even
        yield (bits >> np.uint32(16)).astype("<u2").tobytes()
        left -= n


def write_shard(path: str, entries, fill: str, seed: int, cfg: dict) -> int:
    header: dict = {"__metadata__": {"format": "pt"}}
    offset = 0
    entries = sorted(entries, key=lambda e: e[0])
    for name, shape in entries:
        b = nbytes(shape)
        header[name] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + b]}
        offset += b
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        if fill == "zeros":
            f.truncate(8 + len(raw) + offset)
        elif fill == "pattern":
            pattern = bf16_pattern_chunk()
            left = offset
            while left > 0:
                n = min(left, len(pattern))
                f.write(pattern[:n])  # chunk length is even, so every write stays bf16-aligned
                left -= n
        else:
            for name, shape in entries:
                for chunk in random_chunks(name, shape, seed, cfg):
                    f.write(chunk)
    return offset


def config_json(cfg: dict) -> dict:
    return {
        "architectures": ["T5EncoderModel"],
        "classifier_dropout": 0.0,
        "d_ff": cfg["d_ff"],
        "d_kv": cfg["d_kv"],
        "d_model": cfg["d_model"],
        "decoder_start_token_id": 0,
        "dense_act_fn": "gelu_new",
        "dropout_rate": 0.1,
        "dtype": "bfloat16",
        "eos_token_id": 1,
        "feed_forward_proj": "gated-gelu",
        "initializer_factor": 1.0,
        "is_decoder": False,
        "is_encoder_decoder": False,
        "is_gated_act": True,
        "layer_norm_epsilon": 1e-06,
        "model_type": "t5",
        "num_decoder_layers": cfg["num_layers"],
        "num_heads": cfg["num_heads"],
        "num_layers": cfg["num_layers"],
        "pad_token_id": 0,
        "relative_attention_max_distance": cfg["relative_attention_max_distance"],
        "relative_attention_num_buckets": cfg["relative_attention_num_buckets"],
        "scale_decoder_outputs": False,
        "tie_word_embeddings": True,
        "transformers_version": "5.24.0",
        "use_cache": False,
        "vocab_size": cfg["vocab_size"],
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", help="output folder (created; e.g. bench/out/t5-xxl, which git ignores)")
    fill = ap.add_mutually_exclusive_group()
    fill.add_argument("--random", dest="fill", action="store_const", const="random",
                      help="seeded normal weights scaled like a trained T5 (default)")
    fill.add_argument("--zeros", dest="fill", action="store_const", const="zeros",
                      help="all-zero weights via file.truncate (sparse and instant)")
    fill.add_argument("--pattern", dest="fill", action="store_const", const="pattern",
                      help="fill with a repeated finite bf16 pattern (writes every byte)")
    ap.add_argument("--seed", type=int, default=0, help="seed of --random values (default 0)")
    ap.add_argument("--size", choices=sorted(SIZES), default="xxl", help="model shape (default xxl)")
    ap.add_argument("--num-layers", type=int, default=None, help="layers (default 24)")
    ap.add_argument("--max-shard-size", type=float, default=2e9, help="bytes per shard (default 2e9)")
    ap.add_argument("--tokenizer", metavar="DIR", help="copy this folder's T5 tokenizer files into OUT")
    ap.add_argument("--force", action="store_true", help="overwrite existing model files in OUT")
    ap.set_defaults(fill="random")
    args = ap.parse_args(argv)

    tokenizer_files = []
    if args.tokenizer:
        tokenizer_files = [f for f in ("spiece.model", "tokenizer.json", "tokenizer_config.json")
                           if os.path.exists(os.path.join(args.tokenizer, f))]
        if not tokenizer_files:
            print(f"{args.tokenizer} holds no tokenizer files", file=sys.stderr)
            return 1
    cfg = dict(SIZES[args.size])
    if args.num_layers is not None:
        cfg["num_layers"] = args.num_layers
    os.makedirs(args.out, exist_ok=True)
    if os.path.exists(os.path.join(args.out, "model.safetensors.index.json")) and not args.force:
        print(f"{args.out} already holds a checkpoint (use --force)", file=sys.stderr)
        return 1
    for f in os.listdir(args.out):  # drop shards of an earlier run with another shard count
        if f.startswith("model-") and f.endswith(".safetensors"):
            os.remove(os.path.join(args.out, f))

    tensors = tensor_list(cfg)
    shards = pack_shards(tensors, int(args.max_shard_size))
    weight_map, total = {}, 0
    for k, entries in enumerate(shards, 1):
        name = f"model-{k:05d}-of-{len(shards):05d}.safetensors"
        size = write_shard(os.path.join(args.out, name), entries, args.fill, args.seed, cfg)
        total += size
        for t, _ in entries:
            weight_map[t] = name
        print(f"{name}: {len(entries)} tensors, {size / 1e9:.2f} GB", flush=True)

    n_params = sum(nbytes(s) // 2 for _, s in tensors)
    index = {"metadata": {"total_parameters": n_params, "total_size": total},
             "weight_map": dict(sorted(weight_map.items()))}
    with open(os.path.join(args.out, "model.safetensors.index.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(index, indent=2, sort_keys=True) + "\n")
    with open(os.path.join(args.out, "config.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(config_json(cfg), indent=2, sort_keys=True) + "\n")
    for f in tokenizer_files:
        shutil.copyfile(os.path.join(args.tokenizer, f), os.path.join(args.out, f))
    what = {"random": f"random, seed {args.seed}", "zeros": "zeros, sparse", "pattern": "pattern"}[args.fill]
    print(f"{args.out}: {len(tensors)} tensors, {n_params / 1e9:.3f} B params, {total / 1e9:.2f} GB bf16 "
          f"in {len(shards)} shards ({what})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
