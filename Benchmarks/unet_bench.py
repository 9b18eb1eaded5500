#!/usr/bin/env python3
"""PyTorch (CPU) reference for `diffrep-bench unet`: diffusers UNet2DModel forward and
forward+backward at batch 8, 3×32×32, in the same two configurations as the Swift side.

    python3 Benchmarks/unet_bench.py [--threads 2] [--reps 5] [--configs toys,mv,cifar10] [--json | --serve]

(a) toys:    block_out_channels (32, 64, 64), one ResNet layer per block, attention at 16×16
             (the shipped default model's architecture, without its class embedding);
(m) mv:      the shipped multi-view default of `diffrep nerf` (Assets/toys-unet-mv/config.json):
             the toys architecture with 343 class-embedding rows, the 8 items being 2 scenes of 4
             views whose attention layers attend over all 4 views' positions together (a small
             attention processor below does that in diffusers; the weights are diffusers' own);
(b) cifar10: the google/ddpm-cifar10-32 configuration (35.7 M parameters).
--serve is how `diffrep-bench unet --compare-torch` interleaves its repetitions with these: it
prints {"ready": …}, then answers each request line from stdin, {"config": name, "mode": "fwd" |
"fwd+bwd", "reps": n, "clock": "thread" | "wall"}, with {"ms": [n milliseconds]}; "thread" times
this thread's CPU time (meaningful with --threads 1, where all the work runs on it).
Forward runs under torch.no_grad(); forward+backward runs the forward with autograd on and the
backward of the output's sum to every parameter. Times are milliseconds, the median of --reps
repetitions after warm-up; --json prints every repetition so the caller can pool them.
On a busy machine set OMP_WAIT_POLICY=PASSIVE (diffrep-bench does): spinning OpenMP threads that
compete with other processes for the cores slow PyTorch down many times over.
"""
import argparse
import json
import os
import statistics
import sys

from bench_support import request_clock, times_ms
import torch
import diffusers
from diffusers import UNet2DModel
from diffusers.models.attention_processor import Attention

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
    "mv": dict(sample_size=SIZE, in_channels=3, out_channels=3, block_out_channels=(32, 64, 64),
               layers_per_block=1, down_block_types=("DownBlock2D", "AttnDownBlock2D", "DownBlock2D"),
               up_block_types=("UpBlock2D", "AttnUpBlock2D", "UpBlock2D"), norm_num_groups=8,
               attention_head_dim=32, flip_sin_to_cos=True, freq_shift=0, num_class_embeds=343),
}
# Views per scene of the multi-view config (its attention joins them).
VIEW_GROUP = {"mv": 4}


class ViewGroupAttnProcessor:
    """diffusers' spatial self-attention with every `group` consecutive batch items attending over
    their positions together (what Diffreps' multi-view UNet does; same weights and names)."""

    def __init__(self, group):
        self.group = group

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None, **kwargs):
        residual = hidden_states
        b, c, h, w = hidden_states.shape
        x = attn.group_norm(hidden_states).view(b, c, h * w).transpose(1, 2)          # [b, hw, c]
        x = x.reshape(b // self.group, self.group * h * w, c)                          # views share one token set
        n, d = x.shape[0], c // attn.heads
        q, k, v = (f(x).view(n, -1, attn.heads, d).transpose(1, 2) for f in (attn.to_q, attn.to_k, attn.to_v))
        x = torch.nn.functional.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(n, -1, c)
        x = attn.to_out[1](attn.to_out[0](x)).reshape(b, h * w, c).transpose(1, 2).reshape(b, c, h, w)
        return (x + residual) / attn.rescale_output_factor


def bodies(name):
    """(parameter count, forward, forward+backward) of one configuration."""
    torch.manual_seed(0)
    model = UNet2DModel(**CONFIGS[name]).float().train(False)
    if name in VIEW_GROUP:
        for module in model.modules():
            if isinstance(module, Attention):
                module.set_processor(ViewGroupAttnProcessor(VIEW_GROUP[name]))
    x = torch.randn(BATCH, 3, SIZE, SIZE)
    t = torch.tensor(TIMESTEPS)
    labels = torch.zeros(BATCH, dtype=torch.long) if model.config.num_class_embeds else None

    def fwd():
        with torch.no_grad():
            model(x, t, class_labels=labels).sample

    def fwd_bwd():
        model.zero_grad(set_to_none=True)
        model(x, t, class_labels=labels).sample.sum().backward()

    return sum(p.numel() for p in model.parameters()), fwd, fwd_bwd


def bench(name, reps):
    params, fwd, fwd_bwd = bodies(name)
    return {"name": name, "params": params,
            "forward_ms": times_ms(fwd, reps), "forward_backward_ms": times_ms(fwd_bwd, reps)}


def serve():
    print(json.dumps({"ready": True, "torch": torch.__version__, "diffusers": diffusers.__version__,
                      "threads": torch.get_num_threads()}), flush=True)
    cache = {}
    for line in sys.stdin:
        req = json.loads(line)
        name = req["config"]
        if name not in cache:
            cache[name] = bodies(name)
        params, fwd, fwd_bwd = cache[name]
        clock = request_clock(req)
        ms = times_ms(fwd if req["mode"] == "fwd" else fwd_bwd, int(req.get("reps", 1)), warmup=int(req.get("warmup", 0)),
                      clock=clock)
        print(json.dumps({"ms": ms, "params": params}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--configs", default="toys,mv,cifar10", help="comma-separated: toys, mv, cifar10")
    ap.add_argument("--json", action="store_true", help="print one JSON object (every repetition)")
    ap.add_argument("--serve", action="store_true", help="answer requests from stdin (see above)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.serve:
        serve()
        return
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
