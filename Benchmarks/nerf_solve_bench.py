"""PyTorch (CPU) reference for one pullback step's solve on a voxel-grid NeRF (issue 13).

The same solve as `LeastSquaresSolver.adam()` in Swift (Sources/Sampling/LeastSquares.swift) at
`diffrep nerf`'s defaults, on the problem `diffrep-bench solve --compare-torch` writes into a
folder (the start grids, the rays of the step's views and the targets), so both sides solve the
same numbers:

  - render: the stratified bin midpoints inside the box [-b, b]³, the 32³ grids read by trilinear
    grid_sample (align_corners=True, border padding), density exp(min(raw + bias, 15)), colour
    tanh(raw), alpha compositing over a white background, every sample (no early stop);
  - loss: mean((render − y)²) + smoothness·(TV²(raw density) + TV²(raw colour))
    + sparsity·mean(softplus(raw density + bias − log 0.01));
  - Adam (β 0.9, 0.999, ε 1e-8) for `steps` steps at learning rate lr·RMS(y − x)·(1 − t/steps).

Prints one JSON object: milliseconds per solve (every repetition), the relative residual
‖R(θ') − y‖ / ‖y − x‖ before the last step, and writes the solved grids to
FOLDER/torch_density.f32 and FOLDER/torch_color.f32 (raw float32).

    python3 Benchmarks/nerf_solve_bench.py --problem FOLDER [--threads 1] [--reps 3] [--clock cpu]
"""
import argparse
import json
import math
import os
import time

import torch
import torch.nn.functional as F


def load(folder, name, shape):
    data = torch.from_file(os.path.join(folder, name + ".f32"), size=math.prod(shape), dtype=torch.float32)
    return data.reshape(shape).clone()


def midpoint_samples(o, d, n_samples, b):
    with torch.no_grad():
        inv = 1 / d
        t0, t1 = (-b - o) * inv, (b - o) * inv
        near = torch.minimum(t0, t1).amax(-1).clamp(min=0)
        far = torch.maximum(t0, t1).amin(-1)
        width = torch.where(far > near, (far - near) / n_samples, torch.zeros_like(far))
        ts = near[:, None] + (torch.arange(n_samples)[None, :] + 0.5) * width[:, None]
        pts = o[:, None, :] + ts[..., None] * d[:, None, :]
        return (pts / b).reshape(1, o.shape[0], n_samples, 1, 3), width[:, None].expand(-1, n_samples)


def render(density, color, grid, deltas, bias, views, size):
    R, S = deltas.shape
    sig = F.grid_sample(density, grid, mode="bilinear", padding_mode="border", align_corners=True)
    rgb = F.grid_sample(color, grid, mode="bilinear", padding_mode="border", align_corners=True)
    sig = torch.exp(torch.clamp(sig.reshape(R, S) + bias, max=15))
    rgb = torch.tanh(rgb.reshape(3, R, S).permute(1, 2, 0))
    s = sig * deltas
    alpha = 1 - torch.exp(-s)
    trans = torch.exp(-torch.cumsum(torch.cat([torch.zeros(R, 1), s[:, :-1]], dim=1), dim=1))
    w = trans * alpha
    c = (w[..., None] * rgb).sum(1) + (1 - w.sum(1, keepdim=True))        # white background
    return c.reshape(views, size, size, 3).permute(0, 3, 1, 2)               # [K, 3, H, W]


def squared_tv(x):
    return (((x[..., 1:, :, :] - x[..., :-1, :, :]) ** 2).mean() + ((x[..., :, 1:, :] - x[..., :, :-1, :]) ** 2).mean()
            + ((x[..., :, :, 1:] - x[..., :, :, :-1]) ** 2).mean())


def solve(p, density0, color0, grid, deltas, y):
    density = density0.clone().requires_grad_(True)
    color = color0.clone().requires_grad_(True)
    with torch.no_grad():
        x = render(density, color, grid, deltas, p["bias"], p["views"], p["size"])
    r_norm = (y - x).norm()
    rms = (r_norm / math.sqrt(y.numel())).item()
    opt = torch.optim.Adam([density, color], lr=p["learning_rate"] * rms, betas=(0.9, 0.999), eps=1e-8)
    residual = 0.0
    for t in range(p["steps"]):
        for group in opt.param_groups:
            group["lr"] = p["learning_rate"] * rms * (1 - t / p["steps"])
        opt.zero_grad()
        fit = ((render(density, color, grid, deltas, p["bias"], p["views"], p["size"]) - y) ** 2).mean()
        residual = (fit.detach() * y.numel()).sqrt().item() / r_norm.item()
        prior = p["smoothness"] * (squared_tv(density) + squared_tv(color))
        prior = prior + p["sparsity"] * F.softplus(density + p["bias"] - math.log(0.01)).mean()
        (fit + prior).backward()
        opt.step()
    return density.detach(), color.detach(), residual


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--problem", required=True, help="folder written by diffrep-bench solve --compare-torch")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="cpu: this process's CPU time (robust on a shared machine with one thread)")
    args = ap.parse_args()
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    torch.set_num_threads(args.threads)
    with open(os.path.join(args.problem, "problem.json")) as f:
        p = json.load(f)
    n, rays = p["resolution"], p["views"] * p["size"] ** 2
    density0 = load(args.problem, "density", (1, 1, n, n, n))
    color0 = load(args.problem, "color", (1, 3, n, n, n))
    o, d = load(args.problem, "origins", (rays, 3)), load(args.problem, "directions", (rays, 3))
    y = load(args.problem, "targets", (p["views"], 3, p["size"], p["size"]))
    grid, deltas = midpoint_samples(o, d, p["samples_per_ray"], p["half_extent"])

    solve(p, density0, color0, grid, deltas, y)                             # warm-up
    times = []
    for _ in range(args.reps):
        t0 = clock()
        density, color, residual = solve(p, density0, color0, grid, deltas, y)
        times.append((clock() - t0) * 1e3)
    density.numpy().tofile(os.path.join(args.problem, "torch_density.f32"))
    color.numpy().tofile(os.path.join(args.problem, "torch_color.f32"))
    print(json.dumps({"torch": torch.__version__, "threads": args.threads, "ms": times, "residual": residual}))


if __name__ == "__main__":
    main()
