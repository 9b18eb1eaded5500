#!/usr/bin/env python3
"""Writes the small PNG fixtures the PNGIO tests read (run once; the tests never need Python).

Each fixture is 7x5 pixels, encoded by hand (zlib + struct) so bit depth and colour type are
exactly what the name says; Pillow then checks that it decodes them to the same values.
The Swift tests recompute the same patterns (FixtureTests.swift keeps the formulas in sync):

  v8(x, y, c)  = (37x + 91y + 53c + 11) mod 256
  v16(x, y, c) = clamp(257 * v8 + (13x + 7y + 3c) mod 200 - 100, 0, 65535)
  palette      : index (x + 2y) mod 7 into PALETTE; ALPHAS in the tRNS variant

Usage: python3 Fixtures/make_fixtures.py   (writes next to itself, into Fixtures/)
"""
import os
import struct
import zlib

import numpy as np
from PIL import Image

W, H = 7, 5
PALETTE = [(0, 0, 0), (255, 255, 255), (255, 0, 0), (0, 200, 0), (10, 20, 250), (128, 64, 32), (7, 140, 230)]
ALPHAS = [255, 0, 128, 64, 200, 1, 254]
OUT = os.path.dirname(os.path.abspath(__file__))  # this script lives in Fixtures/


def v8(x, y, c):
    return (37 * x + 91 * y + 53 * c + 11) % 256


def v16(x, y, c):
    return min(max(257 * v8(x, y, c) + (13 * x + 7 * y + 3 * c) % 200 - 100, 0), 65535)


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def write_png(name, rows, bit_depth, colour_type, extra=b""):
    """rows: list of byte strings (unfiltered scanlines)."""
    raw = b"".join(b"\x00" + r for r in rows)
    ihdr = struct.pack(">IIBBBBB", W, H, bit_depth, colour_type, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra
    data += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def direct(name, channels, colour_type, bits):
    fmt = ">H" if bits == 16 else ">B"
    value = v16 if bits == 16 else v8
    rows = [b"".join(struct.pack(fmt, value(x, y, c)) for x in range(W) for c in range(channels)) for y in range(H)]
    write_png(name, rows, bits, colour_type)


def main():
    os.makedirs(OUT, exist_ok=True)
    for bits in (8, 16):
        direct(f"gray{bits}.png", 1, 0, bits)
        direct(f"gray_alpha{bits}.png", 2, 4, bits)
        direct(f"rgb{bits}.png", 3, 2, bits)
        direct(f"rgba{bits}.png", 4, 6, bits)
    rows = [bytes((x + 2 * y) % 7 for x in range(W)) for y in range(H)]
    plte = chunk(b"PLTE", b"".join(bytes(p) for p in PALETTE))
    write_png("palette8.png", rows, 8, 3, plte)
    write_png("palette8_trns.png", rows, 8, 3, plte + chunk(b"tRNS", bytes(ALPHAS)))

    # Cross-check with Pillow where it keeps full precision.
    for name, channels in [("gray8.png", 1), ("gray_alpha8.png", 2), ("rgb8.png", 3), ("rgba8.png", 4)]:
        a = np.asarray(Image.open(os.path.join(OUT, name))).reshape(H, W, channels)
        want = np.array([[[v8(x, y, c) for c in range(channels)] for x in range(W)] for y in range(H)])
        assert (a == want).all(), name
    g16 = np.asarray(Image.open(os.path.join(OUT, "gray16.png")))
    assert (g16 == np.array([[v16(x, y, 0) for x in range(W)] for y in range(H)])).all()
    pal = np.asarray(Image.open(os.path.join(OUT, "palette8_trns.png")).convert("RGBA"))
    for y in range(H):
        for x in range(W):
            i = (x + 2 * y) % 7
            assert tuple(pal[y, x]) == PALETTE[i] + (ALPHAS[i],)
    print("wrote", sorted(os.listdir(OUT)))


if __name__ == "__main__":
    main()
