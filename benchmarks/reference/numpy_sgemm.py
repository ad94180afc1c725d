#!/usr/bin/env python3
"""numpy (OpenBLAS) float32 matmul GFLOP/s on the shapes `skilltune bench kernels` measures.

Usage: python3 benchmarks/reference/numpy_sgemm.py [--threads 1,2] [--quick] [--json]

The thread count is set with threadpoolctl (pip install threadpoolctl) when it is installed, else with
OPENBLAS_NUM_THREADS before numpy is imported (then only one thread count per run). For a fair comparison run it
with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, e.g. `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 ...`,
so OpenBLAS picks its own kernel for this CPU. Like `skilltune bench kernels`: one warm-up call, then the median
of 7 samples, each repeating the product for at least 50 ms; reports wall GFLOP/s and GFLOP/s per CPU-second.
"""
import argparse
import json
import os
import statistics
import sys
import time

SHAPES = [  # (m, n, k, transA, transB), as KernelBenchmark.gemmShapes
    (256, 256, 256, False, False), (512, 512, 512, False, False), (1024, 1024, 1024, False, False),
    (2048, 2048, 2048, False, False),
    (1024, 256, 688, False, False), (1024, 688, 256, False, False), (1024, 256, 256, False, False),
    (1024, 512, 256, False, False), (1024, 512, 688, False, False), (1024, 688, 688, False, False),
    (1024, 896, 896, False, False), (1024, 128, 896, False, False),
    (1024, 4864, 896, False, False), (1024, 896, 4864, False, False),  # left out by --quick, as in skilltune
    (1024, 256, 688, True, False), (1024, 256, 688, False, True), (1024, 256, 688, True, True),
    (256, 688, 1024, True, False), (688, 256, 1024, True, False),
]


def parse_shape(text):
    """'1024x256x688tB' -> (1024, 256, 688, False, True)."""
    body = text.lower()
    tb = body.endswith("tb")
    if tb:
        body = body[:-2]
    ta = body.endswith("ta")
    if ta:
        body = body[:-2]
    m, n, k = (int(x) for x in body.split("x"))
    return (m, n, k, ta, tb)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,2", help="thread counts, comma separated")
    parser.add_argument("--quick", action="store_true", help="no 2048 product, shorter samples")
    parser.add_argument("--shapes", default="",
                        help="only these, e.g. 1024x1024x1024,1024x256x688tB (m x n x k, then tA/tB/tAtB as "
                             "`skilltune bench kernels --shapes`; ';' also separates)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    try:
        import threadpoolctl
    except ImportError:
        threadpoolctl = None
        if len(threads) > 1 or "OPENBLAS_NUM_THREADS" not in os.environ:
            sys.exit("numpy_sgemm.py: without threadpoolctl set OPENBLAS_NUM_THREADS and pass that one count in --threads")
    import numpy as np

    info = {}
    if threadpoolctl is not None:
        pools = [p for p in threadpoolctl.threadpool_info() if p.get("internal_api") == "openblas"]
        if pools:
            info = {"openblasVersion": pools[0].get("version"), "openblasCoretype": pools[0].get("architecture"),
                    "openblasMaxThreads": pools[0].get("num_threads")}
    info["numpy"] = np.__version__
    info["env"] = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS")
                   if k in os.environ}

    shapes = SHAPES
    if args.quick:
        shapes = [s for s in shapes if s[0] != 2048 and 4864 not in s[:3]]
    if args.shapes:
        shapes = [parse_shape(s) for s in args.shapes.replace(";", ",").split(",") if s]
    sample_seconds = 0.01 if args.quick else 0.05
    rng = np.random.default_rng(1)
    results = []
    for (m, n, k, ta, tb) in shapes:
        a = rng.uniform(-0.5, 0.5, (k, m) if ta else (m, k)).astype(np.float32)
        b = rng.uniform(-0.5, 0.5, (n, k) if tb else (k, n)).astype(np.float32)
        opa, opb = (a.T if ta else a), (b.T if tb else b)
        out = np.empty((m, n), dtype=np.float32)
        for t in threads:
            ctx = threadpoolctl.threadpool_limits(limits=t, user_api="blas") if threadpoolctl else None
            try:
                np.matmul(opa, opb, out=out)
                start = time.perf_counter()
                np.matmul(opa, opb, out=out)
                once = max(time.perf_counter() - start, 1e-7)
                repeats = max(1, int(sample_seconds / once))
                walls, cpus = [], []
                for _ in range(3 if args.quick else 7):
                    w0, c0 = time.perf_counter(), time.process_time()
                    for _ in range(repeats):
                        np.matmul(opa, opb, out=out)
                    walls.append((time.perf_counter() - w0) / repeats)
                    cpus.append((time.process_time() - c0) / repeats)
            finally:
                if ctx is not None:
                    ctx.unregister() if hasattr(ctx, "unregister") else ctx.__exit__(None, None, None)
            flops = 2.0 * m * n * k
            results.append({"m": m, "n": n, "k": k, "transA": ta, "transB": tb, "threads": t,
                            "gflops": round(flops / statistics.median(walls) / 1e9, 1),
                            "cpuGflops": round(flops / statistics.median(cpus) / 1e9, 1)})
    if args.json:
        print(json.dumps({"numpy": info, "gemm": results}, sort_keys=True))
        return
    print(f"numpy {info.get('numpy')} OpenBLAS {info.get('openblasVersion')} kernel {info.get('openblasCoretype')} "
          f"(env {info.get('env')}), GFLOP/s median (per CPU-s)")
    for r in results:
        label = f"{r['m']} x {r['n']} x {r['k']}" + (" transA" if r["transA"] else "") + (" transB" if r["transB"] else "")
        print(f"  {label:30} {r['threads']} thread(s): {r['gflops']:7.1f} ({r['cpuGflops']:.1f})")


if __name__ == "__main__":
    main()
