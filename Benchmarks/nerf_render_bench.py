"""PyTorch (CPU) reference for the voxel-grid NeRF renderer's throughput.

Same setting as the Swift measurement (`diffrep-bench nerf`, Sources/DiffrepBench/NeRFBenchmark.swift):
one 32×32 orbit view per iteration (1024 rays), 64 stratified jittered samples per ray in
the box [-1.5, 1.5]³, a 32³ grid (raw density [1,1,32,32,32], raw colour [1,3,32,32,32])
read by trilinear grid_sample (align_corners=True, border padding), density
exp(min(raw − 4, 15)) (the Swift default), colour tanh(raw), alpha compositing over a white background, then
backward of the image sum into both grids. Prints rays/s for forward and forward+backward.

    python3 Benchmarks/nerf_render_bench.py [--threads 2] [--iters 50] [--json]

`swift run -c release diffrep-bench nerf --compare-torch` runs this script (with --json)
between two Swift rounds of the same measurement and prints the ratios.

On a shared 2-core machine PyTorch's 2-thread run can collapse (OpenMP barriers while the
other core is busy); compare against the better of --threads 1 and --threads 2, measured
in the same session as the Swift number.
"""
import argparse
import json
import math
import time

import torch
import torch.nn.functional as F


def orbit_rays(azimuth, elevation, radius=4.0, fov_y=math.radians(40), size=32):
    ce, se = math.cos(elevation), math.sin(elevation)
    pos = radius * torch.tensor([ce * math.sin(azimuth), se, ce * math.cos(azimuth)])
    forward = -pos / radius
    right = torch.tensor([math.cos(azimuth), 0.0, -math.sin(azimuth)])
    up = torch.tensor([-se * math.sin(azimuth), ce, -se * math.cos(azimuth)])
    t = math.tan(fov_y / 2)
    px = torch.arange(size, dtype=torch.float32) + 0.5
    u = (2 * px / size - 1) * t                       # columns
    v = (1 - 2 * px / size) * t                       # rows
    d = forward + u[None, :, None] * right + v[:, None, None] * up
    d = (d / d.norm(dim=-1, keepdim=True)).reshape(-1, 3)
    return pos.expand_as(d), d


def box_samples(o, d, n_samples, b=1.5):
    inv = 1 / d
    t0, t1 = (-b - o) * inv, (b - o) * inv
    near = torch.minimum(t0, t1).amax(-1).clamp(min=0)
    far = torch.maximum(t0, t1).amin(-1)
    hit = far > near
    width = torch.where(hit, (far - near) / n_samples, torch.zeros_like(far))
    u = torch.rand(o.shape[0], n_samples)
    ts = near[:, None] + (torch.arange(n_samples)[None, :] + u) * width[:, None]
    pts = o[:, None, :] + ts[..., None] * d[:, None, :]
    deltas = width[:, None].expand(-1, n_samples)
    return pts, ts, deltas


def render(density, color, pts, deltas, b=1.5):
    R, S, _ = pts.shape
    grid = (pts / b).reshape(1, R, S, 1, 3)          # (x, y, z) → (W, H, D)
    sig = F.grid_sample(density, grid, mode="bilinear", padding_mode="border", align_corners=True)
    rgb = F.grid_sample(color, grid, mode="bilinear", padding_mode="border", align_corners=True)
    sig = torch.exp(torch.clamp(sig.reshape(R, S) - 4, max=15))
    rgb = torch.tanh(rgb.reshape(3, R, S).permute(1, 2, 0))
    s = sig * deltas
    alpha = 1 - torch.exp(-s)
    trans = torch.exp(-torch.cumsum(torch.cat([torch.zeros(R, 1), s[:, :-1]], dim=1), dim=1))
    w = trans * alpha
    bg = torch.ones(3)
    c = (w[..., None] * rgb).sum(1) + (1 - w.sum(1, keepdim=True)) * bg
    return c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--json", action="store_true", help="print one JSON object (for diffrep-bench)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    n = 32
    density = torch.randn(1, 1, n, n, n, requires_grad=True)
    color = torch.randn(1, 3, n, n, n, requires_grad=True)
    o, d = orbit_rays(0.3, 0.2)

    def step(backward):
        pts, ts, deltas = box_samples(o, d, 64)
        if backward:
            render(density, color, pts, deltas).sum().backward()
            density.grad = None
            color.grad = None
        else:
            with torch.no_grad():
                render(density, color, pts, deltas)

    result = {"torch": torch.__version__, "threads": args.threads}
    for backward in (False, True):
        for _ in range(5):
            step(backward)
        times = []
        for _ in range(args.iters):
            t0 = time.perf_counter()
            step(backward)
            times.append((time.perf_counter() - t0) * 1e3)
        name = "forward_backward_ms" if backward else "forward_ms"
        result[name] = times
        dt = sorted(times)[len(times) // 2] / 1e3
        if not args.json:
            print(f"pytorch {name[:-3].replace('_', '+')}: {dt * 1e3:.2f} ms per 32x32 view (median), {1024 / dt:.0f} rays/s "
                  f"(64 samples/ray, 32^3 grid, {args.threads} threads)")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
