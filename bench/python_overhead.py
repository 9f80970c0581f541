"""Per-call overhead of the skrr Python package beyond the encoder's own time.

    python3 bench/python_overhead.py [--model fixtures/t5-trained] [--reps 200]

Times Encoder.encode() (argument conversion, the ctypes call, copying every result array into
numpy) against the bare C call skrr_encode_prompts + skrr_result_free on the same handle and
prompts, interleaved, and prints medians. The difference is what the Python layer costs.
"""
import argparse
import ctypes
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
import skrr  # noqa: E402
from skrr._library import lib  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="fixtures/t5-trained")
    parser.add_argument("--pipeline", default="pixart-sigma")
    parser.add_argument("--reps", type=int, default=200)
    args = parser.parse_args()
    encoder = skrr.Encoder(args.model, pipeline=args.pipeline)
    prompts = ["a red cube on a glass table", "two dogs in the snow, one wearing a tiny blue hat"]
    raw = (ctypes.c_char_p * len(prompts))(*[p.encode() for p in prompts])
    python_times, c_times = [], []
    for _ in range(10):
        encoder.encode(prompts)
    for _ in range(args.reps):
        start = time.perf_counter()
        arrays = encoder.encode(prompts)
        python_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        result = lib.skrr_encode_prompts(encoder._handle, raw, len(prompts), None, None, 0)
        lib.skrr_result_free(result)
        c_times.append(time.perf_counter() - start)
    py, c = statistics.median(python_times), statistics.median(c_times)
    size = sum(a.nbytes for a in arrays.values())
    print("model %s, pipeline %s, %d prompts, %d result bytes, %d reps" % (args.model, encoder.pipeline, len(prompts), size, args.reps))
    print("median Encoder.encode  %.3f ms" % (py * 1e3))
    print("median C call          %.3f ms" % (c * 1e3))
    print("python layer overhead  %.3f ms (%.1f %%)" % ((py - c) * 1e3, 100 * (py - c) / c))


if __name__ == "__main__":
    main()
