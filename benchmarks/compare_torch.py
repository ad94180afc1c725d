"""Runs `skilltune bench train` and the PyTorch reference (benchmarks/reference/torch_step.py) back to back,
interleaved, and prints a table with the speed ratios and peak memory. Builds nothing.

Usage: python3 benchmarks/compare_torch.py [--skilltune .build/release/skilltune] [--strategies full,sa-proj,mlp-gate-up]
       [--threads 1,2] [--repeats 3] [--steps 30] [--warmup 5] [--shape anchor|qwen2-0.5b] [--torch-isa avx2]
       [--json]

--shape picks the model and data sizes both sides use: anchor (d 256, 4 layers, 4 heads, SwiGLU 688, vocabulary
512, sequence 128, batch 8) or qwen2-0.5b (Qwen2-0.5B's widths: d 896, 14 heads / 2 KV heads, SwiGLU 4864,
vocabulary 151936; 4 layers, sequence 256, batch 4). A qwen2-0.5b step takes seconds: use --steps 3 --warmup 1.

Build SkillTune first: swift build -c release -Xswiftc -target-cpu -Xswiftc native
Each (strategy, threads) pair is measured `--repeats` times, alternating SkillTune and PyTorch runs, and the table
shows the median of the repeats (each run itself reports the median of its timed steps). "speedup" is PyTorch's
ms/step over SkillTune's (> 1: SkillTune is faster). The last two columns give the fastest single step and the
median CPU time per step (all threads) of each side: on a shared machine, where a step waits for a core, these
show the work itself. The machine's load (`uptime`) is printed before and after:
other processes on the cores distort both columns, PyTorch's two-thread runs most.
"floor ms" is SkillTune's gemm_floor_ms: the step's matrix products (the same products PyTorch runs) on all
threads at one core's FMA peak, measured in the same process. No engine can run the step faster than that on
this CPU, so "torch/floor" bounds the speedup any engine can reach over PyTorch here.
"""
import argparse
import json
import os
import statistics
import sys

from benchrun import run_json

HERE = os.path.dirname(os.path.abspath(__file__))


SHAPES = {
    "anchor": {"hidden": 256, "layers": 4, "heads": 4, "kv-heads": 4, "intermediate": 688, "vocab": 512,
               "seq": 128, "batch": 8},
    "qwen2-0.5b": {"hidden": 896, "layers": 4, "heads": 14, "kv-heads": 2, "intermediate": 4864, "vocab": 151936,
                   "seq": 256, "batch": 4},
}


def load():
    try:
        return open("/proc/loadavg").read().split()[:3]
    except OSError:
        return ["?"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--skilltune", default=os.path.join(HERE, "..", ".build", "release", "skilltune"))
    parser.add_argument("--strategies", default="full,sa-proj,mlp-gate-up")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--shape", default="anchor", choices=sorted(SHAPES))
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--torch-isa", default=None, choices=["avx2"],
                        help="limit PyTorch to AVX2 kernels (ATen, oneDNN, MKL), to compare with a "
                             "`-target-cpu haswell` build of SkillTune on an AVX-512 machine")
    a = parser.parse_args()
    torch_env = dict(os.environ)
    if a.torch_isa == "avx2":
        torch_env.update({"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2",
                          "MKL_ENABLE_INSTRUCTIONS": "AVX2"})
    strategies = a.strategies.split(",")
    thread_counts = [int(t) for t in a.threads.split(",")]
    torch_script = os.path.join(HERE, "reference", "torch_step.py")
    print(f"shape {a.shape}: {SHAPES[a.shape]}; load average before: {' '.join(load())}", file=sys.stderr)
    results = {}
    for repeat in range(a.repeats):
        for threads in thread_counts:
            for strategy in strategies:
                common = ["--threads", str(threads), "--strategy", strategy, "--steps", str(a.steps),
                          "--warmup", str(a.warmup), "--json"]
                for key, value in SHAPES[a.shape].items():
                    common += ["--" + key, str(value)]
                ours = run_json([a.skilltune, "bench", "train"] + common)
                theirs = run_json([sys.executable, torch_script] + common, env=torch_env)
                results.setdefault((strategy, threads), []).append((ours, theirs))
                print(f"  run {repeat + 1}: {strategy:12s} {threads}t  skilltune {ours['ms_per_step']:8.1f} ms"
                      f" (best {ours['best_ms_per_step']:.1f}, CPU {ours['cpu_ms_per_step']:.1f})"
                      f"  torch {theirs['ms_per_step']:8.1f} ms (best {theirs['best_ms_per_step']:.1f},"
                      f" CPU {theirs['cpu_ms_per_step']:.1f})", file=sys.stderr)
    print(f"load average after: {' '.join(load())}", file=sys.stderr)

    rows = []
    for (strategy, threads), runs in results.items():
        ours_ms = statistics.median(r[0]["ms_per_step"] for r in runs)
        torch_ms = statistics.median(r[1]["ms_per_step"] for r in runs)
        rows.append({"strategy": strategy, "threads": threads,
                     "skilltune_ms": ours_ms, "torch_ms": torch_ms,
                     "skilltune_tokens_per_s": runs[0][0]["tokens_per_s"] * runs[0][0]["ms_per_step"] / ours_ms,
                     "torch_tokens_per_s": runs[0][1]["tokens_per_s"] * runs[0][1]["ms_per_step"] / torch_ms,
                     "speedup": torch_ms / ours_ms,
                     "skilltune_best_ms": min(r[0]["best_ms_per_step"] for r in runs),
                     "torch_best_ms": min(r[1]["best_ms_per_step"] for r in runs),
                     "skilltune_cpu_ms": statistics.median(r[0]["cpu_ms_per_step"] for r in runs),
                     "torch_cpu_ms": statistics.median(r[1]["cpu_ms_per_step"] for r in runs),
                     "skilltune_peak_rss_mb": max(r[0]["peak_rss_mb"] for r in runs),
                     "torch_peak_rss_mb": max(r[1]["peak_rss_mb"] for r in runs),
                     # The step's matrix products at one core's FMA peak times the threads (bench train's floor).
                     "gemm_floor_ms": statistics.median(r[0].get("gemm_floor_ms", float("nan")) for r in runs)})
    for row in rows:  # selective step time relative to the full step of the same engine and thread count
        full = next((r for r in rows if r["strategy"] == "full" and r["threads"] == row["threads"]), None)
        if full:
            row["skilltune_vs_full"] = row["skilltune_ms"] / full["skilltune_ms"]
            row["torch_vs_full"] = row["torch_ms"] / full["torch_ms"]
    if a.json:
        print(json.dumps(rows))
        return
    print(f"{'strategy':12s} {'thr':>3s} {'skilltune ms':>12s} {'torch ms':>9s} {'speedup':>8s} {'ST tok/s':>9s} "
          f"{'torch tok/s':>11s} {'ST/full':>7s} {'torch/full':>10s} {'ST RSS MB':>9s} {'torch RSS MB':>12s} "
          f"{'best ST/torch ms':>16s} {'CPU ST/torch ms':>15s} {'floor ms':>8s} {'torch/floor':>11s}")
    for r in rows:
        print(f"{r['strategy']:12s} {r['threads']:3d} {r['skilltune_ms']:12.1f} {r['torch_ms']:9.1f} {r['speedup']:7.2f}x "
              f"{r['skilltune_tokens_per_s']:9.0f} {r['torch_tokens_per_s']:11.0f} {r.get('skilltune_vs_full', 0):7.2f} "
              f"{r.get('torch_vs_full', 0):10.2f} {r['skilltune_peak_rss_mb']:9.0f} {r['torch_peak_rss_mb']:12.0f} "
              f"{r['skilltune_best_ms']:7.1f}/{r['torch_best_ms']:<8.1f} {r['skilltune_cpu_ms']:7.1f}/{r['torch_cpu_ms']:<7.1f} "
              f"{r['gemm_floor_ms']:8.1f} {r['torch_ms'] / r['gemm_floor_ms']:10.2f}x")


if __name__ == "__main__":
    main()
