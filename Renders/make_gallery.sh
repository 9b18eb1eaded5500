#!/usr/bin/env bash
# Regenerates the gallery the README shows (Renders/), with the embedded default model and fixed
# seeds: plain samples, images / panoramas / NeRFs from pullback vs SDS vs SJC on the same seeds.
# Each run also leaves its manifest.json (settings, timings, diversity) beside the copies.
# Usage: bash Renders/make_gallery.sh [sample|image|panorama|nerf|multiview ...]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product diffrep >/dev/null
bin=.build/release/diffrep
work=out/gallery
parts=("${@:-sample image panorama nerf multiview}")
# The gallery's NeRF rows show the class-only model (as the README says); the camera-aware default
# of `diffrep nerf` has its own per-class gallery, made by Benchmarks/compare_samplers.sh.
nerf_model="--model Assets/toys-unet"
want() { [[ " ${parts[*]} " == *" $1 "* ]]; }
mkdir -p Renders "$work"

if want sample; then
    $bin sample --count 64 --steps 50 --seed 1 --out "$work/sample"
    cp "$work/sample/samples.png" Renders/samples_8x8.png
    $bin sample --count 8 --steps 50 --seed 1 --per-class --guidance 3 --out "$work/sample-classes"
    cp "$work/sample-classes/samples.png" Renders/samples_per_class.png
fi

for s in pullback sds sjc; do
    if want image; then
        $bin image --sampler "$s" --count 8 --seed 10 --views-per-step 1 --class sphere --out "$work/image-$s"
        cp "$work/image-$s/images.png" "Renders/image_$s.png"
        cp "$work/image-$s/manifest.json" "Renders/image_$s.json"
    fi
    if want panorama; then
        $bin panorama --sampler "$s" --width 256 --seed 20 --out "$work/panorama-$s"
        cp "$work/panorama-$s/panorama_tiled.png" "Renders/panorama_$s.png"
        cp "$work/panorama-$s/manifest.json" "Renders/panorama_$s.json"
    fi
    if want nerf; then
        $bin nerf $nerf_model --sampler "$s" --class sphere --seed 30 --out "$work/nerf-$s"
        cp "$work/nerf-$s/turntable.png" "Renders/nerf_sphere_$s.png"
        cp "$work/nerf-$s/manifest.json" "Renders/nerf_sphere_$s.json"
        if [ "$s" != pullback ]; then   # a second seed, for diversity (pullback's is below)
            $bin nerf $nerf_model --sampler "$s" --class sphere --seed 31 --out "$work/nerf-$s-31"
            cp "$work/nerf-$s-31/turntable.png" "Renders/nerf_sphere_31_$s.png"
            cp "$work/nerf-$s-31/manifest.json" "Renders/nerf_sphere_31_$s.json"
        fi
    fi
done

if want nerf; then
    # Diversity across seeds (pullback, class sphere), other classes, and the hash-grid field.
    for run in sphere:31 sphere:32 sphere:33 box:31 torus:31 cone:31 capsule:31; do
        c=${run%%:*} seed=${run##*:}
        $bin nerf $nerf_model --class "$c" --seed "$seed" --out "$work/nerf-$c-$seed"
        cp "$work/nerf-$c-$seed/turntable.png" "Renders/nerf_${c}_$seed.png"
        cp "$work/nerf-$c-$seed/manifest.json" "Renders/nerf_${c}_$seed.json"
    done
    # The hash grid with the default (multi-view) model and settings, as the README describes it
    # (about 5 minutes on two cores: ~15× the voxel grid).
    $bin nerf --field hash --class torus --seed 41 --out "$work/nerf-hash"
    cp "$work/nerf-hash/turntable.png" Renders/nerf_torus_hash.png
    cp "$work/nerf-hash/manifest.json" Renders/nerf_torus_hash.json
fi

if want multiview; then
    # `diffrep nerf`'s default (the multi-view model, azimuth noise): the README's sheet, every 45°.
    runs=()
    for run in none:0 torus:41 box:41 cone:41 cylinder:40; do
        c=${run%%:*} seed=${run##*:}
        class_flag=""; [ "$c" = none ] || class_flag="--class $c"
        $bin nerf $class_flag --seed "$seed" --out "$work/mv-$c-$seed"
        runs+=("$work/mv-$c-$seed")
    done
    python3 Renders/frames_sheet.py Renders/nerf_multiview.png "${runs[@]}"
fi

echo "gallery written to Renders/"
