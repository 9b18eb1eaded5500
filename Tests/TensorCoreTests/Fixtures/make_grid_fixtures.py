"""Reference fixtures for TensorCore's gridSample2D / gridSample3D (GridSampleTests.swift).

Run once from the repository root (needs torch; the tests themselves never do):
    python3 Tests/TensorCoreTests/Fixtures/make_grid_fixtures.py
Writes grid_2d.json and grid_3d.json next to this script. Each case holds the input, the
grid, torch.nn.functional.grid_sample's output (bilinear), and for a random output gradient
the gradients to input and grid. Values are float32 numbers; the reference is computed in
float64 from them. wrapX (periodic width) has no torch flag: it is emulated by circularly
padding the width by 2 and moving the x coordinates onto the padded image.
"""
import json
import os

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def unnormalize(g, size, align):
    return (g + 1) / 2 * (size - 1) if align else ((g + 1) * size - 1) / 2


def normalize(p, size, align):
    return 2 * p / (size - 1) - 1 if align else (2 * p + 1) / size - 1


def reference(inp, grid, align, padding, wrap):
    """grid_sample in float64; with wrap, on a circularly padded copy (gradients flow back)."""
    if not wrap:
        return F.grid_sample(inp, grid, mode="bilinear", padding_mode=padding, align_corners=align)
    width = inp.shape[-1]
    pad = 2
    spatial = inp.dim() - 2
    padded = F.pad(inp, [pad, pad] + [0, 0] * (spatial - 1), mode="circular")
    x = normalize(unnormalize(grid[..., 0], width, align) + pad, width + 2 * pad, align)
    moved = torch.cat([x.unsqueeze(-1), grid[..., 1:]], dim=-1)
    return F.grid_sample(padded, moved, mode="bilinear", padding_mode=padding, align_corners=align)


def case(name, gen, in_shape, grid_shape, align, padding, wrap, lo=-1.2, hi=1.2):
    inp32 = torch.randn(in_shape, generator=gen, dtype=torch.float32)
    grid32 = (torch.rand(grid_shape, generator=gen, dtype=torch.float32) * (hi - lo) + lo)
    inp = inp32.double().requires_grad_(True)
    grid = grid32.double().requires_grad_(True)
    out = reference(inp, grid, align, padding, wrap)
    gout32 = torch.randn(out.shape, generator=gen, dtype=torch.float32)
    out.backward(gout32.double())
    flat = lambda t: [float(v) for v in t.detach().reshape(-1).tolist()]
    return {
        "name": name, "alignCorners": align, "padding": padding, "wrapX": wrap,
        "inputShape": list(in_shape), "input": flat(inp32),
        "gridShape": list(grid_shape), "grid": flat(grid32),
        "outputShape": list(out.shape), "output": flat(out),
        "gradOutput": flat(gout32), "gradInput": flat(inp.grad), "gradGrid": flat(grid.grad),
    }


def main():
    gen = torch.Generator().manual_seed(20241206)
    cases2d = []
    for align in (False, True):
        for padding in ("zeros", "border"):
            cases2d.append(case(f"2d align={align} {padding}", gen, (2, 3, 4, 5), (2, 3, 4, 2), align, padding, False))
    cases2d.append(case("2d wrap align=False zeros", gen, (2, 3, 4, 5), (2, 3, 4, 2), False, "zeros", True, -1.3, 1.3))
    cases2d.append(case("2d wrap align=True border", gen, (1, 2, 3, 6), (1, 4, 5, 2), True, "border", True, -1.3, 1.3))
    cases3d = [
        case("3d align=False zeros", gen, (2, 2, 3, 4, 5), (2, 2, 3, 2, 3), False, "zeros", False),
        case("3d align=True border", gen, (2, 2, 3, 4, 5), (2, 2, 3, 2, 3), True, "border", False),
        case("3d align=True zeros", gen, (1, 3, 4, 3, 5), (1, 3, 2, 4, 3), True, "zeros", False),
        case("3d wrap align=False border", gen, (1, 2, 3, 4, 5), (1, 2, 3, 4, 3), False, "border", True, -1.3, 1.3),
    ]
    for name, cases in (("grid_2d.json", cases2d), ("grid_3d.json", cases3d)):
        with open(os.path.join(HERE, name), "w") as f:
            json.dump({"torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
        print(name, os.path.getsize(os.path.join(HERE, name)), "bytes")


if __name__ == "__main__":
    main()
