import FuzzDriver

// libFuzzer on the "safetensors" reader (Sources/FuzzEntries in the main package).
runLibFuzzer("safetensors")
