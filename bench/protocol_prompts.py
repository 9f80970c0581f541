#!/usr/bin/env python3
"""Calibration prompts for issue 10's target protocol: N long prompts of at most T tokens each.

The T5-XXL-shaped benchmark checkpoint carries a fixture tokenizer (1,000 pieces), which cuts the
built-in long prompts into far more than 128 tokens, so `--calib long --calib-size 64` there is
not the protocol's size. This script keeps the first N long calibration prompts and shortens each
to its longest word prefix whose tokenisation (end token included, as the preset tokenises it)
fits T tokens. Token counts come from skrrc itself (`skrrc run` on a model with the same
tokenizer, reading `prompt_attention_mask`), so they are the counts the search sees.

    python3 bench/protocol_prompts.py --model fixtures/t5-trained --count 64 --max-tokens 128 \
        -o bench/out/xxl-search/protocol64.txt
"""
import argparse, os, subprocess, sys, tempfile
from safetensors.numpy import load_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def token_counts(skrrc, model, lines):
    with tempfile.TemporaryDirectory() as tmp:
        src, out = os.path.join(tmp, "p.txt"), os.path.join(tmp, "o.safetensors")
        with open(src, "w") as f:
            f.write("\n".join(lines) + "\n")
        result = subprocess.run([skrrc, "run", model, "--prompt-file", src, "-o", out,
                                 "--max-tokens", "4096"], capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(f"skrrc run failed:\n{result.stderr}")
        return [int(n) for n in load_file(out)["prompt_attention_mask"].sum(axis=1)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skrrc", default=os.path.join(ROOT, ".build/release/skrrc"))
    ap.add_argument("--model", required=True, help="a model with the tokenizer the search will use")
    ap.add_argument("--source", default=os.path.join(ROOT, "Sources/Driver/Prompts/long-calibration.txt"))
    ap.add_argument("--count", type=int, default=64)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("-o", "--out", required=True)
    args = ap.parse_args()

    prompts = [l.strip() for l in open(args.source, encoding="utf-8") if l.strip()][:args.count]
    if len(prompts) < args.count:
        sys.exit(f"{args.source}: {len(prompts)} prompts, {args.count} asked for")
    # Every word prefix of every prompt in one skrrc call; keep each prompt's longest that fits.
    prefixes, owner = [], []
    for i, p in enumerate(prompts):
        words = p.split()
        for n in range(1, len(words) + 1):
            prefixes.append(" ".join(words[:n]))
            owner.append(i)
    counts = token_counts(args.skrrc, args.model, prefixes)
    best = [None] * len(prompts)
    for text, i, n in zip(prefixes, owner, counts):
        if n <= args.max_tokens:
            best[i] = (text, n)
    if any(b is None for b in best):
        sys.exit("a prompt's first word alone exceeds --max-tokens")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("".join(text + "\n" for text, _ in best))
    tokens = [n for _, n in best]
    print(f"{args.out}: {len(best)} prompts, {sum(tokens)} tokens "
          f"(mean {sum(tokens) / len(tokens):.1f}, min {min(tokens)}, max {max(tokens)})")


if __name__ == "__main__":
    main()
