"""Makes the Stable Diffusion part fixtures: CLIP text encoders and conditional UNets
(run once; the Swift tests never need Python).

Tiny random-weight configurations that differ from each other the way SD 1.x and SD 2.x do:

  clip_quick_gelu/   CLIPTextModel, hidden_act quick_gelu (SD 1.x), weights F32
  clip_gelu/         CLIPTextModel, hidden_act gelu (SD 2.x), weights BF16
      config.json + model.safetensors       (transformers' own save_pretrained)
      io.safetensors: input_ids (as floats) and last_hidden_state, for a full-length
                      batch (`ids_full`, `hidden_full`) and a short one (`ids_short`, `hidden_short`)

  sd_unet_sd1/       UNet2DConditionModel, conv projection, one head count, ε-prediction, F32
  sd_unet_sd2/       UNet2DConditionModel, linear projection, attention_head_dim list,
                     transformer_layers_per_block list, upcast_attention, v-prediction, F16
      config.json + diffusion_pytorch_model.safetensors   (diffusers' own save_pretrained)
      scheduler_config.json                                (DDIMScheduler, its prediction_type)
      io.safetensors: sample, timesteps, encoder_hidden_states, output, the upstream gradient
                      `u` of sum(out * u), d/d sample, d/d encoder_hidden_states and d/d a few
                      weights (names in the metadata); for one timestep t = 500 and latents
                      `xt_500` also the scheduler's pred_original_sample `x0_500`.

  sd_full_size_shapes.json: the configs of the released SD 1.5 and SD 2.1 `unet/` and
                     `text_encoder/` folders (written out below) and every parameter's name and
                     shape as diffusers/transformers build them (on the meta device: no memory)

Weights stored in F16/BF16 are rounded to that type first, so the float32 reference outputs are
exactly what the stored weights compute.

Usage: python3 make_sd_fixtures.py [--shapes-only]   (torch + diffusers + transformers + safetensors)
"""
import json, os, sys
import torch
from diffusers import UNet2DConditionModel, DDIMScheduler
from transformers import CLIPTextConfig, CLIPTextModel
from safetensors.torch import save_file

from fixture_support import randomise, write_full_size_shapes

HERE = os.path.dirname(os.path.abspath(__file__))

CLIP_CONFIGS = {
    "quick_gelu": (dict(vocab_size=99, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                        num_attention_heads=4, max_position_embeddings=16, hidden_act="quick_gelu",
                        layer_norm_eps=1e-5, bos_token_id=97, eos_token_id=98, pad_token_id=98),
                   torch.float32),
    "gelu": (dict(vocab_size=113, hidden_size=40, intermediate_size=56, num_hidden_layers=3,
                  num_attention_heads=5, max_position_embeddings=12, hidden_act="gelu",
                  layer_norm_eps=1e-6, bos_token_id=111, eos_token_id=112, pad_token_id=0),
             torch.bfloat16),
}

UNET_CONFIGS = {
    # SD 1.x: conv proj_in/proj_out, attention_head_dim an int (= heads in every block).
    "sd1": (dict(sample_size=8, in_channels=4, out_channels=4, block_out_channels=(8, 16),
                 layers_per_block=1, down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                 up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), norm_num_groups=4,
                 cross_attention_dim=12, attention_head_dim=2),
            "epsilon", torch.float32),
    # SD 2.x: linear proj_in/proj_out, a per-block head count list, upcast attention, three
    # levels, per-block transformer depths and layer counts.
    "sd2": (dict(sample_size=8, in_channels=4, out_channels=4, block_out_channels=(8, 16, 16),
                 layers_per_block=(1, 2, 1),
                 down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
                 up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
                 norm_num_groups=4, cross_attention_dim=20, attention_head_dim=(2, 4, 4),
                 transformer_layers_per_block=(1, 2, 1),
                 use_linear_projection=True, upcast_attention=True, flip_sin_to_cos=True, freq_shift=0),
            "v_prediction", torch.float16),
}

GRAD_WEIGHTS = ["conv_in.weight",
                "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight",
                "down_blocks.0.attentions.0.proj_in.weight",
                "mid_block.attentions.0.transformer_blocks.0.ff.net.0.proj.weight",
                "up_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q.weight"]


def make_clip(name, cfg, dtype):
    torch.manual_seed(0)
    model = CLIPTextModel(CLIPTextConfig(**cfg)).eval()
    randomise(model, dtype, embedding_scale=1.0)
    out_dir = os.path.join(HERE, f"clip_{name}")
    model.to(dtype).save_pretrained(out_dir)
    model.float()
    g = torch.Generator().manual_seed(2)
    full = torch.randint(0, cfg["vocab_size"], (3, cfg["max_position_embeddings"]), generator=g)
    short = torch.randint(0, cfg["vocab_size"], (2, 5), generator=g)
    with torch.no_grad():
        hf = model(input_ids=full).last_hidden_state
        hs = model(input_ids=short).last_hidden_state
    save_file({"ids_full": full.float(), "hidden_full": hf.contiguous(),
               "ids_short": short.float(), "hidden_short": hs.contiguous()},
              os.path.join(out_dir, "io.safetensors"))
    print(f"clip_{name}", sum(p.numel() for p in model.parameters()), "parameters; hidden std", float(hf.std()))


def make_unet(name, cfg, prediction, dtype):
    torch.manual_seed(0)
    model = UNet2DConditionModel(**cfg).eval()
    randomise(model, dtype, embedding_scale=1.0)
    out_dir = os.path.join(HERE, f"sd_unet_{name}")
    model.to(dtype).save_pretrained(out_dir, safe_serialization=True)
    model.float()
    scheduler = DDIMScheduler(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012,
                              prediction_type=prediction, clip_sample=False, set_alpha_to_one=False,
                              steps_offset=1)
    scheduler.save_config(out_dir)

    g = torch.Generator().manual_seed(1)
    B, L = 2, 7
    x = torch.randn(B, cfg["in_channels"], cfg["sample_size"], cfg["sample_size"], generator=g).requires_grad_(True)
    ctx = torch.randn(B, L, cfg["cross_attention_dim"], generator=g).requires_grad_(True)
    t = torch.tensor([17.0, 613.5])
    out = model(x, t, encoder_hidden_states=ctx).sample
    u = torch.randn(out.shape, generator=g)
    params = dict(model.named_parameters())
    weights = [w for w in GRAD_WEIGHTS if w in params]
    grads = torch.autograd.grad((out * u).sum(), [x, ctx] + [params[w] for w in weights])
    tensors = {"sample": x.detach(), "timesteps": t, "encoder_hidden_states": ctx.detach(),
               "output": out.detach(), "u": u, "grad.sample": grads[0], "grad.encoder_hidden_states": grads[1]}
    for w, gw in zip(weights, grads[2:]):
        tensors["grad." + w] = gw

    # One denoising estimate through the scheduler's own formula (what DDPMDenoiser must match).
    xt = torch.randn(B, cfg["in_channels"], cfg["sample_size"], cfg["sample_size"], generator=g)
    with torch.no_grad():
        pred = model(xt, 500, encoder_hidden_states=ctx.detach()).sample
    abar = scheduler.alphas_cumprod[500]
    if prediction == "epsilon":
        x0 = (xt - (1 - abar).sqrt() * pred) / abar.sqrt()
    else:
        x0 = abar.sqrt() * xt - (1 - abar).sqrt() * pred
    tensors["xt_500"] = xt
    tensors["x0_500"] = x0
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(out_dir, "io.safetensors"),
              metadata={"grad_weights": json.dumps(weights)})
    print(f"sd_unet_{name}", sum(p.numel() for p in model.parameters()), "parameters; output std",
          float(out.std()))


# The released configurations (stable-diffusion-v1-5 and stable-diffusion-2-1, as their folders ship them).
SD15_UNET = {"_class_name": "UNet2DConditionModel", "_diffusers_version": "0.6.0", "act_fn": "silu",
             "attention_head_dim": 8, "block_out_channels": [320, 640, 1280, 1280], "center_input_sample": False,
             "cross_attention_dim": 768,
             "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
             "downsample_padding": 1, "flip_sin_to_cos": True, "freq_shift": 0, "in_channels": 4, "layers_per_block": 2,
             "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": 32, "out_channels": 4, "sample_size": 64,
             "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]}
SD21_UNET = dict(SD15_UNET, _diffusers_version="0.10.0.dev0", attention_head_dim=[5, 10, 20, 20],
                 cross_attention_dim=1024, dual_cross_attention=False, num_class_embeds=None,
                 only_cross_attention=False, sample_size=96, upcast_attention=True, use_linear_projection=True)
SD15_TEXT = {"_name_or_path": "openai/clip-vit-large-patch14", "architectures": ["CLIPTextModel"],
             "attention_dropout": 0.0, "bos_token_id": 0, "dropout": 0.0, "eos_token_id": 2, "hidden_act": "quick_gelu",
             "hidden_size": 768, "initializer_factor": 1.0, "initializer_range": 0.02, "intermediate_size": 3072,
             "layer_norm_eps": 1e-05, "max_position_embeddings": 77, "model_type": "clip_text_model",
             "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 1, "projection_dim": 768,
             "torch_dtype": "float32", "transformers_version": "4.22.0.dev0", "vocab_size": 49408}
SD21_TEXT = dict(SD15_TEXT, _name_or_path="hf-models/stable-diffusion-v2-768x768/text_encoder", hidden_act="gelu",
                 hidden_size=1024, intermediate_size=4096, num_attention_heads=16, num_hidden_layers=23,
                 projection_dim=512, transformers_version="4.25.0.dev0")


def clip_from_config(cfg):
    """transformers' CLIPTextModel for a saved text_encoder/config.json."""
    kwargs = {k: v for k, v in cfg.items()
              if not k.startswith("_") and k not in ("architectures", "model_type", "transformers_version", "torch_dtype")}
    return CLIPTextModel(CLIPTextConfig(**kwargs))


def make_full_size_shapes():
    builders = {}
    for name, cfg in [("sd15", SD15_UNET), ("sd21", SD21_UNET)]:
        builders["unet_" + name] = (cfg, lambda cfg=cfg: UNet2DConditionModel.from_config(cfg))
    for name, cfg in [("sd15", SD15_TEXT), ("sd21", SD21_TEXT)]:
        builders["text_" + name] = (cfg, lambda cfg=cfg: clip_from_config(cfg))
    write_full_size_shapes(os.path.join(HERE, "sd_full_size_shapes.json"), builders)


def main():
    make_full_size_shapes()
    if "--shapes-only" in sys.argv:
        return
    for name, (cfg, dtype) in CLIP_CONFIGS.items():
        make_clip(name, cfg, dtype)
    for name, (cfg, prediction, dtype) in UNET_CONFIGS.items():
        make_unet(name, cfg, prediction, dtype)


if __name__ == "__main__":
    main()
