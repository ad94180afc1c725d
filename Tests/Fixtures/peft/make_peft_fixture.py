#!/usr/bin/env python3
"""Regenerates the PEFT LoRA golden fixture under Tests/Fixtures/peft.

Loads the tiny random Qwen2 model of Tests/Fixtures/hf/qwen2-tiny with transformers, wraps it with a PEFT
LoraConfig (r=4, lora_alpha=8, target_modules q_proj, v_proj, down_proj), gives every lora_B a non-zero seeded
random value (PEFT initialises B to zero, which would test nothing), saves the adapter with save_pretrained to
qwen2-tiny-lora/, and records the adapted model's logits for two prompts in qwen2-tiny-lora-reference.json.
Nothing is downloaded. Requirements: torch (CPU), transformers, peft (`pip install peft`).
Run from anywhere:  python3 Tests/Fixtures/peft/make_peft_fixture.py   (deterministic)

reference JSON:
  {"generator": {versions}, "adapter": "qwen2-tiny-lora", "base_model": "Tests/Fixtures/hf/qwen2-tiny",
   "prompts": [{"text": str, "ids": [int] (no special tokens), "logits": [[float x 605] x len(ids)] (rounded to 6 decimals),
                "max_abs_change_from_base": float}]}
"""

import json
import os
import shutil
import sys

import peft
import torch
import transformers
from peft import LoraConfig, get_peft_model
from transformers import AutoTokenizer, Qwen2ForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
BASE = "Tests/Fixtures/hf/qwen2-tiny"  # relative, so adapter_config.json records no machine path
OUT = os.path.join(HERE, "qwen2-tiny-lora")
PROMPTS = ["Hello world", "The quick brown fox"]


def main():
    # PEFT writes target_modules from a Python set: fix the string hash seed so the file is the same every run.
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, PYTHONHASHSEED="0"))
    os.chdir(REPO)
    torch.manual_seed(0)
    model = Qwen2ForCausalLM.from_pretrained(BASE, dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(BASE)
    ids = [tokenizer(text, add_special_tokens=False)["input_ids"] for text in PROMPTS]
    with torch.no_grad():
        base_logits = [model(torch.tensor([i])).logits[0] for i in ids]

    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"], lora_dropout=0.0,
                        bias="none", task_type="CAUSAL_LM")
    adapted = get_peft_model(model, config)
    generator = torch.Generator().manual_seed(1234)
    with torch.no_grad():
        for name, parameter in adapted.named_parameters():
            if "lora_A" in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.2)
            if "lora_B" in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.2)
    adapted.eval()

    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    adapted.save_pretrained(OUT)
    readme = os.path.join(OUT, "README.md")  # an empty model card template; not part of the format
    if os.path.exists(readme):
        os.remove(readme)

    prompts = []
    with torch.no_grad():
        for text, i, base in zip(PROMPTS, ids, base_logits):
            logits = adapted(torch.tensor([i])).logits[0]
            prompts.append({"text": text, "ids": i, "logits": [[round(float(v), 6) for v in row] for row in logits.tolist()],
                            "max_abs_change_from_base": float((logits - base).abs().max())})
    reference = {
        "generator": {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__},
        "adapter": "qwen2-tiny-lora",
        "base_model": BASE,
        "prompts": prompts,
    }
    with open(os.path.join(HERE, "qwen2-tiny-lora-reference.json"), "w") as f:
        json.dump(reference, f, indent=1)
        f.write("\n")
    for p in prompts:
        print(p["text"], len(p["ids"]), "tokens, max |change| from base:", round(p["max_abs_change_from_base"], 4))


if __name__ == "__main__":
    main()
