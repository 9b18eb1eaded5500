"""Helpers shared by the fixture scripts in this folder (run with torch + diffusers/transformers;
the Swift tests only read what the scripts wrote)."""

import json
import os

import torch


def randomise(model, dtype=None, embedding_scale=None, scale=0.2):
    """Every parameter random so no layer is trivially identity or zero: norm scales near 1,
    embeddings at `embedding_scale` when given, the rest at `scale`; rounded to `dtype` when
    given (what a file stored in that dtype holds)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name and name.endswith("weight"):
                p.copy_(1 + 0.2 * torch.randn_like(p))
            elif embedding_scale is not None and "embedding" in name:
                p.copy_(embedding_scale * torch.randn_like(p))
            else:
                p.copy_(scale * torch.randn_like(p))
            if dtype is not None:
                p.copy_(p.to(dtype).float())


def write_full_size_shapes(path, builders):
    """For each name → (config, build): the config and every tensor's shape of the model `build`
    makes on the meta device (no memory), as JSON at `path`; prints each model's size."""
    out = {}
    for key, (cfg, build) in builders.items():
        with torch.device("meta"):
            model = build()
        out[key] = {"config": cfg, "shapes": {k: list(v.shape) for k, v in model.state_dict().items()}}
    for k, v in out.items():
        print(k, len(v["shapes"]), "tensors,", sum(int(torch.tensor(s).prod()) for s in v["shapes"].values()), "parameters")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"), sort_keys=True)
