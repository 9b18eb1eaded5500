// diffrep-bench: speed tables (see README "Benchmarks"). Filled in by the benchmark work.
print("usage: diffrep-bench tensor")
