#!/usr/bin/env python3
"""Makes the PyTorch reference fixtures for the neural-network op tests (nn_*.json).

    python3 Tests/TensorCoreTests/Fixtures/make_nn_fixtures.py

Each file is a list of cases: {"name", "args": {scalar options}, "tensors": {name: {"shape", "data"}},
"expected": {"shape", "data"}}. The tests never need Python; rerun this only to change the cases.
"""
import json
import os

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
gen = torch.Generator().manual_seed(20240611)


def rand(*shape):
    return torch.rand(*shape, generator=gen) * 2 - 1


def pack(t):
    return {"shape": list(t.shape), "data": [round(float(v), 8) for v in t.detach().reshape(-1)]}


def case(name, tensors, expected, **args):
    return {"name": name, "args": args, "tensors": {k: pack(v) for k, v in tensors.items()}, "expected": pack(expected)}


def write(fname, cases):
    with open(os.path.join(HERE, fname), "w") as f:
        json.dump(cases, f, separators=(",", ":"))
    print(fname, os.path.getsize(os.path.join(HERE, fname)), "bytes")


# conv2d: strides 1 and 2, padding 0 and 1, with and without bias, a non-square kernel and image, 1×1.
conv = []
for name, xs, ws, stride, padding, bias in [
    ("s1p1_bias", (2, 3, 5, 5), (4, 3, 3, 3), 1, 1, True),
    ("s1p0_bias", (2, 3, 5, 5), (4, 3, 3, 3), 1, 0, True),
    ("s2p1_bias", (2, 3, 6, 5), (4, 3, 3, 3), 2, 1, True),
    ("s2p0_nobias", (2, 3, 7, 6), (2, 3, 3, 3), 2, 0, False),
    ("kernel2x3_s1p1", (1, 2, 4, 6), (3, 2, 2, 3), 1, 1, True),
    ("pointwise_bias", (2, 5, 3, 4), (3, 5, 1, 1), 1, 0, True),
    ("s1p2_bias", (1, 2, 4, 4), (2, 2, 3, 3), 1, 2, True),
]:
    x, w = rand(*xs), rand(*ws)
    b = rand(ws[0]) if bias else None
    t = {"x": x, "weight": w}
    if bias:
        t["bias"] = b
    conv.append(case(name, t, F.conv2d(x, w, b, stride=stride, padding=padding), stride=stride, padding=padding))
write("nn_conv2d.json", conv)

# group norm, layer norm
norm = []
x, w, b = rand(2, 6, 3, 4) * 3 + 0.5, rand(6), rand(6)
norm.append(case("groupNorm_affine", {"x": x, "weight": w, "bias": b}, F.group_norm(x, 3, w, b, eps=1e-5), groups=3, eps=1e-5))
x = rand(3, 4, 5)
norm.append(case("groupNorm_plain", {"x": x}, F.group_norm(x, 2, eps=1e-3), groups=2, eps=1e-3))
x, w, b = rand(3, 4, 5) * 2 + 1, rand(5), rand(5)
norm.append(case("layerNorm_affine", {"x": x, "weight": w, "bias": b}, F.layer_norm(x, (5,), w, b, eps=1e-5), eps=1e-5))
x = rand(2, 7)
norm.append(case("layerNorm_plain", {"x": x}, F.layer_norm(x, (7,), eps=1e-5), eps=1e-5))
write("nn_norm.json", norm)

# softmax, log-softmax, attention, linear, nearest upsampling
misc = []
x = rand(3, 4, 5) * 4
misc.append(case("softmax_last", {"x": x}, torch.softmax(x, -1), axis=-1))
misc.append(case("softmax_middle", {"x": x}, torch.softmax(x, 1), axis=1))
misc.append(case("logSoftmax_last", {"x": x}, torch.log_softmax(x, -1), axis=-1))
misc.append(case("logSoftmax_first", {"x": x}, torch.log_softmax(x, 0), axis=0))
q, k, v = rand(2, 3, 4), rand(2, 5, 4), rand(2, 5, 6)
misc.append(case("attention_default_scale", {"query": q, "key": k, "value": v},
                 F.scaled_dot_product_attention(q, k, v)))
misc.append(case("attention_scale", {"query": q * 3, "key": k, "value": v},
                 F.scaled_dot_product_attention(q * 3, k, v, scale=0.7), scale=0.7))
x, w, b = rand(3, 2, 4), rand(5, 4), rand(5)
misc.append(case("linear_bias", {"x": x, "weight": w, "bias": b}, F.linear(x, w, b)))
misc.append(case("linear_nobias", {"x": x, "weight": w}, F.linear(x, w)))
x = rand(1, 2, 2, 3)
misc.append(case("upsampleNearest2x", {"x": x}, F.interpolate(x, scale_factor=2, mode="nearest")))
write("nn_misc.json", misc)
