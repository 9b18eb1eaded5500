"""Reference schedules from diffusers for ScheduleTests (run once; the tests never need Python).

Writes schedules.json: for each config, diffusers' DDPMScheduler.alphas_cumprod (float32, as
diffusers computes it) and DDIMScheduler.set_timesteps(n).timesteps for a few n; and each
config saved by diffusers itself as schedulers/<name>/scheduler_config.json.

    python3 make_schedule_fixtures.py      # diffusers 0.42, torch 2.x
"""
import json
import os

import diffusers
from diffusers import DDIMScheduler, DDPMScheduler

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIGS = {
    # google/ddpm-cifar10-32's scheduler
    "linear": dict(num_train_timesteps=1000, beta_start=0.0001, beta_end=0.02, beta_schedule="linear"),
    # Stable Diffusion's (scaled linear, steps_offset 1, v-prediction as in SD 2.x)
    "scaled_linear": dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012,
                          beta_schedule="scaled_linear", steps_offset=1, prediction_type="v_prediction"),
    # the cosine schedule, fewer training steps, trailing spacing
    "squaredcos_cap_v2": dict(num_train_timesteps=500, beta_schedule="squaredcos_cap_v2",
                              timestep_spacing="trailing", prediction_type="sample"),
    "linspace": dict(num_train_timesteps=1000, beta_start=0.0001, beta_end=0.02, beta_schedule="linear",
                     timestep_spacing="linspace"),
}
STEPS = [1, 7, 10, 50, 100]

out = {"diffusers_version": diffusers.__version__, "schedules": {}}
for name, cfg in CONFIGS.items():
    ddpm = DDPMScheduler(**cfg)
    ddim = DDIMScheduler(**cfg)
    timesteps = {}
    for n in STEPS:
        ddim.set_timesteps(n)
        timesteps[str(n)] = [int(t) for t in ddim.timesteps]
    out["schedules"][name] = {
        "config": cfg,
        "alphas_cumprod": [float(a) for a in ddpm.alphas_cumprod],
        "ddim_timesteps": timesteps,
    }
    folder = os.path.join(HERE, "schedulers", name)
    os.makedirs(folder, exist_ok=True)
    ddim.save_config(folder)

with open(os.path.join(HERE, "schedules.json"), "w") as f:
    json.dump(out, f)
