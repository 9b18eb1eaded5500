#!/usr/bin/env bash
# The pullback sampler's state and resampling variants on NeRFs (DESIGN.md §2, "the implicit
# constraint"), same seeds and model for every variant; prints each run's quality line
# (chroma, background deviation, coverage, denoiser change — see NerfQuality.swift) and keeps
# the turntables under out/ablation/ to look at.
# Usage: bash Benchmarks/nerf_state_ablation.sh [class:seed ...]   (default: sphere:30 torus:31 capsule:32)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product diffrep >/dev/null
bin=.build/release/diffrep
runs=("${@:-sphere:30 torus:31 capsule:32}")
variants=(
    "noisy-U1:--state noisy"
    "noisy-U2:--state noisy --resample 2"
    "denoised-rho0:--noise-correlation 0"
    "denoised-rho0.5:--noise-correlation 0.5"
    "denoised-rho1:--noise-correlation 1"
    "denoised-rho1-U2:--noise-correlation 1 --resample 2"
)
for run in ${runs[*]}; do
    c=${run%%:*} seed=${run##*:}
    echo "== $c, seed $seed"
    for v in "${variants[@]}"; do
        name=${v%%:*} flags=${v#*:}
        # shellcheck disable=SC2086
        line=$($bin nerf --frames 8 --class "$c" --seed "$seed" $flags --out "out/ablation/$c$seed-$name" 2>&1 | grep "quality:" || echo "failed")
        printf '%-18s %s\n' "$name" "$line"
    done
done
