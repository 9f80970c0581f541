import FuzzDriver

// libFuzzer on the "pipeline" reader (Sources/FuzzEntries in the main package).
runLibFuzzer("pipeline")
