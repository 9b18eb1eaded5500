#!/usr/bin/env bash
# The long fuzz run: every libFuzzer target (Fuzz/) for at least FUZZ_RUNS executions
# (default 10⁶) from its seed corpus plus whatever earlier runs found (.build-fuzz/corpus/);
# prints each target's execution count and exits 1 on any crash, hang or out-of-memory (the
# input is saved under .build-fuzz/artifacts/<target>/). CI runs the same targets for 20 s each.
# Usage: bash Benchmarks/fuzz_long.sh [target ...]      e.g. FUZZ_RUNS=5000000 bash Benchmarks/fuzz_long.sh safetensors
set -euo pipefail
cd "$(dirname "$0")/.."
bash Fuzz/build.sh "$@"
FUZZ_RUNS=${FUZZ_RUNS:-1000000} bash Fuzz/run.sh "$@"
