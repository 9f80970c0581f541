#!/usr/bin/env python3
"""Write the encoder-throughput benchmark's model and token ids (BENCHMARKS.md, issue 3).

    python3 bench/make_bench_model.py [OUT]          # OUT defaults to bench/out

Writes, under OUT:
    t5-base-f32/     a T5-base-sized random T5EncoderModel (T5 v1.1 gated-gelu, d_model 768,
                     12 layers, 12 heads, d_kv 64, d_ff 2048, vocab 32128), torch.manual_seed(0),
                     saved with save_pretrained (safetensors, float32)
    t5-base-bf16/    the same weights cast to bfloat16
    ids-8x128.txt    8 sequences of 128 token ids (seeded, no padding, EOS last)
    ids-64x128.txt   64 sequences of 128 token ids
    ids-1x12.txt     one short prompt's ids (cold-start workload)

An ids file holds one sequence per line, ids separated by spaces: trivially read by both
bench/torch_encode.py and skrr-bench, so both sides run exactly the same ids.
"""

from __future__ import annotations

import os
import sys

import torch
from transformers import T5Config, T5EncoderModel

EOS = 1


def write_ids(path: str, batch: int, length: int, seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(2, 32000, (batch, length), generator=generator)
    ids[:, -1] = EOS
    with open(path, "w") as f:
        for row in ids.tolist():
            f.write(" ".join(str(i) for i in row) + "\n")


def main() -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "out")
    os.makedirs(out, exist_ok=True)
    config = T5Config(
        vocab_size=32128, d_model=768, d_kv=64, d_ff=2048, num_layers=12, num_heads=12,
        relative_attention_num_buckets=32, relative_attention_max_distance=128,
        feed_forward_proj="gated-gelu", tie_word_embeddings=False, is_encoder_decoder=False,
        use_cache=False, dropout_rate=0.0, pad_token_id=0, eos_token_id=1,
    )
    torch.manual_seed(0)
    model = T5EncoderModel(config).eval()
    model.save_pretrained(os.path.join(out, "t5-base-f32"), safe_serialization=True)
    model.to(torch.bfloat16).save_pretrained(os.path.join(out, "t5-base-bf16"), safe_serialization=True)
    write_ids(os.path.join(out, "ids-8x128.txt"), 8, 128, seed=1)
    write_ids(os.path.join(out, "ids-64x128.txt"), 64, 128, seed=2)
    write_ids(os.path.join(out, "ids-1x12.txt"), 1, 12, seed=3)
    print(f"wrote {out}/t5-base-f32, {out}/t5-base-bf16 and ids files")


if __name__ == "__main__":
    main()
