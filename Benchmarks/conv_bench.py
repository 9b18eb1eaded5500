#!/usr/bin/env python3
"""PyTorch (CPU) reference for `diffrep-bench tensor`: the same conv2d shapes and the 1024² matmul.

    python3 Benchmarks/conv_bench.py [--threads N] [--reps R] [--json | --serve]

Times are the median of R repetitions after warm-up, in milliseconds; conv2d "fwd+bwd" runs the
forward with autograd on and the backward to the input, weight and bias.

--serve is how `diffrep-bench tensor --compare-torch` interleaves its own measurements with
these: it prints {"ready": …}, then answers each request line read from stdin,
{"op": "conv", "shape": "32x32 32->32", "mode": "fwd" | "fwd+bwd"} or {"op": "matmul", "n": 1024},
with one line {"ms": median}. A request with "clock": "thread" times this thread's CPU time
instead of wall-clock time (meaningful with --threads 1, where all the work runs on it).
"""
import argparse
import json
import os
import sys

from bench_support import median_ms, request_clock
import torch
import torch.nn.functional as F

# (label, batch, channels in, channels out, height/width) — 3×3 kernels, padding 1, stride 1.
CONV_SHAPES = [
    ("32x32 32->32", 8, 32, 32, 32),
    ("32x32 64->64", 8, 64, 64, 32),
    ("16x16 64->64", 8, 64, 64, 16),
    ("16x16 128->128", 8, 128, 128, 16),
    # google/ddpm-cifar10-32's levels
    ("32x32 128->128", 8, 128, 128, 32),
    ("16x16 256->256", 8, 256, 256, 16),
    ("8x8 256->256", 8, 256, 256, 8),
    ("4x4 256->256", 8, 256, 256, 4),
    ("4x4 512->256", 8, 512, 256, 4),
]


def conv_bodies(batch, cin, cout, hw):
    """(forward, forward+backward) closures for one conv shape."""
    x = torch.randn(batch, cin, hw, hw)
    w = torch.randn(cout, cin, 3, 3) * 0.05
    bias = torch.randn(cout)
    gy = torch.randn(batch, cout, hw, hw)

    def fwd():
        with torch.no_grad():
            F.conv2d(x, w, bias, stride=1, padding=1)

    xg, wg, bg = x.clone().requires_grad_(), w.clone().requires_grad_(), bias.clone().requires_grad_()

    def fwd_bwd():
        xg.grad = wg.grad = bg.grad = None
        F.conv2d(xg, wg, bg, stride=1, padding=1).backward(gy)

    return fwd, fwd_bwd


def serve(reps):
    print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    shapes = {label: (b, ci, co, hw) for label, b, ci, co, hw in CONV_SHAPES}
    cache = {}
    for line in sys.stdin:
        req = json.loads(line)
        clock = request_clock(req)
        if req["op"] == "matmul":
            n = req["n"]
            a, b = torch.randn(n, n), torch.randn(n, n)
            ms = median_ms(lambda: torch.mm(a, b), reps, clock=clock)
        else:
            key = req["shape"]
            if key not in cache:
                cache[key] = conv_bodies(*shapes[key])
            fwd, fwd_bwd = cache[key]
            ms = median_ms(fwd if req["mode"] == "fwd" else fwd_bwd, reps, clock=clock)
        print(json.dumps({"ms": ms}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    ap.add_argument("--serve", action="store_true", help="answer timing requests on stdin (see above)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.serve:
        serve(args.reps)
        return

    n = 1024
    a, b = torch.randn(n, n), torch.randn(n, n)
    mm_ms = median_ms(lambda: torch.mm(a, b), args.reps)
    result = {"threads": args.threads, "torch": torch.__version__,
              "matmul1024_gflops": 2 * n ** 3 / (mm_ms * 1e-3) / 1e9, "conv": []}

    for label, batch, cin, cout, hw in CONV_SHAPES:
        fwd, fwd_bwd = conv_bodies(batch, cin, cout, hw)
        result["conv"].append({"shape": label, "forward_ms": median_ms(fwd, args.reps),
                               "forward_backward_ms": median_ms(fwd_bwd, args.reps)})

    if args.json:
        print(json.dumps(result))
        return
    print(f"PyTorch {result['torch']} on the CPU, {args.threads} threads")
    print(f"matmul 1024²: {result['matmul1024_gflops']:.1f} GFLOP/s")
    print(f"{'conv2d 3x3 pad 1, batch 8':<28}{'fwd ms':>10}{'fwd+bwd ms':>12}")
    for c in result["conv"]:
        print(f"{c['shape']:<28}{c['forward_ms']:>10.2f}{c['forward_backward_ms']:>12.2f}")


if __name__ == "__main__":
    main()
