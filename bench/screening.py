#!/usr/bin/env python3
"""Candidate screening against the unscreened search (issue 10): held-out D, calibration D,
sub-block work and time for --screen 0 (off) and N prompts, per model and sparsity.

    python3 bench/screening.py [--skrrc .build/release/skrrc] [--models t5-trained minilm]
                               [--sparsity 0.25 0.33 0.4] [--screen 0 4 8 16 32] [--calib-size 128]

Calibration: the first --calib-size built-in PartiPrompts (the default set); held-out: PartiPrompts
1001-1232, never used to calibrate. MiniLM comes from bench/minilm_methods.sh's unpacking
(bench/out/minilm). Prints a Markdown table and writes bench/results/screening.json.
"""
import argparse, json, os, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = {"t5-trained": "fixtures/t5-trained", "minilm": "bench/out/minilm"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--skrrc", default=".build/release/skrrc")
    ap.add_argument("--models", nargs="+", default=["t5-trained", "minilm"])
    ap.add_argument("--sparsity", nargs="+", type=float, default=[0.25, 0.33, 0.4])
    ap.add_argument("--screen", nargs="+", type=int, default=[0, 4, 8, 16, 32])
    ap.add_argument("--calib-size", type=int, default=128)
    ap.add_argument("--out", default="bench/results/screening.json")
    a = ap.parse_args()
    os.chdir(ROOT)
    work = "bench/out/screening"
    os.makedirs(work, exist_ok=True)
    lines = open("Sources/Driver/Prompts/parti-calibration.txt", encoding="utf-8").read().split("\n")
    held = os.path.join(work, "heldout.txt")
    open(held, "w", encoding="utf-8").write("\n".join(lines[1000:1232]) + "\n")
    rows = []
    print("| model | sparsity | screen | calibration D | held-out D | vs unscreened | full-set sub-block runs | screened sub-block runs | seconds |")
    print("|---|---|---|---|---|---|---|---|---|")
    for model in a.models:
        for sparsity in a.sparsity:
            base = None
            for screen in a.screen:
                report = os.path.join(work, f"{model}-{sparsity}-{screen}.json")
                cmd = [a.skrrc, MODELS[model], "-O", "prune", "--sparsity", str(sparsity), "--calib-size", str(a.calib_size),
                       "--screen", str(screen), "--eval", held, "--report", report, "-o", os.path.join(work, "x.ir")]
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                r = json.load(open(report))
                screened = sum(s["screened_subblock_evals"] for s in r["search_steps"])
                row = dict(model=model, sparsity=sparsity, screen=screen, discrepancy=r["discrepancy"],
                           eval_discrepancy=r["eval_discrepancy"], subblock_evals=r["subblock_evals"],
                           screened_subblock_evals=screened, seconds=r["seconds"], skipped=r["skipped"], reused=r["reused"],
                           command=" ".join(cmd))
                if screen == 0:
                    base = row
                ratio = row["eval_discrepancy"] / base["eval_discrepancy"] if base else float("nan")
                row["eval_ratio"] = ratio
                rows.append(row)
                print(f"| {model} | {sparsity} | {screen or 'off'} | {r['discrepancy']:.5f} | {r['eval_discrepancy']:.5f} | "
                      f"{ratio:.4f} | {r['subblock_evals']} | {screened} | {r['seconds']} |", flush=True)
    json.dump(rows, open(a.out, "w"), indent=1)


if __name__ == "__main__":
    main()
