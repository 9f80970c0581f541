#!/usr/bin/env python3
"""What int8 storage costs in quality (issue 13): for each fixture and target sparsity, prune once
with skrrc (Skrr), store the same pruned program four ways and measure held-out D of each against
the dense f32 model, exactly as skrrc's --eval does (MSE over the consumed positions of the
held-out prompts + MSE of the empty prompt):

  - f32   the pruned IR itself (its D must equal the report's eval_discrepancy: a check of this
          script's D against skrrc's),
  - bf16  `--weight-dtype bf16`,
  - int8  `--weight-dtype int8` (per-output-channel scales, skrrc's format),
  - q8_0  llama.cpp's format simulated: the same tensors (linear weights and the token table)
          quantized in blocks of 32 along the input dimension with an f16 scale per block
          (d = amax / 127, q = round half away from zero), written back as f32 into a copy of the
          model folder and run with the same schedule.

Sparsity 0 rows are the dense model stored each way. Also reported: the relative error of the
held-out hidden states against the f32 program with the same schedule.

    python3 bench/int8_quality.py --skrrc .build/release/skrrc --fixture t5-trained --fixture t5-deep
    python3 bench/int8_quality.py --families    # relative error of each fixture family, dense
"""
import argparse, json, os, re, shutil, subprocess, sys
import numpy as np
from safetensors.numpy import load_file, save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HELD_OUT = os.path.join(ROOT, "Sources/Driver/Prompts/long-heldout.txt")


def run(cmd):
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{result.stderr}")
    return result


def encode(skrrc, model, out):
    """Held-out hidden states (real tokens only, concatenated) and the empty prompt's."""
    run([skrrc, "run", model, "--prompt-file", HELD_OUT, "-o", out + ".safetensors"])
    d = load_file(out + ".safetensors")
    h, mask = d["prompt_embeds"], d["prompt_attention_mask"].astype(bool)
    run([skrrc, "run", model, "--prompt", "", "-o", out + "-null.npy"])
    return h[mask].astype(np.float64), np.load(out + "-null.npy").astype(np.float64)


def discrepancy(reference, candidate):
    (h0, n0), (h1, n1) = reference, candidate
    return float(((h1 - h0) ** 2).mean() + ((n1 - n0) ** 2).mean())


def relative_error(reference, candidate):
    return float(np.linalg.norm(candidate[0] - reference[0]) / np.linalg.norm(reference[0]))


def quantizable(name, shape):
    """The tensors skrrc stores int8 (EncoderProgram.int8CapableTensors): linear weights of the
    blocks and the token table; never norms, position tables or heads."""
    if len(shape) != 2 or "relative_attention_bias" in name or "norm" in name:
        return False
    return name in ("shared.weight", "encoder.embed_tokens.weight") or ".block." in name and name.endswith(".weight")


def q8_0(w):
    rows, width = w.shape
    assert width % 32 == 0, "q8_0 needs rows that are a multiple of 32"
    blocks = w.astype(np.float32).reshape(rows, width // 32, 32)
    d = (np.abs(blocks).max(axis=2, keepdims=True) / 127).astype(np.float16).astype(np.float32)
    safe = np.where(d == 0, 1, d)
    q = np.sign(blocks / safe) * np.floor(np.abs(blocks / safe) + 0.5)
    return (np.clip(q, -127, 127) * d).reshape(rows, width).astype(w.dtype)


def q8_0_folder(fixture, out):
    if os.path.exists(out):
        shutil.rmtree(out)
    shutil.copytree(fixture, out)
    for name in os.listdir(out):
        if name.endswith(".safetensors"):
            tensors = load_file(os.path.join(out, name))
            save_file({k: q8_0(v) if quantizable(k, v.shape) else v for k, v in tensors.items()}, os.path.join(out, name))


def with_schedule(ir_text, pruned_text):
    """`ir_text` with the schedule block of `pruned_text`."""
    pattern = re.compile(r"schedule \{.*?\}", re.S)
    return pattern.sub(lambda _: pattern.search(pruned_text).group(0), ir_text)


def family_errors(skrrc, out):
    """Relative error of the held-out hidden states of each fixture stored int8 (and bf16), dense,
    against the f32 model folder: `--families`."""
    families = ["t5-v1_1", "t5-v1_1-bf16", "t5-relu", "t5-full", "umt5", "clip", "clip-proj", "bert", "t5-trained", "t5-deep"]
    os.makedirs(out, exist_ok=True)
    print("| fixture | weights | int8 / f32 file bytes | rel. error bf16 | rel. error int8 |")
    print("|---|---|---|---|---|")
    for fixture in families:
        folder = os.path.join(ROOT, "fixtures", fixture)
        reference = encode(skrrc, folder, os.path.join(out, fixture + "-reference"))
        sizes, errors = {}, {}
        for dtype in ["f32", "bf16", "int8"]:
            path = os.path.join(out, f"{fixture}-{dtype}.skrr")
            run([skrrc, folder, "--weight-dtype", dtype, "-o", path])
            sizes[dtype] = os.path.getsize(path)
            errors[dtype] = relative_error(reference, encode(skrrc, path, os.path.join(out, f"{fixture}-{dtype}")))
        kind = "trained" if fixture in ("t5-trained", "t5-deep") else "random"
        print(f"| {fixture} | {kind} | {sizes['int8'] / sizes['f32']:.3f} | {errors['bf16']:.4f} | {errors['int8']:.4f} |")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--skrrc", default=os.path.join(ROOT, ".build/release/skrrc"))
    p.add_argument("--fixture", action="append", default=[])
    p.add_argument("--families", action="store_true", help="only the per-family relative errors of dense int8 files")
    p.add_argument("--sparsity", type=float, action="append")
    p.add_argument("--beam", type=int, default=1)
    p.add_argument("--calib-size", type=int, default=32)
    p.add_argument("--out", default=os.path.join(ROOT, "bench/out/int8-quality"))
    args = p.parse_args()
    if args.families:
        return family_errors(args.skrrc, os.path.join(args.out, "families"))
    sparsities = args.sparsity or [0.25, 0.33, 0.40]
    rows = []
    for fixture in args.fixture:
        folder = os.path.join(ROOT, "fixtures", fixture)
        out = os.path.join(args.out, fixture)
        os.makedirs(out, exist_ok=True)
        q8_folder = os.path.join(out, "q8_0-model")
        q8_0_folder(folder, q8_folder)
        run([args.skrrc, folder, "-o", os.path.join(out, "dense.ir")])
        run([args.skrrc, q8_folder, "-o", os.path.join(out, "q8_0-dense.ir")])
        q8_dense_text = open(os.path.join(out, "q8_0-dense.ir")).read()
        reference = encode(args.skrrc, folder, os.path.join(out, "reference"))
        for target in [0.0] + sparsities:
            tag = f"s{target:.2f}"
            ir = os.path.join(out, tag + ".ir")
            report = None
            if target == 0:
                shutil.copy(os.path.join(out, "dense.ir"), ir)
            else:
                report_path = os.path.join(out, tag + ".json")
                run([args.skrrc, folder, "-O", "prune", "--sparsity", str(target), "--beam", str(args.beam),
                     "--calib-size", str(args.calib_size), "--eval", HELD_OUT, "--report", report_path, "-o", ir])
                report = json.load(open(report_path))
            pruned_text = open(ir).read()
            q8_ir = os.path.join(out, tag + "-q8_0.ir")
            # The q8_0 folder's IR has its own root; only the schedule comes from the pruned IR.
            open(q8_ir, "w").write(with_schedule(q8_dense_text, pruned_text))
            f32 = encode(args.skrrc, ir, os.path.join(out, tag + "-f32"))
            row = {"fixture": fixture, "target": target, "sparsity": report["sparsity"] if report else 0.0,
                   "skipped": report["skipped"] if report else [], "reused": report["reused"] if report else [],
                   "report_eval_d": report["eval_discrepancy"] if report else 0.0,
                   "d": {"f32": discrepancy(reference, f32)}, "error": {}, "bytes": {}}
            for dtype in ["bf16", "int8"]:
                skrr = os.path.join(out, f"{tag}-{dtype}.skrr")
                run([args.skrrc, ir, "--weight-dtype", dtype, "-o", skrr])
                row["bytes"][dtype] = os.path.getsize(skrr)
                stored = encode(args.skrrc, skrr, os.path.join(out, f"{tag}-{dtype}"))
                row["d"][dtype] = discrepancy(reference, stored)
                row["error"][dtype] = relative_error(f32, stored)
            q8 = encode(args.skrrc, q8_ir, os.path.join(out, tag + "-q8_0"))
            row["d"]["q8_0"] = discrepancy(reference, q8)
            row["error"]["q8_0"] = relative_error(f32, q8)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
    json.dump(rows, open(os.path.join(args.out, "rows.json"), "w"), indent=1)
    print("| fixture | target | sparsity | D f32 (report) | D bf16 | D int8 | D q8_0 | int8 / bf16 | q8_0 / bf16 | rel. error int8 | rel. error q8_0 | int8 / bf16 bytes |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        d, e = r["d"], r["error"]
        ratio = lambda a, b: f"{a / b:.3f}" if b > 0 else "—"
        print(f"| {r['fixture']} | {r['target']:.2f} | {r['sparsity']:.3f} | {d['f32']:.5f} ({r['report_eval_d']:.5f}) | {d['bf16']:.5f} | "
              f"{d['int8']:.5f} | {d['q8_0']:.5f} | {ratio(d['int8'], d['bf16'])} | {ratio(d['q8_0'], d['bf16'])} | "
              f"{e['int8']:.4f} | {e['q8_0']:.4f} | {r['bytes']['int8'] / r['bytes']['bf16']:.3f} |")


if __name__ == "__main__":
    main()
