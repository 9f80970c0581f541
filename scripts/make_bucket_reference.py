#!/usr/bin/env python3
"""Writes fixtures/relative-buckets.json: transformers' bidirectional T5 relative-position buckets
for several (num_buckets, max_distance) configurations, over relative positions -600..600.
The Swift runtime computes integer bucket tables and is tested against this file, so boundary
cases of the float32 logarithm are checked against torch itself."""
import json
import torch
from transformers.models.t5.modeling_t5 import T5Attention

configs = [(32, 128), (8, 16), (8, 12), (16, 64), (64, 256), (32, 512), (6, 20), (10, 100)]
positions = torch.arange(-600, 601)
out = []
for buckets, distance in configs:
    table = T5Attention._relative_position_bucket(positions, bidirectional=True, num_buckets=buckets, max_distance=distance)
    out.append({"num_buckets": buckets, "max_distance": distance, "first_relative_position": -600,
                "buckets": table.tolist()})
with open("fixtures/relative-buckets.json", "w") as f:
    json.dump(out, f, separators=(",", ":"))
    f.write("\n")
