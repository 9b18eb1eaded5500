#!/usr/bin/env bash
# Runs every fuzz target built by Fuzz/build.sh (or the ones named) on its seed corpus
# Fuzz/corpus/<target>/ with its dictionary Fuzz/dict/<target>.dict; new inputs go to
# .build-fuzz/corpus/<target>/ (the committed corpus is only read), crashing inputs to
# .build-fuzz/artifacts/<target>/. Prints each target's executions
# and exits 1 if any target crashed, hung (> 10 s on one input) or ran out of memory (RSS > 512 MB;
# for a build with FUZZ_SANITIZERS=fuzzer,address: any one allocation > 512 MB).
#
#   Fuzz/run.sh                          # 20 s per target (FUZZ_SECONDS)
#   FUZZ_RUNS=1000000 Fuzz/run.sh unet_config
# Environment: FUZZ_SECONDS or FUZZ_RUNS (per target); FUZZ_BUILD and FUZZ_SANITIZERS as for build.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${FUZZ_BUILD:-.build-fuzz}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for f in Fuzz/*.swift; do targets+=("$(basename "$f" .swift)"); done
fi
# Memory: plain builds have only the RSS limit; AddressSanitizer's shadow and quarantine need more
# RSS, but it enforces a limit on each single allocation instead.
case "${FUZZ_SANITIZERS:-fuzzer}" in
    *address*) memory=(-rss_limit_mb=2560 -malloc_limit_mb=512) ;;
    *) memory=(-rss_limit_mb=512) ;;
esac
if [ -n "${FUZZ_RUNS:-}" ]; then limit=(-runs="$FUZZ_RUNS"); else limit=(-max_total_time="${FUZZ_SECONDS:-20}"); fi

failed=()
for t in "${targets[@]}"; do
    mkdir -p "$BUILD/corpus/$t" "$BUILD/artifacts/$t"
    log="$BUILD/artifacts/$t/last.log"
    dict=(); [ -f "Fuzz/dict/$t.dict" ] && dict=(-dict="Fuzz/dict/$t.dict")
    # SWIFT_BACKTRACE=enable=no: let libFuzzer's signal handler see a Swift trap and save the input.
    SWIFT_BACKTRACE=enable=no "$BUILD/fuzz/$t" "${limit[@]}" "${dict[@]}" -timeout=10 "${memory[@]}" -print_final_stats=1 \
        -artifact_prefix="$BUILD/artifacts/$t/" "$BUILD/corpus/$t" "Fuzz/corpus/$t" >"$log" 2>&1
    rc=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    secs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | grep -o 'in [0-9]*' | grep -o '[0-9]*' || echo "?")
    if [ $rc -eq 0 ]; then
        printf 'fuzz %-20s %10s executions in %s s, no crash\n' "$t" "$runs" "$secs"
    else
        printf 'fuzz %-20s FAILED (exit %d) after %s executions; see %s\n' "$t" "$rc" "$runs" "$log"
        grep -E 'Fatal error|Test unit written|SUMMARY|ERROR' "$log" | head -5
        failed+=("$t")
    fi
done
[ ${#failed[@]} -eq 0 ] || { echo "fuzz: crashes in ${failed[*]}"; exit 1; }
