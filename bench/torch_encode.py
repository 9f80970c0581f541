#!/usr/bin/env python3
"""PyTorch side of the encoder-throughput benchmark (BENCHMARKS.md, issue 3).

    python3 bench/torch_encode.py MODEL_DIR IDS_FILE [--iters 10] [--warmup 2] [--dtype stored|float32]
    python3 bench/torch_encode.py MODEL_DIR IDS_FILE --cold

Steady state (default): torch.set_num_threads(2), load the T5EncoderModel with transformers,
run `--warmup` untimed forward passes, then `--iters` timed ones under torch.inference_mode(),
and print one JSON line: per-iteration seconds, their median, and the median process CPU
time per iteration (all threads; less sensitive to other load on a shared machine).

--cold: the whole process is the measurement (wrap it in /usr/bin/time -v for wall time and peak
RSS): import torch + transformers, load, encode the ids once, print a JSON line with the
in-process stage times, exit.

--dtype stored (default) computes in the checkpoint's dtype (bf16 weights -> bf16 matmuls);
--dtype float32 upcasts at load (bf16 weights -> f32 compute, what skrrc's default path does).

The ids file holds one sequence per line, ids separated by spaces (bench/make_bench_model.py).
"""

from __future__ import annotations

import time

T0 = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402


def read_ids(path: str) -> list[list[int]]:
    with open(path) as f:
        return [[int(t) for t in line.split()] for line in f if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("ids")
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dtype", choices=["stored", "float32"], default="stored")
    parser.add_argument("--cold", action="store_true")
    args = parser.parse_args()

    import torch
    from transformers import T5EncoderModel

    torch.set_num_threads(args.threads)
    t_import = time.perf_counter()
    dtype = "auto" if args.dtype == "stored" else torch.float32
    model = T5EncoderModel.from_pretrained(args.model, dtype=dtype).eval()
    t_load = time.perf_counter()
    ids = torch.tensor(read_ids(args.ids), dtype=torch.long)

    def encode() -> torch.Tensor:
        with torch.inference_mode():
            return model(input_ids=ids).last_hidden_state

    if args.cold:
        hidden = encode()
        t_encode = time.perf_counter()
        print(json.dumps({
            "mode": "cold", "model": args.model, "ids": list(ids.shape), "dtype": str(hidden.dtype),
            "import_s": t_import - T0, "load_s": t_load - t_import, "encode_s": t_encode - t_load,
            "total_s": t_encode - T0, "threads": torch.get_num_threads(),
        }))
        return

    for _ in range(args.warmup):
        encode()
    times, cpu = [], []
    for _ in range(args.iters):
        start, cpu_start = time.perf_counter(), time.process_time()
        encode()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
    print(json.dumps({
        "mode": "steady", "model": args.model, "ids": list(ids.shape),
        "dtype": str(next(model.parameters()).dtype), "threads": torch.get_num_threads(),
        "iters": times, "median_s": statistics.median(times), "median_cpu_s": statistics.median(cpu),
    }))


if __name__ == "__main__":
    main()
