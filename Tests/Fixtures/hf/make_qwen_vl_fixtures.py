#!/usr/bin/env python3
"""Tiny random Qwen2-VL and Qwen2.5-VL checkpoints and what transformers computes with them.

Nothing is downloaded: the tokenizer is qwen2-tiny's (made by make_fixtures.py) with the four Qwen2-VL vision
tokens added, the models are built from configs with a fixed seed, and the processor settings and chat template are
written as the Hub's checkpoints have them (preprocessor_config.json, chat_template.jinja).

  qwen2-vl-tiny/     Qwen2VLForConditionalGeneration: ViT with LayerNorm, quick_gelu, full attention per image,
                     PatchMerger (LayerNorm + GELU MLP); untied head. Saved in the Hub's original layout
                     (model.layers.*, visual.*, lm_head.weight) as BF16 in 2 shards, with the Hub's flat config form
                     (text keys at top level, rope_scaling {"type": "mrope", ...}, torch_dtype bfloat16).
  qwen2.5-vl-tiny/   Qwen2_5_VLForConditionalGeneration: ViT with RMSNorm, SiLU gated MLP with biases, window
                     attention (window_size 56) except fullatt_block_indexes [1], RMSNorm merger; tied head. Saved
                     in the transformers >= 4.52 in-memory layout (model.language_model.*, model.visual.*) as F32 in
                     one file, with the config as transformers 5.25 writes it (text_config.rope_parameters).

The Qwen2-VL processors need a video processor (torchvision), so the script uses the PIL image processor and
expands each <|image_pad|> itself, as Qwen2VLProcessor does (grid_t * grid_h * grid_w // merge_size**2 copies).
Each reference.json holds per case the rendered prompt, expanded ids, image_grid_thw, pixel_values, M-RoPE
position ids and rope_deltas (Qwen2VLModel.get_rope_index), per-image features, logits (first 8 of every position,
all of the last 4) and 6 greedy tokens, plus a processor-only section per image. Before writing, the script checks
that transformers loads both key layouts of each model to the same logits.

Run from anywhere:  HF_HUB_OFFLINE=1 python3 Tests/Fixtures/hf/make_qwen_vl_fixtures.py
"""

import base64
import json
import os
import shutil
import tempfile
import warnings

import numpy as np
import tokenizers
import torch
import transformers
from PIL import Image
from safetensors.torch import load_file, save_file
from tokenizers import AddedToken, Tokenizer
from transformers import (PreTrainedTokenizerFast, Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration,
                          Qwen2VLConfig, Qwen2VLForConditionalGeneration)
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil, smart_resize
from transformers.vision_utils import get_vision_window_index

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
TEMPLATES = os.path.join(ROOT, "Tests", "ChatTemplateTests", "Fixtures", "templates")
IMAGES = os.path.join(HERE, "multimodal_images")
GENERATOR = {"torch": torch.__version__, "transformers": transformers.__version__, "tokenizers": tokenizers.__version__}

VISION_START, VISION_END, IMAGE_PAD, VIDEO_PAD = 605, 606, 607, 608
VOCAB = 612
EOS, PAD = 602, 600
MIN_PIXELS, MAX_PIXELS = 56 * 56, 112 * 112
MERGE = 2
NEW_TOKENS = 6

# The chat_template of Qwen/Qwen2-VL-2B-Instruct (tokenizer_config.json / chat_template.json), also used by
# Qwen/Qwen2.5-VL-*-Instruct. Verbatim, no trailing newline.
QWEN2_VL_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{% endif %}<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}{{ message['content'] }}"
    "<|im_end|>\n{% else %}{% for content in message['content'] %}{% if content['type'] == 'image' or 'image' in "
    "content or 'image_url' in content %}{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}"
    "Picture {{ image_count.value }}: {% endif %}<|vision_start|><|image_pad|><|vision_end|>{% elif content['type'] "
    "== 'video' or 'video' in content %}{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}"
    "Video {{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>{% elif 'text' in content "
    "%}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endif %}{% endfor %}{% if add_generation_prompt %}"
    "<|im_start|>assistant\n{% endif %}"
)

PREPROCESSOR_COMMON = {
    "do_convert_rgb": True, "do_normalize": True, "do_rescale": True, "do_resize": True,
    "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_processor_type": "Qwen2VLImageProcessor",
    "image_std": [0.26862954, 0.26130258, 0.27577711], "merge_size": MERGE, "patch_size": 14,
    "resample": 3, "rescale_factor": 0.00392156862745098, "temporal_patch_size": 2,
}

TEXT = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, rms_norm_eps=1e-6, max_position_embeddings=512, eos_token_id=EOS,
            pad_token_id=PAD, bos_token_id=None,
            rope_parameters={"rope_type": "default", "rope_theta": 1e6, "mrope_section": [2, 3, 3]})
TOKEN_IDS = dict(image_token_id=IMAGE_PAD, video_token_id=VIDEO_PAD, vision_start_token_id=VISION_START,
                 vision_end_token_id=VISION_END)

# (prompt, image files): text only, four single images of different sizes, two images in one prompt.
CASES = [
    ("Say hello.", []),
    ("Describe the picture.", ["photo_90x60.png"]),
    ("What colour is it?", ["gray_19x31.png"]),
    ("Is it see-through?", ["rgba_24x17.png"]),
    ("Where is the circle?", ["gradient_200x120.png"]),
    ("Which is taller?", ["rgb_37x23.png", "gray_19x31.png"]),
]
PROCESSOR_IMAGES = ["photo_90x60.png", "rgb_37x23.png", "gray_19x31.png", "rgba_24x17.png", "gradient_200x120.png"]


def b64(array):
    return base64.b64encode(np.ascontiguousarray(np.asarray(array, dtype=np.float32)).tobytes()).decode()


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f, indent=2)
        f.write("\n")


def gradient(path):
    """A 200x120 picture that max_pixels scales down to 84x140 (a 3x5 grid of merged tokens: Qwen2.5-VL's 2x2
    windows then cover it as 2x2, 2x2, 2x1, 1x2, 1x2, 1x1)."""
    rng = np.random.default_rng(11)
    y, x = np.mgrid[0:120, 0:200]
    r = (x * 255 / 199).astype(np.uint8)
    g = (255 - y * 255 / 119).astype(np.uint8)
    b = ((x * 3 + y * 5) % 256).astype(np.uint8)
    img = np.stack([r, g, b], axis=-1)
    img[((x - 140) ** 2 + (y - 45) ** 2) < 24 ** 2] = [240, 240, 20]
    img[80:110, 20:70] = [30, 30, 200]
    img = np.clip(img.astype(int) + rng.integers(-10, 11, img.shape), 0, 255).astype(np.uint8)
    Image.fromarray(img, "RGB").save(path)


def tokenizer(directory):
    tok = Tokenizer.from_file(os.path.join(HERE, "qwen2-tiny", "tokenizer.json"))
    names = ["<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"]
    tok.add_special_tokens([AddedToken(n, special=True, normalized=False) for n in names])
    assert [tok.token_to_id(n) for n in names] == [VISION_START, VISION_END, IMAGE_PAD, VIDEO_PAD]
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    fast.save_pretrained(directory)
    return fast


def perturb(model):
    with torch.no_grad():
        for p in model.parameters():  # std 0.02 leaves logits near-uniform; wider weights make greedy decisive
            p.add_(torch.randn_like(p) * 0.15)


def rename(state, layout):
    """Keys of a 5.25 save (the Hub's layout: model.*, visual.*, lm_head.*) in another layout."""
    if layout == "hub":
        return dict(state)
    out = {}
    for k, v in state.items():
        if k.startswith("visual."):
            k = "model." + k
        elif k.startswith("model."):
            k = "model.language_model." + k[len("model."):]
        out[k] = v
    return out


def load(cls, directory, **kwargs):
    model, info = cls.from_pretrained(directory, output_loading_info=True, **kwargs)
    bad = {k: v for k, v in info.items() if v and k in ("missing_keys", "unexpected_keys", "mismatched_keys")}
    assert not bad, f"{directory}: {bad}"
    return model.eval()


def check_layouts(cls, directory, state, inputs):
    """transformers loads both layouts of the same weights to the same logits."""
    got = {}
    for layout in ["hub", "4.52"]:
        with tempfile.TemporaryDirectory() as tmp:
            for name in os.listdir(directory):
                if name.endswith(".json") and name not in ("reference.json", "model.safetensors.index.json"):
                    shutil.copy(os.path.join(directory, name), tmp)
            save_file({k: v.contiguous() for k, v in rename(state, layout).items()},
                      os.path.join(tmp, "model.safetensors"), metadata={"format": "pt"})
            model = load(cls, tmp, dtype=torch.float32)
            with torch.no_grad():
                got[layout] = model(**inputs, use_cache=False).logits
    assert torch.equal(got["hub"], got["4.52"]), "layouts give different logits"
    return got["hub"]


def check_size_precedence():
    """5.25: top-level min_pixels/max_pixels override size.shortest_edge/longest_edge; size {min_pixels, max_pixels}
    alone is not understood (resize needs shortest_edge and longest_edge)."""
    with tempfile.TemporaryDirectory() as tmp:
        def loaded(extra):
            write_json(os.path.join(tmp, "preprocessor_config.json"), {**PREPROCESSOR_COMMON, **extra})
            return Qwen2VLImageProcessorPil.from_pretrained(tmp).size
        s = loaded({"min_pixels": 1000, "max_pixels": 5000, "size": {"shortest_edge": 3136, "longest_edge": 12544}})
        assert (s.shortest_edge, s.longest_edge) == (1000, 5000), s
        s = loaded({"size": {"min_pixels": 3136, "max_pixels": 12544}})
        assert s.shortest_edge is None and s.longest_edge is None, s
        s = loaded({})
        assert (s.shortest_edge, s.longest_edge) == (56 * 56, 28 * 28 * 1280), s


def expand(text, counts):
    pieces = text.split("<|image_pad|>")
    assert len(pieces) == len(counts) + 1
    return pieces[0] + "".join("<|image_pad|>" * n + p for n, p in zip(counts, pieces[1:]))


def forward_inputs(ids, pixels):
    input_ids = torch.tensor([ids])
    inputs = {"input_ids": input_ids}
    if pixels is not None:
        inputs.update(pixel_values=pixels["pixel_values"], image_grid_thw=pixels["image_grid_thw"],
                      mm_token_type_ids=(input_ids == IMAGE_PAD).to(torch.int32))
    return inputs


def run_case(model, processor, tok, prompt, files):
    images = [Image.open(os.path.join(IMAGES, f)) for f in files]
    content = [{"type": "image"} for _ in images] + [{"type": "text", "text": prompt}]
    text = tok.apply_chat_template([{"role": "user", "content": content}], chat_template=QWEN2_VL_TEMPLATE,
                                   add_generation_prompt=True, tokenize=False)
    pixels = processor(images=images, return_tensors="pt") if images else None
    grids = pixels["image_grid_thw"].tolist() if images else []
    counts = [t * h * w // MERGE ** 2 for t, h, w in grids]
    ids = tok(expand(text, counts), add_special_tokens=False)["input_ids"]
    assert ids.count(IMAGE_PAD) == sum(counts)
    inputs = forward_inputs(ids, pixels)
    mm = (inputs["input_ids"] == IMAGE_PAD).to(torch.int32)
    position_ids, deltas = model.model.get_rope_index(inputs["input_ids"], mm_token_type_ids=mm,
                                                      image_grid_thw=pixels["image_grid_thw"] if images else None)
    position_ids, delta = position_ids[:, 0], int(deltas.reshape(-1)[0])
    if not images:  # M-RoPE reduces to ordinary positions
        assert torch.equal(position_ids, torch.arange(len(ids)).expand(3, -1)) and delta == 0
    with torch.no_grad():
        logits = model(**inputs, use_cache=False).logits[0]
        features = []
        if images:
            out = model.model.get_image_features(pixels["pixel_values"], pixels["image_grid_thw"])
            features = list(getattr(out, "pooler_output", out))
            assert [f.shape[0] for f in features] == counts
        generated = model.generate(**inputs, max_new_tokens=NEW_TOKENS, do_sample=False)[0, len(ids):].tolist()
        # The same continuation by an argmax loop over full forwards without a cache.
        loop, margin, current = [], float("inf"), list(ids)
        for _ in range(NEW_TOKENS):
            step = model(**forward_inputs(current, pixels), use_cache=False).logits[0, -1]
            top = torch.topk(step, 2).values
            margin = min(margin, float(top[0] - top[1]))
            loop.append(int(step.argmax()))
            current.append(loop[-1])
            if loop[-1] == EOS:
                break
    assert generated == loop, f"{prompt}: generate {generated} != argmax loop {loop}"
    case = {
        "prompt": prompt, "images": files, "rendered": text, "ids": ids,
        "image_grid_thw": grids, "image_tokens": counts,
        "position_ids": position_ids.tolist(), "rope_deltas": delta,
        "features_shapes": [list(f.shape) for f in features], "features": [b64(f) for f in features],
        "logits_shape": list(logits.shape), "logits_first8": b64(logits[:, :8]), "logits_last4": b64(logits[-4:]),
        "greedy": generated, "greedy_text": tok.decode(generated, skip_special_tokens=False),
        "stopped_at_eos": bool(generated and generated[-1] == EOS), "min_top2_margin": round(margin, 6),
    }
    if images:  # absent for the text-only case
        case["pixel_values_shape"] = list(pixels["pixel_values"].shape)
        case["pixel_values"] = b64(pixels["pixel_values"])
    return case, inputs


def processor_section(processor, vision_config, windows):
    out = []
    for name in PROCESSOR_IMAGES:
        image = Image.open(os.path.join(IMAGES, name))
        pixels = processor(images=[image], return_tensors="pt")
        grid = pixels["image_grid_thw"][0].tolist()
        resized = smart_resize(image.height, image.width, factor=14 * MERGE, min_pixels=MIN_PIXELS,
                               max_pixels=MAX_PIXELS)
        assert [resized[0] // 14, resized[1] // 14] == grid[1:]
        entry = {"image": name, "mode": image.mode, "width": image.width, "height": image.height,
                 "resized_height": resized[0], "resized_width": resized[1], "image_grid_thw": grid,
                 "image_tokens": grid[0] * grid[1] * grid[2] // MERGE ** 2,
                 "pixel_values_shape": list(pixels["pixel_values"].shape), "pixel_values": b64(pixels["pixel_values"])}
        if windows:
            index, cu = get_vision_window_index(pixels["image_grid_thw"], spatial_merge_size=MERGE,
                                                window_size=vision_config.window_size,
                                                patch_size=vision_config.patch_size)
            entry["window_index"] = index.tolist()
            entry["cu_window_seqlens"] = cu.tolist()
        out.append(entry)
    return out


def write_preprocessor(directory, form):
    sizes = {"size": {"longest_edge": MAX_PIXELS, "shortest_edge": MIN_PIXELS}}
    if form == "older":  # top-level min/max_pixels (they win in 5.25) plus the size dict 5.25 itself writes
        sizes.update(min_pixels=MIN_PIXELS, max_pixels=MAX_PIXELS)
    write_json(os.path.join(directory, "preprocessor_config.json"),
               dict(sorted({**PREPROCESSOR_COMMON, **sizes,
                            "processor_class": "Qwen2VLProcessor" if form == "older" else "Qwen2_5_VLProcessor"}
                           .items())))
    with open(os.path.join(directory, "chat_template.jinja"), "w") as f:
        f.write(QWEN2_VL_TEMPLATE)
    processor = Qwen2VLImageProcessorPil.from_pretrained(directory)
    assert (processor.size.shortest_edge, processor.size.longest_edge) == (MIN_PIXELS, MAX_PIXELS)
    return processor


def flat_hub_config(config):
    """The Hub's original Qwen2-VL config.json form: text keys at top level, rope_scaling mrope, torch_dtype."""
    text, vision = config["text_config"], config["vision_config"]
    return {
        "architectures": ["Qwen2VLForConditionalGeneration"], "attention_dropout": 0.0, "bos_token_id": None,
        "eos_token_id": EOS, "pad_token_id": PAD, "vision_start_token_id": VISION_START,
        "vision_end_token_id": VISION_END, "image_token_id": IMAGE_PAD, "video_token_id": VIDEO_PAD,
        "hidden_act": text["hidden_act"], "hidden_size": text["hidden_size"], "initializer_range": 0.02,
        "intermediate_size": text["intermediate_size"], "max_position_embeddings": text["max_position_embeddings"],
        "max_window_layers": text["num_hidden_layers"], "model_type": "qwen2_vl",
        "num_attention_heads": text["num_attention_heads"], "num_hidden_layers": text["num_hidden_layers"],
        "num_key_value_heads": text["num_key_value_heads"], "rms_norm_eps": text["rms_norm_eps"],
        "rope_theta": text["rope_parameters"]["rope_theta"], "sliding_window": text["max_position_embeddings"],
        "tie_word_embeddings": False, "torch_dtype": "bfloat16", "transformers_version": "4.45.0.dev0",
        "use_cache": True, "use_sliding_window": False,
        "vision_config": {"depth": vision["depth"], "embed_dim": vision["embed_dim"], "mlp_ratio": vision["mlp_ratio"],
                          "num_heads": vision["num_heads"], "in_chans": 3, "hidden_size": vision["hidden_size"],
                          "hidden_act": vision["hidden_act"], "patch_size": vision["patch_size"],
                          "spatial_merge_size": vision["spatial_merge_size"],
                          "spatial_patch_size": vision["patch_size"],
                          "temporal_patch_size": vision["temporal_patch_size"]},
        "rope_scaling": {"type": "mrope", "mrope_section": text["rope_parameters"]["mrope_section"]},
        "vocab_size": text["vocab_size"],
    }


def reference(model, processor, tok, windows):
    alone = processor_section(processor, model.config.vision_config, windows)
    pixels = {e["image"]: base64.b64decode(e["pixel_values"]) for e in alone}
    cases = [run_case(model, processor, tok, prompt, files)[0] for prompt, files in CASES]
    for case in cases:  # a prompt's pixel_values are its images' rows, concatenated in order: kept once, in
        # `processor` (per image), so the per-case copy is dropped to halve the file
        assert base64.b64decode(case.pop("pixel_values", "")) == b"".join(pixels[f] for f in case["images"])
    return {"generator": GENERATOR, "eos_token_ids": [EOS],
            "image_token_id": IMAGE_PAD, "video_token_id": VIDEO_PAD, "vision_start_token_id": VISION_START,
            "vision_end_token_id": VISION_END, "processor": alone, "cases": cases}


def qwen2_vl(directory):
    os.makedirs(directory, exist_ok=True)
    tok = tokenizer(directory)
    torch.manual_seed(7)  # seeds picked for decisive, varied greedy tokens
    vision = dict(embed_dim=32, depth=2, num_heads=4, mlp_ratio=2, hidden_size=64, patch_size=14,
                  spatial_merge_size=MERGE, temporal_patch_size=2, hidden_act="quick_gelu", in_channels=3)
    config = Qwen2VLConfig(text_config=TEXT, vision_config=vision, tie_word_embeddings=False, **TOKEN_IDS)
    model = Qwen2VLForConditionalGeneration(config).eval()
    perturb(model)
    model.save_pretrained(directory)
    state = load_file(os.path.join(directory, "model.safetensors"))
    assert "visual.merger.ln_q.weight" in state and "model.layers.0.self_attn.q_proj.weight" in state
    processor = write_preprocessor(directory, "older")
    # The Hub's flat config form; transformers must read it as the config it was written from.
    cfg = json.load(open(os.path.join(directory, "config.json")))
    write_json(os.path.join(directory, "config.json"), flat_hub_config(cfg))
    _, inputs = run_case(model, processor, tok, *CASES[4])
    with torch.no_grad():
        expected = model(**inputs, use_cache=False).logits
    assert torch.equal(check_layouts(Qwen2VLForConditionalGeneration, directory, state, inputs), expected)
    # The Hub's layout, BF16, in 2 shards.
    os.remove(os.path.join(directory, "model.safetensors"))
    hub = {k: v.to(torch.bfloat16).contiguous() for k, v in state.items()}
    names = sorted(hub)
    shards = [names[:len(names) // 2], names[len(names) // 2:]]
    weight_map = {}
    for i, shard in enumerate(shards):
        file = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        save_file({k: hub[k] for k in shard}, os.path.join(directory, file), metadata={"format": "pt"})
        weight_map.update({k: file for k in shard})
    write_json(os.path.join(directory, "model.safetensors.index.json"),
               {"metadata": {"total_size": sum(v.numel() * 2 for v in hub.values())}, "weight_map": weight_map})
    # References from the BF16 weights as saved, widened to float32.
    model = load(Qwen2VLForConditionalGeneration, directory, dtype=torch.float32)
    assert model.config.text_config.rope_parameters["mrope_section"] == [2, 3, 3]
    assert model.config.text_config.rope_parameters["rope_theta"] == 1e6
    write_json(os.path.join(directory, "reference.json"),
               {"dtype": "bfloat16", **reference(model, processor, tok, False)})


def qwen2_5_vl(directory):
    os.makedirs(directory, exist_ok=True)
    tok = tokenizer(directory)
    torch.manual_seed(2)
    vision = dict(hidden_size=32, out_hidden_size=64, intermediate_size=64, depth=3, num_heads=4, patch_size=14,
                  spatial_merge_size=MERGE, temporal_patch_size=2, window_size=56, fullatt_block_indexes=[1],
                  hidden_act="silu", in_channels=3)
    config = Qwen2_5_VLConfig(text_config=TEXT, vision_config=vision, tie_word_embeddings=True, **TOKEN_IDS)
    model = Qwen2_5_VLForConditionalGeneration(config).eval()
    perturb(model)
    model.save_pretrained(directory)
    state = load_file(os.path.join(directory, "model.safetensors"))
    assert "lm_head.weight" not in state and "visual.merger.ln_q.weight" in state
    processor = write_preprocessor(directory, "newer")
    _, inputs = run_case(model, processor, tok, *CASES[4])
    with torch.no_grad():
        expected = model(**inputs, use_cache=False).logits
    assert torch.equal(check_layouts(Qwen2_5_VLForConditionalGeneration, directory, state, inputs), expected)
    # The transformers >= 4.52 layout, F32, one file.
    save_file({k: v.contiguous() for k, v in sorted(rename(state, "4.52").items())},
              os.path.join(directory, "model.safetensors"), metadata={"format": "pt"})
    model = load(Qwen2_5_VLForConditionalGeneration, directory, dtype=torch.float32)
    assert torch.equal(model.lm_head.weight, model.model.language_model.embed_tokens.weight)
    write_json(os.path.join(directory, "reference.json"),
               {"dtype": "float32", **reference(model, processor, tok, True)})


def main():
    warnings.filterwarnings("ignore")
    transformers.logging.set_verbosity_error()
    gradient(os.path.join(IMAGES, "gradient_200x120.png"))
    check_size_precedence()
    with open(os.path.join(TEMPLATES, "qwen2-vl-instruct.jinja"), "w") as f:
        f.write(QWEN2_VL_TEMPLATE)
    for name, make in [("qwen2-vl-tiny", qwen2_vl), ("qwen2.5-vl-tiny", qwen2_5_vl)]:
        directory = os.path.join(HERE, name)
        shutil.rmtree(directory, ignore_errors=True)
        make(directory)


if __name__ == "__main__":
    main()
