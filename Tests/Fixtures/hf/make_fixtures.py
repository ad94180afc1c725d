#!/usr/bin/env python3
"""Regenerates the Hugging Face golden fixtures under Tests/Fixtures/hf.

Everything is built locally; nothing is downloaded from a model hub:
  * two small byte-level BPE tokenizers are trained with the `tokenizers` library on a corpus written below,
  * two tiny random models are built from a config with `transformers` and seeded,
  * reference token ids, decodes, logits and greedy continuations are recorded as JSON.

Requirements: torch (CPU), transformers, tokenizers (`pip install transformers tokenizers`).
Versions used for the committed files are recorded in each reference JSON ("generator").
Run from anywhere:  python3 Tests/Fixtures/hf/make_fixtures.py
The schema of every output file is described in Tests/Fixtures/hf/README.md.
"""

import copy
import json
import os
import random
import re
import shutil
import sys

import torch
import tokenizers
import transformers
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from tokenizers import AddedToken
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))

GPT2_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+")

GENERATOR = {"torch": torch.__version__, "transformers": transformers.__version__,
             "tokenizers": tokenizers.__version__}


# ----------------------------------------------------------------------------------------------------------------
# Corpus
# ----------------------------------------------------------------------------------------------------------------

BASE_SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Hello world! This is a small test of the tokenizer.",
    "I don't think it's going to rain today, but we'll see.",
    "She said: \"You're right, I'M sure they'd agree.\"",
    "We've counted 12345 apples, 678 pears and 90 plums.",
    "The price is $3.14 per pound, or 2,500 yen.",
    "Line one\nLine two\n\nLine four after a blank line.",
    "Windows uses\r\ncarriage returns\r\nat line ends.",
    "Tabs\tseparate\tcolumns\tin\tthis\tline.",
    "Wait... what?! Really?!? (yes) [no] {maybe} -- *** ###",
    "A café in Paris serves crème brûlée and naïve résumés.",
    "Ångström, Ünïcödé, façade, jalapeño, São Paulo, Zürich.",
    "日本語のテキストです。中文测试句子。한국어 문장입니다.",
    "Emoji are fun 😀👍 and so are hearts ❤️ and stars ⭐.",
    "def add(a, b):\n    return a + b\n",
    "for i in range(10):\n    print(i * 2)\n",
    "email me at someone@example.com or visit https://example.com/path?q=1&r=2",
    "Numbers: 0 1 2 3 4 5 6 7 8 9 10 100 1000 2024 3.5 -7 +8",
    "The model answered the question about colors, shapes and animals.",
    "What is 2+3? The answer is 5. What is 7*6? The answer is 42.",
    "   Leading spaces and trailing spaces   ",
    "Multiple    spaces     between     words.",
    "UPPER CASE WORDS AND lower case words And Title Case Words.",
    "It's, it'S, IT'S, they're, THEY'RE, I'll, we'd, you've.",
]

WORDS = ("time person year way day thing man world life hand part child eye woman place work week case point "
         "government company number group problem fact be have do say get make go know take see come think look "
         "want give use find tell ask seem feel try leave call good new first last long great little own other old "
         "right big high different small large next early young important few public bad same able red green blue "
         "yellow circle square triangle cat dog bird fish tree river mountain city river stone music").split()


def corpus_lines(seed=0):
    rng = random.Random(seed)
    lines = list(BASE_SENTENCES)
    for _ in range(1500):
        n = rng.randint(4, 12)
        words = [rng.choice(WORDS) for _ in range(n)]
        if rng.random() < 0.3:
            words.insert(rng.randint(0, n), str(rng.randint(0, 99999)))
        if rng.random() < 0.2:
            words[0] = words[0].capitalize()
        sentence = " ".join(words) + rng.choice([".", "!", "?", ",", ";", "...", ":"])
        lines.append(sentence)
    for _ in range(20):
        lines.extend(rng.sample(BASE_SENTENCES, 6))
    return lines


# ----------------------------------------------------------------------------------------------------------------
# Tokenizers
# ----------------------------------------------------------------------------------------------------------------

def train_qwen2_style(lines, vocab_size):
    """NFC + Sequence[Split(Qwen2 regex, Isolated), ByteLevel(use_regex=false)], specials appended after the vocab."""
    tok = Tokenizer(models.BPE(ignore_merges=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(lines, trainer)
    # As Qwen2 ships them: special tokens after the BPE vocabulary, not normalized.
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False)
                            for t in ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]])
    # Qwen2.5 also ships non-special added tokens such as <tool_call>.
    tok.add_tokens([AddedToken("<tool_call>", special=False, normalized=False),
                    AddedToken("</tool_call>", special=False, normalized=False)])
    return tok


def train_gpt2_style(lines, vocab_size):
    """No normalizer, plain ByteLevel with the GPT-2 regex, `<s>`/`</s>` specials first (ids 0 and 1)."""
    tok = Tokenizer(models.BPE())
    tok.normalizer = None
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=True)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, show_progress=False,
                                  special_tokens=["<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(lines, trainer)
    # RoBERTa-style mask (strips the space on its left) and a normalized, non-special added word.
    tok.add_special_tokens([AddedToken("<mask>", special=True, lstrip=True, normalized=False)])
    tok.add_tokens([AddedToken("hello world", special=False, normalized=True)])
    return tok


def rewrite_merges(path, as_strings):
    """Rewrites model.merges of a saved tokenizer.json as "a b" strings or as [a, b] pairs."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    merges = data["model"]["merges"]
    pairs = [m.split(" ") if isinstance(m, str) else list(m) for m in merges]
    assert all(len(p) == 2 for p in pairs)
    data["model"]["merges"] = [" ".join(p) for p in pairs] if as_strings else pairs
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=2)
        f.write("\n")


TEST_STRINGS = [
    "",
    "Hello world",
    " Hello world",
    "Hello world ",
    "Hello   world",
    "   ",
    " ",
    "x",
    "line one\nline two\n\nline three\n",
    "windows\r\nline\r\n\r\nend",
    "tab\tseparated\t\tvalues\t",
    "don't stop, I'M sure you'll see it's fine; we've they'd",
    "'s 'S 'Re 'LL",
    "12345 and 3.14159 and 1,000,000",
    "abc123def 42x 007",
    "Wait... what?!?! (yes) [no] {maybe} --- ***",
    "café",
    "cafe\u0301",
    "naïve résumé Ångström",
    "Ünïcödé ÀÉÎÕÜ ǅ",
    "日本語のテキスト、中文测试。",
    "emoji 😀👍🏽 and family 👨\u200d👩\u200d👧",
    "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
    "text<|endoftext|>more text",
    "<|im_end|><|im_end|>",
    "a<|im_start|",
    "call <tool_call>{\"x\": 1}</tool_call> done",
    "<s>hello</s>",
    "say hello <mask> world",
    "hello world, hello  world",
    "ahello world hello worldz (hello world)_hello world",
    "x<mask>y <mask>   tail\t<mask>\n",
    "  \n  \n",
    "\u000b vertical tab, \u0085 NEL, \u00a0 nbsp, \u3000 ideographic space",
    "\u200b zero width \ufeff bom \u0301 lone combining",
    "math ∑∫√ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "supercalifragilisticexpialidocious",
    "email: test@example.com, url: https://example.com/path?q=1&r=2",
    "def f(x):\n    return x * 2\n",
]


FUZZ_ALPHABET = [
    "a", "Z", "the", " and", "Hello", "é", "e\u0301", "\u0301", "\u200d", "\u200b", "\ufeff", "\u000b", "\u0085",
    "\u00a0", "\u3000", "\u2028", "\r", "\n", "\r\n", "\t", " ", "  ", "'s", "'LL", "'t", "7", "42", "\u0663",
    "\u216b", "\u00bd", "\U0001d518", "\U0001d7d8", "😀", "👍🏽", "👨\u200d👩\u200d👧", "日", "本", "한", "<|im",
    "_end|>", "<|im_end|>", "<|endoftext|>", "<", "|", ">", "</", "s>", "<s>", "</s>", "$", "...", "!?", "\u0000",
    "\u001f", "\u007f", "\ue000", "\U0010ffff", "\ufb01", "Å", "A\u030a", "Ω", "ǅ", "ß", "İ", "ﬀ", "-", "_",
]


def fuzz_strings(count, seed):
    """Random strings of awkward pieces (scalars, joiners, whitespace kinds, bits of special tokens)."""
    rng = random.Random(seed)
    return ["".join(rng.choice(FUZZ_ALPHABET) for _ in range(rng.randint(0, 16))) for _ in range(count)]


FUZZ_COUNT = int(os.environ.get("FUZZ_COUNT", "120"))


def byte_token_ids(tok, data):
    """Ids of the single-byte tokens for the given bytes (the byte-level alphabet is always in the vocab)."""
    table = bytes_to_unicode()
    return [tok.token_to_id(table[b]) for b in data]


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def tokenizer_reference(tok, eos_tokens):
    vocab_size = tok.get_vocab_size(with_added_tokens=True)
    encodings = []
    for text in TEST_STRINGS:
        ids = tok.encode(text, add_special_tokens=False).ids
        encodings.append({"text": text, "ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False)})
    decodes = []
    for label, ids in [
        ("first two bytes of an emoji", byte_token_ids(tok, "😀".encode()[:2])),
        ("emoji bytes one by one", byte_token_ids(tok, "😀".encode())),
        ("lone continuation byte then ascii", byte_token_ids(tok, b"\x80a")),
        ("byte 0xFF", byte_token_ids(tok, b"\xff")),
        ("invalid pair C3 28", byte_token_ids(tok, b"\xc3\x28")),
        ("truncated 3-byte sequence then ascii", byte_token_ids(tok, "€".encode()[:2] + b"x")),
        ("overlong encoding of slash", byte_token_ids(tok, b"\xc0\xaf")),
        ("surrogate encoded in UTF-8", byte_token_ids(tok, b"\xed\xa0\x80")),
        ("ids out of range are skipped", [0, vocab_size + 5, 1]),
        ("all special and added tokens", sorted(t for t in tok.get_added_tokens_decoder().keys())),
    ]:
        decodes.append({"label": label, "ids": ids, "text": tok.decode(ids, skip_special_tokens=False)})
    token_texts = [tok.decode([i], skip_special_tokens=False) for i in range(vocab_size)]
    fuzz = [{"text": t, "ids": tok.encode(t, add_special_tokens=False).ids} for t in fuzz_strings(FUZZ_COUNT, 5)]
    return {
        "generator": GENERATOR,
        "vocabulary_size": vocab_size,
        "end_of_sequence_ids": sorted(tok.token_to_id(t) for t in eos_tokens),
        "encodings": encodings,
        "decodes": decodes,
        "token_texts": token_texts,
        "fuzz_encodings": fuzz,
    }


def variant_reference(base_path):
    """Pre-tokenizer and model-flag variants of one trained tokenizer, for the less common code paths."""
    with open(base_path, encoding="utf-8") as f:
        base = json.load(f)
    variants = [
        {"name": "byte_level_add_prefix_space",
         "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}},
        {"name": "byte_level_without_regex",
         "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                           "use_regex": False}},
        {"name": "digits_individual_then_byte_level",
         "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
             {"type": "Digits", "individual_digits": True},
             {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]}},
        {"name": "digits_contiguous_then_byte_level",
         "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
             {"type": "Digits", "individual_digits": False},
             {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]}},
        {"name": "split_string_removed_then_byte_level",
         "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
             {"type": "Split", "pattern": {"String": "o"}, "behavior": "Removed", "invert": False},
             {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}},
        {"name": "split_string_merged_with_previous",
         "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
             {"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithPrevious", "invert": False},
             {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}},
        {"name": "split_regex_merged_with_next",
         "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
             {"type": "Split", "pattern": {"Regex": "\\s+"}, "behavior": "MergedWithNext", "invert": False},
             {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}},
        {"name": "split_regex_contiguous_inverted",
         "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
             {"type": "Split", "pattern": {"Regex": "\\p{L}"}, "behavior": "Contiguous", "invert": True},
             {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}},
        {"name": "ignore_merges", "model": {"ignore_merges": True}},
        {"name": "added_token_flags",
         "added_tokens": [
             {"id": 0, "content": "<s>", "single_word": False, "lstrip": False, "rstrip": True, "normalized": False,
              "special": True},
             {"id": 1, "content": "</s>", "single_word": False, "lstrip": True, "rstrip": True, "normalized": False,
              "special": True},
             {"id": 600, "content": "<mask>", "single_word": True, "lstrip": False, "rstrip": True,
              "normalized": False, "special": True},
             {"id": 601, "content": "hello world", "single_word": True, "lstrip": False, "rstrip": False,
              "normalized": True, "special": False}]},
        {"name": "nfc_sequence_normalizer",
         "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFC"}]}},
    ]
    out = []
    for variant in variants:
        data = json.loads(json.dumps(base))
        for key in ("pre_tokenizer", "normalizer", "added_tokens"):
            if key in variant:
                data[key] = variant[key]
        for key, value in variant.get("model", {}).items():
            data["model"][key] = value
        tok = Tokenizer.from_str(json.dumps(data))
        encodings = [{"text": t, "ids": tok.encode(t, add_special_tokens=False).ids} for t in TEST_STRINGS]
        entry = {k: v for k, v in variant.items()}
        entry["encodings"] = encodings
        out.append(entry)
    return out


def save_tokenizer(tok, directory, eos_token, bos_token=None, merges_as_strings=False, extra_special=None):
    """Saves tokenizer.json + tokenizer_config.json the way transformers does, then fixes the merges form."""
    os.makedirs(directory, exist_ok=True)
    kwargs = {"tokenizer_object": tok, "eos_token": eos_token}
    if bos_token:
        kwargs["bos_token"] = bos_token
    fast = PreTrainedTokenizerFast(**kwargs)
    fast.save_pretrained(directory)
    path = os.path.join(directory, "tokenizer.json")
    rewrite_merges(path, as_strings=merges_as_strings)
    # The rewritten file must load and tokenize identically.
    again = Tokenizer.from_file(path)
    for text in TEST_STRINGS:
        assert again.encode(text, add_special_tokens=False).ids == tok.encode(text, add_special_tokens=False).ids
    return again


# ----------------------------------------------------------------------------------------------------------------
# Models
# ----------------------------------------------------------------------------------------------------------------

def randomize(model, seed, std):
    """Seeded random values for every parameter (biases and norm weights included, so loading them is tested)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if name.endswith("norm.weight") or name.endswith("layernorm.weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(std * torch.randn(p.shape, generator=gen))


def model_reference(model, tok, prompts, eos_ids, max_new_tokens, dtype_name):
    model.eval()
    entries = []
    for text in prompts:
        ids = tok.encode(text, add_special_tokens=False).ids
        input_ids = torch.tensor([ids])
        with torch.no_grad():
            logits = model(input_ids=input_ids).logits[0].float()
            out = model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
                                 max_new_tokens=max_new_tokens, do_sample=False, eos_token_id=eos_ids,
                                 pad_token_id=eos_ids[0])
        new_ids = out[0, len(ids):].tolist()
        # Independent check of generate(): argmax over full forwards without a cache, and the smallest gap
        # between the best and second-best logit (a tiny gap would make the greedy test fragile).
        seq = list(ids)
        margins = []
        with torch.no_grad():
            for _ in range(len(new_ids)):
                last = model(input_ids=torch.tensor([seq])).logits[0, -1].float()
                top2 = torch.topk(last, 2).values
                margins.append(float(top2[0] - top2[1]))
                seq.append(int(torch.argmax(last)))
                if seq[-1] in eos_ids:
                    break
        assert seq[len(ids):] == new_ids, (seq[len(ids):], new_ids)
        entries.append({
            "text": text,
            "ids": ids,
            "logits": [[round(float(x), 6) for x in row] for row in logits],
            "greedy": {
                "max_new_tokens": max_new_tokens,
                "new_ids": new_ids,
                "text": tok.decode(new_ids, skip_special_tokens=False),
                "stopped_at_eos": bool(new_ids) and new_ids[-1] in eos_ids,
                "min_top2_margin": round(min(margins), 6),
            },
        })
    return {
        "generator": GENERATOR,
        "dtype": dtype_name,
        "logits_note": "float32 logits of the model as saved (bf16 weights are upcast to float32 before the forward), "
                       "rounded to 6 decimals; shape [len(ids), vocab_size]",
        "eos_token_ids": eos_ids,
        "prompts": entries,
    }


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


def write_pretty_json(path, obj):
    """Indented JSON, but lists of numbers on one line (keeps the files small and diffable)."""
    text = json.dumps(obj, ensure_ascii=False, indent=1)
    text = re.sub(r"\[\s*(-?\d[\d\s,.\-e+]*?)\s*\]", lambda m: "[" + re.sub(r"\s+", "", m.group(1)) + "]", text)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
        f.write("\n")


def config_to_top_level_rope_theta(directory):
    """Rewrites config.json from the newer `rope_parameters` form to the older top-level `rope_theta` form."""
    path = os.path.join(directory, "config.json")
    with open(path, encoding="utf-8") as f:
        config = json.load(f)
    params = config.pop("rope_parameters")
    assert params.get("rope_type", "default") == "default", params
    config["rope_theta"] = params["rope_theta"]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")


def check_reload(directory, cls, reference, dtype=torch.float32):
    """The saved directory (as edited) must reload with transformers and give the recorded logits."""
    model = cls.from_pretrained(directory, dtype=dtype).float().eval()
    for entry in reference["prompts"]:
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([entry["ids"]])).logits[0]
        diff = (logits - torch.tensor(entry["logits"])).abs().max().item()
        assert diff < 2e-6, (directory, diff)


def main():
    out = HERE
    lines = corpus_lines()

    # ---- tokenizers ----
    qwen_tok = train_qwen2_style(lines, vocab_size=600)
    gpt2_tok = train_gpt2_style(lines, vocab_size=600)
    qwen_dir = os.path.join(out, "qwen2-tiny")
    llama_dir = os.path.join(out, "llama-tiny")
    for d in (qwen_dir, llama_dir):
        shutil.rmtree(d, ignore_errors=True)
    # Qwen2-style: merges as [a, b] pairs (what tokenizers >= 0.20 writes); GPT-2 style: legacy "a b" strings.
    qwen_tok = save_tokenizer(qwen_tok, qwen_dir, eos_token="<|im_end|>", merges_as_strings=False)
    gpt2_tok = save_tokenizer(gpt2_tok, llama_dir, eos_token="</s>", bos_token="<s>", merges_as_strings=True)
    write_pretty_json(os.path.join(qwen_dir, "tokenizer_reference.json"),
                      tokenizer_reference(qwen_tok, ["<|endoftext|>", "<|im_end|>"]))
    write_pretty_json(os.path.join(llama_dir, "tokenizer_reference.json"),
                      tokenizer_reference(gpt2_tok, ["</s>"]))
    write_pretty_json(os.path.join(out, "tokenizer_variants.json"), {
        "generator": GENERATOR,
        "base": "llama-tiny/tokenizer.json",
        "variants": variant_reference(os.path.join(llama_dir, "tokenizer.json")),
    })

    # ---- models ----
    torch.manual_seed(0)
    qwen_config = Qwen2Config(
        vocab_size=qwen_tok.get_vocab_size(with_added_tokens=True), hidden_size=64, intermediate_size=128,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
        rope_theta=1000000.0, rms_norm_eps=1e-6, tie_word_embeddings=False, hidden_act="silu",
        bos_token_id=None, eos_token_id=qwen_tok.token_to_id("<|im_end|>"),
        pad_token_id=qwen_tok.token_to_id("<|endoftext|>"))
    qwen = Qwen2ForCausalLM(qwen_config)
    randomize(qwen, seed=1, std=0.15)
    llama_config = LlamaConfig(
        vocab_size=gpt2_tok.get_vocab_size(with_added_tokens=True), hidden_size=64, intermediate_size=128,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
        rope_theta=10000.0, rms_norm_eps=1e-5, tie_word_embeddings=True, attention_bias=False, mlp_bias=False,
        hidden_act="silu", bos_token_id=gpt2_tok.token_to_id("<s>"), eos_token_id=gpt2_tok.token_to_id("</s>"))
    llama = LlamaForCausalLM(llama_config)
    randomize(llama, seed=2, std=0.15)
    llama.tie_weights()
    assert llama.lm_head.weight.data_ptr() == llama.model.embed_tokens.weight.data_ptr()

    qwen_prompts = ["Hello world", "The quick brown fox", "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"]
    llama_prompts = ["Hello world", "The quick brown fox", "<s>What is 2+3?"]
    qwen_eos = sorted([qwen_tok.token_to_id("<|im_end|>"), qwen_tok.token_to_id("<|endoftext|>")])
    llama_eos = [gpt2_tok.token_to_id("</s>")]

    qwen_ref = model_reference(qwen, qwen_tok, qwen_prompts, qwen_eos, 10, "float32")
    qwen.save_pretrained(qwen_dir, safe_serialization=True)
    write_json(os.path.join(qwen_dir, "reference.json"), qwen_ref)
    check_reload(qwen_dir, Qwen2ForCausalLM, qwen_ref)

    llama_ref = model_reference(llama, gpt2_tok, llama_prompts, llama_eos, 10, "float32")
    llama.save_pretrained(llama_dir, safe_serialization=True)
    config_to_top_level_rope_theta(llama_dir)
    write_json(os.path.join(llama_dir, "reference.json"), llama_ref)
    check_reload(llama_dir, LlamaForCausalLM, llama_ref)

    # The Llama model once more, with bfloat16 weights in several safetensors shards + index (one folder for both
    # formats keeps the fixtures under 2 MB). Its reference: the bf16-rounded weights computed in float32.
    sharded_dir = os.path.join(out, "llama-tiny-bf16-sharded")
    shutil.rmtree(sharded_dir, ignore_errors=True)
    llama_bf16 = copy.deepcopy(llama).to(torch.bfloat16)
    llama_bf16.save_pretrained(sharded_dir, safe_serialization=True, max_shard_size="100KB")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(llama_dir, name), os.path.join(sharded_dir, name))
    shards = [f for f in os.listdir(sharded_dir) if f.startswith("model-") and f.endswith(".safetensors")]
    assert len(shards) >= 2 and os.path.exists(os.path.join(sharded_dir, "model.safetensors.index.json")), shards
    llama_rounded = copy.deepcopy(llama)  # float32 model (rotary buffers stay float32) with bf16-rounded weights
    with torch.no_grad():
        for p in llama_rounded.parameters():
            p.copy_(p.to(torch.bfloat16).float())
    bf16_ref = model_reference(llama_rounded, gpt2_tok, llama_prompts, llama_eos, 10, "bfloat16")
    write_json(os.path.join(sharded_dir, "reference.json"), bf16_ref)
    check_reload(sharded_dir, LlamaForCausalLM, bf16_ref, dtype=torch.bfloat16)

    total = 0
    for root, _, files in os.walk(out):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    print(f"fixtures written to {out}: {total / 1e6:.2f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
