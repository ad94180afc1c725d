"""transformers reference for `skilltune bench eval --config qwen2.5-vl-3b --generation-only --json`: prefill and
batch-1 greedy decode of a random Qwen2.5-VL of Qwen2.5-VL-3B-Instruct's shape with one 448x448 image, with
`transformers`' own `generate`.

Usage: python3 benchmarks/reference/hf_qwen_vl_generate.py [--prompt-tokens 128] [--new-tokens 32] [--threads 1]
       [--repeats 3] [--json]

The model is `Qwen2_5_VLForConditionalGeneration` in float32 with the library's random initialisation (no
download; HF_HUB_OFFLINE=1 is set): the vision tower 1280 wide, 32 blocks of 16 heads, SwiGLU 3420, 14-pixel
patches over 2 frames, 112-pixel windows except blocks 7, 15, 23, 31, a 2 x 2 merger into 2048; the Qwen2
decoder 2048 wide, 36 layers, 16 / 2 heads, SwiGLU 11008, vocabulary 151936, tied head, rope_theta 1e6, M-RoPE
sections [16, 24, 24]; SDPA attention (transformers' default). 3.75B parameters, ~15 GB.

The image is a 448x448 one as the processor would give it (448 is a multiple of 28 within min/max pixels, so no
resize): `image_grid_thw` [[1, 32, 32]], 1024 patch rows of 1176 values, here random normal floats (torch seed
7) instead of processed pixels, which costs the same. The prompt is its 256 `<|image_pad|>` placeholders (1024
patches / 4) then `--prompt-tokens` random ids; `mm_token_type_ids` marks the placeholders (transformers 5.25's
M-RoPE index needs it). Each `generate(max_new_tokens=1 + M)` is timed token by token with a streamer, as
SkillTune and hf_llava_generate.py time it: prefill = the call to its first new token (vision tower, merger, the
prompt's forward pass), decode = (last new token - first new token) / M; medians of `--repeats` runs after a
warm-up. "prompt_tokens" counts every position of the prompt. The --json keys are hf_generate.py's.
"""
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration  # noqa: E402

from hf_generate import parse_args, time_image_generation  # noqa: E402  (the same --json keys; this script's folder is on sys.path)

IMAGE_TOKEN = 151655
SIDE = 448
PATCH, MERGE, TEMPORAL = 14, 2, 2


def main():
    a = parse_args()
    text = dict(model_type="qwen2_5_vl_text", vocab_size=151936, hidden_size=2048, intermediate_size=11008,
                num_hidden_layers=36, num_attention_heads=16, num_key_value_heads=2, hidden_act="silu",
                rms_norm_eps=1e-6, max_position_embeddings=128000, bos_token_id=None, eos_token_id=None,
                pad_token_id=0, rope_parameters={"rope_type": "default", "rope_theta": 1e6,
                                                 "mrope_section": [16, 24, 24]})
    vision = dict(depth=32, hidden_size=1280, intermediate_size=3420, num_heads=16, out_hidden_size=2048,
                  patch_size=PATCH, temporal_patch_size=TEMPORAL, spatial_merge_size=MERGE, window_size=112,
                  fullatt_block_indexes=[7, 15, 23, 31], hidden_act="silu", in_channels=3, tokens_per_second=2)
    config = Qwen2_5_VLConfig(text_config=text, vision_config=vision, image_token_id=IMAGE_TOKEN,
                              video_token_id=151656, vision_start_token_id=151652, vision_end_token_id=151653,
                              tie_word_embeddings=True)
    config._attn_implementation = "sdpa"
    model = Qwen2_5_VLForConditionalGeneration(config).to(torch.float32).eval()
    model.generation_config.eos_token_id = None
    model.generation_config.pad_token_id = 0

    grid = SIDE // PATCH
    features = grid * grid // (MERGE * MERGE)
    generator = torch.Generator().manual_seed(7)
    pixels = torch.randn(grid * grid, 3 * TEMPORAL * PATCH * PATCH, generator=generator)
    text_ids = torch.randint(0, 151000, (a.prompt_tokens,)).tolist()
    ids = torch.tensor([[IMAGE_TOKEN] * features + text_ids])
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "pixel_values": pixels,
              "image_grid_thw": torch.tensor([[1, grid, grid]]),
              "mm_token_type_ids": (ids == IMAGE_TOKEN).to(torch.int32)}

    time_image_generation(model, inputs, a, "Qwen2.5-VL-3B shape")


if __name__ == "__main__":
    main()
