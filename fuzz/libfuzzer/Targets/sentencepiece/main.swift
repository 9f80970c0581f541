import FuzzDriver

// libFuzzer on the "sentencepiece" reader (Sources/FuzzEntries in the main package).
runLibFuzzer("sentencepiece")
