"""Finds and declares libskrr (the C interface of skrrc's runtime, include: Sources/CSkrrABI/include/skrr.h)."""
import ctypes
import os
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _without_swift_crash_handlers(load):
    """Loads with SWIFT_BACKTRACE=enable=no unless the user set SWIFT_BACKTRACE: the Swift
    runtime otherwise installs its crash handlers (SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE,
    SIGABRT) in the host process when it loads, replacing Python's own (faulthandler). The
    variable is read once, at load, and removed again afterwards."""
    if "SWIFT_BACKTRACE" in os.environ:
        return load()
    os.environ["SWIFT_BACKTRACE"] = "enable=no"
    try:
        return load()
    finally:
        del os.environ["SWIFT_BACKTRACE"]


def _candidates():
    override = os.environ.get("SKRR_LIBRARY")
    if override:
        yield Path(override)
        return
    # Copied into the package by `pip install ./python` (setup.py).
    yield _HERE / "libskrr.so"
    # A source checkout: python/ sits beside the SwiftPM build folder.
    root = _HERE.parent.parent
    for config in ("release", "debug"):
        yield root / ".build" / config / "libskrr.so"


def _load():
    tried = []
    for path in _candidates():
        if path.is_file():
            return _without_swift_crash_handlers(lambda: ctypes.CDLL(str(path)))
        tried.append(str(path))
    raise OSError(
        "libskrr.so not found (tried: %s); build it with `swift build -c release --product skrr` "
        "or set SKRR_LIBRARY" % ", ".join(tried))


lib = _load()

_c = ctypes
_p = _c.c_void_p
lib.skrr_abi_version.restype = _c.c_int
lib.skrr_last_error.restype = _c.c_char_p
lib.skrr_open.argtypes = [_c.c_char_p, _c.c_char_p, _c.c_char_p, _c.c_int]
lib.skrr_open.restype = _p
lib.skrr_close.argtypes = [_p]
lib.skrr_close.restype = None
lib.skrr_encoder_pipeline.argtypes = [_p]
lib.skrr_encoder_pipeline.restype = _c.c_char_p
lib.skrr_encoder_max_length.argtypes = [_p]
lib.skrr_encoder_max_length.restype = _c.c_int64
lib.skrr_encoder_width.argtypes = [_p]
lib.skrr_encoder_width.restype = _c.c_int64
lib.skrr_encode_prompts.argtypes = [_p, _c.POINTER(_c.c_char_p), _c.c_size_t, _c.c_char_p, _c.c_char_p, _c.c_int64]
lib.skrr_encode_prompts.restype = _p
lib.skrr_encode_ids.argtypes = [_p, _c.POINTER(_c.POINTER(_c.c_int32)), _c.POINTER(_c.c_size_t), _c.c_size_t,
                                _c.c_char_p, _c.c_char_p, _c.c_int64]
lib.skrr_encode_ids.restype = _p
lib.skrr_result_count.argtypes = [_p]
lib.skrr_result_count.restype = _c.c_size_t
lib.skrr_result_name.argtypes = [_p, _c.c_size_t]
lib.skrr_result_name.restype = _c.c_char_p
lib.skrr_result_dtype.argtypes = [_p, _c.c_size_t]
lib.skrr_result_dtype.restype = _c.c_int
lib.skrr_result_ndim.argtypes = [_p, _c.c_size_t]
lib.skrr_result_ndim.restype = _c.c_size_t
lib.skrr_result_shape.argtypes = [_p, _c.c_size_t]
lib.skrr_result_shape.restype = _c.POINTER(_c.c_int64)
lib.skrr_result_data.argtypes = [_p, _c.c_size_t]
lib.skrr_result_data.restype = _p
lib.skrr_result_nbytes.argtypes = [_p, _c.c_size_t]
lib.skrr_result_nbytes.restype = _c.c_size_t
lib.skrr_result_free.argtypes = [_p]
lib.skrr_result_free.restype = None

if lib.skrr_abi_version() != 1:
    raise OSError("libskrr ABI version %d, this package speaks 1" % lib.skrr_abi_version())
