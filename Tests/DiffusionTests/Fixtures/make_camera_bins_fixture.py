"""Makes the camera-bins UNet parity fixture (run once; the Swift tests never need Python).

A camera-bins model is a plain diffusers UNet2DModel whose class label carries the view:
num_class_embeds = classes * (K + 1) with K = azimuth_bins * elevation_bins, and
    label = class_label * (K + 1) + bin(camera)        (bin K = no camera)
where, for the camera's unit direction d (scene centre -> camera, y up),
    azimuth   = atan2(d.x, d.z) in [0, 2pi)      -> a = round(azimuth / 2pi * azimuth_bins) mod azimuth_bins
    elevation = asin(d.y) in degrees             -> e = clamp(floor((elev - min) / (max - min) * elevation_bins), 0, elevation_bins - 1)
    bin = a * elevation_bins + e
The bins are kept in config.json under "_diffrep_camera_bins" (diffusers ignores "_" keys).
Saves, under unet_camera_bins/: config.json + weights, and io.safetensors with sample, directions
(a zero row = no camera), class labels, timesteps, the rows computed here, and diffusers' output
unet(sample, t, class_labels=rows).sample from the reloaded folder.
Usage: python3 make_camera_bins_fixture.py   (torch + diffusers + safetensors installed)
"""
import json
import math
import os
import torch
from diffusers import UNet2DModel
from safetensors.torch import save_file

from fixture_support import randomise

HERE = os.path.dirname(os.path.abspath(__file__))
BINS = {"azimuth_bins": 4, "elevation_bins": 2, "elevation_min_degrees": -10.0, "elevation_max_degrees": 45.0}
CLASSES = 3


def row(class_label, d):
    k = BINS["azimuth_bins"] * BINS["elevation_bins"]
    if d is None:
        return class_label * (k + 1) + k
    az = math.atan2(d[0], d[2]) % (2 * math.pi)
    a = int(round(az / (2 * math.pi) * BINS["azimuth_bins"])) % BINS["azimuth_bins"]
    el = math.degrees(math.asin(max(-1.0, min(1.0, d[1]))))
    u = (el - BINS["elevation_min_degrees"]) / (BINS["elevation_max_degrees"] - BINS["elevation_min_degrees"])
    e = min(max(int(math.floor(u * BINS["elevation_bins"])), 0), BINS["elevation_bins"] - 1)
    return class_label * (k + 1) + a * BINS["elevation_bins"] + e


def main():
    torch.manual_seed(0)
    k = BINS["azimuth_bins"] * BINS["elevation_bins"]
    cfg = dict(sample_size=8, in_channels=3, out_channels=3, block_out_channels=(8, 16),
               layers_per_block=1, down_block_types=("DownBlock2D", "AttnDownBlock2D"),
               up_block_types=("AttnUpBlock2D", "UpBlock2D"), norm_num_groups=4,
               attention_head_dim=4, num_class_embeds=CLASSES * (k + 1))
    model = UNet2DModel(**cfg).eval()
    randomise(model)
    out_dir = os.path.join(HERE, "unet_camera_bins")
    model.save_pretrained(out_dir, safe_serialization=True)
    config_path = os.path.join(out_dir, "config.json")
    with open(config_path) as f:
        config = json.load(f)
    config["_diffrep_camera_bins"] = BINS
    with open(config_path, "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    model = UNet2DModel.from_pretrained(out_dir).eval()      # diffusers loads the folder as saved

    g = torch.Generator().manual_seed(1)
    n = 5
    x = torch.randn(n, 3, 8, 8, generator=g)
    d = torch.randn(n, 3, generator=g)
    d = d / d.norm(dim=1, keepdim=True)
    d[4] = 0                                   # the last item has no camera
    labels = torch.tensor([2, 0, 1, 1, 2])
    t = torch.tensor([17.0, 613.5, 250.0, 999.0, 40.0])
    rows = torch.tensor([row(int(c), None if float(v.norm()) == 0 else v.tolist()) for c, v in zip(labels, d)])
    with torch.no_grad():
        out = model(x, t, class_labels=rows).sample
    save_file({"sample": x.contiguous(), "directions": d.contiguous(), "timesteps": t,
               "class_labels": labels.float(), "rows": rows.float(), "output": out.contiguous()},
              os.path.join(out_dir, "io.safetensors"))
    print("wrote", out_dir, "rows", rows.tolist(), "output scale", out.abs().max().item())


if __name__ == "__main__":
    main()
