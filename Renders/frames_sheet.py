"""Lays turntable frames out as one contact sheet: a row per run, eight frames per row (every
45° of a 24-frame turntable), each frame scaled up without smoothing.

Usage: python3 Renders/frames_sheet.py OUT.png RUN_FOLDER [RUN_FOLDER ...]
Each RUN_FOLDER holds turntable/frame_NNN.png (a `diffrep nerf` output) or frame_NNN.png
(a `diffrep dataset --turntable` scene). Needs Pillow.
"""
import os
import sys

from PIL import Image


def frames(folder, per_row=8):
    source = os.path.join(folder, "turntable")
    if not os.path.isdir(source):
        source = folder
    names = sorted(n for n in os.listdir(source) if n.startswith("frame_") and n.endswith(".png"))
    if not names:
        sys.exit(f"{folder}: no frame_*.png")
    step = max(1, len(names) // per_row)
    return [Image.open(os.path.join(source, n)).convert("RGB") for n in names[::step][:per_row]]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, folders = sys.argv[1], sys.argv[2:]
    rows = [frames(f) for f in folders]
    w, h = rows[0][0].size
    scale = 2 if w >= 64 else 3
    sheet = Image.new("RGB", (8 * w * scale, len(rows) * h * scale), "white")
    for r, row in enumerate(rows):
        for c, frame in enumerate(row):
            sheet.paste(frame.resize((w * scale, h * scale), Image.NEAREST), (c * w * scale, r * h * scale))
    sheet.save(out)


if __name__ == "__main__":
    main()
