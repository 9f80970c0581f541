#!/usr/bin/env python3
"""Does scoring candidates in bf16 change what the search chooses? (issue 10, `--search-compute`)

Makes a bf16 copy of a fixture (every 2-D weight matrix rounded to bf16, nearest-even; the rest
kept f32), then runs the same Skrr search on that copy with `--search-compute f32` and `bf16`
at each sparsity, and prints whether the skipped and re-used sets are equal, both held-out D
(always measured in f32 by skrrc's --eval) and both wall times. The bf16 path runs whichever bf16
kernel this CPU has (AMX tiles, AVX-512 BF16, or the rounded exact kernel).

    python3 bench/search_compute.py --model fixtures/t5-trained --name t5-trained
        [--sparsities 0.25 0.33 0.40] [--calib-size 64] [--beam N]

Needs numpy and safetensors. Results: bench/out/search-compute/NAME/ and a Markdown table on stdout.
"""
import argparse, json, os, shutil, struct, subprocess, sys, time

import numpy as np
from safetensors.numpy import load_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HELDOUT = os.path.join(ROOT, "Sources/Driver/Prompts/long-heldout.txt")


def bf16_bits(x):
    """f32 → bf16 bits, round to nearest even (finite inputs)."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype(np.uint16)


def write_bf16_copy(src, dst):
    os.makedirs(dst, exist_ok=True)
    for f in os.listdir(src):
        if f.endswith(".safetensors") or f == "reference.safetensors":
            continue
        path = os.path.join(src, f)
        if os.path.isfile(path):
            shutil.copy(path, os.path.join(dst, f))
    tensors = load_file(os.path.join(src, "model.safetensors"))
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name]
        if t.ndim == 2 and t.dtype == np.float32 and "embed" not in name and "shared" not in name \
                and "relative_attention_bias" not in name:
            data, dtype = bf16_bits(t).tobytes(), "BF16"
        else:
            data, dtype = np.ascontiguousarray(t, dtype=np.float32).tobytes(), "F32"
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(os.path.join(dst, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw + b"".join(blobs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--skrrc", default=os.path.join(ROOT, ".build/release/skrrc"))
    ap.add_argument("--model", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--sparsities", type=float, nargs="+", default=[0.25, 0.33, 0.40])
    ap.add_argument("--calib-size", type=int, default=64)
    ap.add_argument("--beam", type=int, default=None)
    args = ap.parse_args()
    out = os.path.join(ROOT, "bench/out/search-compute", args.name)
    model = os.path.join(out, "model-bf16")
    write_bf16_copy(args.model, model)
    rows = []
    for s in args.sparsities:
        row = {"sparsity": s}
        for compute in ("f32", "bf16"):
            report = os.path.join(out, f"{compute}-{s}.json")
            cmd = [args.skrrc, model, "-O", "prune", "--sparsity", str(s), "--calib-size", str(args.calib_size),
                   "--search-compute", compute, "--eval", HELDOUT, "--report", report,
                   "-o", os.path.join(out, f"{compute}-{s}.ir")]
            if args.beam:
                cmd += ["--beam", str(args.beam)]
            start = time.time()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            r = json.load(open(report))
            row[compute] = {"skipped": r["skipped"], "reused": r["reused"], "eval_d": r["eval_discrepancy"],
                            "seconds": time.time() - start, "sparsity": r["sparsity"]}
            print(f"{args.name} {s} {compute}: held-out D {r['eval_discrepancy']:.5f}, {time.time() - start:.1f} s",
                  file=sys.stderr)
        rows.append(row)
    json.dump(rows, open(os.path.join(out, "rows.json"), "w"), indent=1)
    print("| model | target | same skipped set | same re-use | held-out D, f32 search | held-out D, bf16 search | bf16 / f32 | wall f32 | wall bf16 |")
    print("|---|---:|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        a, b = r["f32"], r["bf16"]
        print(f"| {args.name} | {r['sparsity']:.2f} | {'yes' if a['skipped'] == b['skipped'] else 'no'} | "
              f"{'yes' if a['reused'] == b['reused'] else 'no'} | {a['eval_d']:.5f} | {b['eval_d']:.5f} | "
              f"{b['eval_d'] / a['eval_d']:.4f} | {a['seconds']:.1f} s | {b['seconds']:.1f} s |")


if __name__ == "__main__":
    main()
