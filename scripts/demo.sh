#!/usr/bin/env bash
# The main job on the bundled default model: import the trained-size T5 fixture and print its IR.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product skrrc >&2
.build/release/skrrc fixtures/t5-v1_1 --emit-ir
