#!/usr/bin/env bash
# The test command: set up a fresh machine, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build --build-tests
# The Python package (python/) over libskrr, against the command line: Debian's python3 with
# python3-numpy (setup.sh), whatever python3 is first on PATH.
SKRR_LIBRARY="$PWD/.build/debug/libskrr.so" SKRRC="$PWD/.build/debug/skrrc" PYTHONPATH="$PWD/python" \
  /usr/bin/python3 -m unittest discover -s python/tests
swift test --skip-build
