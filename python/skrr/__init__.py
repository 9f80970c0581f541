"""skrr: encode prompts with a skrrc runtime file (or IR file, or model folder) from Python.

    import skrr
    enc = skrr.Encoder("t5-pruned.skrr")
    out = enc.encode(["a red cube on a glass table"])
    out["prompt_embeds"]          # float32 [batch, seq, width]
    out["prompt_attention_mask"]  # int64 [batch, seq]

The arrays are those `skrrc run -o OUT.safetensors` writes, bit for bit, when both run the same
OpenBLAS kernels. numpy loads OpenBLAS before skrr can choose them, so with f32 weights set
OPENBLAS_CORETYPE (the value `skrrc` would choose, e.g. Haswell or SkylakeX) before importing
numpy: auto-detection may pick the slow SSE3 set on recent CPUs (docs/openblas.md). Only numpy is needed;
skrr.diffusers turns them into the keyword arguments of diffusers pipelines.
"""
import ctypes
import threading

import numpy as np

from ._library import lib

__all__ = ["Encoder", "SkrrError"]

_DTYPES = {0: np.float32, 1: np.int64}


class SkrrError(Exception):
    """A refusal by skrrc's runtime: the message names the file and the tensor or key."""


def _error():
    return SkrrError(lib.skrr_last_error().decode("utf-8", "replace"))


def _text(value):
    return None if value is None else str(value).encode("utf-8")


class Encoder:
    """One open encoder: a runtime file (.skrr), an IR file (.ir) or a model (safetensors file,
    index, folder, or diffusers pipeline folder with `encoder=`).

    pipeline: "generic", "pixart-sigma", "sd3", "flux" or "sdxl" (None: the runtime file's
    preset). Calls on one Encoder from several threads are serialised; separate Encoders run in
    parallel.
    """

    def __init__(self, path, pipeline=None, encoder=None, weight_check=True):
        self._handle = lib.skrr_open(_text(path), _text(encoder), _text(pipeline), 1 if weight_check else 0)
        if not self._handle:
            raise _error()
        self._lock = threading.Lock()

    @property
    def pipeline(self):
        return lib.skrr_encoder_pipeline(self._live()).decode()

    @property
    def max_length(self):
        """The preset's fixed padding length, or None when prompts are padded to the longest."""
        value = lib.skrr_encoder_max_length(self._live())
        return value or None

    @property
    def width(self):
        return lib.skrr_encoder_width(self._live())

    def encode(self, prompts, output=None, compute="f32", max_tokens=0):
        """Encodes a prompt or a list of prompts; returns {name: numpy array} with diffusers'
        argument names. output: "hidden", "pooled", "projected", "layer:N" or None (what the
        runtime file stores, else hidden). compute: "f32" (exact), "bf16" (bf16-stored weights)
        or "int8" (int8-stored weights, activations quantized per token), as skrrc run --compute."""
        if isinstance(prompts, str):
            prompts = [prompts]
        encoded = [_text(p) for p in prompts]
        if not encoded:
            raise SkrrError("give at least one prompt")
        array = (ctypes.c_char_p * len(encoded))(*encoded)
        with self._lock:
            result = lib.skrr_encode_prompts(self._live(), array, len(encoded), _text(output), _text(compute), int(max_tokens))
        return self._collect(result)

    def encode_ids(self, ids, output=None, compute="f32", max_tokens=0):
        """Encodes token-id sequences (a list of lists of ints) instead of prompts."""
        rows = [np.ascontiguousarray(row, dtype=np.int32) for row in ids]
        if not rows:
            raise SkrrError("give at least one sequence")
        pointers = (ctypes.POINTER(ctypes.c_int32) * len(rows))(
            *[row.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)) for row in rows])
        lengths = (ctypes.c_size_t * len(rows))(*[row.size for row in rows])
        with self._lock:
            result = lib.skrr_encode_ids(self._live(), pointers, lengths, len(rows), _text(output), _text(compute), int(max_tokens))
        return self._collect(result)

    def close(self):
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            lib.skrr_close(handle)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def _live(self):
        if not self._handle:
            raise SkrrError("this Encoder is closed")
        return self._handle

    @staticmethod
    def _collect(result):
        """Wraps the result's arrays without copying them: each numpy array's buffer holds the
        result, which libskrr frees when the last array referring to it is gone."""
        if not result:
            raise _error()
        owner = _Result(result)
        arrays = {}
        for index in range(lib.skrr_result_count(result)):
            name = lib.skrr_result_name(result, index).decode()
            dtype = np.dtype(_DTYPES[lib.skrr_result_dtype(result, index)])
            ndim = lib.skrr_result_ndim(result, index)
            shape = tuple(lib.skrr_result_shape(result, index)[i] for i in range(ndim))
            nbytes = lib.skrr_result_nbytes(result, index)
            if nbytes != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
                raise SkrrError("result array %s holds %d bytes, its shape %s needs more or fewer" % (name, nbytes, shape))
            buffer = (ctypes.c_char * nbytes).from_address(lib.skrr_result_data(result, index))
            buffer._owner = owner
            arrays[name] = np.frombuffer(buffer, dtype=dtype).reshape(shape)
        return arrays


class _Result:
    """Frees one skrr_result when garbage-collected (after every array made from it)."""

    def __init__(self, handle):
        self.handle = handle

    def __del__(self):
        lib.skrr_result_free(self.handle)
