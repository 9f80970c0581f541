// libFuzzer's driver entry point (compiler-rt, LLVM >= 12). SwiftPM gives every executable its
// own `main`, so libFuzzer's `main` is never linked; our main hands control to this instead.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
