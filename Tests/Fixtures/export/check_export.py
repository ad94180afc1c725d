#!/usr/bin/env python3
"""Checks models exported by `skilltune tune` with transformers and peft (a gated check; no test needs Python).

For every OUT directory given:
  * a full checkpoint: AutoModelForCausalLM.from_pretrained(OUT, dtype=float32, output_loading_info=True); prints
    the class, the weights' dtype in the file, and the missing / unexpected / mismatched keys transformers reports;
  * a PEFT adapter (adapter_config.json): loads its base (base_model_name_or_path, or --base) with transformers,
    then PeftModel.from_pretrained(base, OUT); prints the adapted modules and what peft reported;
then runs both on fixed token ids (a LLaVA-family model: a chat prompt with --image) and compares with `skilltune logits --model OUT [--adapter OUT] --token-ids ...`
(the same forward in SkillTune): OK when every logit is within 1e-4. With --input DIR, also counts the tensors
whose bytes equal the input checkpoint's (frozen tensors must be bit-identical).

    python3 Tests/Fixtures/export/check_export.py --skilltune .build/release/skilltune [--input BASE] OUT [OUT ...]

Exits 1 if any check fails. Requirements: torch (CPU), transformers, peft, safetensors.
"""

import argparse
import glob
import json
import os
import subprocess
import sys

import peft
import torch
import transformers
from peft import PeftModel
from safetensors import safe_open
from transformers import AutoModelForCausalLM, AutoModelForImageTextToText

IDS = [5, 70, 101, 33, 250, 9, 12, 300, 1, 64]
HERE = os.path.dirname(os.path.abspath(__file__))
IMAGE = os.path.join(HERE, "..", "hf", "multimodal_images", "photo_90x60.png")
MULTIMODAL = {"llava", "llava_onevision", "qwen2_vl", "qwen2_5_vl"}


def skilltune_logits(binary, model, ids, adapter=None, image=None):
    """SkillTune's logits and the ids they were computed on: the fixed ids, or for a multimodal model a chat
    prompt with `image` (ids expanded as transformers' processor expands them)."""
    if image:
        command = [binary, "logits", "--model", model, "--image", image, "--prompt", "What colour is it?", "--chat"]
    else:
        command = [binary, "logits", "--model", model, "--token-ids", ",".join(map(str, ids))]
    if adapter:
        command += ["--adapter", adapter]
    out = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    return torch.tensor(out["logits"]), out["ids"]


def model_inputs(binary, model, ids, image):
    """input_ids, and for an image the pixel values and sizes `skilltune preprocess` gives (the golden tests
    check those against transformers' processor)."""
    inputs = {"input_ids": torch.tensor([ids])}
    if image:
        command = [binary, "preprocess", "--model", model, "--image", image, "--json"]
        out = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
        inputs["pixel_values"] = torch.tensor(out["pixel_values"]).reshape(out["pixel_values_shape"])
        if model_type(model) == "llava_onevision":  # LLaVA-1.5 takes none (its images are all one size)
            inputs["image_sizes"] = torch.tensor(out["image_sizes"])
        if model_type(model) in {"qwen2_vl", "qwen2_5_vl"}:  # grids, and (transformers 5.25) which ids are images
            inputs["image_grid_thw"] = torch.tensor(out["image_grid_thw"])
            with open(os.path.join(model, "config.json")) as f:
                image_token = json.load(f)["image_token_id"]
            inputs["mm_token_type_ids"] = (inputs["input_ids"] == image_token).int()
    return inputs


def model_type(directory):
    with open(os.path.join(directory, "config.json")) as f:
        return json.load(f).get("model_type")


def auto_class(directory):
    return AutoModelForImageTextToText if model_type(directory) in MULTIMODAL else AutoModelForCausalLM


def tensors_of(directory):
    """name -> (dtype string, raw bytes) of every tensor in a model directory's safetensors files."""
    out = {}
    for path in sorted(glob.glob(os.path.join(directory, "*.safetensors"))):
        with open(path, "rb") as f:
            raw = f.read()
        header_length = int.from_bytes(raw[:8], "little")
        header = json.loads(raw[8:8 + header_length])
        base = 8 + header_length
        for name, info in header.items():
            if name == "__metadata__":
                continue
            begin, end = info["data_offsets"]
            out[name] = (info["dtype"], raw[base + begin:base + end])
    return out


def check(directory, args):
    ok = True
    name = os.path.basename(os.path.normpath(directory))
    adapter_config = os.path.join(directory, "adapter_config.json")
    if os.path.exists(adapter_config):
        with open(adapter_config) as f:
            config = json.load(f)
        base_path = args.base or config.get("base_model_name_or_path")
        base = auto_class(base_path).from_pretrained(base_path, dtype=torch.float32).eval()
        model = PeftModel.from_pretrained(base, directory).eval()
        adapted = sorted(n for n, _ in model.named_modules() if n.endswith("lora_A"))
        peft_config = model.peft_config["default"]
        # Loading the adapter once more under another name returns what peft matched: adapter keys it found no
        # place for (unexpected) and adapter keys the model expected but the file lacked (missing lora keys).
        result = model.load_adapter(directory, adapter_name="verify")
        missing = sorted(k for k in result.missing_keys if "lora_" in k and ".verify." in k)
        print(f"{name}: peft load_adapter: unexpected_keys={sorted(result.unexpected_keys)} missing_lora_keys={missing}")
        ok &= not result.unexpected_keys and not missing
        model.set_adapter("default")
        model.delete_adapter("verify")
        print(f"{name}: peft {peft.__version__} PeftModel.from_pretrained(base={base_path}, {name}): "
              f"r={peft_config.r} lora_alpha={peft_config.lora_alpha} target_modules={peft_config.target_modules if isinstance(peft_config.target_modules, str) else sorted(peft_config.target_modules)} "
              f"adapted modules={len(adapted)}")
        image = args.image if model_type(base_path) in MULTIMODAL else None
        theirs, ids = skilltune_logits(args.skilltune, base_path, IDS, adapter=directory, image=image)
        inputs = model_inputs(args.skilltune, base_path, ids, image)
    else:
        model, info = auto_class(directory).from_pretrained(
            directory, dtype=torch.float32, output_loading_info=True)
        model.eval()
        files = tensors_of(directory)
        dtypes = sorted({d for d, _ in files.values()})
        shards = sorted(os.path.basename(p) for p in glob.glob(os.path.join(directory, "*.safetensors")))
        print(f"{name}: transformers {transformers.__version__} {type(model).__name__}, weights {'/'.join(dtypes)} in "
              f"{len(shards)} file(s): missing_keys={sorted(info['missing_keys'])} "
              f"unexpected_keys={sorted(info['unexpected_keys'])} mismatched_keys={sorted(info['mismatched_keys'])}")
        ok &= not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
        if args.input:
            before = tensors_of(args.input)
            same = sorted(n for n in files if n in before and before[n] == files[n])
            print(f"{name}: {len(same)} of {len(files)} tensors byte-identical to the input "
                  f"({len(set(files) ^ set(before))} names differ)")
        image = args.image if model_type(directory) in MULTIMODAL else None
        theirs, ids = skilltune_logits(args.skilltune, directory, IDS, image=image)
        inputs = model_inputs(args.skilltune, directory, ids, image)
    with torch.no_grad():
        ours = model(**inputs).logits[0]
    difference = (ours - theirs).abs().max().item()
    good = difference <= 1e-4
    ok &= good
    print(f"{name}: max |transformers - skilltune| = {difference:.3g} over {tuple(ours.shape)} logits: "
          + ("OK" if good else "FAILED"))
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skilltune", default=".build/release/skilltune")
    parser.add_argument("--base", help="base model of adapters (default: the adapter's base_model_name_or_path)")
    parser.add_argument("--input", help="the input checkpoint, to count byte-identical tensors")
    parser.add_argument("--image", default=IMAGE, help="the image of LLaVA-family models' prompt")
    parser.add_argument("outs", nargs="+")
    args = parser.parse_args()
    ok = all([check(d, args) for d in args.outs])
    print("ALL OK" if ok else "SOME CHECKS FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
