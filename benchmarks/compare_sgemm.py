"""Runs `skilltune bench kernels --shapes ...` and numpy's OpenBLAS (benchmarks/reference/numpy_sgemm.py) on the
same products, interleaved, several times, and prints per product and thread count the median GFLOP/s of each,
SkillTune's fraction of the FMA peak its own loop measured in the same process, and the ratio SkillTune / numpy
(medians over the repeats). On a shared or throttled machine single runs swing by 30%; interleaving and medians
keep the ratio honest. Builds nothing.

Usage: python3 benchmarks/compare_sgemm.py [--skilltune .build-native/release/skilltune] [--threads 1,2]
       [--repeats 5] [--shapes 1024x1024x1024,1024x4864x896,...] [--json]
OPENBLAS_CORETYPE is removed from the environment, so OpenBLAS picks its kernel for this CPU, unless
--openblas-coretype NAME sets it: `--openblas-coretype Haswell` with a `-target-cpu haswell` build compares AVX2
with AVX2 on an AVX-512 machine.
"""
import argparse
import json
import os
import statistics
import sys

from benchrun import run_json

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SHAPES = ("1024x1024x1024,1024x4864x896,1024x896x4864,1024x896x896,1024x128x896,1024x256x688,"
                  "1024x688x256,1024x256x688tB,256x688x1024tA")


def key(r):
    return (r["m"], r["n"], r["k"], r["transA"], r["transB"], r["threads"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--skilltune", default=".build-native/release/skilltune")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--shapes", default=DEFAULT_SHAPES)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--openblas-coretype", default=None, help="e.g. Haswell: OpenBLAS's AVX2 kernels")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    if args.openblas_coretype:
        env["OPENBLAS_CORETYPE"] = args.openblas_coretype
    ours, theirs, peaks = {}, {}, []
    kernel = ""
    for _ in range(args.repeats):
        st = run_json([args.skilltune, "bench", "kernels", "--json", "--threads", args.threads,
                       "--shapes", args.shapes])
        peaks.append(st["peakGflops"])
        kernel = st["microkernel"]
        for r in st["gemm"]:
            ours.setdefault(key(r), []).append((r["gflops"], r.get("peakFraction") or 0))
        npy = run_json([sys.executable, os.path.join(HERE, "reference", "numpy_sgemm.py"), "--json",
                        "--threads", args.threads, "--shapes", args.shapes], env=env)
        for r in npy["gemm"]:
            theirs.setdefault(key(r), []).append(r["gflops"])
    rows = []
    for k in ours:
        mine = statistics.median(g for g, _ in ours[k])
        fraction = statistics.median(f for _, f in ours[k])
        other = statistics.median(theirs.get(k, [float("nan")]))
        m, n, kk, ta, tb, t = k
        rows.append({"m": m, "n": n, "k": kk, "transA": ta, "transB": tb, "threads": t, "skilltune": round(mine, 1),
                     "peakFraction": round(fraction, 3), "numpy": round(other, 1), "ratio": round(mine / other, 2)})
    result = {"microkernel": kernel, "peakGflops": statistics.median(peaks), "repeats": args.repeats,
              "load": os.getloadavg(), "rows": rows}
    if args.json:
        print(json.dumps(result))
        return
    print(f"microkernel {kernel}, one core's peak {result['peakGflops']:.1f} GFLOP/s (median of {args.repeats} "
          f"processes), load {result['load'][0]:.2f}; medians of {args.repeats} interleaved repeats")
    print(f"  {'product':30} {'threads':>7} {'SkillTune':>10} {'of peak':>8} {'numpy':>8} {'ratio':>6}")
    for r in rows:
        label = f"{r['m']} x {r['n']} x {r['k']}" + (" tA" if r["transA"] else "") + (" tB" if r["transB"] else "")
        print(f"  {label:30} {r['threads']:>7} {r['skilltune']:>10.1f} {r['peakFraction'] * 100:>7.0f}% "
              f"{r['numpy']:>8.1f} {r['ratio']:>6.2f}")


if __name__ == "__main__":
    main()
