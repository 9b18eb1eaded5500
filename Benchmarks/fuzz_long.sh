#!/usr/bin/env bash
# The long fuzz run: every libFuzzer target (Fuzz/) for at least FUZZ_RUNS executions
# (default 10⁶) from its seed corpus plus whatever earlier runs found (.build-fuzz/corpus/);
# prints each target's execution count and exits 1 on any crash, hang or out-of-memory (the
# input is saved under .build-fuzz/artifacts/<target>/). CI runs the same targets for 20 s each.
# With FUZZ_ASAN_SECONDS=N it then also runs each target N seconds under AddressSanitizer
# (out-of-bounds reads, and any single allocation over 512 MB), built into .build-fuzz-asan/.
# Usage: bash Benchmarks/fuzz_long.sh [target ...]
#        FUZZ_RUNS=5000000 bash Benchmarks/fuzz_long.sh safetensors
#        FUZZ_ASAN_SECONDS=120 bash Benchmarks/fuzz_long.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash Fuzz/build.sh "$@"
FUZZ_RUNS=${FUZZ_RUNS:-1000000} bash Fuzz/run.sh "$@"
if [ -n "${FUZZ_ASAN_SECONDS:-}" ]; then
    export FUZZ_BUILD=.build-fuzz-asan FUZZ_SANITIZERS=fuzzer,address
    bash Fuzz/build.sh "$@"
    FUZZ_SECONDS=$FUZZ_ASAN_SECONDS bash Fuzz/run.sh "$@"
fi
