// Intentionally empty: LLVMFuzzerRunDriver comes from libFuzzer (-sanitize=fuzzer); this file
// only makes the header a module SwiftPM can build.
#include "libfuzzer_driver.h"
