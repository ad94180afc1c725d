#!/usr/bin/env python3
"""Writes colors.jsonl and its 60 PNGs (solid red, green or blue, random sizes 20-60 px, jittered shades):
the image data the LLaVA export check in README.md tunes on. Run:  python3 make_colors.py OUT_DIR
"""
import json
import os
import random
import sys

from PIL import Image

out = sys.argv[1] if len(sys.argv) > 1 else "."
os.makedirs(out, exist_ok=True)
random.seed(0)
colors = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220)}
with open(os.path.join(out, "colors.jsonl"), "w") as f:
    for i in range(60):
        name = random.choice(list(colors))
        w, h = random.randint(20, 60), random.randint(20, 60)
        shade = tuple(max(0, min(255, v + random.randint(-20, 20))) for v in colors[name])
        Image.new("RGB", (w, h), shade).save(os.path.join(out, f"img{i}.png"))
        f.write(json.dumps({"image": f"img{i}.png", "prompt": "What colour is it?", "answer": name}) + "\n")
