#!/usr/bin/env python3
"""Default --calib-size for the long calibration set (issue 11): held-out D and search time as the
number of long calibration prompts grows, per model and sparsity.

    python3 bench/calib_size.py [--skrrc .build/release/skrrc] [--models t5-trained minilm]
                                [--sizes 16 32 64 128 256] [--sparsity 0.3] [--screen 0]

Calibration: the first N built-in long prompts (--calib long); held-out: Sources/Driver/Prompts/
long-heldout.txt (never used to calibrate). Prints a Markdown table, writes bench/results/calib-size.json.
"""
import argparse, json, os, subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = {"t5-trained": "fixtures/t5-trained", "minilm": "bench/out/minilm", "t5-deep": "fixtures/t5-deep"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--skrrc", default=".build/release/skrrc")
    ap.add_argument("--models", nargs="+", default=["t5-trained", "minilm"])
    ap.add_argument("--sizes", nargs="+", type=int, default=[16, 32, 64, 128, 256])
    ap.add_argument("--sparsity", nargs="+", type=float, default=[0.3])
    ap.add_argument("--screen", type=int, default=0)
    ap.add_argument("--out", default="bench/results/calib-size.json")
    a = ap.parse_args()
    os.chdir(ROOT)
    work = "bench/out/calib-size"
    os.makedirs(work, exist_ok=True)
    held = "Sources/Driver/Prompts/long-heldout.txt"
    rows = []
    print("| model | sparsity | calib prompts | mean tokens | calibration D | held-out D | skipped | re-used | seconds |")
    print("|---|---|---|---|---|---|---|---|---|")
    for model in a.models:
        for sparsity in a.sparsity:
            for size in a.sizes:
                report = os.path.join(work, f"{model}-{sparsity}-{size}.json")
                cmd = [a.skrrc, MODELS[model], "-O", "prune", "--calib", "long", "--calib-size", str(size),
                       "--sparsity", str(sparsity), "--screen", str(a.screen), "--eval", held, "--report", report,
                       "-o", os.path.join(work, "x.ir")]
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                r = json.load(open(report))
                c = r["calibration"]
                rows.append(dict(model=model, sparsity=sparsity, size=c["prompts"], mean_tokens=c["mean_tokens"],
                                 discrepancy=r["discrepancy"], eval_discrepancy=r["eval_discrepancy"], skipped=r["skipped"],
                                 reused=r["reused"], seconds=r["seconds"], command=" ".join(cmd)))
                print(f"| {model} | {sparsity} | {c['prompts']} | {c['mean_tokens']} | {r['discrepancy']:.5f} | "
                      f"{r['eval_discrepancy']:.5f} | {r['skipped']} | {r['reused']} | {r['seconds']} |", flush=True)
    json.dump(rows, open(a.out, "w"), indent=1)


if __name__ == "__main__":
    main()
