import FuzzDriver

// libFuzzer on the "model-config" reader (Sources/FuzzEntries in the main package).
runLibFuzzer("model-config")
