"""Makes the UNet2D parity fixtures (run once; the Swift tests never need Python).

For each small configuration below it saves, under unet_<name>/:
  config.json + diffusion_pytorch_model.safetensors   (diffusers' own save_pretrained)
  io.safetensors: inputs (sample, timesteps, class_labels), the output, the upstream
                  gradient `u` of the scalar loss sum(out * u), and d loss / d input and
                  d loss / d a few weights (names listed in the metadata).
Usage: python3 make_unet_fixtures.py   (torch + diffusers + safetensors installed)
"""
import json, os
import torch
from diffusers import UNet2DModel
from safetensors.torch import save_file

from fixture_support import randomise

HERE = os.path.dirname(os.path.abspath(__file__))

CONFIGS = {
    # Every block type, mid attention, class embedding, attention_head_dim set.
    "small": dict(sample_size=8, in_channels=3, out_channels=3, block_out_channels=(8, 16),
                  layers_per_block=1, down_block_types=("DownBlock2D", "AttnDownBlock2D"),
                  up_block_types=("AttnUpBlock2D", "UpBlock2D"), norm_num_groups=4,
                  attention_head_dim=4, num_class_embeds=3),
    # cifar10-style: head dim None (one head), downsample_padding 0, flip_sin_to_cos False,
    # freq_shift 1, centered input, two layers per block, three levels.
    "cifarlike": dict(sample_size=8, in_channels=3, out_channels=3, block_out_channels=(8, 16, 16),
                      layers_per_block=2,
                      down_block_types=("DownBlock2D", "AttnDownBlock2D", "DownBlock2D"),
                      up_block_types=("UpBlock2D", "AttnUpBlock2D", "UpBlock2D"),
                      norm_num_groups=4, attention_head_dim=None, downsample_padding=0,
                      flip_sin_to_cos=False, freq_shift=1, center_input_sample=True),
}

GRAD_WEIGHTS = ["conv_in.weight", "mid_block.attentions.0.to_q.weight",
                "down_blocks.1.attentions.0.to_k.weight", "up_blocks.0.resnets.0.conv1.weight",
                "time_embedding.linear_1.weight"]


def main():
    for name, cfg in CONFIGS.items():
        torch.manual_seed(0)
        model = UNet2DModel(**cfg).eval()
        randomise(model)
        out_dir = os.path.join(HERE, f"unet_{name}")
        model.save_pretrained(out_dir, safe_serialization=True)

        g = torch.Generator().manual_seed(1)
        B = 2
        x = torch.randn(B, cfg["in_channels"], cfg["sample_size"], cfg["sample_size"], generator=g)
        x.requires_grad_(True)
        t = torch.tensor([17.0, 613.5])
        labels = torch.tensor([2, 0]) if cfg.get("num_class_embeds") else None
        out = model(x, t, class_labels=labels).sample
        u = torch.randn(out.shape, generator=g)
        loss = (out * u).sum()
        params = dict(model.named_parameters())
        weights = [w for w in GRAD_WEIGHTS if w in params]
        grads = torch.autograd.grad(loss, [x] + [params[w] for w in weights])
        tensors = {"sample": x.detach(), "timesteps": t, "output": out.detach(), "u": u,
                   "grad.sample": grads[0]}
        for w, gw in zip(weights, grads[1:]):
            tensors["grad." + w] = gw
        if labels is not None:
            tensors["class_labels"] = labels.float()
        save_file({k: v.contiguous() for k, v in tensors.items()},
                  os.path.join(out_dir, "io.safetensors"),
                  metadata={"grad_weights": json.dumps(weights)})
        print(name, sum(p.numel() for p in model.parameters()), "parameters; output std",
              float(out.std()))


if __name__ == "__main__":
    main()
