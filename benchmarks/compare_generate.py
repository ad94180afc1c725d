"""Runs `skilltune bench eval --generation-only` and the transformers reference (benchmarks/reference/hf_generate.py)
back to back, interleaved, and prints prefill and batch-1 greedy decode speed side by side. Builds nothing.

Usage: python3 benchmarks/compare_generate.py [--skilltune .build-native/release/skilltune] [--threads 1,2]
       [--repeats 2] [--runs 3] [--prompt-tokens 128] [--new-tokens 32] [--json]

Both sides build a random Qwen2 of Qwen2-0.5B's shape (24 layers, 494M parameters, float32, tied embeddings,
q/k/v biases) and time, after a warm-up: prefill = a prompt of N random tokens to its first new token, and
decode = the time per further token (batch 1, greedy, KV cache, no end-of-sequence). Each process reports the
median of its `--runs` timed generations; this script takes the median over `--repeats` processes and prints
"speedup" = transformers time / SkillTune time (> 1: SkillTune is faster), with CPU time per decode token and
the load average, since a shared machine inflates wall times.
"""
import argparse
import json
import os
import statistics
import sys

from benchrun import run_json

HERE = os.path.dirname(os.path.abspath(__file__))


def load():
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "?"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--skilltune", default=os.path.join(HERE, "..", ".build", "release", "skilltune"))
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--prompt-tokens", type=int, default=128)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--json", action="store_true")
    a = parser.parse_args()
    reference = os.path.join(HERE, "reference", "hf_generate.py")
    print(f"load average before: {load()}", file=sys.stderr)
    results = {}
    for repeat in range(a.repeats):
        for threads in [int(t) for t in a.threads.split(",")]:
            common = ["--threads", str(threads), "--prompt-tokens", str(a.prompt_tokens),
                      "--new-tokens", str(a.new_tokens), "--repeats", str(a.runs), "--json"]
            ours = run_json([a.skilltune, "bench", "eval", "--config", "qwen2-0.5b", "--generation-only"] + common)
            theirs = run_json([sys.executable, reference] + common)
            results.setdefault(threads, []).append((ours, theirs))
            print(f"  run {repeat + 1}, {threads}t: skilltune prefill {ours['prefill_ms']:.1f} ms, decode "
                  f"{ours['decode_ms_per_token']:.1f} ms/token (CPU {ours['cpu_decode_ms_per_token']:.1f}, weights "
                  f"read {ours.get('decode_row_orders', '?')} at a time); "
                  f"transformers prefill {theirs['prefill_ms']:.1f} ms, decode {theirs['decode_ms_per_token']:.1f} "
                  f"ms/token (CPU {theirs['cpu_decode_ms_per_token']:.1f}); load {load()}", file=sys.stderr)
    print(f"load average after: {load()}", file=sys.stderr)
    rows = []
    for threads, runs in results.items():
        med = lambda side, key: statistics.median(r[side][key] for r in runs)
        rows.append({"threads": threads,
                     "skilltune_prefill_ms": med(0, "prefill_ms"), "hf_prefill_ms": med(1, "prefill_ms"),
                     "skilltune_decode_ms": med(0, "decode_ms_per_token"), "hf_decode_ms": med(1, "decode_ms_per_token"),
                     "skilltune_cpu_decode_ms": med(0, "cpu_decode_ms_per_token"),
                     "hf_cpu_decode_ms": med(1, "cpu_decode_ms_per_token"),
                     "skilltune_peak_rss_mb": max(r[0]["peak_rss_mb"] for r in runs),
                     "hf_peak_rss_mb": max(r[1]["peak_rss_mb"] for r in runs)})
    for r in rows:
        r["prefill_speedup"] = r["hf_prefill_ms"] / r["skilltune_prefill_ms"]
        r["decode_speedup"] = r["hf_decode_ms"] / r["skilltune_decode_ms"]
    if a.json:
        print(json.dumps(rows))
        return
    n = a.prompt_tokens
    print(f"{'thr':>3s} {'prefill ST/HF ms':>18s} {'tok/s ST/HF':>14s} {'speedup':>8s} {'decode ST/HF ms':>16s} "
          f"{'tok/s ST/HF':>12s} {'speedup':>8s} {'CPU ms/token ST/HF':>19s} {'RSS ST/HF MB':>13s}")
    for r in rows:
        print(f"{r['threads']:3d} {r['skilltune_prefill_ms']:8.1f}/{r['hf_prefill_ms']:<9.1f} "
              f"{n / r['skilltune_prefill_ms'] * 1e3:6.0f}/{n / r['hf_prefill_ms'] * 1e3:<7.0f} "
              f"{r['prefill_speedup']:7.2f}x {r['skilltune_decode_ms']:7.1f}/{r['hf_decode_ms']:<8.1f} "
              f"{1e3 / r['skilltune_decode_ms']:5.1f}/{1e3 / r['hf_decode_ms']:<6.1f} {r['decode_speedup']:7.2f}x "
              f"{r['skilltune_cpu_decode_ms']:8.1f}/{r['hf_cpu_decode_ms']:<10.1f} "
              f"{r['skilltune_peak_rss_mb']:5.0f}/{r['hf_peak_rss_mb']:<7.0f}")


if __name__ == "__main__":
    main()
