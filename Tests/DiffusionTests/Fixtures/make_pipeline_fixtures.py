"""Makes the Stable Diffusion *pipeline* fixtures (run once; the Swift tests never need Python).

Two tiny random-weight `StableDiffusionPipeline`s, saved by diffusers' own `save_pretrained`
(model_index.json, tokenizer/, text_encoder/, unet/, vae/, scheduler/), then run by diffusers
with a DDIMScheduler, η = 0, 4 steps, from given latents:

  sd_pipeline_sd1/   SD 1.x-like: quick_gelu text encoder, conv projection, ε-prediction, F32
                     single files; the scheduler folder holds a PNDMScheduler config (as the
                     released SD 1.5 does), which the reference run turns into a DDIMScheduler
                     (scaled_linear betas, "leading" spacing, steps_offset 1, set_alpha_to_one
                     false); prompt + negative prompt, guidance 7.5, latents [1, 4, 8, 8].
  sd_pipeline_sd2/   SD 2.x-like: gelu text encoder, linear projection, head-dim lists,
                     v-prediction, "trailing" spacing, set_alpha_to_one true; weights saved as
                     the `fp16` variant (model.fp16.safetensors, diffusion_pytorch_model.fp16…)
                     with the UNet sharded (…safetensors.index.fp16.json + 2 shards); no
                     negative prompt (the empty prompt), guidance 3, latents [1, 4, 8, 12].

Both use the CLIP BPE vocabulary of Tests/TokenizersTests/Fixtures/sd1 (2,014 tokens): sd1's
tokenizer/ holds vocab.json + merges.txt (as released SD folders do), sd2's the tokenizer.json that
transformers 5 writes.
Next to each pipeline (outside it) go:
  <name>_io.safetensors      latents (the start), prompt_embeds [2, 77, D] (negative first, as
                             diffusers batches them), per step k: t_k (timestep), eps_k (the UNet's
                             [2, 4, h, w] output: negative/unconditional first), latents_k (after
                             the step), decoded (vae.decode before clamping) and image (the
                             pipeline's output in [0, 1], [1, 3, H, W]); prompt, negative prompt,
                             guidance and steps in the metadata.
  <name>_initial_noise.safetensors   the tensor `latents` alone, for `diffrep sample --initial-noise`.
  <name>_expected.png        the pipeline's PIL output.

F16 weights are what diffusers loads (upcast to F32 with torch_dtype=float32) for the
reference, so the Swift side computes from exactly the same numbers.

Usage: python3 make_pipeline_fixtures.py   (torch + diffusers 0.42 + transformers 5 + safetensors)
"""
import json, os, shutil, tempfile
import torch
from diffusers import (AutoencoderKL, DDIMScheduler, PNDMScheduler, StableDiffusionPipeline,
                       UNet2DConditionModel)
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer
from safetensors.torch import save_file

from fixture_support import randomise

torch.set_num_threads(1)   # the same files on every run
HERE = os.path.dirname(os.path.abspath(__file__))
VOCAB = os.path.join(HERE, "..", "..", "TokenizersTests", "Fixtures", "sd1")

SD1_SCHEDULER = dict(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, num_train_timesteps=1000,
                     set_alpha_to_one=False, skip_prk_steps=True, steps_offset=1, trained_betas=None)
SD2_SCHEDULER = dict(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, num_train_timesteps=1000,
                     prediction_type="v_prediction", set_alpha_to_one=True, steps_offset=0,
                     timestep_spacing="trailing", clip_sample=False)

PIPELINES = {
    "sd1": dict(
        text=dict(hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
                  hidden_act="quick_gelu", layer_norm_eps=1e-5),
        unet=dict(sample_size=8, in_channels=4, out_channels=4, block_out_channels=(8, 16), layers_per_block=1,
                  down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                  up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), norm_num_groups=4,
                  cross_attention_dim=32, attention_head_dim=2),
        vae=dict(in_channels=3, out_channels=3, block_out_channels=(8, 16), layers_per_block=1,
                 down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                 latent_channels=4, norm_num_groups=4, sample_size=16, scaling_factor=0.18215),
        scheduler=("pndm", SD1_SCHEDULER),
        prompt="a photo of a cat", negative="blurry, low quality", guidance=7.5, latents=(1, 4, 8, 8),
        dtype=torch.float32, variant=None, unet_shard=None, vocab_files=True),
    "sd2": dict(
        text=dict(hidden_size=24, intermediate_size=40, num_hidden_layers=3, num_attention_heads=3,
                  hidden_act="gelu", layer_norm_eps=1e-5),
        unet=dict(sample_size=8, in_channels=4, out_channels=4, block_out_channels=(8, 16, 16),
                  layers_per_block=(1, 2, 1),
                  down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
                  up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
                  norm_num_groups=4, cross_attention_dim=24, attention_head_dim=(2, 4, 4),
                  transformer_layers_per_block=(1, 2, 1), use_linear_projection=True, upcast_attention=True,
                  flip_sin_to_cos=True, freq_shift=0),
        vae=dict(in_channels=3, out_channels=3, block_out_channels=(8, 16), layers_per_block=1,
                 down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                 latent_channels=4, norm_num_groups=4, sample_size=16, scaling_factor=0.18215),
        scheduler=("ddim", SD2_SCHEDULER),
        prompt="A red Box, on a TABLE!", negative=None, guidance=3.0, latents=(1, 4, 8, 12),
        dtype=torch.float16, variant="fp16", unet_shard="100KB", vocab_files=False),
}


def make(name, spec):
    torch.manual_seed(0)
    work = tempfile.mkdtemp()
    shutil.copy(os.path.join(VOCAB, "vocab.json"), work)
    shutil.copy(os.path.join(VOCAB, "merges.txt"), work)
    tokenizer = CLIPTokenizer(os.path.join(work, "vocab.json"), os.path.join(work, "merges.txt"),
                              model_max_length=77)
    text = CLIPTextModel(CLIPTextConfig(vocab_size=len(tokenizer), max_position_embeddings=77,
                                        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                                        pad_token_id=tokenizer.pad_token_id, **spec["text"])).eval()
    randomise(text, embedding_scale=1.0, scale=0.2)
    unet = UNet2DConditionModel(**spec["unet"]).eval()
    randomise(unet, embedding_scale=1.0, scale=0.1)
    vae = AutoencoderKL(**spec["vae"]).eval()
    randomise(vae, embedding_scale=1.0, scale=0.1)
    kind, sched_cfg = spec["scheduler"]
    scheduler = PNDMScheduler(**sched_cfg) if kind == "pndm" else DDIMScheduler(**sched_cfg)
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text, tokenizer=tokenizer, unet=unet, scheduler=scheduler,
                                   safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    out_dir = os.path.join(HERE, f"sd_pipeline_{name}")
    shutil.rmtree(out_dir, ignore_errors=True)
    pipe.to(spec["dtype"]).save_pretrained(out_dir, variant=spec["variant"])
    if spec["unet_shard"]:
        shutil.rmtree(os.path.join(out_dir, "unet"))
        pipe.unet.save_pretrained(os.path.join(out_dir, "unet"), variant=spec["variant"],
                                  max_shard_size=spec["unet_shard"])
    if kind == "pndm":   # PNDMScheduler has no clip_sample, but the released SD 1.5 config says false (DDIM's default is true)
        cfg_path = os.path.join(out_dir, "scheduler", "scheduler_config.json")
        cfg = json.load(open(cfg_path))
        cfg["clip_sample"] = False
        json.dump(cfg, open(cfg_path, "w"), indent=2, sort_keys=True)
    if spec["vocab_files"]:   # as the released SD folders ship it: vocab.json + merges.txt, no tokenizer.json
        os.remove(os.path.join(out_dir, "tokenizer", "tokenizer.json"))
        for f in ("vocab.json", "merges.txt"):
            shutil.copy(os.path.join(VOCAB, f), os.path.join(out_dir, "tokenizer"))
    for root, _, files in os.walk(out_dir):
        print(" ", os.path.relpath(root, out_dir), sorted(files))

    # The reference: the saved folder as diffusers loads it, run in float32 with a DDIM scheduler.
    ref = StableDiffusionPipeline.from_pretrained(out_dir, torch_dtype=torch.float32, variant=spec["variant"],
                                                  safety_checker=None, requires_safety_checker=False)
    ref.scheduler = DDIMScheduler.from_config(ref.scheduler.config)
    ref.set_progress_bar_config(disable=True)
    g = torch.Generator().manual_seed(3)
    latents = torch.randn(spec["latents"], generator=g)
    h, w = spec["latents"][2] * ref.vae_scale_factor, spec["latents"][3] * ref.vae_scale_factor

    tensors = {"latents": latents.clone()}
    eps = []
    hook = ref.unet.register_forward_hook(lambda m, args, out: eps.append(out[0].detach().clone()))

    def on_step(p, i, t, kw):
        tensors[f"t_{i}"] = torch.tensor([float(t)])
        tensors[f"latents_{i}"] = kw["latents"].detach().clone()
        return kw

    with torch.no_grad():
        pe, ne = ref.encode_prompt(spec["prompt"], "cpu", 1, True, spec["negative"])
        tensors["prompt_embeds"] = torch.cat([ne, pe])
        result = ref(spec["prompt"], negative_prompt=spec["negative"], latents=latents, height=h, width=w,
                     num_inference_steps=4, guidance_scale=spec["guidance"], eta=0.0, output_type="latent",
                     callback_on_step_end=on_step)
        final = result.images
        decoded = ref.vae.decode(final / ref.vae.config.scaling_factor).sample
        image = ref.image_processor.postprocess(decoded, output_type="pt")
        pil = ref(spec["prompt"], negative_prompt=spec["negative"], latents=latents, height=h, width=w,
                  num_inference_steps=4, guidance_scale=spec["guidance"], eta=0.0).images[0]
    hook.remove()
    for i, e in enumerate(eps[:4]):
        tensors[f"eps_{i}"] = e
    tensors["decoded"] = decoded
    tensors["image"] = image
    meta = {"prompt": spec["prompt"], "negative_prompt": spec["negative"] or "", "guidance": str(spec["guidance"]),
            "steps": "4", "scheduler": type(ref.scheduler).__name__, "variant": spec["variant"] or ""}
    save_file({k: v.contiguous().float() for k, v in tensors.items()}, os.path.join(HERE, f"sd_pipeline_{name}_io.safetensors"),
              metadata=meta)
    save_file({"latents": latents.contiguous()}, os.path.join(HERE, f"sd_pipeline_{name}_initial_noise.safetensors"))
    pil.save(os.path.join(HERE, f"sd_pipeline_{name}_expected.png"))
    clamped = float(((decoded / 2 + 0.5) < 0).float().mean() + ((decoded / 2 + 0.5) > 1).float().mean())
    print(f"sd_pipeline_{name}: timesteps", [float(tensors[f"t_{i}"]) for i in range(4)],
          "image std", float(image.std()), "clamped fraction", clamped,
          "eps std", float(eps[0].std()), "final latents std", float(final.std()))


def main():
    for name, spec in PIPELINES.items():
        make(name, spec)


if __name__ == "__main__":
    main()
