"""Processor settings of a LLaVA-1.5 and a LLaVA-OneVision checkpoint at a tiny scale (no weights: `skilltune
preprocess` reads only config.json, preprocessor_config.json and processor_config.json) and what transformers'
processors give for the PNGs of Tests/KernelTests/Fixtures/resample.

Run from this directory:  HF_HUB_OFFLINE=1 python3 make_processor_fixtures.py
Writes llava-1.5/, llava-onevision/ and preprocess_golden.json. transformers 5.24.0, Pillow 13.0.0.
"""

import base64
import json
import os
from types import SimpleNamespace

import numpy as np
from PIL import Image
from transformers.models.llava.image_processing_pil_llava import LlavaImageProcessorPil
from transformers.models.llava_onevision.image_processing_pil_llava_onevision import LlavaOnevisionImageProcessorPil
from transformers.models.llava_onevision.processing_llava_onevision import LlavaOnevisionProcessor

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
    with open(os.path.join(HERE, "preprocess_golden.json"), "w") as f:
        json.dump(cases, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
