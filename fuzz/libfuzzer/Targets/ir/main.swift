import FuzzDriver

// libFuzzer on the "ir" reader (Sources/FuzzEntries in the main package).
runLibFuzzer("ir")
