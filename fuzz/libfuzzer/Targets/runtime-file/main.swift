import FuzzDriver

// libFuzzer on the "runtime-file" reader (Sources/FuzzEntries in the main package).
runLibFuzzer("runtime-file")
