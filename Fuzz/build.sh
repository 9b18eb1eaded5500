#!/usr/bin/env bash
# Builds the libFuzzer targets (one executable per Fuzz/*.swift) into .build-fuzz/fuzz/.
#
# The package's library modules are built by SwiftPM with coverage instrumentation
# (--sanitize=fuzzer) into their own build folder, so the plain `swift build` is untouched; each
# target file is then compiled with `swiftc -sanitize=fuzzer -parse-as-library` (libFuzzer
# supplies main) and linked against those modules' object files.
#
#   Fuzz/build.sh                 # all targets
#   Fuzz/build.sh safetensors     # one target
# Environment: JOBS (default: all cores) for swift build; FUZZ_BUILD (default .build-fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${FUZZ_BUILD:-.build-fuzz}
OUT=$BUILD/fuzz
JOBS=${JOBS:-$(nproc)}
# FUZZ_SANITIZERS=fuzzer,address adds AddressSanitizer (out-of-bounds reads in the raw-pointer
# decoders); about 2× slower per execution.
SANITIZERS=${FUZZ_SANITIZERS:-fuzzer}
spm_sanitizers=()
for s in ${SANITIZERS//,/ }; do spm_sanitizers+=(--sanitize="$s"); done

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for f in Fuzz/*.swift; do targets+=("$(basename "$f" .swift)"); done
fi

for module in PNGIO JSON SafeTensors Diffusion Diffreps Tokenizers; do
    swift build -c release -j "$JOBS" --build-path "$BUILD" "${spm_sanitizers[@]}" --target "$module" 2>&1 | grep -v '^\[' || true
    [ -f "$BUILD/release/Modules/$module.swiftmodule" ] || { echo "fuzz build: module $module failed to build" >&2; exit 1; }
done

R=$BUILD/release
numerics=$(ls -d "$BUILD"/checkouts/swift-numerics 2>/dev/null || ls -d .build/checkouts/swift-numerics)
objects=("$R"/RealModule.build/*.o "$R"/ComplexModule.build/*.o "$R"/Numerics.build/*.o
         "$R"/_NumericsShims.build/*.o "$R"/TensorCore.build/*.o "$R"/PNGIO.build/*.o
         "$R"/JSON.build/*.o "$R"/SafeTensors.build/*.o "$R"/Diffusion.build/*.o "$R"/Diffreps.build/*.o "$R"/Tokenizers.build/*.o)
mkdir -p "$OUT"
for t in "${targets[@]}"; do
    echo "fuzz build: $t"
    swiftc -sanitize="$SANITIZERS" -parse-as-library -O -module-name "Fuzz_$t" \
        -I "$R/Modules" -I Sources/COpenBLAS -I Sources/CPNG -I "$numerics/Sources/_NumericsShims/include" \
        "Fuzz/$t.swift" "${objects[@]}" -lopenblas -lpng16 -o "$OUT/$t"
done
