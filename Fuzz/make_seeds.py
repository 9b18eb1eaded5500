#!/usr/bin/env python3
"""Writes the seed corpus Fuzz/corpus/<target>/: valid inputs (the test fixtures, the shipped
model's configs, checkpoints written by the fuzz targets themselves) and slightly broken
variants of them. Crashing inputs found later are added by hand as crash-<what>.

    FUZZ_WRITE_SEED=/tmp/nerf.safetensors .build-fuzz/fuzz/nerf_checkpoint -runs=1
    FUZZ_WRITE_SEED=/tmp/ckpt .build-fuzz/fuzz/training_checkpoint -runs=1 </dev/null
    python3 Fuzz/make_seeds.py /tmp/nerf.safetensors /tmp/ckpt/state.safetensors
"""
import json, os, struct, sys, zlib

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
corpus = os.path.join(root, "Fuzz", "corpus")


def put(target, name, data):
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def read(*parts):
    with open(os.path.join(root, *parts), "rb") as f:
        return f.read()


def safetensors_parts(data):
    n = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8:8 + n]), data[8 + n:]


def safetensors(header, body):
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + body


def with_metadata(data, **changes):
    header, body = safetensors_parts(data)
    meta = dict(header.get("__metadata__", {}))
    for k, v in changes.items():
        if v is None:
            meta.pop(k, None)
        else:
            meta[k] = v
    header["__metadata__"] = meta
    return safetensors(header, body)


# UNet configs
fixtures = "Tests/DiffusionTests/Fixtures"
for name in ["unet_small", "unet_cifarlike", "unet_camera", "unet_camera_bins"]:
    put("unet_config", name + ".json", read(fixtures, name, "config.json"))
for name in ["toys-unet", "toys-unet-3d"]:
    put("unet_config", name + ".json", read("Assets", name, "config.json"))
small = json.loads(read(fixtures, "unet_small", "config.json"))
for key, value in [("norm_num_groups", 0), ("attention_head_dim", -4), ("block_out_channels", [8, 16.5]),
                   ("sample_size", 7), ("layers_per_block", 1e30), ("num_class_embeds", -1),
                   ("downsample_padding", 2), ("freq_shift", 4)]:
    put("unet_config", f"bad_{key}.json", json.dumps({**small, key: value}, indent=1))
put("unet_config", "duplicate_key.json", read(fixtures, "unet_small", "config.json").replace(b'"in_channels": 3', b'"in_channels": 3, "in_channels": 4'))
put("unet_config", "truncated.json", read(fixtures, "unet_small", "config.json")[:200])
put("unet_config", "minimal.json", '{"block_out_channels":[4],"down_block_types":["DownBlock2D"],"up_block_types":["UpBlock2D"],"norm_num_groups":2,"attention_head_dim":2,"sample_size":4}')

# Scheduler configs
for name in ["linear", "linspace", "scaled_linear", "squaredcos_cap_v2"]:
    put("scheduler_config", name + ".json", read(fixtures, "schedulers", name, "scheduler_config.json"))
put("scheduler_config", "toys-unet.json", read("Assets", "toys-unet", "scheduler_config.json"))
linear = json.loads(read(fixtures, "schedulers", "linear", "scheduler_config.json"))
for key, value in [("beta_end", 0.9999), ("beta_start", 0.5), ("num_train_timesteps", 2), ("steps_offset", 999),
                   ("timestep_spacing", "trailing"), ("beta_schedule", "sigmoid"), ("trained_betas", [0.1])]:
    put("scheduler_config", f"edge_{key}.json", json.dumps({**linear, key: value}, indent=1))
put("scheduler_config", "empty_object.json", "{}")
put("scheduler_config", "escapes.json", '{"prediction_type": "\\u0065psilon", "x": [1e400, -0.0, "\\ud83d\\ude00"]}')

# safetensors
put("safetensors", "mixed_dtypes.safetensors", read("Tests/SafeTensorsTests/Fixtures", "mixed_dtypes.safetensors"))
put("safetensors", "unet_camera_io.safetensors", read(fixtures, "unet_camera", "io.safetensors"))
put("safetensors", "empty.safetensors", safetensors({}, b""))
put("safetensors", "zero_size.safetensors", safetensors({"z": {"dtype": "F32", "shape": [0, 3], "data_offsets": [0, 0]}}, b""))
put("safetensors", "overlap.safetensors", safetensors({"a": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]},
                                                       "b": {"dtype": "BF16", "shape": [2], "data_offsets": [2, 6]}}, b"\0" * 6))
put("safetensors", "header_too_long.safetensors", struct.pack("<Q", 1 << 40) + b"{}")

# PNG
for name in sorted(os.listdir(os.path.join(root, "Tests/PNGIOTests/Fixtures"))):
    if name.endswith(".png"):
        put("png_decode", name, read("Tests/PNGIOTests/Fixtures", name))
rgb8 = read("Tests/PNGIOTests/Fixtures", "rgb8.png")
put("png_decode", "truncated.png", rgb8[:60])
put("png_decode", "bad_crc.png", rgb8[:29] + bytes([rgb8[29] ^ 0xFF]) + rgb8[30:])
ihdr = b"IHDR" + struct.pack(">II", 1 << 30, 1 << 30) + rgb8[24:29]     # a valid chunk claiming 2^60 pixels
put("png_decode", "huge_header.png", rgb8[:12] + ihdr + struct.pack(">I", zlib.crc32(ihdr)) + rgb8[33:])
ihdr = b"IHDR" + struct.pack(">II", 20000, 20000) + rgb8[24:29]         # within libpng's limits, past the data
put("png_decode", "big_header.png", rgb8[:12] + ihdr + struct.pack(">I", zlib.crc32(ihdr)) + rgb8[33:])


def png(ihdr, idat):
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


# 69 bytes claiming 16000×16000 RGBA: once made the reader allocate 1 GB (ReadErrorTests).
put("png_decode", "oom-tiny-file-huge-header.png", png(struct.pack(">IIBBBBB", 16000, 16000, 8, 6, 0, 0, 0), zlib.compress(b"\0" * 100)))

# CLIP tokenizer: the first byte picks prompt (0), tokenizer.json (1), tokenizer_config.json (2),
# vocab.json + NUL + merges.txt (3); see Fuzz/clip_tokenizer.swift.
tok_fixtures = os.path.join("Tests", "TokenizersTests", "Fixtures")
for i, prompt in enumerate(["a photo of a cat", "DON'T it'ſ ΟΔΟΣ 猫の写真 👨\u200d👩 \ufeff\x00\x85", "<|startoftext|>x<|ENDOFTEXT|>!!",
                            "a " * 80, "wow!!! 3.14 caf\u00e9 cafe\u0301 \t\n\u2028"]):
    put("clip_tokenizer", f"prompt_{i}.txt", b"\x00" + prompt.encode())
small_vocab = {"a": 0, "b": 1, "a</w>": 2, "b</w>": 3, "ab</w>": 4, "!": 5, "<|startoftext|>": 6, "<|endoftext|>": 7}
small = {"model": {"type": "BPE", "vocab": small_vocab, "merges": [["a", "b</w>"]], "end_of_word_suffix": "</w>"},
         "added_tokens": [{"id": 6, "content": "<|startoftext|>", "normalized": True}, {"id": 7, "content": "<|endoftext|>", "normalized": True}]}
put("clip_tokenizer", "tokenizer_json_pairs.json", b"\x01" + json.dumps(small).encode())
small["model"]["merges"] = ["a b</w>"]
put("clip_tokenizer", "tokenizer_json_strings.json", b"\x01" + json.dumps(small).encode())
put("clip_tokenizer", "config_sd2.json", b"\x02" + read(tok_fixtures, "sd2", "tokenizer_config.json"))
put("clip_tokenizer", "config_legacy.json", b"\x02" + json.dumps({"model_max_length": 8, "pad_token": "!", "bos_token": {"content": "<|startoftext|>"}}).encode())
put("clip_tokenizer", "vocab_merges.txt", b"\x03" + json.dumps(small_vocab).encode() + b"\x00#version: 0.2\na b</w>\n")

# Checkpoints written by the targets (see the docstring)
if len(sys.argv) == 3:
    nerf, state = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
    put("nerf_checkpoint", "valid.safetensors", nerf)
    put("nerf_checkpoint", "negative_step.safetensors", with_metadata(nerf, step="-5"))
    put("nerf_checkpoint", "no_step.safetensors", with_metadata(nerf, step=None))
    header, body = safetensors_parts(nerf)
    header["color"]["shape"] = [1, 3, 4, 16]
    put("nerf_checkpoint", "wrong_shape.safetensors", safetensors(header, body))
    put("training_checkpoint", "valid.safetensors", state)
    config = json.loads(safetensors_parts(state)[0]["__metadata__"]["training_config"])
    put("training_checkpoint", "negative_step.safetensors", with_metadata(state, step="-1"))
    put("training_checkpoint", "batch_zero.safetensors", with_metadata(state, training_config=json.dumps({**config, "batchSize": 0})))
    put("training_checkpoint", "no_config.safetensors", with_metadata(state, training_config=None))
