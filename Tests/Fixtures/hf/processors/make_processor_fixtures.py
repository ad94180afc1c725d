"""Processor settings of LLaVA-1.5, LLaVA-OneVision, Qwen2-VL and Qwen2.5-VL checkpoints at a tiny scale (no
weights: `skilltune preprocess` reads only config.json, preprocessor_config.json and processor_config.json) and what
transformers' PIL processors give for the PNGs of Tests/KernelTests/Fixtures/resample and of images/.

Run from this directory:  HF_HUB_OFFLINE=1 python3 make_processor_fixtures.py
Writes llava-1.5/, llava-onevision/, qwen2-vl/, qwen2.5-vl/, images/, preprocess_golden.json and
qwen2_vl_golden.json (deterministic: the same bytes on a rerun). LLaVA outputs made with transformers 5.24.0 and
unchanged by 5.25.0; Qwen2-VL ones with transformers 5.25.0 (Qwen2VLImageProcessorPil); Pillow 13.0.0.
"""

import base64
import json
import os
from types import SimpleNamespace

import numpy as np
import PIL
import transformers
from PIL import Image
from transformers.models.llava.image_processing_pil_llava import LlavaImageProcessorPil
from transformers.models.llava_onevision.image_processing_pil_llava_onevision import LlavaOnevisionImageProcessorPil
from transformers.models.llava_onevision.processing_llava_onevision import LlavaOnevisionProcessor
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil, smart_resize

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGES = os.path.join(HERE, "..", "..", "..", "KernelTests", "Fixtures", "resample")
SOURCES = ["rgb_37x23.png", "rgb_5x9.png", "gray_19x31.png", "rgba_24x17.png"]


def write(directory, name, value):
    os.makedirs(os.path.join(HERE, directory), exist_ok=True)
    with open(os.path.join(HERE, directory, name), "w") as f:
        json.dump(value, f, indent=2)
        f.write("\n")


def b64(array):
    return base64.b64encode(np.ascontiguousarray(array.astype(np.float32)).tobytes()).decode()


def main():
    # LLaVA-1.5 in the Hub's layout: CLIP settings with a 14-pixel patch, 336 -> here 28 with patch 7.
    llava_pre = {"crop_size": {"height": 28, "width": 28}, "do_center_crop": True, "do_convert_rgb": True,
                 "do_normalize": True, "do_rescale": True, "do_resize": True,
                 "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_processor_type": "CLIPImageProcessor",
                 "image_std": [0.26862954, 0.26130258, 0.27577711], "processor_class": "LlavaProcessor",
                 "resample": 3, "rescale_factor": 0.00392156862745098, "size": {"shortest_edge": 28}}
    write("llava-1.5", "preprocessor_config.json", llava_pre)
    write("llava-1.5", "processor_config.json", {"image_token": "<image>", "num_additional_image_tokens": 1,
                                                  "patch_size": 7, "processor_class": "LlavaProcessor",
                                                  "vision_feature_select_strategy": "default"})
    write("llava-1.5", "config.json", {"architectures": ["LlavaForConditionalGeneration"], "model_type": "llava",
                                        "image_token_index": 32000, "vision_feature_select_strategy": "default",
                                        "vision_feature_layer": -2,
                                        "vision_config": {"model_type": "clip_vision_model", "image_size": 28,
                                                          "patch_size": 7}})
    # LLaVA-OneVision: SigLIP tiles of 16 pixels (patch 4: 16 tokens per tile), a small grid, anyres_max_4.
    pinpoints = [[16, 16], [16, 32], [32, 16], [32, 32], [16, 48], [48, 16]]
    ov_pre = {"do_convert_rgb": True, "do_normalize": True, "do_pad": True, "do_rescale": True, "do_resize": True,
              "image_grid_pinpoints": pinpoints, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
              "image_processor_type": "LlavaOnevisionImageProcessor", "processor_class": "LlavaOnevisionProcessor",
              "resample": 3, "rescale_factor": 0.00392156862745098, "size": {"height": 16, "width": 16}}
    write("llava-onevision", "preprocessor_config.json", ov_pre)
    ov_proc = {"image_token": "<image>", "num_image_tokens": 16, "processor_class": "LlavaOnevisionProcessor",
               "video_token": "<video>", "vision_aspect_ratio": "anyres_max_4",
               "vision_feature_select_strategy": "full"}
    write("llava-onevision", "processor_config.json", ov_proc)
    write("llava-onevision", "config.json", {"architectures": ["LlavaOnevisionForConditionalGeneration"],
                                              "model_type": "llava_onevision", "vision_aspect_ratio": "anyres_max_4",
                                              "vision_feature_select_strategy": "full", "image_grid_pinpoints": pinpoints,
                                              "vision_config": {"model_type": "siglip_vision_model", "image_size": 16,
                                                                "patch_size": 4}})

    llava = LlavaImageProcessorPil.from_pretrained(os.path.join(HERE, "llava-1.5"))
    onevision = LlavaOnevisionImageProcessorPil.from_pretrained(os.path.join(HERE, "llava-onevision"))
    stand_in = SimpleNamespace(image_processor=onevision, num_image_tokens=16, vision_aspect_ratio="anyres_max_4")
    stand_in._get_unpadded_features = lambda *a: LlavaOnevisionProcessor._get_unpadded_features(stand_in, *a)
    cases = []
    for prompt in [[s] for s in SOURCES] + [[SOURCES[0], SOURCES[3]]]:
        images = [Image.open(os.path.join(IMAGES, s)) for s in prompt]
        out = llava(images=images, return_tensors="np")
        h, w = out["pixel_values"].shape[-2:]
        tokens = [(h // 7) * (w // 7) + 1 - 1 for _ in images]
        cases.append({"model": "llava-1.5", "images": prompt, "pixel_values_shape": list(out["pixel_values"].shape),
                      "pixel_values_f32": b64(out["pixel_values"]),
                      "image_sizes": [[im.height, im.width] for im in images], "image_tokens_per_image": tokens})
        out = onevision(images=[images], return_tensors="np")
        if len(images) == 1:
            tokens = [LlavaOnevisionProcessor._get_number_of_features(
                stand_in, images[0].height, images[0].width, 16, 16)]
        else:
            tokens = [16 + 1 for _ in images]
        cases.append({"model": "llava-onevision", "images": prompt,
                      "pixel_values_shape": list(out["pixel_values"].shape), "pixel_values_f32": b64(out["pixel_values"]),
                      "image_sizes": [[int(x) for x in s] for s in out["image_sizes"]], "image_tokens_per_image": tokens})
    cases += qwen2_vl()
    with open(os.path.join(HERE, "preprocess_golden.json"), "w") as f:
        json.dump(cases, f, indent=1)
        f.write("\n")


# Qwen2-VL ------------------------------------------------------------------------------------------------------

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
QWEN_IMAGES = os.path.join(HERE, "images")


def pattern(width, height, channels, seed):
    """The resample fixtures' pattern: gradients, one-pixel stripes and noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    planes = []
    for c in range(channels):
        smooth = (x * (7 + 5 * c) + y * (11 + 3 * c)) % 256
        noise = rng.integers(0, 256, size=(height, width))
        edge = np.where((x // 3 + y // 2 + c) % 2 == 0, 0, 255)
        planes.append(np.where(rng.random((height, width)) < 0.5, smooth, np.where(x % 5 == 0, edge, noise)))
    return np.stack(planes, axis=-1).astype(np.uint8)


# Images (width x height) for the cases smart_resize has at min_pixels 3136 / max_pixels 12544 and at 784 / 3136:
# rounded with a tie (70 / 28 = 2.5 -> 2, 98 / 28 = 3.5 -> 4), scaled down by max_pixels, a 75:1 strip, and one
# whose sides are already multiples of 28 (for do_resize false).
QWEN_SOURCES = {
    "rgb_70x50.png": ("RGB", lambda: pattern(70, 50, 3, 11)),
    "gray_45x98.png": ("L", lambda: pattern(45, 98, 1, 12)[:, :, 0]),
    "gray_250x50.png": ("L", lambda: pattern(250, 50, 1, 13)[:, :, 0]),
    "rgba_100x75.png": ("RGBA", lambda: pattern(100, 75, 4, 14)),
    "rgb_2x150.png": ("RGB", lambda: pattern(2, 150, 3, 15)),
    "rgb_56x28.png": ("RGB", lambda: pattern(56, 28, 3, 16)),
}


def qwen_image(name):
    return Image.open(os.path.join(QWEN_IMAGES if name in QWEN_SOURCES else IMAGES, name))


def qwen_folders():
    # Qwen2-VL in the Hub's older layout (top-level min_pixels / max_pixels), here also with a `size` that disagrees:
    # transformers 5.25 lets the top-level keys win, so the bounds are 3136 / 12544.
    write("qwen2-vl", "preprocessor_config.json", {
        "min_pixels": 3136, "max_pixels": 12544, "size": {"shortest_edge": 784, "longest_edge": 3136},
        "patch_size": 14, "temporal_patch_size": 2, "merge_size": 2, "image_mean": CLIP_MEAN, "image_std": CLIP_STD,
        "image_processor_type": "Qwen2VLImageProcessor", "processor_class": "Qwen2VLProcessor"})
    write("qwen2-vl", "config.json", {
        "architectures": ["Qwen2VLForConditionalGeneration"], "model_type": "qwen2_vl", "image_token_id": 151655,
        "video_token_id": 151656, "vision_start_token_id": 151652, "vision_end_token_id": 151653,
        "vision_config": {"depth": 2, "embed_dim": 32, "hidden_size": 64, "mlp_ratio": 4, "num_heads": 2,
                          "in_chans": 3, "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2}})
    # Qwen2.5-VL in transformers 5's layout: processor_config.json's image_processor, the newer `size` form, a
    # bilinear resize and 0.5 statistics.
    write("qwen2.5-vl", "processor_config.json", {
        "image_processor": {
            "size": {"shortest_edge": 784, "longest_edge": 3136}, "patch_size": 14, "temporal_patch_size": 2,
            "merge_size": 2, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "resample": 2,
            "do_resize": True, "do_rescale": True, "rescale_factor": 0.00392156862745098, "do_normalize": True,
            "do_convert_rgb": True, "image_processor_type": "Qwen2VLImageProcessor"},
        "processor_class": "Qwen2_5_VLProcessor"})
    write("qwen2.5-vl", "config.json", {
        "architectures": ["Qwen2_5_VLForConditionalGeneration"], "model_type": "qwen2_5_vl",
        "image_token_id": 151655, "video_token_id": 151656, "vision_start_token_id": 151652,
        "vision_config": {"depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "in_chans": 3,
                          "out_hidden_size": 64, "patch_size": 14, "spatial_merge_size": 2,
                          "temporal_patch_size": 2, "window_size": 56, "fullatt_block_indexes": [1]}})


# (height, width, factor, min_pixels, max_pixels) for smart_resize: transformers' defaults, the Hub's Qwen2.5-VL
# bounds, the fixtures' bounds, a 21-pixel factor, min above max; ties, extreme aspect ratios, tiny and empty images.
DEFAULT = (28, 56 * 56, 28 * 28 * 1280)
HUB = (28, 3136, 12845056)
SMALL = (28, 3136, 12544)
SMART_RESIZE = (
    [(h, w) + DEFAULT for h, w in [(1, 1), (14, 14), (28, 28), (42, 42), (70, 70), (98, 98), (480, 640), (1080, 1920),
                                   (4000, 3000), (1, 200), (200, 1), (1, 201), (2, 401), (401, 2), (10000, 50),
                                   (16384, 82), (3, 300), (12, 2399), (0, 5), (5, 0), (100000, 600), (56, 11200)]]
    + [(h, w) + HUB for h, w in [(1080, 1920), (3000, 4000), (8000, 6000), (224, 224), (37, 23), (4096, 4096)]]
    + [(h, w) + SMALL for h, w in [(23, 37), (50, 70), (98, 45), (50, 250), (100, 130), (130, 130), (112, 112),
                                   (113, 113), (150, 2), (1, 1), (28, 56), (10000, 50)]]
    + [(h, w, 21, 100, 5000) for h, w in [(150, 2), (23, 37), (9, 5), (100, 100), (31, 19), (1, 1), (7, 1400)]]
    + [(h, w, 28, 20000, 3136) for h, w in [(40, 50), (200, 200)]]
)


def smart_resize_table():
    rows = []
    for h, w, factor, low, high in SMART_RESIZE:
        row = {"height": h, "width": w, "factor": factor, "min_pixels": low, "max_pixels": high}
        try:
            row["resized"] = list(smart_resize(h, w, factor=factor, min_pixels=low, max_pixels=high))
        except (ValueError, ZeroDivisionError) as e:
            row["error"] = f"{type(e).__name__}: {e}"
        rows.append(row)
    return rows


# Processors of the per-image cases: the two folders, a 7-pixel patch with a 3x3 merge and one frame per temporal
# patch, and qwen2-vl's settings without the resize.
VARIANTS = {
    "patch7-merge3-temporal1": {"patch_size": 7, "merge_size": 3, "temporal_patch_size": 1, "min_pixels": 100,
                                "max_pixels": 5000},
    "no-resize": {"do_resize": False, "min_pixels": 3136, "max_pixels": 12544},
}
QWEN_CASES = [
    ("qwen2-vl", "rgb_37x23.png"), ("qwen2-vl", "rgb_70x50.png"),
    ("qwen2-vl", "gray_250x50.png"),
    ("qwen2.5-vl", "rgb_5x9.png"), ("qwen2.5-vl", "gray_19x31.png"), ("qwen2.5-vl", "gray_45x98.png"),
    ("qwen2.5-vl", "rgba_100x75.png"),
    ("patch7-merge3-temporal1", "rgb_2x150.png"), ("patch7-merge3-temporal1", "rgb_37x23.png"),
    ("no-resize", "rgb_56x28.png"),
]


def qwen_processor(name):
    if name in VARIANTS:
        return Qwen2VLImageProcessorPil(**VARIANTS[name])
    return Qwen2VLImageProcessorPil.from_pretrained(os.path.join(HERE, name))


def first_frames(pixel_values, processor):
    """pixel_values [rows, 3 * T * p * p] with only the first of the T identical copies of each patch kept."""
    t, p = processor.temporal_patch_size, processor.patch_size
    frames = pixel_values.reshape(pixel_values.shape[0], 3, t, p * p)
    assert all(np.array_equal(frames[:, :, 0], frames[:, :, i]) for i in range(t))
    return frames[:, :, 0]


def qwen2_vl():
    """Writes the Qwen2-VL fixtures and returns the preprocess_golden.json cases for qwen2.5-vl/."""
    os.makedirs(QWEN_IMAGES, exist_ok=True)
    for name, (mode, pixels) in QWEN_SOURCES.items():
        Image.fromarray(pixels(), mode).save(os.path.join(QWEN_IMAGES, name))
    qwen_folders()
    cases = []
    for name, source in QWEN_CASES:
        processor = qwen_processor(name)
        image = qwen_image(source)
        out = processor(images=[image], return_tensors="np")
        values = out["pixel_values"].astype(np.float32)
        grid = [int(x) for x in out["image_grid_thw"][0]]
        merge = processor.merge_size
        tokens = int(np.prod(grid)) // merge ** 2
        patches = processor.get_number_of_image_patches(image.height, image.width, {})
        assert not processor.do_resize or tokens == patches // merge ** 2
        cases.append({
            "processor": name, "settings": VARIANTS.get(name), "image": source,
            "image_size": [image.height, image.width],
            "resized": [grid[1] * processor.patch_size, grid[2] * processor.patch_size],
            "image_grid_thw": grid, "image_tokens": tokens, "pixel_values_shape": list(values.shape),
            "pixel_values_first_frame_f32": b64(first_frames(values, processor))})
    golden = {
        "generator": {"transformers": transformers.__version__, "pillow": PIL.__version__,
                      "class": "Qwen2VLImageProcessorPil"},
        "note": "pixel_values_first_frame_f32: pixel_values [rows, 3 * T * p * p] reshaped to [rows, 3, T, p * p] "
                "keeps its T identical copies of each patch (checked); stored is [rows, 3, p * p], the first copy",
        "smart_resize": smart_resize_table(), "cases": cases}
    with open(os.path.join(HERE, "qwen2_vl_golden.json"), "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")

    # For `skilltune preprocess`: whole pixel_values of qwen2.5-vl/ (small images), one image and two.
    processor = qwen_processor("qwen2.5-vl")
    cli = []
    for prompt in [["rgb_37x23.png"], ["rgb_5x9.png", "rgba_24x17.png"]]:
        images = [qwen_image(s) for s in prompt]
        out = processor(images=images, return_tensors="np")
        grids = [[int(x) for x in g] for g in out["image_grid_thw"]]
        cli.append({"model": "qwen2.5-vl", "images": prompt, "pixel_values_shape": list(out["pixel_values"].shape),
                    "pixel_values_f32": b64(out["pixel_values"]), "image_sizes": [[im.height, im.width] for im in images],
                    "image_tokens_per_image": [int(np.prod(g)) // 4 for g in grids], "image_grid_thw": grids})
    return cli


if __name__ == "__main__":
    main()
