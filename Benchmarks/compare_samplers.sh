#!/usr/bin/env bash
# Pullback vs SDS vs SJC on the same seeds, classes, priors and model, judged against real toys
# (issue "Evaluation"): NeRFs and images for every class, then `diffrep eval nerf|images` writes
# one table each (markdown + JSON) with recognisability, KID, diversity, 3D consistency and the
# real-toys row. Runs that already have a manifest are kept, so an interrupted comparison resumes.
#
# Usage: bash Benchmarks/compare_samplers.sh
#   SEEDS="40 41 42 43" CLASSES="sphere box cylinder cone torus capsule" SAMPLERS="pullback sds sjc"
#   PARTS="nerf image" JOBS=1 OUT=out/compare RESULTS=Benchmarks/results MODEL=path  (all optional)
#   EXTRA="--resample 1"  (extra flags for every nerf run; default none: the tool's defaults)
#   GALLERY=Renders/compare  (per class: a real toy's turntable beside each sampler's, first seed)
#   BIN=path/to/diffrep   (a fixed binary, e.g. a copy, so rebuilding during a long comparison changes nothing)
#   POSE=random|canonical (the gallery's real toys; default: the pose in the training_data.json of MODEL, or of diffrep nerf's default model)
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-"40 41 42 43"}
CLASSES=${CLASSES:-"sphere box cylinder cone torus capsule"}
SAMPLERS=${SAMPLERS:-"pullback sds sjc"}
PARTS=${PARTS:-"nerf image"}
JOBS=${JOBS:-1}
OUT=${OUT:-out/compare}
RESULTS=${RESULTS:-Benchmarks/results}
GALLERY=${GALLERY:-Renders/compare}
EXTRA=${EXTRA:-}
MODEL_FLAG=${MODEL:+--model $MODEL}
if [ -z "${POSE:-}" ]; then
    POSE=random
    card="${MODEL:-Assets/toys-unet-mv}/training_data.json"   # diffrep nerf's default model
    [ -f "$card" ] && POSE=$(sed -n 's/.*"pose" *: *"\([a-z]*\)".*/\1/p' "$card")
fi
if [ -z "${BIN:-}" ]; then
    swift build -c release --product diffrep >/dev/null
    bin=.build/release/diffrep
else
    bin=$BIN
fi
mkdir -p "$OUT/nerf" "$OUT/image" "$RESULTS"

jobs_file=$(mktemp)
for c in $CLASSES; do
    for s in $SAMPLERS; do
        if [[ " $PARTS " == *" nerf "* ]]; then
            for seed in $SEEDS; do
                dir="$OUT/nerf/$s-$c-$seed"
                [ -f "$dir/manifest.json" ] || echo "$bin nerf --sampler $s --class $c --seed $seed $MODEL_FLAG $EXTRA --frames 24 --out $dir" >> "$jobs_file"
            done
        fi
        if [[ " $PARTS " == *" image "* ]]; then
            dir="$OUT/image/$s-$c"
            first=${SEEDS%% *}
            count=$(echo $SEEDS | wc -w)
            [ -f "$dir/manifest.json" ] || echo "$bin image --sampler $s --class $c --seed $first --count $((2 * count)) --views-per-step 1 $MODEL_FLAG --out $dir" >> "$jobs_file"
        fi
    done
done
echo "$(wc -l < "$jobs_file") runs to do ($JOBS at a time)"
# Each job logs to its own file; a failed run stops the comparison.
xargs -P "$JOBS" -I{} bash -c 'cmd="{}"; out=${cmd##*--out }; mkdir -p "$out"; echo "→ $out"; $cmd > "$out.log" 2>&1 || { echo "FAILED: $cmd (log: $out.log)"; exit 255; }' < "$jobs_file"
rm -f "$jobs_file"

if [[ " $PARTS " == *" nerf "* ]]; then
    $bin eval nerf "$OUT"/nerf/*/ --out "$OUT/eval-nerf"
    cp "$OUT/eval-nerf/eval.md" "$RESULTS/compare_nerf.md"
    cp "$OUT/eval-nerf/eval.json" "$RESULTS/compare_nerf.json"
fi
if [[ " $PARTS " == *" image "* ]]; then
    $bin eval images "$OUT"/image/*/ --out "$OUT/eval-image"
    cp "$OUT/eval-image/eval.md" "$RESULTS/compare_image.md"
    cp "$OUT/eval-image/eval.json" "$RESULTS/compare_image.json"
fi
if [[ " $PARTS " == *" nerf "* ]]; then
    # The README's side-by-side turntables: a real toy of each class (from the evaluation's
    # reference seed, rendered from the same turntable views) and each sampler's first seed.
    mkdir -p "$GALLERY"
    first=${SEEDS%% *}
    for c in $CLASSES; do
        rm -rf "$OUT/real-$c"
        $bin dataset toys --turntable 24 --class "$c" --count 1 --size 96 --seed 32501 --pose "$POSE" --out "$OUT/real-$c" >/dev/null
        cp "$OUT"/real-$c/scene_*/turntable.png "$GALLERY/real-$c.png"
        for s in $SAMPLERS; do cp "$OUT/nerf/$s-$c-$first/turntable.png" "$GALLERY/$s-$c.png"; done
    done
fi
echo "tables in $RESULTS/compare_nerf.md and $RESULTS/compare_image.md"
