#!/usr/bin/env python3
"""Checks the long prompt files: length in T5 tokens, duplicates, format.

    python3 scripts/prompt_stats.py [FILE ...]   (default: long-calibration.txt and long-heldout.txt
                                                  in Sources/Driver/Prompts)

For each file it prints the prompt count and min / mean / max tokens, then lists every problem:
  - a prompt outside MIN_TOKENS..MAX_TOKENS (100..250 T5 tokens, `</s>` included);
  - exact duplicates (after lower-casing and collapsing spaces), within and between files;
  - near-duplicates: word 5-gram Jaccard overlap >= NEAR_WITHIN inside a file, or >= NEAR_ACROSS
    between files (stricter: the held-out prompts must not paraphrase calibration prompts);
  - format: invalid UTF-8, blank lines, tabs, leading/trailing spaces, CR characters.
Exit status 1 if any problem is found, except that the first LEGACY_LONG prompts of
long-calibration.txt (written before this script existed and kept as they are) are only reported.

Token counting
--------------
With the real T5 tokenizer (the T5 / T5 v1.1 SentencePiece unigram vocabulary, 32,100 ids, as a
`tokenizer.json`) the counts are exact: `tokenizer.encode(text).ids`, which appends `</s>` as the
T5 encoder sees it. The file is looked for at --tokenizer, $T5_TOKENIZER_JSON, or
/tmp/t5tok/t5_tokenizer.json. It is not committed (2.4 MB); one way to get it offline from PyPI is the
sdist of stable-diffusion-cpp-python 0.4.7 (MIT), which embeds the T5 tokenizer.json as a byte array:

    apt-get install -y cmake && pip install scikit-build-core   # so pip can prepare the metadata
    pip download --no-deps --no-binary=:all: --no-build-isolation -d /tmp/t5tok stable-diffusion-cpp-python==0.4.7
    python3 scripts/prompt_stats.py --extract-t5 /tmp/t5tok/stable_diffusion_cpp_python-0.4.7.tar.gz
    pip install tokenizers

(--extract-t5 writes /tmp/t5tok/t5_tokenizer.json and checks its SHA-256 below; the tokenizer gives
the well-known ids [8774, 296, 1] for "Hello world".)

Without it the script falls back to a proxy and says so: round(PROXY_RATIO * (words + punctuation
marks)), with PROXY_RATIO = 1.27 fitted on the 110 original long prompts against the real tokenizer
(mean tokens per word alone is 1.48 there; the proxy's worst error on those prompts is 24 tokens,
so prompts near the limits should be checked with the real tokenizer).
"""
import argparse
import hashlib
import itertools
import os
import re
import sys
import tarfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROMPTS = os.path.join(ROOT, "Sources", "Driver", "Prompts")
DEFAULT_FILES = [os.path.join(PROMPTS, "long-calibration.txt"), os.path.join(PROMPTS, "long-heldout.txt")]
DEFAULT_TOKENIZER = "/tmp/t5tok/t5_tokenizer.json"
T5_JSON_SHA256 = "fe2ebbbbde2985be723e0ce18217853e4020c5e9d35bd07be2c27ab9d3ead57a"
SDIST_HEADER = "vendor/stable-diffusion.cpp/src/tokenizers/vocab/clip_t5.hpp"

MIN_TOKENS, MAX_TOKENS = 100, 250
NEAR_WITHIN, NEAR_ACROSS = 0.12, 0.08
LEGACY_LONG = 110  # the original long prompts, kept unchanged
PROXY_RATIO = 1.27


def extract_t5(sdist, out):
    with tarfile.open(sdist) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith(SDIST_HEADER))
        src = tar.extractfile(member).read().decode("ascii")
    start = src.index("t5_tokenizer_json_str")
    body = src[src.index("{", start) + 1: src.index("};", start)]
    data = bytes(int(h, 16) for h in re.findall(r"0x([0-9a-fA-F]{2})", body))
    digest = hashlib.sha256(data).hexdigest()
    if digest != T5_JSON_SHA256:
        sys.exit(f"extracted tokenizer has SHA-256 {digest}, expected {T5_JSON_SHA256}")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "wb") as f:
        f.write(data)
    print(f"wrote {out} ({len(data)} bytes, SHA-256 ok)")


def token_counter(path):
    """Returns (count function, description)."""
    if path and os.path.exists(path):
        try:
            from tokenizers import Tokenizer
        except ImportError:
            print(f"note: {path} found but the `tokenizers` package is missing; using the proxy", file=sys.stderr)
        else:
            tok = Tokenizer.from_file(path)
            assert tok.encode("Hello world").ids == [8774, 296, 1], "not the T5 vocabulary"
            return (lambda s: len(tok.encode(s).ids)), f"real T5 tokenizer ({path}), </s> included"
    words = re.compile(r"[A-Za-z0-9']+")
    punct = re.compile(r"[^\w\s]")
    return (lambda s: round(PROXY_RATIO * (len(words.findall(s)) + len(punct.findall(s))))), \
        f"PROXY {PROXY_RATIO} x (words + punctuation); real tokenizer not found"


def norm(s):
    return " ".join(s.lower().split())


def shingles(s, n=5):
    w = re.findall(r"[a-z0-9']+", s.lower())
    return {tuple(w[i:i + n]) for i in range(len(w) - n + 1)}


STOP = set("""with from that this their they them into onto over under behind front left right above below
between beside while where which each some other small large little tall long wide soft warm cool bright dark light
deep pale rich fine full half side along across around toward photograph photo image shot lens style detail detailed
mood atmosphere color colors colored tones palette background foreground center middle distance frame scene view
sharp crisp shallow depth field focus natural high close """.split())


def content_words(s):
    return {w.rstrip("s") for w in re.findall(r"[a-z]+", s.lower()) if len(w) >= 4 and w not in STOP}


def jaccard(a, b):
    return len(a & b) / len(a | b) if a and b else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="*", default=DEFAULT_FILES)
    ap.add_argument("--tokenizer", default=os.environ.get("T5_TOKENIZER_JSON", DEFAULT_TOKENIZER))
    ap.add_argument("--extract-t5", metavar="SDIST", help="write the T5 tokenizer.json from the sdist and stop")
    ap.add_argument("--topics", type=int, default=5, metavar="N",
                    help="list the N cross-file pairs sharing the most content words, for a human to judge (default 5)")
    ap.add_argument("--show", type=int, default=0, help="also print the N longest and shortest prompts per file")
    args = ap.parse_args()
    if args.extract_t5:
        extract_t5(args.extract_t5, args.tokenizer)
        return 0

    count, how = token_counter(args.tokenizer)
    print(f"tokens: {how}; range {MIN_TOKENS}..{MAX_TOKENS}")
    problems, legacy = [], []
    files = {}
    for path in args.files:
        name = os.path.basename(path)
        if not os.path.exists(path):
            problems.append(f"{name}: missing ({path})")
            continue
        raw = open(path, "rb").read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            problems.append(f"{name}: not valid UTF-8 ({e})")
            continue
        if "\r" in text:
            problems.append(f"{name}: contains CR characters")
        if text and not text.endswith("\n"):
            problems.append(f"{name}: no newline at the end")
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        files[name] = lines
        counts = []
        for i, line in enumerate(lines, 1):
            where = f"{name}:{i}"
            is_legacy = name == "long-calibration.txt" and i <= LEGACY_LONG
            if not line.strip():
                problems.append(f"{where}: blank line")
                continue
            if "\t" in line or line != line.strip():
                problems.append(f"{where}: tab or leading/trailing space")
            n = count(line)
            counts.append(n)
            if not MIN_TOKENS <= n <= MAX_TOKENS:
                (legacy if is_legacy else problems).append(f"{where}: {n} tokens (out of range)")
        if counts:
            words = [len(l.split()) for l in lines if l.strip()]
            print(f"{name}: {len(counts)} prompts; tokens min {min(counts)} mean {sum(counts) / len(counts):.1f} "
                  f"max {max(counts)}; words min {min(words)} mean {sum(words) / len(words):.1f} max {max(words)}")
            if name == "long-calibration.txt" and len(counts) > LEGACY_LONG:
                new = counts[LEGACY_LONG:]
                print(f"  of which prompts {LEGACY_LONG + 1}..{len(counts)}: min {min(new)} "
                      f"mean {sum(new) / len(new):.1f} max {max(new)}")
            if args.show:
                order = sorted(range(len(counts)), key=counts.__getitem__)
                for j in order[:args.show] + order[-args.show:]:
                    print(f"  {counts[j]:4d}  {name}:{j + 1}  {lines[j][:90]}")

    # duplicates
    entries = [(name, i + 1, line) for name, lines in files.items() for i, line in enumerate(lines) if line.strip()]
    seen = {}
    for name, i, line in entries:
        key = norm(line)
        if key in seen:
            problems.append(f"{name}:{i}: exact duplicate of {seen[key]}")
        else:
            seen[key] = f"{name}:{i}"
    sh = [shingles(line) for _, _, line in entries]
    worst_within, worst_across = (0.0, None), (0.0, None)
    for a, b in itertools.combinations(range(len(entries)), 2):
        j = jaccard(sh[a], sh[b])
        across = entries[a][0] != entries[b][0]
        pair = f"{entries[a][0]}:{entries[a][1]} ~ {entries[b][0]}:{entries[b][1]}"
        if across:
            worst_across = max(worst_across, (j, pair), key=lambda x: x[0])
        else:
            worst_within = max(worst_within, (j, pair), key=lambda x: x[0])
        if j >= (NEAR_ACROSS if across else NEAR_WITHIN):
            problems.append(f"{pair}: near-duplicate (5-gram Jaccard {j:.2f})")
    print(f"highest 5-gram Jaccard within a file: {worst_within[0]:.3f} ({worst_within[1]}); "
          f"between files: {worst_across[0]:.3f} ({worst_across[1]})")

    if args.topics and len(files) > 1:
        cw = [content_words(line) for _, _, line in entries]
        pairs = []
        for a, b in itertools.combinations(range(len(entries)), 2):
            if entries[a][0] != entries[b][0]:
                pairs.append((jaccard(cw[a], cw[b]), a, b))
        pairs.sort(reverse=True)
        print(f"closest cross-file pairs by content words (review that they are different scenes):")
        for j, a, b in pairs[:args.topics]:
            print(f"  {j:.2f}  {entries[a][0]}:{entries[a][1]} {entries[a][2][:60]!r}\n"
                  f"        {entries[b][0]}:{entries[b][1]} {entries[b][2][:60]!r}")

    for p in legacy:
        print(f"note (original prompt, kept as is): {p}")
    for p in problems:
        print(f"PROBLEM: {p}")
    print("ok" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
