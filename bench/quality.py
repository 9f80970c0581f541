#!/usr/bin/env python3
"""Pruning quality per method and sparsity (issue 6): for each model, method and target
sparsity, prune with skrrc, then encode held-out prompts (never used to calibrate) with the
dense and the pruned model through skrrc itself, and measure:

  - held-out D: the Skrr discrepancy on the held-out prompts (skrrc's --eval),
  - cosine: mean cosine between dense and pruned hidden states over real tokens,
  - null norm: norm of the pruned empty-prompt embedding relative to the dense one,
  - NN agreement (sentence encoders): fraction of held-out prompts whose nearest neighbour
    (mean-pooled, L2-normalised sentence embeddings) is the same under both models.

Uncertainty (issue 11): each held-out D comes with a bootstrap 95 % interval over the held-out
prompts (resampled with replacement, the same resamples for every row), each method is searched
on several disjoint calibration subsets (the spread says how much the choice of calibration
prompts moves the result), and every method is compared with the reference method (Skrr) by a
paired ratio on the same resamples. The script's own held-out D must equal skrrc's
eval_discrepancy (it stops otherwise). Finished searches are reused when re-run (delete the
output folder to start over).

Writes a markdown table and one SVG plot of held-out D vs sparsity per model (subset 0).

    python3 bench/quality.py --model fixtures/t5-deep --name t5-deep --beam 1
    python3 bench/quality.py --model bench/out/minilm --name minilm --sentence
    python3 bench/quality.py --model M --name N --calib parti --calib-size 128 --subsets 1 --heldout parti  # issue-6 tables
"""
import argparse, json, math, os, subprocess, sys
import numpy as np
from safetensors.numpy import load_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLORS = {"skrr": "#c53030", "skip-only": "#dd6b20", "finercut": "#2b6cb0", "shortgpt": "#2f855a", "laco": "#6b46c1"}


def run(cmd):
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{result.stderr}")
    return result


def encode(skrrc, model, prompt_file, out):
    run([skrrc, "run", model, "--prompt-file", prompt_file, "-o", out])
    d = load_file(out)
    return d["prompt_embeds"], d["prompt_attention_mask"]


def stats(dense, pruned, mask):
    m = mask.astype(bool)
    a, b = dense[m], pruned[m]
    cos = (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1) + 1e-30)
    return float(cos.mean())


def sentence(h, mask):
    m = mask[..., None].astype(np.float32)
    e = (h * m).sum(1) / m.sum(1)
    return e / (np.linalg.norm(e, axis=-1, keepdims=True) + 1e-30)


def nn_agreement(dense, pruned, mask):
    a, b = sentence(dense, mask), sentence(pruned, mask)
    sa, sb = a @ a.T, b @ b.T
    np.fill_diagonal(sa, -np.inf)
    np.fill_diagonal(sb, -np.inf)
    return float((sa.argmax(1) == sb.argmax(1)).mean())


def svg_plot(name, rows, path):
    """Held-out D on a log axis: methods differ by factors (LaCo) and by percents (the rest)."""
    methods = sorted({r["method"] for r in rows}, key=list(COLORS).index)
    xs = [r["sparsity"] for r in rows]
    ys = [r["eval_d"] for r in rows]
    x0, x1 = min(xs) - 0.02, max(xs) + 0.02
    nice = [m * 10 ** e for e in range(-6, 7) for m in (1, 2, 5)]
    lo = max([t for t in nice if t <= min(ys)], default=0.1) if ys else 0.1
    hi = min([t for t in nice if t >= max(ys)], default=1) if ys else 1
    W, H, L, T = 560, 360, 70, 40
    px = lambda x: L + (x - x0) / (x1 - x0) * (W - L - 150)
    py = lambda y: T + (1 - (math.log10(y) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))) * (H - T - 50)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="10" y="22" font-size="14">{name}: held-out discrepancy D vs sparsity (log scale)</text>',
           f'<line x1="{L}" y1="{py(lo):.1f}" x2="{W-150}" y2="{py(lo):.1f}" stroke="#333"/>',
           f'<line x1="{L}" y1="{T}" x2="{L}" y2="{py(lo):.1f}" stroke="#333"/>']
    decade = 10 ** math.floor(math.log10(lo))
    while decade <= hi * 1.0001:
        for m in (1, 2, 5):
            tick = decade * m
            if lo * 0.9999 <= tick <= hi * 1.0001:
                out.append(f'<line x1="{L}" y1="{py(tick):.1f}" x2="{W-150}" y2="{py(tick):.1f}" stroke="#eee"/>')
                out.append(f'<text x="{L-6}" y="{py(tick)+4:.1f}" text-anchor="end">{tick:.3g}</text>')
        decade *= 10
    last = None
    for x in sorted(set(round(v, 3) for v in xs)):
        if last is not None and px(x) - px(last) < 36:
            continue  # labels closer than this would overlap
        out.append(f'<text x="{px(x):.1f}" y="{py(lo)+16:.1f}" text-anchor="middle">{x*100:.1f}%</text>')
        last = x
    for i, method in enumerate(methods):
        pts = sorted((r["sparsity"], r["eval_d"]) for r in rows if r["method"] == method)
        color = COLORS.get(method, "#000")
        # Earlier methods are drawn wider underneath, so identical curves stay visible.
        width = 2 + 1.5 * (len(methods) - 1 - i)
        out.append(f'<polyline fill="none" stroke="{color}" stroke-width="{width}" stroke-linejoin="round" points="{" ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)}"/>')
        for x, y in pts:
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{color}"/>')
        out.append(f'<rect x="{W-140}" y="{T+i*18}" width="12" height="12" fill="{color}"/><text x="{W-122}" y="{T+i*18+10}">{method}</text>')
    out.append(f'<text x="{(L+W-150)/2:.0f}" y="{H-8}" text-anchor="middle" fill="#555">sparsity reached (fraction of all encoder parameters removed)</text>')
    out.append("</svg>")
    open(path, "w").write("\n".join(out) + "\n")


def per_prompt_errors(dense, pruned, mask):
    """Per held-out prompt: the sum of squared differences over its real positions, and its
    position count (the parts of held-out D's first term)."""
    m = mask.astype(bool)
    sq = ((pruned.astype(np.float64) - dense.astype(np.float64)) ** 2).sum(-1)
    return (sq * m).sum(1), m.sum(1)


def held_out_d(sse, positions, width, null_mse, idx=None):
    """skrrc's --eval D: MSE over the real positions of the held-out prompts (idx: a resample of
    them) plus the empty prompt's MSE."""
    if idx is not None:
        sse, positions = sse[idx], positions[idx]
    return sse.sum(-1) / (positions.sum(-1) * width) + null_mse


def interval(values):
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(lo), float(hi)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--skrrc", default=os.path.join(ROOT, ".build/release/skrrc"))
    ap.add_argument("--model", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--sparsities", type=float, nargs="+", default=[0.25, 0.33, 0.40, 0.50])
    ap.add_argument("--methods", nargs="+", default=["skrr", "skip-only", "finercut", "shortgpt", "laco"])
    ap.add_argument("--calib", default="long", help="long (skrrc's default set) | parti (as the recorded issue-6 tables)")
    ap.add_argument("--calib-size", type=int, default=64)
    ap.add_argument("--subsets", type=int, default=3,
                    help="disjoint calibration subsets of --calib-size prompts each (subset 0: the first ones, skrrc's default); "
                         "every method and sparsity is searched once per subset")
    ap.add_argument("--heldout", default="long", help="long: Sources/Driver/Prompts/long-heldout.txt (160, never calibrated on) | "
                                                      "parti: PartiPrompts 1001-1232 (the issue-6 tables)")
    ap.add_argument("--bootstrap", type=int, default=2000, help="resamples of the held-out prompts for the 95 %% intervals")
    ap.add_argument("--beam", type=int, default=None, help="passed to skrrc (default: skrrc's)")
    ap.add_argument("--reference", default="skrr", help="the method the paired ratios compare the others against")
    ap.add_argument("--sentence", action="store_true", help="also measure nearest-neighbour agreement")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench/out/quality"))
    args = ap.parse_args()
    out = os.path.join(args.out, args.name)
    os.makedirs(out, exist_ok=True)
    prompts = os.path.join(ROOT, "Sources/Driver/Prompts")
    if args.heldout == "long":
        held = os.path.join(prompts, "long-heldout.txt")
    else:
        held = os.path.join(out, "heldout.txt")
        lines = open(os.path.join(prompts, "parti-calibration.txt"), encoding="utf-8").read().split("\n")
        open(held, "w", encoding="utf-8").write("\n".join(l for l in lines[1000:1232] if l.strip()) + "\n")
    source = open(os.path.join(prompts, f"{args.calib}-calibration.txt"), encoding="utf-8").read().split("\n")
    source = [l for l in source if l.strip()]
    if args.subsets * args.calib_size > len(source):
        sys.exit(f"{args.subsets} disjoint subsets of {args.calib_size} need {args.subsets * args.calib_size} prompts; "
                 f"the {args.calib} set has {len(source)}")
    calib_files = []
    for k in range(args.subsets):
        path = os.path.join(out, f"calib-{k}.txt")
        open(path, "w", encoding="utf-8").write("\n".join(source[k * args.calib_size:(k + 1) * args.calib_size]) + "\n")
        calib_files.append(path)

    dense_h, mask = encode(args.skrrc, args.model, held, os.path.join(out, "dense.safetensors"))
    width = dense_h.shape[-1]
    run([args.skrrc, "run", args.model, "--prompt", "", "-o", os.path.join(out, "dense-null.npy")])
    dense_null = np.load(os.path.join(out, "dense-null.npy"))
    rng = np.random.default_rng(0)
    resamples = rng.integers(0, dense_h.shape[0], size=(args.bootstrap, dense_h.shape[0]))
    rows, parts = [], {}
    for method in args.methods:
        for sparsity in args.sparsities:
            for k, calib in enumerate(calib_files):
                tag = f"{method}-{sparsity}-c{k}"
                ir, report = os.path.join(out, tag + ".ir"), os.path.join(out, tag + ".json")
                cmd = [args.skrrc, args.model, "-O", "prune", "--method", method, "--sparsity", str(sparsity),
                       "--calib", calib, "--calib-size", str(args.calib_size), "--eval", held, "--report", report, "-o", ir]
                if args.beam is not None:
                    cmd += ["--beam", str(args.beam)]
                if not (os.path.exists(report) and os.path.exists(ir)):
                    result = subprocess.run(cmd, capture_output=True, text=True)
                    if result.returncode != 0 and "is unreachable" in result.stderr:
                        # Whole-block methods cannot reach every target: a row says so instead of a number.
                        rows.append({"method": method, "target": sparsity, "subset": k, "unreachable": result.stderr.strip()})
                        print(json.dumps(rows[-1]), file=sys.stderr)
                        continue
                    if result.returncode != 0:
                        sys.exit(f"failed: {' '.join(cmd)}\n{result.stderr}")
                r = json.load(open(report))
                h, _ = encode(args.skrrc, ir, held, os.path.join(out, tag + ".safetensors"))
                run([args.skrrc, "run", ir, "--prompt", "", "-o", os.path.join(out, tag + "-null.npy")])
                null = np.load(os.path.join(out, tag + "-null.npy"))
                sse, positions = per_prompt_errors(dense_h, h, mask)
                null_mse = float(((null.astype(np.float64) - dense_null) ** 2).mean())
                d = float(held_out_d(sse, positions, width, null_mse))
                if abs(d - r["eval_discrepancy"]) > 1e-6 * max(d, 1e-30):
                    sys.exit(f"{tag}: this script's held-out D {d!r} is not skrrc's {r['eval_discrepancy']!r}")
                boot = held_out_d(sse, positions, width, null_mse, resamples)
                parts[(method, sparsity, k)] = (sse, positions, null_mse)
                row = {"method": method, "target": sparsity, "subset": k, "sparsity": r["sparsity"], "eval_d": d,
                       "ci": interval(boot), "calib_d": r["discrepancy"], "cosine": stats(dense_h, h, mask),
                       "null_norm": float(np.linalg.norm(null) / np.linalg.norm(dense_null)),
                       "skipped": r["skipped"], "reused": r["reused"], "merged": r.get("merged", []), "seconds": r["seconds"]}
                if args.sentence:
                    row["nn"] = nn_agreement(dense_h, h, mask)
                rows.append(row)
                print(json.dumps(row), file=sys.stderr)
    # Paired ratios: the reference method's D over each other method's, on the same resamples of the
    # held-out prompts and the same calibration subset.
    for row in rows:
        ref = parts.get((args.reference, row["target"], row["subset"]))
        own = parts.get((row["method"], row["target"], row["subset"]))
        if "unreachable" in row or ref is None or own is None or row["method"] == args.reference:
            continue
        a = held_out_d(ref[0], ref[1], width, ref[2], resamples)
        b = held_out_d(own[0], own[1], width, own[2], resamples)
        row["ratio"] = float(held_out_d(*ref[:2], width, ref[2]) / row["eval_d"])
        row["ratio_ci"] = interval(a / b)
    json.dump(rows, open(os.path.join(out, "rows.json"), "w"), indent=1)
    first = [r for r in rows if "unreachable" not in r and r["subset"] == 0]
    svg_plot(args.name, first, os.path.join(out, f"quality-{args.name}.svg"))

    print(f"Held-out D with its bootstrap 95 % interval over the {dense_h.shape[0]} held-out prompts (calibration subset 0); "
          f"spread = min-max of held-out D over the {args.subsets} disjoint calibration subsets; "
          f"{args.reference} / method = paired ratio of held-out D (subset 0) with its 95 % interval.\n")
    head = ("| method | target | sparsity | held-out D [95 % CI] | spread over subsets | "
            f"{args.reference} / method [95 % CI] | cosine | null norm |" + (" NN agree |" if args.sentence else "") + " skipped | re-used |")
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for r in first + [r for r in rows if "unreachable" in r and r["subset"] == 0]:
        if "unreachable" in r:
            print(f"| {r['method']} | {r['target']:.2f} |" + " unreachable |" * (head.count("|") - 3))
            continue
        same = [x["eval_d"] for x in rows if "unreachable" not in x and x["method"] == r["method"] and x["target"] == r["target"]]
        spread = f"{min(same):.5f}–{max(same):.5f}" if len(same) > 1 else "—"
        ratio = f"{r['ratio']:.3f} [{r['ratio_ci'][0]:.3f}, {r['ratio_ci'][1]:.3f}]" if "ratio" in r else "—"
        if r["merged"]:
            r["reused"] = "merged " + ", ".join(f"{m['folded']}→{m['into']}" for m in r["merged"])
        nn = f" {r['nn']:.3f} |" if args.sentence else ""
        print(f"| {r['method']} | {r['target']:.2f} | {r['sparsity']:.3f} | {r['eval_d']:.5f} [{r['ci'][0]:.5f}, {r['ci'][1]:.5f}] | "
              f"{spread} | {ratio} | {r['cosine']:.4f} | {r['null_norm']:.3f} |{nn} {r['skipped']} | {r['reused']} |")


if __name__ == "__main__":
    main()
