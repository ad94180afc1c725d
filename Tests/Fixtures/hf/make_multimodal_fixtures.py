#!/usr/bin/env python3
"""Tiny random LLaVA-1.5 and LLaVA-OneVision checkpoints and what transformers computes with them.

Nothing is downloaded: the tokenizer is qwen2-tiny's (made by make_fixtures.py) with `<image>` added, the models
are built from configs with a fixed seed and saved with `save_pretrained`, and the processors' settings are
written as the Hub's checkpoints have them (preprocessor_config.json, processor_config.json, chat_template.jinja).

  llava-tiny/             LlavaForConditionalGeneration: CLIP tower (class token, pre_layrnorm, quick_gelu,
                          vision_feature_layer -2, "default" strategy), Llama text model, untied head; saved in
                          the Hub's layout (language_model.model.*, vision_tower.vision_model.*) as BF16 shards.
  llava-onevision-tiny/   LlavaOnevisionForConditionalGeneration: SigLIP tower (no class token, gelu tanh,
                          layer -1, "full"), Qwen2 text model, tied head, anyres_max_4 over 28-pixel tiles,
                          image_newline; saved as transformers 5 writes it (vision_tower.* without vision_model.).

Each directory's reference.json holds, per case (a chat prompt with one or more RGB, grayscale or RGBA images): the rendered prompt,
the expanded input ids, pixel_values' shape, logits (the first 8 of every position, all of the last 4
positions), the stitched image features of the first image (OneVision) and 6 greedy tokens. Before writing,
the script checks that transformers loads the other key layouts (Hub / transformers >= 4.52 / 5.x) of each
model to the same logits.

Run from anywhere:  HF_HUB_OFFLINE=1 python3 Tests/Fixtures/hf/make_multimodal_fixtures.py
"""

import base64
import json
import os
import shutil
import tempfile
from types import SimpleNamespace

import numpy as np
import torch
import transformers
from PIL import Image
from safetensors.torch import load_file, save_file
from tokenizers import AddedToken, Tokenizer
from transformers import (CLIPVisionConfig, LlamaConfig, LlavaConfig, LlavaForConditionalGeneration,
                          LlavaOnevisionConfig, LlavaOnevisionForConditionalGeneration, PreTrainedTokenizerFast,
                          Qwen2Config, SiglipVisionConfig)
from transformers.models.llava.image_processing_pil_llava import LlavaImageProcessorPil
from transformers.models.llava_onevision.image_processing_pil_llava_onevision import LlavaOnevisionImageProcessorPil
from transformers.models.llava_onevision.processing_llava_onevision import LlavaOnevisionProcessor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
TEMPLATES = os.path.join(ROOT, "Tests", "ChatTemplateTests", "Fixtures", "templates")
RESAMPLE = os.path.join(ROOT, "Tests", "KernelTests", "Fixtures", "resample")
GENERATOR = {"torch": torch.__version__, "transformers": transformers.__version__}
IMAGE_TOKEN = 605
VOCAB = 608


def b64(array):
    return base64.b64encode(np.ascontiguousarray(np.asarray(array, dtype=np.float32)).tobytes()).decode()


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f, indent=2)
        f.write("\n")


def photo(path):
    """A 90x60 picture with smooth gradients and a few shapes (anyres picks several tiles for it)."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:60, 0:90]
    r = (x * 255 / 89).astype(np.uint8)
    g = (y * 255 / 59).astype(np.uint8)
    b = ((x + y) * 2 % 256).astype(np.uint8)
    img = np.stack([r, g, b], axis=-1)
    img[10:30, 15:40] = [250, 30, 30]
    img[35:55, 55:80] = [20, 200, 60]
    img = np.clip(img.astype(int) + rng.integers(-12, 13, img.shape), 0, 255).astype(np.uint8)
    Image.fromarray(img, "RGB").save(path)


def tokenizer(directory):
    tok = Tokenizer.from_file(os.path.join(HERE, "qwen2-tiny", "tokenizer.json"))
    tok.add_special_tokens([AddedToken("<image>", special=True, normalized=False)])
    assert tok.token_to_id("<image>") == IMAGE_TOKEN
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    fast.save_pretrained(directory)
    return fast


def rename(state, layout):
    """Keys of a 5.x save (language_model.model.*, vision_tower.*) in another layout."""
    out = {}
    for k, v in state.items():
        if layout == "hub" and k.startswith("vision_tower."):
            k = "vision_tower.vision_model." + k[len("vision_tower."):]
        if layout == "4.52":
            if k.startswith("language_model.model."):
                k = "model.language_model." + k[len("language_model.model."):]
            elif k.startswith("language_model.lm_head."):
                k = k[len("language_model."):]
            elif k.startswith("vision_tower."):
                k = "model.vision_tower.vision_model." + k[len("vision_tower."):]
            else:
                k = "model." + k
        out[k] = v
    return out


def check_layouts(cls, directory, inputs, expected):
    """transformers loads every layout of the same weights to the same logits."""
    state = load_file(os.path.join(directory, "model.safetensors"))
    for layout in ["hub", "4.52"]:
        with tempfile.TemporaryDirectory() as tmp:
            for name in os.listdir(directory):
                if name.endswith(".json") and name != "reference.json":
                    shutil.copy(os.path.join(directory, name), tmp)
            save_file(rename(state, layout), os.path.join(tmp, "model.safetensors"), metadata={"format": "pt"})
            model = cls.from_pretrained(tmp).eval()
            with torch.no_grad():
                got = model(**inputs).logits
            assert torch.equal(got, expected), f"layout {layout}: logits differ"


def run_case(model, processor_kind, image_processor, tok, template, prompt, image_files, per_image_tokens):
    images = [Image.open(f) for f in image_files]
    content = [{"type": "image"} for _ in images] + [{"type": "text", "text": prompt}]
    text = tok.apply_chat_template([{"role": "user", "content": content}], chat_template=template,
                                   add_generation_prompt=True, tokenize=False)
    counts = per_image_tokens(images)
    pieces = text.split("<image>")
    assert len(pieces) == len(images) + 1
    expanded = pieces[0] + "".join("<image>" * n + p for n, p in zip(counts, pieces[1:]))
    ids = tok(expanded, add_special_tokens=False)["input_ids"]
    # OneVision's processor treats a nested list as the images of one prompt (squares, not tiles, for several).
    pixels = image_processor(images=[images] if processor_kind == "onevision" else images, return_tensors="pt")
    inputs = {"input_ids": torch.tensor([ids]), "pixel_values": pixels["pixel_values"]}
    for key in ["image_sizes", "batch_num_images"]:
        if key in pixels:
            inputs[key] = pixels[key]
    with torch.no_grad():
        logits = model(**inputs).logits[0]
        features = None
        if processor_kind == "onevision":
            f = model.get_image_features(pixel_values=inputs["pixel_values"], image_sizes=inputs["image_sizes"],
                                         batch_num_images=inputs["batch_num_images"],
                                         vision_feature_layer=model.config.vision_feature_layer,
                                         vision_feature_select_strategy=model.config.vision_feature_select_strategy)
            f = getattr(f, "pooler_output", f)
            features = f[0]
        generated = model.generate(**inputs, max_new_tokens=6, do_sample=False)[0, len(ids):].tolist()
    case = {"prompt": prompt, "images": [os.path.basename(f) for f in image_files], "rendered": text,
            "image_tokens": counts, "ids": ids, "pixel_values_shape": list(pixels["pixel_values"].shape),
            "logits_shape": list(logits.shape), "logits_first8": b64(logits[:, :8]),
            "logits_last4": b64(logits[-4:]), "greedy": generated}
    if features is not None:
        case["features_shape"] = list(features.shape)
        case["features"] = b64(features)
    return case, inputs, logits


def llava(directory, image_files):
    os.makedirs(directory, exist_ok=True)
    tok = tokenizer(directory)
    torch.manual_seed(0)
    vision = CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4,
                              image_size=28, patch_size=7, projection_dim=32, hidden_act="quick_gelu")
    text = LlamaConfig(vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=2, eos_token_id=602, bos_token_id=None,
                       pad_token_id=600, max_position_embeddings=512)
    config = LlavaConfig(vision_config=vision, text_config=text, image_token_id=IMAGE_TOKEN,
                         vision_feature_layer=-2, vision_feature_select_strategy="default", image_seq_length=16)
    model = LlavaForConditionalGeneration(config).eval()
    with torch.no_grad():
        for p in model.parameters():  # std 0.02 leaves logits near-uniform; wider weights make greedy decisive
            p.add_(torch.randn_like(p) * 0.05)
    model.save_pretrained(directory)
    pre = {"crop_size": {"height": 28, "width": 28}, "do_center_crop": True, "do_convert_rgb": True,
           "do_normalize": True, "do_rescale": True, "do_resize": True,
           "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_processor_type": "CLIPImageProcessor",
           "image_std": [0.26862954, 0.26130258, 0.27577711], "processor_class": "LlavaProcessor",
           "resample": 3, "rescale_factor": 0.00392156862745098, "size": {"shortest_edge": 28}}
    write_json(os.path.join(directory, "preprocessor_config.json"), pre)
    write_json(os.path.join(directory, "processor_config.json"),
               {"image_token": "<image>", "num_additional_image_tokens": 1, "patch_size": 7,
                "processor_class": "LlavaProcessor", "vision_feature_select_strategy": "default"})
    template = open(os.path.join(TEMPLATES, "llava-1.5-hf.jinja")).read()
    with open(os.path.join(directory, "chat_template.jinja"), "w") as f:
        f.write(template)
    processor = LlavaImageProcessorPil.from_pretrained(directory)
    specs = [("What is in the image?", image_files[:1]), ("Compare the two.", image_files[1:3])]
    _, inputs, logits = run_case(model, "llava", processor, tok, template, *specs[0], lambda imgs: [16 for _ in imgs])
    check_layouts(LlavaForConditionalGeneration, directory, inputs, logits[None])
    # The Hub's layout, BF16, in shards.
    state = load_file(os.path.join(directory, "model.safetensors"))
    os.remove(os.path.join(directory, "model.safetensors"))
    hub = {k: v.to(torch.bfloat16) for k, v in rename(state, "hub").items()}
    names = sorted(hub)
    shards = [names[:len(names) // 2], names[len(names) // 2:]]
    weight_map = {}
    for i, shard in enumerate(shards):
        file = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        save_file({k: hub[k].contiguous() for k in shard}, os.path.join(directory, file), metadata={"format": "pt"})
        weight_map.update({k: file for k in shard})
    total = sum(v.numel() * 2 for v in hub.values())
    write_json(os.path.join(directory, "model.safetensors.index.json"),
               {"metadata": {"total_size": total}, "weight_map": weight_map})
    cfg = json.load(open(os.path.join(directory, "config.json")))
    cfg["dtype"] = "bfloat16"
    write_json(os.path.join(directory, "config.json"), cfg)
    # References from the BF16 weights as saved (widened to float32 by loading in float32).
    model = LlavaForConditionalGeneration.from_pretrained(directory, dtype=torch.float32).eval()
    cases = [run_case(model, "llava", processor, tok, template, prompt, files, lambda imgs: [16 for _ in imgs])[0]
             for prompt, files in specs]
    write_json(os.path.join(directory, "reference.json"), {"generator": GENERATOR, "cases": cases})


def onevision(directory, image_files):
    os.makedirs(directory, exist_ok=True)
    tok = tokenizer(directory)
    torch.manual_seed(1)
    vision = SiglipVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4,
                                image_size=28, patch_size=7)
    text = Qwen2Config(vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=2, eos_token_id=602, pad_token_id=600,
                       tie_word_embeddings=True, max_position_embeddings=512)
    pinpoints = [[28, 28], [28, 56], [56, 28], [56, 56], [28, 84], [84, 28], [56, 84], [84, 56], [84, 84]]
    config = LlavaOnevisionConfig(vision_config=vision, text_config=text, image_token_id=IMAGE_TOKEN,
                                  vision_feature_layer=-1, vision_feature_select_strategy="full",
                                  vision_aspect_ratio="anyres_max_4", image_grid_pinpoints=pinpoints,
                                  tie_word_embeddings=True)
    model = LlavaOnevisionForConditionalGeneration(config).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    model.save_pretrained(directory)
    pre = {"do_convert_rgb": True, "do_normalize": True, "do_pad": True, "do_rescale": True, "do_resize": True,
           "image_grid_pinpoints": pinpoints, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
           "image_processor_type": "LlavaOnevisionImageProcessor", "processor_class": "LlavaOnevisionProcessor",
           "resample": 3, "rescale_factor": 0.00392156862745098, "size": {"height": 28, "width": 28}}
    write_json(os.path.join(directory, "preprocessor_config.json"), pre)
    write_json(os.path.join(directory, "processor_config.json"),
               {"image_token": "<image>", "num_image_tokens": 16, "processor_class": "LlavaOnevisionProcessor",
                "video_token": "<video>", "vision_aspect_ratio": "anyres_max_4",
                "vision_feature_select_strategy": "full"})
    template = open(os.path.join(TEMPLATES, "llava-onevision-qwen2.jinja")).read()
    with open(os.path.join(directory, "chat_template.jinja"), "w") as f:
        f.write(template)
    processor = LlavaOnevisionImageProcessorPil.from_pretrained(directory)
    stand_in = SimpleNamespace(image_processor=processor, num_image_tokens=16, vision_aspect_ratio="anyres_max_4")
    stand_in._get_unpadded_features = lambda *a: LlavaOnevisionProcessor._get_unpadded_features(stand_in, *a)

    def counts(images):
        if len(images) > 1:
            return [16 + 1 for _ in images]
        out = []
        for image in images:
            w, h = image.size
            out.append(LlavaOnevisionProcessor._get_number_of_features(stand_in, h, w, 28, 28))
        return out

    cases = []
    first = None
    for prompt, files in [("Describe the picture.", image_files[:1]), ("What colour?", image_files[1:2]),
                          ("Which is larger?", image_files[1:3]), ("Is it see-through?", image_files[3:4])]:
        case, inputs, logits = run_case(model, "onevision", processor, tok, template, prompt, files, counts)
        cases.append(case)
        if first is None:
            first = (inputs, logits[None])
    check_layouts(LlavaOnevisionForConditionalGeneration, directory, *first)
    write_json(os.path.join(directory, "reference.json"), {"generator": GENERATOR, "cases": cases})


def main():
    images = []
    for name, make in [("photo_90x60.png", photo)]:
        images.append(os.path.join(HERE, "multimodal_images", name))
        os.makedirs(os.path.dirname(images[-1]), exist_ok=True)
        make(images[-1])
    for name in ["rgb_37x23.png", "gray_19x31.png", "rgba_24x17.png"]:
        images.append(os.path.join(HERE, "multimodal_images", name))
        shutil.copy(os.path.join(RESAMPLE, name), images[-1])
    llava_dir = os.path.join(HERE, "llava-tiny")
    ov_dir = os.path.join(HERE, "llava-onevision-tiny")
    for d in [llava_dir, ov_dir]:
        shutil.rmtree(d, ignore_errors=True)
    # The images beside each model, so each directory is a self-contained example.
    llava(llava_dir, [os.path.join(HERE, "multimodal_images", n) for n in
                      ["rgb_37x23.png", "rgb_37x23.png", "gray_19x31.png"]])
    onevision(ov_dir, images)


if __name__ == "__main__":
    main()
