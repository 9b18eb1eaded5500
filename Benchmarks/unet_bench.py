#!/usr/bin/env python3
"""PyTorch (CPU) reference for `diffrep-bench unet`: diffusers UNet2DModel forward and
forward+backward at batch 8, 3×32×32, in the same two configurations as the Swift side.

    python3 Benchmarks/unet_bench.py [--threads 2] [--reps 5] [--configs toys,cifar10] [--json]

(a) toys:    block_out_channels (32, 64, 64), one ResNet layer per block, attention at 16×16
             (the shipped default model's architecture, without its class embedding);
(b) cifar10: the google/ddpm-cifar10-32 configuration (35.7 M parameters).
Forward runs under torch.no_grad(); forward+backward runs the forward with autograd on and the
backward of the output's sum to every parameter. Times are milliseconds, the median of --reps
repetitions after warm-up; --json prints every repetition so the caller can pool them.
On a busy machine set OMP_WAIT_POLICY=PASSIVE (diffrep-bench does): spinning OpenMP threads that
compete with other processes for the cores slow PyTorch down many times over.
"""
import argparse
import json
import statistics
import time

import torch
import diffusers
from diffusers import UNet2DModel

BATCH, SIZE = 8, 32
# One timestep per batch item (the Swift side uses the same ones).
TIMESTEPS = [10 + 125 * i for i in range(BATCH)]

CONFIGS = {
    "toys": dict(sample_size=SIZE, in_channels=3, out_channels=3, block_out_channels=(32, 64, 64),
                 layers_per_block=1, down_block_types=("DownBlock2D", "AttnDownBlock2D", "DownBlock2D"),
                 up_block_types=("UpBlock2D", "AttnUpBlock2D", "UpBlock2D"), norm_num_groups=8,
                 attention_head_dim=32, flip_sin_to_cos=True, freq_shift=0),
    "cifar10": dict(sample_size=SIZE, in_channels=3, out_channels=3, block_out_channels=(128, 256, 256, 256),
                    layers_per_block=2,
                    down_block_types=("DownBlock2D", "AttnDownBlock2D", "DownBlock2D", "DownBlock2D"),
                    up_block_types=("UpBlock2D", "UpBlock2D", "AttnUpBlock2D", "UpBlock2D"),
                    attention_head_dim=None, downsample_padding=0, flip_sin_to_cos=False, freq_shift=1,
                    norm_num_groups=32, norm_eps=1e-6),
}


def times_ms(fn, reps, warmup=2):
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def bench(name, reps):
    torch.manual_seed(0)
    model = UNet2DModel(**CONFIGS[name]).float().train(False)
    x = torch.randn(BATCH, 3, SIZE, SIZE)
    t = torch.tensor(TIMESTEPS)

    def fwd():
        with torch.no_grad():
            model(x, t).sample

    def fwd_bwd():
        model.zero_grad(set_to_none=True)
        model(x, t).sample.sum().backward()

    return {"name": name, "params": sum(p.numel() for p in model.parameters()),
            "forward_ms": times_ms(fwd, reps), "forward_backward_ms": times_ms(fwd_bwd, reps)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--configs", default="toys,cifar10", help="comma-separated: toys, cifar10")
    ap.add_argument("--json", action="store_true", help="print one JSON object (every repetition)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    names = [n for n in args.configs.split(",") if n]
    for n in names:
        if n not in CONFIGS:
            ap.error(f"unknown config '{n}' (known: {', '.join(CONFIGS)})")
    result = {"torch": torch.__version__, "diffusers": diffusers.__version__, "threads": args.threads,
              "configs": [bench(n, args.reps) for n in names]}
    if args.json:
        print(json.dumps(result))
        return
    print(f"PyTorch {result['torch']} + diffusers {result['diffusers']} on the CPU, {args.threads} threads, "
          f"UNet2DModel batch {BATCH}, 3x{SIZE}x{SIZE}, median of {args.reps}")
    print(f"{'config':<12}{'params':>10}{'fwd ms':>12}{'fwd+bwd ms':>12}")
    for c in result["configs"]:
        print(f"{c['name']:<12}{c['params'] / 1e6:>9.2f}M{statistics.median(c['forward_ms']):>12.1f}"
              f"{statistics.median(c['forward_backward_ms']):>12.1f}")


if __name__ == "__main__":
    main()
