"""Deterministic safetensors writer shared by the fixture scripts (make_fixtures.py,
train_t5_fixture.py), so reference files are byte-identical on every run.

safetensors' own writer keeps __metadata__ in a Rust HashMap, so with more than one metadata
key the header order (and the file hash) changes from run to run. Here the metadata keys are
sorted and tensors are laid out like safetensors does (larger element size first, then by
name), so every tensor's data is naturally aligned. The file is read back through the real
library before returning.
"""
from __future__ import annotations

import json
import struct

import torch
from safetensors import safe_open

SAFETENSORS_DTYPES = {torch.float32: "F32", torch.int64: "I64"}


def write_safetensors(path: str, tensors: dict, metadata: dict) -> None:
    names = sorted(tensors, key=lambda k: (-tensors[k].element_size(), k))
    header: dict = {"__metadata__": {k: str(metadata[k]) for k in sorted(metadata)}}
    blobs, offset = [], 0
    for name in names:
        t = tensors[name].detach().contiguous().cpu()
        data = t.numpy().astype(t.numpy().dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": SAFETENSORS_DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)
    with safe_open(path, "pt") as f:  # read back through the real library
        assert f.metadata() == {k: str(v) for k, v in metadata.items()}
        for k, v in tensors.items():
            assert torch.equal(f.get_tensor(k), v), k
