#!/usr/bin/env python3
"""What a hash-grid NeRF holds: reads `nerf.safetensors` of `diffrep nerf --field hash` (numpy only)
and evaluates its encoding and MLP on a 48³ lattice over the box.

Prints the table's largest entry per level, how many hidden units are ever active, the raw
density (before the field's density bias of -4 and exp) and the colour (tanh). Used to tell a
field whose density offset fell everywhere (an empty NeRF: raw density uniform and very negative,
hidden units alive) from one with dead units or no structure (docs/DESIGN.md, open problems).

Usage: python3 Benchmarks/hash_field_probe.py out/nerf/nerf.safetensors
Assumes the default encoding (8 levels, 8 to 128 cells per axis) and MLP (two hidden layers).
"""
import json
import struct
import sys

import numpy as np


def load(path):
    raw = open(path, 'rb').read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    tensors = {}
    for name, v in header.items():
        if name == '__metadata__':
            continue
        start, end = v['data_offsets']
        tensors[name] = np.frombuffer(data[start:end], dtype=np.float32).reshape(v['shape'])
    return tensors, header.get('__metadata__', {})


def encode(table, unit, base=8, finest=128):
    """The hash encoding of points in the unit cube, [P, L*F] (HashGridEncoding.swift)."""
    L, T, F = table.shape
    resolutions = [int(round(base * (finest / base) ** (l / max(L - 1, 1)))) for l in range(L)]
    features = []
    for l, N in enumerate(resolutions):
        x = unit * N
        cell = np.minimum(x.astype(np.int64), N - 1)
        frac = x - cell
        acc = np.zeros((len(unit), F), np.float32)
        dense = (N + 1) ** 3 <= T
        for k in range(8):
            d = np.array([k & 1, (k >> 1) & 1, (k >> 2) & 1])
            c = cell + d
            w = np.prod(np.where(d == 1, frac, 1 - frac), axis=1)
            if dense:
                row = (c[:, 2] * (N + 1) + c[:, 1]) * (N + 1) + c[:, 0]
            else:
                c = c.astype(np.uint64)
                row = (c[:, 0] ^ (c[:, 1] * np.uint64(2654435761)) ^ (c[:, 2] * np.uint64(805459861))) & np.uint64(T - 1)
            acc += w[:, None] * table[l][row.astype(np.int64)]
        features.append(acc)
    return np.concatenate(features, 1)


def main(path):
    t, meta = load(path)
    print('step', meta.get('step', '?'))
    n = 48
    g = (np.arange(n) + 0.5) / n
    unit = np.stack(np.meshgrid(g, g, g, indexing='ij'), -1).reshape(-1, 3)
    x = encode(t['table'], unit)
    z1 = x @ t['mlp.0.weight'].T + t['mlp.0.bias']
    a1 = np.maximum(z1, 0)
    z2 = a1 @ t['mlp.1.weight'].T + t['mlp.1.bias']
    h = np.maximum(z2, 0) @ t['mlp.2.weight'].T + t['mlp.2.bias']
    print('table |max| per level', np.abs(t['table']).reshape(t['table'].shape[0], -1).max(1).round(3))
    print('hidden units ever active: layer 1 %d/%d, layer 2 %d/%d' % (
        (z1 > 0).any(0).sum(), z1.shape[1], (z2 > 0).any(0).sum(), z2.shape[1]))
    print('raw density: min %.3f  max %.3f  mean %.3f' % (h[:, 0].min(), h[:, 0].max(), h[:, 0].mean()))
    colour = np.tanh(h[:, 1:])
    print('colour mean', colour.mean(0).round(3), 'min', colour.min(0).round(3), 'max', colour.max(0).round(3))


if __name__ == '__main__':
    main(sys.argv[1])
