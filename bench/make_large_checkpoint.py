#!/usr/bin/env python3
"""Write a T5-v1.1-XXL-shaped T5EncoderModel checkpoint (bf16, ~9.5 GB, 5 shards) in seconds.

    python3 bench/make_large_checkpoint.py bench/out/t5-xxl            # all-zero weights (sparse, instant)
    python3 bench/make_large_checkpoint.py bench/out/t5-xxl --pattern  # finite non-zero bf16 pattern
    python3 bench/make_large_checkpoint.py DIR --num-layers 2          # smaller, same layout

The folder gets what transformers' save_pretrained writes for google/t5-v1_1-xxl's encoder
(T5EncoderModel): config.json, model-0000K-of-0000N.safetensors and
model.safetensors.index.json, with the same tensor names and shapes:

    shared.weight                                           [32128, 4096]
    encoder.block.{0..23}.layer.0.SelfAttention.{q,k,v,o}.weight   [4096, 4096]
    encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight   [32, 64]
    encoder.block.{i}.layer.0.layer_norm.weight             [4096]
    encoder.block.{i}.layer.1.DenseReluDense.wi_0/wi_1.weight  [10240, 4096]
    encoder.block.{i}.layer.1.DenseReluDense.wo.weight      [4096, 10240]
    encoder.block.{i}.layer.1.layer_norm.weight             [4096]
    encoder.final_layer_norm.weight                         [4096]

No torch, no big RAM: each shard's safetensors header is written with valid offsets, then the
data region is either left to file.truncate() (default, --zeros: all-zero bf16, which is finite;
the file is sparse, so it costs no disk until read) or filled with a repeated small finite bf16
pattern in 64 MiB chunks (--pattern; needs ~9.5 GB of disk and some time).
Shards are packed greedily in module order up to --max-shard-size bytes (default 2e9, i.e.
transformers' "2GB"), which gives 5 shards for the full model; inside a shard tensors are
sorted by name, as the safetensors library does for same-dtype tensors.
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import sys

CHUNK = 64 << 20

XXL = dict(d_model=4096, d_kv=64, num_heads=64, d_ff=10240, num_layers=24, vocab_size=32128,
           relative_attention_num_buckets=32, relative_attention_max_distance=128)


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


def write_shard(path: str, entries, pattern: bytes | None) -> int:
    header: dict = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, shape in sorted(entries, key=lambda e: e[0]):
        b = nbytes(shape)
        header[name] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + b]}
        offset += b
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        if pattern is None:
            f.truncate(8 + len(raw) + offset)
        else:
            left = offset
            while left > 0:
                n = min(left, len(pattern))
                f.write(pattern[:n])  # chunk length is even, so every write stays bf16-aligned
                left -= n
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
    fill.add_argument("--zeros", dest="pattern", action="store_false",
                      help="all-zero weights via file.truncate (default; sparse and instant)")
    fill.add_argument("--pattern", dest="pattern", action="store_true",
                      help="fill with a repeated finite bf16 pattern (writes every byte)")
    ap.add_argument("--num-layers", type=int, default=XXL["num_layers"])
    ap.add_argument("--max-shard-size", type=float, default=2e9, help="bytes per shard (default 2e9)")
    ap.add_argument("--force", action="store_true", help="overwrite existing model files in OUT")
    ap.set_defaults(pattern=False)
    args = ap.parse_args(argv)

    cfg = dict(XXL, num_layers=args.num_layers)
    os.makedirs(args.out, exist_ok=True)
    if os.path.exists(os.path.join(args.out, "model.safetensors.index.json")) and not args.force:
        print(f"{args.out} already holds a checkpoint (use --force)", file=sys.stderr)
        return 1
    for f in os.listdir(args.out):  # drop shards of an earlier run with another shard count
        if f.startswith("model-") and f.endswith(".safetensors"):
            os.remove(os.path.join(args.out, f))

    tensors = tensor_list(cfg)
    shards = pack_shards(tensors, int(args.max_shard_size))
    pattern = bf16_pattern_chunk() if args.pattern else None
    weight_map, total = {}, 0
    for k, entries in enumerate(shards, 1):
        name = f"model-{k:05d}-of-{len(shards):05d}.safetensors"
        size = write_shard(os.path.join(args.out, name), entries, pattern)
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
    print(f"{args.out}: {len(tensors)} tensors, {n_params / 1e9:.3f} B params, {total / 1e9:.2f} GB bf16 "
          f"in {len(shards)} shards ({'pattern' if args.pattern else 'zeros, sparse'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
