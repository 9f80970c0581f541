import FuzzDriver

// libFuzzer on the "wordpiece" reader (Sources/FuzzEntries in the main package).
runLibFuzzer("wordpiece")
