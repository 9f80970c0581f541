// skrr-bench: replaced by the benchmark driver (see bench/README.md once written).
print("skrr-bench: not written yet")
