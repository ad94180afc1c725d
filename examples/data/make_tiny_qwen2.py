#!/usr/bin/env python3
"""Makes examples/data/tiny-qwen2: a Qwen2 checkpoint small enough to ship (< 200 KB), laid out exactly as
transformers saves one, for the README's worked example and the tuning tests.

  * tokenizer: byte-level BPE trained here with `tokenizers` (Qwen2's pre-tokenizer: NFC, the Qwen2 split regex,
    ByteLevel), vocabulary 384 + Qwen's special tokens <|endoftext|>, <|im_start|>, <|im_end|>; tokenizer_config.json
    carries a Qwen2.5-style chat_template and eos_token <|im_end|>, as Qwen2.5 instruct checkpoints do.
  * model: Qwen2ForCausalLM, hidden 32, 2 layers, 4 heads (2 KV heads), intermediate 96, tied embeddings (no
    lm_head.weight in the file, like Qwen2.5-0.5B), saved in bfloat16 (like the real checkpoints).
  * knowledge: trained here on examples/data/facts.jsonl (every line), with the prompt written plainly and in the
    chat template, answers ending with <|im_end|>; it has never seen parity.jsonl or sign.jsonl.

Nothing is downloaded. Deterministic on one machine (torch CPU, seeded). Requirements: torch, transformers,
tokenizers. Run:  python3 examples/data/make_tiny_qwen2.py   (after make_data.py)
"""

import json
import os
import shutil

import torch
import tokenizers
import transformers
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "tiny-qwen2")
QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+")
SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."

# Qwen2.5's chat template (tool calls included), as its tokenizer_config.json ships it.
CHAT_TEMPLATE = (
    "{%- if tools %}\n    {{- '<|im_start|>system\\n' }}\n    {%- if messages[0]['role'] == 'system' %}\n"
    "        {{- messages[0]['content'] }}\n    {%- else %}\n        {{- '" + SYSTEM + "' }}\n    {%- endif %}\n"
    "    {{- \"\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\nYou are "
    "provided with function signatures within <tools></tools> XML tags:\\n<tools>\" }}\n"
    "    {%- for tool in tools %}\n        {{- \"\\n\" }}\n        {{- tool | tojson }}\n    {%- endfor %}\n"
    "    {{- \"\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments "
    "within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\\"name\\\": <function-name>, \\\"arguments\\\": "
    "<args-json-object>}\\n</tool_call><|im_end|>\\n\" }}\n{%- else %}\n"
    "    {%- if messages[0]['role'] == 'system' %}\n"
    "        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n    {%- else %}\n"
    "        {{- '<|im_start|>system\\n" + SYSTEM + "<|im_end|>\\n' }}\n    {%- endif %}\n{%- endif %}\n"
    "{%- for message in messages %}\n"
    "    {%- if (message.role == \"user\") or (message.role == \"system\" and not loop.first) or "
    "(message.role == \"assistant\" and not message.tool_calls) %}\n"
    "        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}\n"
    "    {%- elif message.role == \"assistant\" %}\n        {{- '<|im_start|>' + message.role }}\n"
    "        {%- if message.content %}\n            {{- '\\n' + message.content }}\n        {%- endif %}\n"
    "        {%- for tool_call in message.tool_calls %}\n            {%- if tool_call.function is defined %}\n"
    "                {%- set tool_call = tool_call.function %}\n            {%- endif %}\n"
    "            {{- '\\n<tool_call>\\n{\"name\": \"' }}\n            {{- tool_call.name }}\n"
    "            {{- '\", \"arguments\": ' }}\n            {{- tool_call.arguments | tojson }}\n"
    "            {{- '}\\n</tool_call>' }}\n        {%- endfor %}\n        {{- '<|im_end|>\\n' }}\n"
    "    {%- elif message.role == \"tool\" %}\n"
    "        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != \"tool\") %}\n"
    "            {{- '<|im_start|>user' }}\n        {%- endif %}\n        {{- '\\n<tool_response>\\n' }}\n"
    "        {{- message.content }}\n        {{- '\\n</tool_response>' }}\n"
    "        {%- if loop.last or (messages[loop.index0 + 1].role != \"tool\") %}\n"
    "            {{- '<|im_end|>\\n' }}\n        {%- endif %}\n    {%- endif %}\n{%- endfor %}\n"
    "{%- if add_generation_prompt %}\n    {{- '<|im_start|>assistant\\n' }}\n{%- endif %}\n")


def read_jsonl(name):
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def train_tokenizer(lines):
    tok = Tokenizer(models.BPE(ignore_merges=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=384, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(lines, trainer)
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False)
                            for t in ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]])
    return tok


def template_into_tokenizer_config(directory):
    """transformers 5 writes the template to chat_template.jinja; Qwen2.5 ships it in tokenizer_config.json."""
    jinja = os.path.join(directory, "chat_template.jinja")
    config_path = os.path.join(directory, "tokenizer_config.json")
    with open(jinja, encoding="utf-8") as f:
        template = f.read()
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    config["chat_template"] = template
    with open(config_path, "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2, ensure_ascii=False, sort_keys=True)
        f.write("\n")
    os.remove(jinja)


def main():
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    facts = read_jsonl("facts.jsonl")
    # The tokenizer learns the words of every data file and of the chat template.
    corpus = [SYSTEM, "system user assistant"]
    for name in ("facts.jsonl", "parity.jsonl", "sign.jsonl"):
        corpus += [r["prompt"] + " " + str(r["answer"]) for r in read_jsonl(name)]
    corpus = corpus * 3
    tok = train_tokenizer(corpus)

    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(OUT)
    template_into_tokenizer_config(OUT)
    im_end = tok.token_to_id("<|im_end|>")

    config = Qwen2Config(
        vocab_size=tok.get_vocab_size(with_added_tokens=True), hidden_size=32, intermediate_size=96,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
        rope_theta=1000000.0, rms_norm_eps=1e-6, tie_word_embeddings=True, hidden_act="silu",
        bos_token_id=None, eos_token_id=im_end, pad_token_id=tok.token_to_id("<|endoftext|>"))
    model = Qwen2ForCausalLM(config)

    # Each fact twice: the prompt as plain text, and rendered with the chat template; the loss covers the answer
    # and its <|im_end|>.
    sequences = []
    for r in facts:
        answer = tok.encode(r["answer"], add_special_tokens=False).ids + [im_end]
        plain = tok.encode(r["prompt"], add_special_tokens=False).ids
        chat = fast.apply_chat_template([{"role": "user", "content": r["prompt"]}], add_generation_prompt=True,
                                        tokenize=True)
        if isinstance(chat, dict) or hasattr(chat, "keys"):
            chat = chat["input_ids"]
        for prompt in (plain, list(chat)):
            sequences.append((prompt + answer, [-100] * len(prompt) + answer))
    width = max(len(s) for s, _ in sequences)
    pad = config.pad_token_id
    ids = torch.tensor([s + [pad] * (width - len(s)) for s, _ in sequences])
    labels = torch.tensor([l + [-100] * (width - len(l)) for _, l in sequences])
    mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s, _ in sequences])

    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
    model.train()
    for step in range(600):
        out = model(input_ids=ids, attention_mask=mask, labels=labels)
        optimizer.zero_grad()
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % 100 == 0 or step == 599:
            print(f"step {step}: loss {out.loss.item():.4f}")

    model = model.to(torch.bfloat16).eval()
    model.save_pretrained(OUT, safe_serialization=True)

    # How well the saved (bfloat16) model knows its facts, greedy, computed in float32 as SkillTune does.
    check = Qwen2ForCausalLM.from_pretrained(OUT, dtype=torch.float32).eval()
    right = {"plain": 0, "chat": 0}
    for r in facts:
        plain = tok.encode(r["prompt"], add_special_tokens=False).ids
        chat = list(fast.apply_chat_template([{"role": "user", "content": r["prompt"]}], add_generation_prompt=True,
                                             tokenize=True, return_dict=True)["input_ids"])
        for kind, prompt in (("plain", plain), ("chat", chat)):
            new = check.generate(torch.tensor([prompt]), max_new_tokens=8, do_sample=False, eos_token_id=im_end,
                                 pad_token_id=pad)[0, len(prompt):].tolist()
            text = tok.decode([t for t in new if t != im_end])
            right[kind] += text.strip().lower() == r["answer"].lower()
    print(f"facts known after saving in bfloat16: plain {right['plain']}/{len(facts)}, chat {right['chat']}/{len(facts)}")
    print("versions:", {"torch": torch.__version__, "transformers": transformers.__version__,
                        "tokenizers": tokenizers.__version__})
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"{OUT}: {sorted(os.listdir(OUT))}, {total} bytes")


if __name__ == "__main__":
    main()
