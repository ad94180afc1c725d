"""transformers reference for `skilltune bench eval --config llava-onevision-0.5b --generation-only --json`: prefill
and batch-1 greedy decode of a random LLaVA-OneVision of llava-onevision-qwen2-0.5b-ov's shape with one 384x384
image, with `transformers`' own `generate`.

Usage: python3 benchmarks/reference/hf_llava_generate.py [--prompt-tokens 128] [--new-tokens 32] [--threads 1]
       [--repeats 3] [--json]

The model is `LlavaOnevisionForConditionalGeneration` in float32 with the library's random initialisation (no
download): SigLIP (1152 wide, 26 layers, 384-pixel tiles, 14-pixel patches, no pooling head), Qwen2-0.5B (896
wide, 24 layers, 14 / 2 heads, vocabulary 151936, tied), anyres_max_9 over 1-6 x 1-6 tiles of 384, SDPA
attention. The image is random pixels (numpy seed 7) through the PIL image processor; the prompt is the image's
placeholders (as many as the processor counts: 1485) then `--prompt-tokens` random ids. A prefill takes about a
minute on 2 cores, so each `generate(max_new_tokens=1 + M)` is timed token by token with a streamer, as SkillTune
times it: prefill = the call to its first new token (vision tower, projector, the prompt's forward pass), decode =
(last new token - first new token) / M; medians of `--repeats` runs after a warm-up. "prompt_tokens" counts every
position of the prompt. The --json keys are hf_generate.py's.
"""
from types import SimpleNamespace

import numpy as np
import torch
from PIL import Image
from transformers import LlavaOnevisionConfig, LlavaOnevisionForConditionalGeneration, Qwen2Config, SiglipVisionConfig
from transformers.models.llava_onevision.image_processing_pil_llava_onevision import LlavaOnevisionImageProcessorPil
from transformers.models.llava_onevision.processing_llava_onevision import LlavaOnevisionProcessor

from hf_generate import parse_args, time_image_generation  # the same --json keys (this script's folder is on sys.path)

IMAGE_TOKEN = 151646


def main():
    a = parse_args()
    pinpoints = [[384 * h, 384 * w] for h in range(1, 7) for w in range(1, 7)]
    vision = SiglipVisionConfig(hidden_size=1152, intermediate_size=4304, num_hidden_layers=26, num_attention_heads=16,
                                image_size=384, patch_size=14, vision_use_head=False)
    text = Qwen2Config(vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                       num_attention_heads=14, num_key_value_heads=2, max_position_embeddings=32768,
                       rope_theta=1000000.0, rms_norm_eps=1e-6, tie_word_embeddings=True, bos_token_id=None,
                       eos_token_id=None, pad_token_id=0)
    config = LlavaOnevisionConfig(vision_config=vision, text_config=text, image_token_id=IMAGE_TOKEN,
                                  vision_feature_layer=-1, vision_feature_select_strategy="full",
                                  vision_aspect_ratio="anyres_max_9", image_grid_pinpoints=pinpoints,
                                  tie_word_embeddings=True)
    config._attn_implementation = "sdpa"
    model = LlavaOnevisionForConditionalGeneration(config).to(torch.float32).eval()
    model.generation_config.eos_token_id = None
    model.generation_config.pad_token_id = 0
    processor = LlavaOnevisionImageProcessorPil(size={"height": 384, "width": 384}, image_grid_pinpoints=pinpoints,
                                                image_mean=[0.5] * 3, image_std=[0.5] * 3)
    rng = np.random.default_rng(7)
    image = Image.fromarray(rng.integers(0, 256, (384, 384, 3), dtype=np.uint8), "RGB")
    pixels = processor(images=[[image]], return_tensors="pt")
    stand_in = SimpleNamespace(image_processor=processor, num_image_tokens=729, vision_aspect_ratio="anyres_max_9")
    stand_in._get_unpadded_features = lambda *x: LlavaOnevisionProcessor._get_unpadded_features(stand_in, *x)
    features = LlavaOnevisionProcessor._get_number_of_features(stand_in, 384, 384, 384, 384)
    text_ids = torch.randint(0, 151000, (a.prompt_tokens,)).tolist()
    ids = torch.tensor([[IMAGE_TOKEN] * features + text_ids])
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "pixel_values": pixels["pixel_values"],
              "image_sizes": pixels["image_sizes"], "batch_num_images": pixels["batch_num_images"]}

    time_image_generation(model, inputs, a, "LLaVA-OneVision-0.5B shape")


if __name__ == "__main__":
    main()
