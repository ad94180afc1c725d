#!/usr/bin/env python3
"""Checks that a LoRA adapter trained and saved by SkillTune loads in PEFT and gives SkillTune's logits.

Step 1 (Swift) writes the adapter and SkillTune's logits:
    SKILLTUNE_PEFT_CHECK_DIR=/tmp/peft-check swift test -c release --filter PEFTCrossCheckTests
  -> /tmp/peft-check/adapter/{adapter_config.json, adapter_model.safetensors} (PEFTAdapter.save after a short
     LoRA stage on Tests/Fixtures/hf/qwen2-tiny with merge=false) and /tmp/peft-check/skilltune-logits.json
     ({"base_model": path, "prompts": [{"ids": [int], "logits": [[float x V] x T]}]}).
Step 2 (this script) loads the base model with transformers, applies the adapter with
PeftModel.from_pretrained, and compares the logits:
    python3 Tests/Fixtures/peft/check_skilltune_adapter.py /tmp/peft-check
Exits 0 and prints the largest difference when every logit is within 1e-4; exits 1 otherwise.
Requirements: torch (CPU), transformers, peft.
"""

import json
import os
import sys

import peft
import torch
from peft import PeftModel
from transformers import Qwen2ForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    directory = sys.argv[1]
    with open(os.path.join(directory, "skilltune-logits.json")) as f:
        expected = json.load(f)
    base_path = expected["base_model"]
    if not os.path.isabs(base_path):
        base_path = os.path.join(REPO, base_path)
    base = Qwen2ForCausalLM.from_pretrained(base_path, dtype=torch.float32).eval()
    model = PeftModel.from_pretrained(base, os.path.join(directory, "adapter")).eval()
    config = model.peft_config["default"]
    adapted = sorted(name for name, _ in model.named_modules() if name.endswith("lora_A"))
    print(f"peft {peft.__version__}: r={config.r} lora_alpha={config.lora_alpha} "
          f"target_modules={sorted(config.target_modules) if not isinstance(config.target_modules, str) else config.target_modules} "
          f"adapted modules={len(adapted)}")
    worst = 0.0
    with torch.no_grad():
        for prompt in expected["prompts"]:
            logits = model(torch.tensor([prompt["ids"]])).logits[0]
            difference = (logits - torch.tensor(prompt["logits"])).abs().max().item()
            with model.disable_adapter():
                change = (model(torch.tensor([prompt["ids"]])).logits[0] - logits).abs().max().item()
            print(f"prompt of {len(prompt['ids'])} tokens: max |PEFT - SkillTune| = {difference:.3g} "
                  f"(the adapter changes logits by up to {change:.3g})")
            worst = max(worst, difference)
    ok = worst <= 1e-4
    print(("OK" if ok else "FAILED") + f": largest difference {worst:.3g} (tolerance 1e-4)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
