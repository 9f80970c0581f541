import FuzzDriver

// libFuzzer on the "json" reader (Sources/FuzzEntries in the main package).
runLibFuzzer("json")
