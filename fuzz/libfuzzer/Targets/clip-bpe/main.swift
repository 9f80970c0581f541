import FuzzDriver

// libFuzzer on the "clip-bpe" reader (Sources/FuzzEntries in the main package).
runLibFuzzer("clip-bpe")
