"""transformers reference for `skilltune bench eval --generation-only --json`: prefill and batch-1 greedy decode of
a random Qwen2 (Qwen2-0.5B's shape by default) with `transformers`' own `generate`.

Usage: python3 benchmarks/reference/hf_generate.py [--layers 24 --hidden 896 --intermediate 4864 --heads 14
       --kv-heads 2 --vocab 151936] [--prompt-tokens 128] [--new-tokens 32] [--threads 1] [--repeats 3] [--json]

The model is `Qwen2ForCausalLM(Qwen2Config(...))` in float32 with the library's random initialisation (no
download): q/k/v biases, tied embeddings, rope_theta 1e6, rms_norm_eps 1e-6, SDPA attention, as Qwen2-0.5B.
The prompt is random token ids; generation is greedy (`do_sample=False`) with no end-of-sequence token, so it
always makes exactly the requested tokens, with the model's KV cache.

Measured as SkillTune measures it, in the same process after one untimed warm-up run of each:
- prefill: `generate(max_new_tokens=1)` on the prompt (one forward pass over the prompt, the head on the last
  position, the argmax): prompt tokens / time.
- decode: (time of `generate(max_new_tokens=1 + M)` - prefill time) / M per new token.
Each is the median of `--repeats` runs (the fastest is reported too). With --json one line:
{"prefill_ms":..,"prefill_tokens_per_s":..,"decode_ms_per_token":..,"decode_tokens_per_s":..,"threads":..,
 "prompt_tokens":..,"new_tokens":..,"best_prefill_ms":..,"best_decode_ms_per_token":..,"peak_rss_mb":..,
 "parameters":..,"cpu_decode_ms_per_token":..}.
"""
import argparse
import json
import resource
import statistics
import time

import torch
from transformers import Qwen2Config, Qwen2ForCausalLM


def generation_result(model, threads, prompt_tokens, new_tokens, prefill_s, best_prefill_s, decode_s,
                      best_decode_s, cpu_decode_s):
    """The --json line's keys, as `skilltune bench eval --generation-only --json` prints them (times in seconds)."""
    return {"prefill_ms": round(prefill_s * 1e3, 3),
            "prefill_tokens_per_s": round(prompt_tokens / prefill_s, 1),
            "decode_ms_per_token": round(decode_s * 1e3, 3),
            "decode_tokens_per_s": round(1 / decode_s, 2),
            "threads": threads, "prompt_tokens": prompt_tokens, "new_tokens": new_tokens,
            "best_prefill_ms": round(best_prefill_s * 1e3, 3),
            "best_decode_ms_per_token": round(best_decode_s * 1e3, 3),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "parameters": sum(p.numel() for p in model.parameters()),
            "cpu_decode_ms_per_token": round(cpu_decode_s * 1e3, 3)}


def time_image_generation(model, inputs, a, label):
    """Times greedy generate() on one image prompt token by token, as `skilltune bench eval --generation-only`
    does for image models: prefill = the time to the first new token (vision tower, projector, the prompt's
    forward pass), decode = (last new token - first new token) / a.new_tokens; medians of a.repeats runs after a
    warm-up. Prints the --json line (or a summary naming `label`)."""
    from transformers.generation.streamers import BaseStreamer

    class Clock(BaseStreamer):
        """Times every new token: generate's first put() is the prompt, each later one a new token."""

        def __init__(self):
            self.start, self.prompt_seen, self.times = time.perf_counter(), False, []

        def put(self, value):
            if self.prompt_seen:
                self.times.append((time.perf_counter() - self.start, time.process_time()))
            self.prompt_seen = True

        def end(self):
            pass

    ids = inputs["input_ids"]

    def run():
        clock = Clock()
        with torch.inference_mode():
            out = model.generate(**inputs, max_new_tokens=1 + a.new_tokens, min_new_tokens=1 + a.new_tokens,
                                 do_sample=False, use_cache=True, streamer=clock)
        assert out.shape[1] == ids.shape[1] + 1 + a.new_tokens, out.shape
        (first, first_cpu), (last, last_cpu) = clock.times[0], clock.times[-1]
        return first, (last - first) / a.new_tokens, (last_cpu - first_cpu) / a.new_tokens

    run()
    runs = [run() for _ in range(a.repeats)]
    prefill_s = statistics.median(r[0] for r in runs)
    decode_s = statistics.median(r[1] for r in runs)
    best_decode_s = min(r[1] for r in runs)
    cpu_decode_s = statistics.median(r[2] for r in runs)
    result = generation_result(model, a.threads, ids.shape[1], a.new_tokens, prefill_s, min(r[0] for r in runs),
                               decode_s, best_decode_s, cpu_decode_s)
    if a.json:
        print(json.dumps(result))
    else:
        print(f"transformers {label}, {a.threads} threads: prefill {result['prompt_tokens']} "
              f"positions {result['prefill_ms']:.1f} ms, decode {result['decode_ms_per_token']:.2f} ms/token")


def timed(body):
    start, cpu = time.perf_counter(), time.process_time()
    body()
    return time.perf_counter() - start, time.process_time() - cpu


def parse_args(shape=()):
    """The options every generation reference takes (the model's `shape` options first, as (name, default) pairs,
    then --prompt-tokens, --new-tokens, --threads, --repeats, --json), with torch's threads set and its seed fixed."""
    parser = argparse.ArgumentParser()
    for name, default in list(shape) + [("prompt-tokens", 128), ("new-tokens", 32), ("threads", 1), ("repeats", 3)]:
        parser.add_argument("--" + name, type=int, default=default)
    parser.add_argument("--json", action="store_true")
    a = parser.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    return a


def main():
    a = parse_args([("layers", 24), ("hidden", 896), ("intermediate", 4864), ("heads", 14), ("kv-heads", 2),
                    ("vocab", 151936)])
    config = Qwen2Config(vocab_size=a.vocab, hidden_size=a.hidden, intermediate_size=a.intermediate,
                         num_hidden_layers=a.layers, num_attention_heads=a.heads, num_key_value_heads=a.kv_heads,
                         max_position_embeddings=32768, rope_theta=1000000.0, rms_norm_eps=1e-6,
                         tie_word_embeddings=True, use_cache=True, attn_implementation="sdpa",
                         bos_token_id=None, eos_token_id=None, pad_token_id=0)
    model = Qwen2ForCausalLM(config).to(torch.float32).eval()
    model.generation_config.eos_token_id = None
    model.generation_config.pad_token_id = 0
    ids = torch.randint(0, a.vocab, (1, a.prompt_tokens))
    mask = torch.ones_like(ids)

    def generate(n):
        with torch.inference_mode():
            out = model.generate(ids, attention_mask=mask, max_new_tokens=n, min_new_tokens=n, do_sample=False,
                                 use_cache=True)
        assert out.shape[1] == a.prompt_tokens + n, out.shape

    generate(1)
    prefill = [timed(lambda: generate(1)) for _ in range(a.repeats)]
    generate(1 + a.new_tokens)
    full = [timed(lambda: generate(1 + a.new_tokens)) for _ in range(a.repeats)]
    prefill_s = statistics.median(t for t, _ in prefill)
    decode_s = (statistics.median(t for t, _ in full) - prefill_s) / a.new_tokens
    best_decode_s = (min(t for t, _ in full) - min(t for t, _ in prefill)) / a.new_tokens
    cpu_decode_s = (statistics.median(c for _, c in full) - statistics.median(c for _, c in prefill)) / a.new_tokens
    result = generation_result(model, a.threads, a.prompt_tokens, a.new_tokens, prefill_s,
                               min(t for t, _ in prefill), decode_s, best_decode_s, cpu_decode_s)
    if a.json:
        print(json.dumps(result))
    else:
        print(f"transformers qwen2 {result['parameters'] / 1e6:.0f}M, {a.threads} threads: prefill {a.prompt_tokens} "
              f"tokens {result['prefill_ms']:.1f} ms ({result['prefill_tokens_per_s']:.0f} tokens/s), decode "
              f"{result['decode_ms_per_token']:.1f} ms/token ({result['decode_tokens_per_s']:.1f} tokens/s)")


if __name__ == "__main__":
    main()
