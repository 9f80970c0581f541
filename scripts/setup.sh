#!/usr/bin/env bash
# Installs what skrrc needs on a fresh Debian machine (idempotent: skips what is present).
#   libopenblas-dev        GEMM (loaded at run time with dlopen, see docs/openblas.md)
#   libsentencepiece-dev   T5/UMT5 tokenizers (C++ API, wrapped in Sources/CSentencePiece)
#   sentencepiece          spm_train, used by tests to build small tokenizer models
#   libprotobuf-c-dev      runtime-file manifest (generated C in Sources/CManifest)
#   protobuf-c-compiler    protoc-c, only to regenerate that code (scripts/gen_manifest.sh)
#   python3-numpy          the Python package's tests (python/tests: numpy only, no torch)
#   openmpi-bin            mpirun and, through libopenmpi3, libmpi.so.40: cluster runs and their
#                          test (skrrc dlopens libmpi only under mpirun and needs no MPI headers
#                          to build, so no libopenmpi-dev; see Sources/CMPI)
set -euo pipefail
packages=(libopenblas-dev libsentencepiece-dev sentencepiece libprotobuf-c-dev protobuf-c-compiler openmpi-bin python3-numpy)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "setup: swift (6.0 or newer) is not on PATH" >&2; exit 1; }
