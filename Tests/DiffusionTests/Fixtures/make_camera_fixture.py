"""Makes the camera-aware UNet parity fixture (run once; the Swift tests never need Python).

A camera-aware model is a plain diffusers UNet2DModel with in_channels = out_channels + 3: the
camera's unit direction (x, y, z), from the scene centre toward the camera, enters as three
constant planes concatenated after the image channels (zeros = no camera). Saves, under
unet_camera/:
  config.json + diffusion_pytorch_model.safetensors   (diffusers' own save_pretrained)
  io.safetensors: sample [B,3,H,W], directions [B,3] (a zero row = no camera), timesteps,
                  class_labels, and the output of
                  unet(cat([sample, planes(directions)], 1), timesteps, class_labels).sample
Usage: python3 make_camera_fixture.py   (torch + diffusers + safetensors installed)
"""
import os
import torch
from diffusers import UNet2DModel
from safetensors.torch import save_file

from fixture_support import randomise

HERE = os.path.dirname(os.path.abspath(__file__))


def planes(directions, h, w):
    return directions.view(-1, 3, 1, 1).expand(-1, 3, h, w)


def main():
    torch.manual_seed(0)
    cfg = dict(sample_size=8, in_channels=6, out_channels=3, block_out_channels=(8, 16),
               layers_per_block=1, down_block_types=("DownBlock2D", "AttnDownBlock2D"),
               up_block_types=("AttnUpBlock2D", "UpBlock2D"), norm_num_groups=4,
               attention_head_dim=4, num_class_embeds=3)
    model = UNet2DModel(**cfg).eval()
    randomise(model)
    out_dir = os.path.join(HERE, "unet_camera")
    model.save_pretrained(out_dir, safe_serialization=True)

    g = torch.Generator().manual_seed(1)
    x = torch.randn(3, 3, 8, 8, generator=g)
    d = torch.randn(3, 3, generator=g)
    d = d / d.norm(dim=1, keepdim=True)
    d[2] = 0                                   # the third item has no camera
    t = torch.tensor([17.0, 613.5, 250.0])
    labels = torch.tensor([2, 0, 1])
    with torch.no_grad():
        out = model(torch.cat([x, planes(d, 8, 8)], 1), t, class_labels=labels).sample
    save_file({"sample": x.contiguous(), "directions": d.contiguous(), "timesteps": t,
               "class_labels": labels.float(), "output": out.contiguous()},
              os.path.join(out_dir, "io.safetensors"))
    print("wrote", out_dir, "output scale", out.abs().max().item())


if __name__ == "__main__":
    main()
