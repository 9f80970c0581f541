#!/usr/bin/env python3
"""Table of bench/run.sh's results (bench/out/results/): skrrc vs PyTorch.

    python3 bench/summarize.py [bench/out/results]

Times are medians of the timed iterations; peak RSS and cold-start wall time come from
/usr/bin/time -v of the whole process (cold start: median of the repetitions).
"""

from __future__ import annotations

import glob
import json
import os
import re
import statistics
import sys


def load_json(path: str) -> dict:
    with open(path) as f:
        return json.loads(f.read().strip().splitlines()[-1])


def time_v(path: str) -> dict:
    text = open(path).read()
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", text).group(1)
    seconds = 0.0
    for part in wall.split(":"):
        seconds = seconds * 60 + float(part)
    load = re.search(r"load ([\d.]+)", text)
    return {"rss_mb": rss / 1024, "wall_s": seconds, "load": float(load.group(1)) if load else None}


def main() -> None:
    res = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "out", "results")
    print("| weights | batch | PyTorch (2 thr) | skrrc | time ratio | CPU s/pass PyTorch / skrrc (ratio) "
          "| peak RSS PyTorch | peak RSS skrrc | RSS ratio | skrrc GFLOP/s (sgemm peak) | load avg |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for dtype in ("f32", "bf16"):
        for workload in ("8x128", "64x128"):
            s_path = os.path.join(res, f"skrrc-{dtype}-{workload}.json")
            if not os.path.exists(s_path):
                continue
            f32_compute = (load_json(s_path), time_v(s_path[:-5] + ".time"), "")
            torch_runs = [("torch", "", f32_compute)]
            if dtype == "bf16":
                torch_runs = [("torch", " (bf16 compute)", f32_compute), ("torchf32", " (f32 compute)", f32_compute)]
                b_path = os.path.join(res, f"skrrcbf16-{dtype}-{workload}.json")
                if os.path.exists(b_path):
                    bf16_compute = (load_json(b_path), time_v(b_path[:-5] + ".time"), " (bf16 compute)")
                    torch_runs.insert(1, ("torch", " (bf16 compute)", bf16_compute))
            for prefix, label, (s, st, s_label) in torch_runs:
                t_path = os.path.join(res, f"{prefix}-{dtype}-{workload}.json")
                t, tt = load_json(t_path), time_v(t_path[:-5] + ".time")
                print(f"| {dtype} | {workload.replace('x', '×')} | {t['median_s']:.3f} s{label} | {s['median_s']:.3f} s{s_label} "
                      f"| {s['median_s'] / t['median_s']:.2f} "
                      f"| {t['median_cpu_s']:.2f} / {s['median_cpu_s']:.2f} ({s['median_cpu_s'] / t['median_cpu_s']:.2f}) "
                      f"| {tt['rss_mb']:.0f} MB | {st['rss_mb']:.0f} MB "
                      f"| {st['rss_mb'] / tt['rss_mb']:.2f} | {s['achieved_gflops']:.0f} ({s['sgemm_peak_gflops']:.0f}) "
                      f"| {tt['load']:.2f} / {st['load']:.2f} |")
    print()
    print("| weights | cold start PyTorch (wall, peak RSS) | cold start skrrc (wall, peak RSS) | wall ratio | RSS ratio |")
    print("|---|---|---|---|---|")
    for dtype in ("f32", "bf16"):
        t = [time_v(p) for p in sorted(glob.glob(os.path.join(res, f"torch-{dtype}-cold*.time")))]
        s = [time_v(p) for p in sorted(glob.glob(os.path.join(res, f"skrrc-{dtype}-cold*.time")))]
        if not t or not s:
            continue
        tw, tr = statistics.median(x["wall_s"] for x in t), statistics.median(x["rss_mb"] for x in t)
        sw, sr = statistics.median(x["wall_s"] for x in s), statistics.median(x["rss_mb"] for x in s)
        print(f"| {dtype} | {tw:.2f} s, {tr:.0f} MB | {sw:.2f} s, {sr:.0f} MB | {sw / tw:.3f} | {sr / tr:.2f} |")
    print()
    for path in sorted(glob.glob(os.path.join(res, "*-cold1.json"))):
        print(os.path.basename(path), json.dumps(load_json(path)))


if __name__ == "__main__":
    main()
