#!/usr/bin/env python3
"""Checks that the reference library reads files our writer produced (run by hand; the tests never need it).

    mkdir -p /tmp/st && SKILLTUNE_SAFETENSORS_EXPORT=/tmp/st \\
        swift test -c release --filter SafeTensorsTests/testWritesFilesForThePythonCheck
    python3 Tests/KernelTests/Fixtures/check_swift_written_safetensors.py /tmp/st

The files hold the tensors of SafeTensorsTests.pythonCheckTensors(): element j of tensor i (in the order
listed below) is (j - 5) * 0.125 * (i + 1), exact in F32, F16 and BF16.
"""
import os
import sys

import torch
from safetensors import safe_open

SHAPES = [("layers.0.weight", [4, 3]), ("layers.1.bias", [5]), ("scalar", []), ("empty", [0, 4]),
          ("d\u00e9j\u00e0 vu", [2, 2, 2])]
METADATA = {"format": "pt", "run": "swift \u2713", "empty": "", "multi": "a\nb\"c"}
DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def main(directory):
    failures = 0
    for suffix, dtype in DTYPES.items():
        path = os.path.join(directory, f"swift_written_{suffix}.safetensors")
        with safe_open(path, framework="pt") as f:
            if f.metadata() != METADATA:
                print(f"{path}: metadata {f.metadata()!r} != {METADATA!r}")
                failures += 1
            if sorted(f.keys()) != sorted(name for name, _ in SHAPES):
                print(f"{path}: names {sorted(f.keys())}")
                failures += 1
            for i, (name, shape) in enumerate(SHAPES):
                t = f.get_tensor(name)
                n = 1
                for d in shape:
                    n *= d
                want = ((torch.arange(n, dtype=torch.float64) - 5) * 0.125 * (i + 1)).reshape(shape).to(dtype)
                ok = t.dtype == dtype and list(t.shape) == shape and torch.equal(t, want)
                print(f"{'ok  ' if ok else 'FAIL'} {suffix:4} {name!r:20} {t.dtype} {list(t.shape)}")
                failures += not ok
    print("all files read back correctly" if failures == 0 else f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
