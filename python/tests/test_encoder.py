"""The skrr package against the command line: the same arrays, bit for bit, for every fixture
family and every kind of input; errors as exceptions; handles used from many threads.

Run by scripts/test.sh with SKRR_LIBRARY and SKRRC pointing into the SwiftPM build folder.
"""
import json
import os
import shutil
import struct
import subprocess
import tempfile
import threading
import unittest
from pathlib import Path

import numpy as np

import skrr

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
SKRRC = os.environ.get("SKRRC", str(ROOT / ".build" / "debug" / "skrrc"))
PROMPTS = ["a red cube on a glass table", "two dogs, one of them wearing a tiny blue hat, in the snow"]
FAMILIES = ["t5-v1_1", "t5-v1_1-bf16", "t5-v1_1-sharded", "t5-relu", "t5-full", "umt5", "t5-trained",
            "clip", "clip-proj", "bert"]


def read_safetensors(path):
    """A safetensors reader of our own (numpy only), so the comparison does not use skrr."""
    data = Path(path).read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + size])
    header.pop("__metadata__", None)
    body = data[8 + size:]
    kinds = {"F32": np.float32, "I64": np.int64}
    return {name: np.frombuffer(body[e["data_offsets"][0]:e["data_offsets"][1]], dtype=kinds[e["dtype"]]).reshape(e["shape"])
            for name, e in header.items()}


def blas_kernels():
    """The kernel set of the OpenBLAS loaded in this process. numpy loads OpenBLAS before skrr can
    choose its kernels (docs/openblas.md), so it auto-detects them; on some CPUs it picks a set
    other than skrrc's (seen on an Intel AVX-512 host: "Prescott" against skrrc's "Cooperlake"),
    and f32 sums round differently. skrrc runs with the same set, so the comparison is bit for
    bit whatever the host."""
    import ctypes
    skrr.Encoder  # the package loaded libskrr, and numpy OpenBLAS
    for name in ("libopenblas.so.0", "libopenblasp.so.0", "libblas.so.3"):
        try:
            library = ctypes.CDLL(name, mode=getattr(os, "RTLD_NOLOAD", 4) | ctypes.RTLD_GLOBAL)
            library.openblas_get_corename.restype = ctypes.c_char_p
            return library.openblas_get_corename().decode()
        except (OSError, AttributeError):
            continue
    return None


def same_kernels_environment():
    """This environment, with the OpenBLAS kernels this process runs named for a child process."""
    env = dict(os.environ)
    kernels = blas_kernels()
    if kernels and "OPENBLAS_CORETYPE" not in env:
        env["OPENBLAS_CORETYPE"] = kernels
    return env


def skrrc(*args):
    done = subprocess.run([SKRRC, *map(str, args)], capture_output=True, text=True, env=same_kernels_environment())
    if done.returncode != 0:
        raise AssertionError("skrrc %s failed: %s" % (" ".join(map(str, args)), done.stderr))
    return done


class ParityWithTheCommandLine(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.tmp = Path(self.dir.name)

    def tearDown(self):
        self.dir.cleanup()

    def cli(self, model, *args):
        out = self.tmp / "cli.safetensors"
        skrrc("run", model, *args, "-o", out)
        return read_safetensors(out)

    def assertIdentical(self, expected, actual):
        self.assertEqual(sorted(expected), sorted(actual))
        for name in expected:
            self.assertEqual(expected[name].dtype, actual[name].dtype, name)
            self.assertEqual(expected[name].shape, actual[name].shape, name)
            self.assertTrue(np.array_equal(expected[name].view(np.uint8), actual[name].view(np.uint8)), "%s differs" % name)

    def test_every_family_from_its_model_folder(self):
        for family in FAMILIES:
            with self.subTest(family=family):
                args = [a for p in PROMPTS for a in ("--prompt", p)]
                expected = self.cli(FIXTURES / family, *args)
                with skrr.Encoder(FIXTURES / family) as encoder:
                    self.assertIdentical(expected, encoder.encode(PROMPTS))

    def test_runtime_file_with_a_preset_and_its_default_output(self):
        path = self.tmp / "clip.skrr"
        skrrc(FIXTURES / "clip-proj", "--pipeline", "sd3", "-o", path)
        expected = self.cli(path, "--prompt", PROMPTS[0])
        encoder = skrr.Encoder(path)
        self.assertEqual(encoder.pipeline, "sd3")
        self.assertEqual(encoder.max_length, 77)
        actual = encoder.encode(PROMPTS[0])
        self.assertIdentical(expected, actual)
        self.assertEqual(actual["prompt_embeds"].shape, (1, 77, 36))

    def test_ir_file_outputs_and_ids(self):
        ir = self.tmp / "m.ir"
        ir.write_text(skrrc(FIXTURES / "bert", "--emit-ir").stdout)
        encoder = skrr.Encoder(ir)
        for output in ["hidden", "pooled", "layer:1", "layer:-2"]:
            with self.subTest(output=output):
                expected = self.cli(ir, "--prompt", PROMPTS[1], "--output", output)
                self.assertIdentical(expected, encoder.encode([PROMPTS[1]], output=output))
        expected = self.cli(ir, "--ids", "2 300 3", "--ids", "2 7 8 9 3")
        self.assertIdentical(expected, encoder.encode_ids([[2, 300, 3], [2, 7, 8, 9, 3]]))

    def test_bf16_compute_matches_the_command_line(self):
        path = self.tmp / "bf16.skrr"
        skrrc(FIXTURES / "t5-v1_1", "--weight-dtype", "bf16", "-o", path)
        expected = self.cli(path, "--prompt", PROMPTS[0], "--compute", "bf16")
        self.assertIdentical(expected, skrr.Encoder(path).encode(PROMPTS[0], compute="bf16"))

    def test_int8_runtime_file_matches_the_command_line(self):
        path = self.tmp / "int8.skrr"
        skrrc(FIXTURES / "t5-deep", "--weight-dtype", "int8", "-o", path)
        expected = self.cli(path, *[a for p in PROMPTS for a in ("--prompt", p)])
        self.assertIdentical(expected, skrr.Encoder(path).encode(PROMPTS))


class ErrorsAreExceptions(unittest.TestCase):
    def assertRefused(self, fragment, call):
        with self.assertRaises(skrr.SkrrError) as caught:
            call()
        self.assertIn(fragment, str(caught.exception))

    def test_bad_paths_and_options(self):
        self.assertRefused("/nonexistent/model: no such file or folder", lambda: skrr.Encoder("/nonexistent/model"))
        self.assertRefused("unknown 'dalle'", lambda: skrr.Encoder(FIXTURES / "t5-v1_1", pipeline="dalle"))
        encoder = skrr.Encoder(FIXTURES / "t5-v1_1")
        self.assertRefused("this t5 encoder has no pooling head", lambda: encoder.encode("a", output="pooled"))
        self.assertRefused("expected hidden, pooled, projected or layer:N, got 'everything'", lambda: encoder.encode("a", output="everything"))
        self.assertRefused("the encoder has hidden states 0...3", lambda: encoder.encode("a", output="layer:9"))
        self.assertRefused("is outside the vocabulary of 277", lambda: encoder.encode_ids([[5, 100000]]))
        self.assertRefused("above the limit of 4 per sequence", lambda: encoder.encode("a b c d e f g", max_tokens=4))
        encoder.close()
        self.assertRefused("this Encoder is closed", lambda: encoder.encode("a"))

    def test_a_corrupt_runtime_file_raises_and_never_crashes(self):
        with tempfile.TemporaryDirectory() as tmp:
            good = Path(tmp) / "good.skrr"
            skrrc(FIXTURES / "t5-v1_1", "-o", good)
            data = good.read_bytes()
            for name, broken in [("truncated", data[: len(data) // 2]), ("empty", b""),
                                 ("flipped", data[:100] + bytes([data[100] ^ 0xFF]) + data[101:]),
                                 ("not a runtime file", b"hello world" * 100)]:
                with self.subTest(name=name):
                    path = Path(tmp) / ("%s.skrr" % name.replace(" ", "-"))
                    path.write_bytes(broken)
                    with self.assertRaises(skrr.SkrrError) as caught:
                        skrr.Encoder(path)
                    self.assertIn(str(path), str(caught.exception))


class TheCHeader(unittest.TestCase):
    """examples/c/encode.c compiled against skrr.h and linked with libskrr: the header's
    declarations and the library's symbols agree, and C gets the command line's bytes."""

    def test_a_c_program_gets_the_same_embeddings(self):
        compiler = shutil.which("cc") or shutil.which("clang")
        self.assertIsNotNone(compiler, "no C compiler (cc or clang) on PATH")
        library = Path(os.environ.get("SKRR_LIBRARY", ROOT / ".build" / "debug" / "libskrr.so"))
        with tempfile.TemporaryDirectory() as tmp:
            program = Path(tmp) / "encode"
            subprocess.run([compiler, "-std=c11", "-Wall", "-Werror", "-I", ROOT / "Sources" / "CSkrrABI" / "include",
                            ROOT / "examples" / "c" / "encode.c", "-L", library.parent, "-lskrr",
                            "-Wl,-rpath," + str(library.parent), "-o", program], check=True)
            done = subprocess.run([program, FIXTURES / "clip-proj", Path(tmp) / "c.bin", *PROMPTS], capture_output=True, text=True,
                                  env=same_kernels_environment())
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertEqual(done.stdout.splitlines(), ["prompt_embeds float32 2 26 36", "prompt_attention_mask int64 2 26",
                                                        "pooled_prompt_embeds float32 2 28"])
            skrrc("run", FIXTURES / "clip-proj", *[a for p in PROMPTS for a in ("--prompt", p)], "-o", Path(tmp) / "cli.safetensors")
            expected = read_safetensors(Path(tmp) / "cli.safetensors")["prompt_embeds"]
            self.assertEqual((Path(tmp) / "c.bin").read_bytes(), expected.tobytes())
            missing = subprocess.run([program, "/nonexistent.skrr", Path(tmp) / "x.bin", "a"], capture_output=True, text=True)
            self.assertEqual(missing.returncode, 1)
            self.assertIn("error: /nonexistent.skrr", missing.stderr)


class HostProcessState(unittest.TestCase):
    """What loading and running libskrr leaves behind in the host: nothing pinned, nothing set."""

    CHILD = """
import ctypes, sys
libc = ctypes.CDLL(None)
libc.getenv.restype = ctypes.c_char_p

class Sigaction(ctypes.Structure):
    _fields_ = [("handler", ctypes.c_void_p), ("mask", ctypes.c_ulong * 16), ("flags", ctypes.c_int), ("restorer", ctypes.c_void_p)]

def handlers():
    found = []
    for number in (4, 5, 6, 7, 8, 11):  # SIGILL SIGTRAP SIGABRT SIGBUS SIGFPE SIGSEGV
        action = Sigaction()
        libc.sigaction(number, None, ctypes.byref(action))
        found.append(action.handler)
    return found

before = handlers()
import skrr
blas = ctypes.CDLL("libopenblas.so.0")  # the copy libskrr loaded (same soname, already loaded)
encoder = skrr.Encoder(sys.argv[1])
blas.openblas_set_num_threads(2)
encoder.encode(["a red cube", "two dogs"])
print(blas.openblas_get_num_threads(), libc.getenv(b"OPENBLAS_CORETYPE"), libc.getenv(b"SWIFT_BACKTRACE"), handlers() == before)
"""

    def test_no_pinned_threads_no_environment_no_signal_handlers(self):
        env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "SWIFT_BACKTRACE")}
        done = subprocess.run(["/usr/bin/python3", "-c", self.CHILD, str(FIXTURES / "t5-trained")],
                              capture_output=True, text=True, env=env)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout.split(), ["2", "None", "None", "True"])


class Threads(unittest.TestCase):
    def test_separate_handles_in_parallel_give_the_single_thread_result(self):
        model = FIXTURES / "t5-trained"
        expected = skrr.Encoder(model).encode(PROMPTS)["prompt_embeds"]
        results, errors = [], []

        def work():
            try:
                encoder = skrr.Encoder(model)
                for _ in range(5):
                    results.append(encoder.encode(PROMPTS)["prompt_embeds"])
            except Exception as error:  # reported below
                errors.append(error)

        threads = [threading.Thread(target=work) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(errors, [])
        self.assertEqual(len(results), 30)
        for result in results:
            self.assertTrue(np.array_equal(result, expected))

    def test_one_handle_shared_by_threads_is_serialised(self):
        encoder = skrr.Encoder(FIXTURES / "t5-v1_1")
        expected = encoder.encode(PROMPTS)["prompt_embeds"]
        results = []
        threads = [threading.Thread(target=lambda: results.append(encoder.encode(PROMPTS)["prompt_embeds"])) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(len(results), 8)
        self.assertTrue(all(np.array_equal(r, expected) for r in results))


if __name__ == "__main__":
    unittest.main()
