#!/usr/bin/env bash
# Writes the seed corpora of the fuzz targets into fuzz/.seeds/<target>/ (gitignored), from
# fixtures/ and from what skrrc makes of them (IR text, runtime files, embeddings files).
# Uses SKRRC if set, else .build/debug/skrrc (built with `swift build --product skrrc` if absent).
set -euo pipefail
cd "$(dirname "$0")/.."
out=fuzz/.seeds
skrrc=${SKRRC:-.build/debug/skrrc}
if [ ! -x "$skrrc" ]; then
    swift build --product skrrc >/dev/null
fi
rm -rf "$out"
for t in safetensors json model-config ir runtime-file sentencepiece clip-bpe wordpiece pipeline; do mkdir -p "$out/$t"; done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
separator=$'\n--skrr-fuzz-part--\n'   # FuzzInputParts.separator (Sources/FuzzEntries/FuzzTarget.swift)
prompts=(
    "a red cube on a glass table"
    ""
    "A photo of a Cat, 12 dogs & naïve café! </s> <pad> <unk>"
    "<|startoftext|>two dogs<|endoftext|> <|ENDOFTEXT|> don't we'll"
    "[CLS] Hello, WORLD [SEP] [MASK] ½̀ ﬁ 東京 🙂 tab	new
line"
    "$(printf 'x%.0s' {1..300})"
)

# safetensors: small whole files (embeddings skrrc writes) and the header alone of each fixture
# checkpoint (refused for the missing data, but they carry real tensor tables to mutate).
i=0
for model in t5-v1_1 clip-proj bert; do
    "$skrrc" run "fixtures/$model" --ids "5 6 7" -o "$out/safetensors/embeds-$model.safetensors" >/dev/null 2>&1
done
for file in fixtures/*/model.safetensors fixtures/t5-v1_1-sharded/*.safetensors; do
    length=$(od -An -t u8 -N 8 "$file" | tr -d ' ')
    head -c $((8 + length)) "$file" >"$out/safetensors/header-$((i++)).safetensors"
done

# json: every small JSON file of the fixtures.
i=0
for file in $(find fixtures -name '*.json' -size -8k | sort); do cp "$file" "$out/json/$((i++)).json"; done

# model-config: selector byte (ConfigFuzzFolders.fixtures index) + a config.json.
seed_config() { { printf "\\x$(printf %02x "$1")"; cat "fixtures/$2/config.json"; } >"$out/model-config/$3"; }
seed_config 0 t5-v1_1 t5-v1_1; seed_config 1 umt5 umt5; seed_config 2 clip-proj clip-proj; seed_config 3 bert bert
seed_config 4 t5-relu t5-relu; seed_config 0 t5-full t5-full-on-t5-v1_1; seed_config 2 clip clip-on-clip-proj

# ir: what --emit-ir prints for each family, and the IR files the tests read.
for model in t5-v1_1 umt5 clip-proj bert t5-relu; do "$skrrc" "fixtures/$model" --emit-ir >"$out/ir/$model.ir"; done
cp Tests/IRTests/Inputs/*.ir Tests/PassesTests/Inputs/*.ir "$out/ir/"

# runtime-file: small compiled fixtures (bf16 weights keep them under the target's max_len).
for model in t5-v1_1 umt5 clip-proj bert; do
    "$skrrc" "fixtures/$model" --weight-dtype bf16 -o "$out/runtime-file/$model.skrr" >/dev/null 2>&1
done
# A pipeline file (format 3): FLUX's two encoders in one file.
"$skrrc" fixtures/flux-full --weight-dtype bf16 -o "$out/runtime-file/flux-pipeline.skrr" >/dev/null 2>&1

# tokenizers: files and a prompt joined by the separator.
i=0
for prompt in "${prompts[@]}"; do
    for model in t5-v1_1 t5-trained; do
        { cat "fixtures/$model/spiece.model"; printf '%s%s' "$separator" "$prompt"; } >"$out/sentencepiece/$model-$i"
    done
    { cat fixtures/clip/vocab.json; printf '%s' "$separator"; cat fixtures/clip/merges.txt; printf '%s%s' "$separator" "$prompt"; } \
        >"$out/clip-bpe/clip-$i"
    { cat fixtures/bert/vocab.txt; printf '%s%s' "$separator" "$prompt"; } >"$out/wordpiece/bert-$i"
    i=$((i + 1))
done

# pipeline: the spellings the README and the methods use.
i=0
for spec in "skip-search{sparsity=0.4 beam=3},reuse-rewrite,dead-weight-elim" "dead-weight-elim" "" \
    "laco{sparsity=0.3 layers=2 interval=2 threshold=0.9}" "shortgpt{sparsity=0.3}" "skip-search{sparsity=0.25 beam=1}" \
    "reuse-rewrite{folds=3}" "finercut{sparsity=0.5},dead-weight-elim"; do
    printf '%s' "$spec" >"$out/pipeline/$((i++))"
done
echo "make_seeds: $(find "$out" -type f | wc -l) seeds, $(du -sh "$out" | cut -f1) in $out"
