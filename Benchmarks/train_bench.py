#!/usr/bin/env python3
"""PyTorch (CPU) reference for `diffrep-bench train`: one DDPM training step of a diffusers
UNet2DModel, written as a diffusers training loop usually is, doing what `diffrep train`'s
step does (Sources/Diffusion/Training/DenoiserTrainer.swift):

    batch of images in [-1, 1] → random left-right flips → t ~ U{0..999}, ε ~ N(0, I)
    → x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε → labels dropped to the null class with probability 0.1
    → loss = mean((UNet(x_t, t, labels) − ε)²) → backward → clip the global gradient norm to 1
    → AdamW (β 0.9/0.999, ε 1e-8, decoupled weight decay 1e-4, linear warm-up)
    → EMA of the weights (diffusers' EMAModel: decay min(0.999, (1 + s)/(10 + s)))

The model is built from a diffusers config.json with random weights (no hub needed); the data
set is a fixed set of random images held in memory (what the step costs, not the toys renderer).

    python3 Benchmarks/train_bench.py --config Assets/toys-unet/config.json [--batch 32] [--threads 1] [--steps 5]
    python3 Benchmarks/train_bench.py --config … --serve

--serve is how `diffrep-bench train --compare-torch` interleaves its measurements with these:
it prints {"ready": …}, then answers each request line from stdin, {"steps": n, "clock":
"thread" | "wall"}, with {"ms": [milliseconds of each step]} after running n more steps.
"thread" times this thread's CPU time (meaningful with --threads 1, where all work runs on it).
"""
import argparse
import json
import statistics
import sys
import time

import torch
import diffusers
from diffusers import DDPMScheduler, UNet2DModel
from diffusers.training_utils import EMAModel


class TrainingLoop:
    """The model, optimiser, EMA and data of one benchmark run; `step()` runs one training step."""

    def __init__(self, config_path, batch, dataset_size, seed, foreach):
        torch.manual_seed(seed)
        with open(config_path) as f:
            config = {k: v for k, v in json.load(f).items() if not k.startswith("_")}
        self.model = UNet2DModel.from_config(config).float().train()
        self.batch = batch
        self.size = self.model.config.sample_size
        self.classes = self.model.config.num_class_embeds
        self.scheduler = DDPMScheduler(num_train_timesteps=1000)
        self.alphas = self.scheduler.alphas_cumprod.float()
        channels = self.model.config.out_channels
        self.images = torch.rand(dataset_size, channels, self.size, self.size) * 2 - 1
        self.labels = torch.randint(0, max(1, (self.classes or 1) - 1), (dataset_size,))
        self.lr, self.warmup = 3e-4, 200
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=self.lr, betas=(0.9, 0.999), eps=1e-8,
                                           weight_decay=1e-4, foreach=foreach)
        self.ema = EMAModel(self.model.parameters(), decay=0.999, foreach=foreach)
        self.steps = 0

    def step(self):
        idx = torch.randint(0, self.images.shape[0], (self.batch,))
        x0 = self.images[idx]
        flip = torch.rand(self.batch) < 0.5
        x0 = torch.where(flip[:, None, None, None], x0.flip(-1), x0)
        t = torch.randint(0, 1000, (self.batch,))
        eps = torch.randn_like(x0)
        a = self.alphas[t][:, None, None, None]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
        labels = None
        if self.classes:
            labels = torch.where(torch.rand(self.batch) < 0.1, torch.full_like(self.labels[idx], self.classes - 1),
                                 self.labels[idx])
        self.optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.mse_loss(self.model(xt, t, class_labels=labels).sample, eps)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        for g in self.optimizer.param_groups:
            g["lr"] = self.lr * min(1.0, (self.steps + 1) / self.warmup)
        self.optimizer.step()
        self.ema.step(self.model.parameters())
        self.steps += 1
        return loss.item()

    def timed(self, n, clock):
        out = []
        for _ in range(n):
            t0 = clock()
            self.step()
            out.append((clock() - t0) * 1e3)
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True, help="a diffusers UNet2DModel config.json")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=5, help="timed steps (without --serve)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--dataset-size", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-foreach", action="store_true", help="per-tensor AdamW and EMA loops (torch's CPU default)")
    ap.add_argument("--serve", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    loop = TrainingLoop(args.config, args.batch, args.dataset_size, args.seed, foreach=not args.no_foreach)
    for _ in range(args.warmup):
        loop.step()
    params = sum(p.numel() for p in loop.model.parameters())
    if args.serve:
        print(json.dumps({"ready": True, "torch": torch.__version__, "diffusers": diffusers.__version__,
                          "threads": torch.get_num_threads(), "params": params}), flush=True)
        for line in sys.stdin:
            req = json.loads(line)
            clock = time.thread_time if req.get("clock") == "thread" else time.perf_counter
            print(json.dumps({"ms": loop.timed(int(req.get("steps", 1)), clock)}), flush=True)
        return
    clock = time.thread_time if args.threads == 1 else time.perf_counter
    ms = loop.timed(args.steps, clock)
    print(f"PyTorch {torch.__version__} + diffusers {diffusers.__version__}, {args.threads} threads: "
          f"{params / 1e6:.2f}M params, batch {args.batch}, {loop.size}x{loop.size}: "
          f"median {statistics.median(ms):.1f} ms/step over {len(ms)} steps")


if __name__ == "__main__":
    main()
