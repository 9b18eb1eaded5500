#!/usr/bin/env python3
"""PyTorch (CPU) reference for `diffrep-bench sd`: the full-size Stable Diffusion 1.5 UNet and VAE
decoder, random weights, forward only, on the same architectures as the Swift side.

    python3 Benchmarks/sd_bench.py [--threads 1] [--reps 3] [--parts unet,vae]        # a table
    python3 Benchmarks/sd_bench.py --serve --threads 1                                 # for diffrep-bench
    python3 Benchmarks/sd_bench.py --save-pipeline /tmp/sd15-random                    # a pipeline folder

unet: diffusers' UNet2DConditionModel with the released SD 1.5 `unet/config.json` (859.5 M
      parameters), latents [2, 4, 64, 64] (batch 2: classifier-free guidance), timestep 500 for
      both items, text states [2, 77, 768]; `model(latents, t, encoder_hidden_states=…).sample`.
vae:  diffusers' AutoencoderKL with the released SD 1.5 `vae/config.json`, `vae.decode(z).sample`
      for latents [1, 4, 64, 64] → a 3×512×512 image.
The configs are read from the repository's fixtures (Tests/DiffusionTests/Fixtures/
sd_full_size_shapes.json and vae_full_size_shapes.json, made by make_sd_fixtures.py and
make_vae_fixtures.py), the same files the Swift side reads, so both build the same architectures.
Everything runs under torch.no_grad() in float32.

--serve: prints {"ready": …}, then answers each request line from stdin,
{"part": "unet" | "vae", "reps": n, "warmup": k, "clock": "thread" | "wall"}, with
{"ms": [n milliseconds], "params": count}; "thread" times this thread's CPU time (meaningful with
--threads 1). A part's model is built on its first request and kept.

--save-pipeline DIR: writes a diffusers `StableDiffusionPipeline` folder with random full-size
weights (float32, ~4.3 GB): the SD 1.5 UNet and VAE, a CLIP ViT-L/14-sized text encoder (hidden 768,
12 layers, 12 heads, vocab_size 49408) and a made-up small tokenizer (the 2,014-token BPE vocabulary
of Tests/TokenizersTests/Fixtures/sd1; no hub is reachable), with SD 1.5's PNDM scheduler config.
`diffrep sample --model DIR --prompt …` then runs the full-size pipeline. Delete DIR when done.
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import time

from bench_support import request_clock, times_ms
import torch
import diffusers
from diffusers import AutoencoderKL, UNet2DConditionModel

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "DiffusionTests", "Fixtures")
VOCAB = os.path.join(ROOT, "Tests", "TokenizersTests", "Fixtures", "sd1")


def released_config(file, key):
    """A released SD config as the fixture script wrote it out, without diffusers' private keys."""
    with open(os.path.join(FIXTURES, file)) as f:
        config = json.load(f)[key]["config"]
    return {k: v for k, v in config.items() if not k.startswith("_")}


UNET_CONFIG = released_config("sd_full_size_shapes.json", "unet_sd15")
VAE_CONFIG = released_config("vae_full_size_shapes.json", "vae_sd15")
TEXT_CONFIG = released_config("sd_full_size_shapes.json", "text_sd15")


def build(part):
    """(parameter count, forward) of one part, random weights (diffusers' own initialisation)."""
    torch.manual_seed(0)
    if part == "unet":
        model = UNet2DConditionModel(**UNET_CONFIG).float().eval()
        x = torch.randn(2, 4, 64, 64)
        t = torch.tensor([500, 500])
        states = torch.randn(2, 77, 768)

        def forward():
            with torch.no_grad():
                model(x, t, encoder_hidden_states=states).sample
    elif part == "vae":
        model = AutoencoderKL(**VAE_CONFIG).float().eval()
        z = torch.randn(1, 4, 64, 64)

        def forward():
            with torch.no_grad():
                model.decode(z).sample
    else:
        raise ValueError(f"unknown part '{part}' (unet, vae)")
    return sum(p.numel() for p in model.parameters()), forward


def serve():
    print(json.dumps({"ready": True, "torch": torch.__version__, "diffusers": diffusers.__version__,
                      "threads": torch.get_num_threads()}), flush=True)
    cache = {}
    for line in sys.stdin:
        req = json.loads(line)
        part = req["part"]
        if part not in cache:
            cache[part] = build(part)
        params, forward = cache[part]
        clock = request_clock(req)
        ms = times_ms(forward, int(req.get("reps", 1)), int(req.get("warmup", 0)), clock)
        print(json.dumps({"ms": ms, "params": params}), flush=True)


def save_pipeline(out_dir):
    from diffusers import PNDMScheduler, StableDiffusionPipeline
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(0)
    tokenizer = CLIPTokenizer(os.path.join(VOCAB, "vocab.json"), os.path.join(VOCAB, "merges.txt"), model_max_length=77)
    text_config = {k: v for k, v in TEXT_CONFIG.items() if k not in ("architectures", "torch_dtype", "transformers_version")}
    text_config.update(bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                       pad_token_id=tokenizer.pad_token_id)
    text = CLIPTextModel(CLIPTextConfig(**text_config)).eval()
    unet = UNet2DConditionModel(**UNET_CONFIG).eval()
    vae = AutoencoderKL(**VAE_CONFIG).eval()
    # the released SD 1.5 scheduler/scheduler_config.json
    scheduler = PNDMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
                              set_alpha_to_one=False, skip_prk_steps=True, steps_offset=1, trained_betas=None)
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text, tokenizer=tokenizer, unet=unet, scheduler=scheduler,
                                   safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    shutil.rmtree(out_dir, ignore_errors=True)
    pipe.save_pretrained(out_dir)
    # as the released SD folders ship the tokenizer: vocab.json + merges.txt
    tokenizer_json = os.path.join(out_dir, "tokenizer", "tokenizer.json")
    if os.path.exists(tokenizer_json):
        os.remove(tokenizer_json)
    for f in ("vocab.json", "merges.txt"):
        shutil.copy(os.path.join(VOCAB, f), os.path.join(out_dir, "tokenizer"))
    total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(out_dir) for f in fs)
    print(f"wrote {out_dir} ({total / 1e9:.2f} GB)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--parts", default="unet,vae", help="comma-separated: unet, vae")
    ap.add_argument("--serve", action="store_true", help="answer requests from stdin (see above)")
    ap.add_argument("--save-pipeline", metavar="DIR", help="write a random-weight full-size pipeline folder")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.save_pipeline:
        save_pipeline(args.save_pipeline)
        return
    if args.serve:
        serve()
        return
    print(f"PyTorch {torch.__version__} + diffusers {diffusers.__version__} on the CPU, {args.threads} thread(s), "
          f"median of {args.reps} after one warm-up")
    for part in args.parts.split(","):
        params, forward = build(part)
        ms = times_ms(forward, args.reps, 1, time.perf_counter)
        print(f"{part:<6}{params / 1e6:>9.1f}M{statistics.median(ms):>12.1f} ms")


if __name__ == "__main__":
    main()
