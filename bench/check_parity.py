#!/usr/bin/env python3
"""Relative error of skrr-bench's last hidden state against transformers on the benchmark model.

    skrr-bench cold MODEL IDS --dump OUT.f32
    python3 bench/check_parity.py MODEL IDS OUT.f32

Prints one JSON line: ||a-b|| / ||b|| of skrrc against transformers in float32 (the checkpoint's
weights upcast, which is what skrrc computes), and of both against transformers in float64 (the
same weights; how far each f32 computation is from the exact result).
"""

import json
import sys

import numpy as np
import torch
from transformers import T5EncoderModel


def main() -> None:
    model_dir, ids_path, dump = sys.argv[1:4]
    torch.set_num_threads(2)
    with open(ids_path) as f:
        ids = torch.tensor([[int(t) for t in line.split()] for line in f if line.strip()])
    model = T5EncoderModel.from_pretrained(model_dir, dtype=torch.float32).eval()
    with torch.inference_mode():
        ref = model(input_ids=ids).last_hidden_state.numpy().astype(np.float64)
        exact = model.to(torch.float64)(input_ids=ids).last_hidden_state.numpy()
    got = np.fromfile(dump, dtype="<f4").astype(np.float64).reshape(ref.shape)

    def rel(a, b):
        return float(np.linalg.norm(a - b) / np.linalg.norm(b))

    print(json.dumps({
        "model": model_dir, "ids": list(ids.shape),
        "skrrc_vs_torch_f32": rel(got, ref), "skrrc_vs_torch_f64": rel(got, exact),
        "torch_f32_vs_torch_f64": rel(ref, exact),
    }))


if __name__ == "__main__":
    main()
