"""Golden outputs of PIL's resize (Pillow's 8-bit two-pass resampler) and of transformers' PIL image processor for
LLaVA (LlavaImageProcessorPil: shortest-edge bicubic resize, centre crop, rescale, normalize).

Run from this directory:  HF_HUB_OFFLINE=1 python3 make_resample_fixtures.py
Writes the source images as PNG (RGB, gray and RGBA, odd and non-square sizes) and resample_golden.json.
Made with Pillow 13.0.0 (which runs the vertical pass first when the height shrinks by more than twice as many
pixels as the width: python-pillow/Pillow#9549) and transformers 5.24.0.
"""

import base64
import json
import os

import numpy as np
from PIL import Image
from transformers.models.llava.image_processing_pil_llava import LlavaImageProcessorPil
from transformers.models.llava_onevision.image_processing_pil_llava_onevision import LlavaOnevisionImageProcessorPil
from transformers.models.llava_onevision.processing_llava_onevision import LlavaOnevisionProcessor
from types import SimpleNamespace

HERE = os.path.dirname(os.path.abspath(__file__))


def pattern(width, height, channels, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    planes = []
    for c in range(channels):
        smooth = (x * (7 + 5 * c) + y * (11 + 3 * c)) % 256
        noise = rng.integers(0, 256, size=(height, width))
        edge = np.where((x // 3 + y // 2 + c) % 2 == 0, 0, 255)
        planes.append(np.where(rng.random((height, width)) < 0.5, smooth, np.where(x % 5 == 0, edge, noise)))
    return np.stack(planes, axis=-1).astype(np.uint8)


SOURCES = {
    "rgb_37x23": ("RGB", pattern(37, 23, 3, 1)),
    "rgb_5x9": ("RGB", pattern(5, 9, 3, 2)),
    "gray_19x31": ("L", pattern(19, 31, 1, 3)[:, :, 0]),
    "rgba_24x17": ("RGBA", pattern(24, 17, 4, 4)),
}

# (source, width, height, filter)
RESIZES = [
    ("rgb_37x23", 16, 10, "bicubic"),
    ("rgb_37x23", 61, 40, "bicubic"),
    ("rgb_37x23", 37, 12, "bicubic"),
    ("rgb_37x23", 20, 23, "bilinear"),
    ("rgb_37x23", 50, 7, "bilinear"),
    ("rgb_5x9", 14, 3, "bicubic"),
    ("rgb_5x9", 1, 1, "bicubic"),
    ("rgb_5x9", 2, 20, "bilinear"),
]

PROCESSOR_SIZES = [(20, 18), (12, 16), (9, 9)]  # (shortest_edge, crop): a crop larger than the resize pads

# LLaVA-OneVision's anyres at a small scale: tiles of 8x8 chosen from these (height, width) grids.
ANYRES_SIZE = 8
ANYRES_PINPOINTS = [[8, 8], [8, 16], [16, 8], [16, 16], [8, 24], [24, 8], [16, 24], [24, 16], [24, 24], [32, 8]]


def b64(array):
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode()


def image_tokens():
    """<image> placeholders LlavaOnevisionProcessor expands one image alone in a prompt to (its own
    _get_number_of_features, called on a stand-in self: no tokenizer needed), with OneVision-0.5B's settings
    (729 tokens per 384 tile, anyres_max_9) and a small setting."""
    cases = []
    default_pinpoints = [[384 * h, 384 * w] for h in range(1, 7) for w in range(1, 7)]
    settings = [
        (384, 729, "anyres_max_9", default_pinpoints),
        (8, 16, "anyres_max_4", ANYRES_PINPOINTS),
    ]
    sizes = [(480, 640), (640, 480), (1080, 1920), (2000, 300), (384, 384), (100, 100), (300, 5000), (23, 37),
             (9, 5), (31, 19), (17, 24), (777, 1001), (1536, 1536), (50, 2304)]
    for tile, tokens, aspect, pinpoints in settings:
        for h, w in sizes:
            stand_in = SimpleNamespace(
                image_processor=SimpleNamespace(image_grid_pinpoints=pinpoints), num_image_tokens=tokens,
                vision_aspect_ratio=aspect)
            stand_in._get_unpadded_features = lambda *a, s=stand_in: LlavaOnevisionProcessor._get_unpadded_features(s, *a)
            n = LlavaOnevisionProcessor._get_number_of_features(stand_in, h, w, tile, tile)
            cases.append({"tile": tile, "num_image_tokens": tokens, "vision_aspect_ratio": aspect,
                          "image_grid_pinpoints": pinpoints, "height": h, "width": w, "features": n})
    return cases


def main():
    out = {"resize": [], "processor": []}
    for name, (mode, array) in SOURCES.items():
        Image.fromarray(array, mode=None).save(os.path.join(HERE, name + ".png"))
    for name, width, height, filt in RESIZES:
        image = Image.open(os.path.join(HERE, name + ".png")).convert("RGB")
        resample = Image.Resampling.BICUBIC if filt == "bicubic" else Image.Resampling.BILINEAR
        resized = np.array(image.resize((width, height), resample=resample, reducing_gap=None))
        out["resize"].append(
            {"source": name + ".png", "width": width, "height": height, "filter": filt, "rgb": b64(resized)})
    for name in SOURCES:
        for shortest, crop in PROCESSOR_SIZES:
            processor = LlavaImageProcessorPil(
                size={"shortest_edge": shortest}, crop_size={"height": crop, "width": crop})
            image = Image.open(os.path.join(HERE, name + ".png"))
            pixels = processor(images=image, return_tensors="np")["pixel_values"][0].astype(np.float32)
            out["processor"].append({
                "source": name + ".png", "shortest_edge": shortest, "crop": crop,
                "shape": list(pixels.shape), "pixel_values_f32": b64(pixels)})
    out["anyres"] = {"size": ANYRES_SIZE, "image_grid_pinpoints": ANYRES_PINPOINTS, "cases": []}
    onevision = LlavaOnevisionImageProcessorPil(
        size={"height": ANYRES_SIZE, "width": ANYRES_SIZE}, image_grid_pinpoints=ANYRES_PINPOINTS)
    for name in SOURCES:
        image = Image.open(os.path.join(HERE, name + ".png"))
        single = onevision(images=[image], return_tensors="np")
        # Two images in one prompt: no tiles, each padded to a square with the mean colour, then resized.
        pair = onevision(images=[[image, image]], return_tensors="np")
        out["anyres"]["cases"].append({
            "source": name + ".png",
            "shape": list(single["pixel_values"][0].shape),
            "image_sizes": [int(x) for x in single["image_sizes"][0]],
            "pixel_values_f32": b64(single["pixel_values"][0].astype(np.float32)),
            "multi_shape": list(pair["pixel_values"][0].shape),
            "multi_pixel_values_f32": b64(pair["pixel_values"][0].astype(np.float32)),
        })
    out["image_tokens"] = image_tokens()
    with open(os.path.join(HERE, "resample_golden.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
