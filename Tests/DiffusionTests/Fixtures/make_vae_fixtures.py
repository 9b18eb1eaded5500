"""Makes the Stable Diffusion VAE fixtures: two tiny random-weight diffusers `AutoencoderKL`s
(run once; the Swift tests never need Python).

  vae_sd1/   block_out_channels (8, 16), 1 layer per block, 4 groups, quant convs,
             scaling_factor 0.18215, weights F32; images [2, 3, 16, 24]
  vae_sdxl/  block_out_channels (8, 16, 16), 2 layers per block, 8 groups, no quant convs,
             scaling_factor 0.13025, shift_factor 0.0609, weights F16; images [1, 3, 16, 16]
      config.json + diffusion_pytorch_model.safetensors   (diffusers' own save_pretrained)
      io.safetensors: `image`, encoder posterior `mean` and `logvar`, `noise` and the posterior
                      sample `sample` = mean + exp(logvar / 2)·noise; `latents` (random) and
                      `decoded` = vae.decode(latents); the upstream gradient `u` of
                      sum(decoded · u) and its gradients `grad.latents`, `grad.<weight>`
                      (names in the metadata)

  vae_full_size_shapes.json: the configs of the released SD 1.5 and SDXL `vae/` folders (written
             out below) and every parameter's name and shape as diffusers builds them (on the
             meta device: no memory)

Weights stored in F16 are rounded to that type first, so the float32 reference outputs are
exactly what the stored weights compute.

Usage: python3 make_vae_fixtures.py [--shapes-only]   (torch + diffusers + safetensors)
"""
import json, os, sys
import torch
from diffusers import AutoencoderKL
from safetensors.torch import save_file

from fixture_support import randomise, write_full_size_shapes

HERE = os.path.dirname(os.path.abspath(__file__))

VAE_CONFIGS = {
    "sd1": (dict(in_channels=3, out_channels=3, block_out_channels=(8, 16), layers_per_block=1,
                 down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                 latent_channels=4, norm_num_groups=4, sample_size=16, scaling_factor=0.18215),
            torch.float32, (2, 3, 16, 24)),
    "sdxl": (dict(in_channels=3, out_channels=3, block_out_channels=(8, 16, 16), layers_per_block=2,
                  down_block_types=("DownEncoderBlock2D",) * 3, up_block_types=("UpDecoderBlock2D",) * 3,
                  latent_channels=4, norm_num_groups=8, sample_size=16, scaling_factor=0.13025,
                  shift_factor=0.0609, use_quant_conv=False, use_post_quant_conv=False),
             torch.float16, (1, 3, 16, 16)),
}

GRAD_WEIGHTS = ["decoder.conv_in.weight", "decoder.mid_block.attentions.0.to_q.weight",
                "decoder.up_blocks.0.resnets.0.conv1.weight", "post_quant_conv.weight",
                "decoder.conv_out.bias"]


def make_vae(name, cfg, dtype, image_shape):
    torch.manual_seed(0)
    model = AutoencoderKL(**cfg).eval()
    randomise(model, dtype)
    out_dir = os.path.join(HERE, f"vae_{name}")
    model.to(dtype).save_pretrained(out_dir, safe_serialization=True)
    model.float()

    g = torch.Generator().manual_seed(3)
    image = torch.rand(image_shape, generator=g) * 2 - 1
    with torch.no_grad():
        posterior = model.encode(image).latent_dist
    noise = torch.randn(posterior.mean.shape, generator=g)
    sample = posterior.mean + posterior.std * noise
    latents = torch.randn(posterior.mean.shape, generator=g).requires_grad_(True)
    decoded = model.decode(latents).sample
    u = torch.randn(decoded.shape, generator=g)
    params = dict(model.named_parameters())
    weights = [w for w in GRAD_WEIGHTS if w in params]
    grads = torch.autograd.grad((decoded * u).sum(), [latents] + [params[w] for w in weights])
    tensors = {"image": image, "mean": posterior.mean, "logvar": posterior.logvar, "noise": noise,
               "sample": sample, "latents": latents.detach(), "decoded": decoded.detach(), "u": u,
               "grad.latents": grads[0]}
    for w, gw in zip(weights, grads[1:]):
        tensors["grad." + w] = gw
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(out_dir, "io.safetensors"),
              metadata={"grad_weights": json.dumps(weights)})
    print(f"vae_{name}", sum(p.numel() for p in model.parameters()), "parameters; decoded std",
          float(decoded.detach().std()), "mean std", float(posterior.mean.std()))


# The released configurations (stable-diffusion-v1-5's and stable-diffusion-xl-base-1.0's `vae/`).
SD15_VAE = {"_class_name": "AutoencoderKL", "_diffusers_version": "0.6.0", "act_fn": "silu",
            "block_out_channels": [128, 256, 512, 512], "down_block_types": ["DownEncoderBlock2D"] * 4,
            "in_channels": 3, "latent_channels": 4, "layers_per_block": 2, "norm_num_groups": 32,
            "out_channels": 3, "sample_size": 512, "up_block_types": ["UpDecoderBlock2D"] * 4}
SDXL_VAE = dict(SD15_VAE, _diffusers_version="0.20.0.dev0", force_upcast=True, sample_size=1024,
                scaling_factor=0.13025)


def make_full_size_shapes():
    write_full_size_shapes(os.path.join(HERE, "vae_full_size_shapes.json"),
                           {"vae_" + name: (cfg, lambda cfg=cfg: AutoencoderKL.from_config(cfg))
                            for name, cfg in [("sd15", SD15_VAE), ("sdxl", SDXL_VAE)]})


def main():
    make_full_size_shapes()
    if "--shapes-only" in sys.argv:
        return
    for name, (cfg, dtype, shape) in VAE_CONFIGS.items():
        make_vae(name, cfg, dtype, shape)


if __name__ == "__main__":
    main()
