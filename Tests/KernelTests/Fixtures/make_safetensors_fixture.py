#!/usr/bin/env python3
"""Writes the safetensors fixtures SafeTensorsTests reads, using the reference library (safetensors + torch).

Run from anywhere:  python3 Tests/KernelTests/Fixtures/make_safetensors_fixture.py
Outputs (in Fixtures/safetensors/):
  reference.safetensors   tensors of many dtypes and edge cases, written by safetensors.torch.save_file
  reference.json          for each tensor: dtype, shape, data_offsets (read back from the header by plain
                          json) and the expected Float32 values as uint32 bit patterns (exact for -0, NaN, inf)
  writer_f32/f16/bf16.safetensors
                          the same Float32 source tensors (writer_source in reference.json) saved by the
                          reference writer as F32, F16 and BF16: our writer must produce identical bytes
The tests never run Python; rerun this only to regenerate the files.
"""
import json
import os
import struct

import torch
from safetensors.torch import save_file

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "safetensors")
INF, NAN = float("inf"), float("nan")


def bits(t):
    """The tensor converted to float32 the way torch does it, as uint32 bit patterns."""
    return [b & 0xFFFFFFFF for b in t.to(torch.float32).reshape(-1).view(torch.int32).tolist()]


def header_of(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n))


def main():
    os.makedirs(HERE, exist_ok=True)
    g = torch.Generator().manual_seed(1234)
    tensors = {
        "weight_f32": torch.tensor([[1.5, -2.25, 0.0, -0.0],
                                    [1e-40, -1e-45, 3.4028235e38, -1.17549435e-38],
                                    [INF, -INF, NAN, 0.1]], dtype=torch.float32),
        "special_f16": torch.tensor([0.0, -0.0, 2.0 ** -24, 1023 * 2.0 ** -24, -(2.0 ** -24), 2.0 ** -14,
                                     65504.0, -65504.0, INF, -INF, NAN, 1 / 3, -2.5, 1 + 2.0 ** -10],
                                    dtype=torch.float16),
        "mixed_bf16": torch.tensor([[1.0, -3.14159, 1e-40], [INF, NAN, -0.0], [3.0e38, -1e-3, 7.0]],
                                   dtype=torch.bfloat16),
        "scalar": torch.tensor(42.5, dtype=torch.float32),
        "empty": torch.zeros((0, 3), dtype=torch.float32),
        "ints_i64": torch.tensor([-3, 0, 7, 2 ** 40], dtype=torch.int64),
        "ints_i32": torch.tensor([-(2 ** 31), 5, 2 ** 31 - 1], dtype=torch.int32),
        "ints_i16": torch.tensor([-32768, 12, 32767], dtype=torch.int16),
        "ints_i8": torch.tensor([-128, 0, 127], dtype=torch.int8),
        "bytes_u8": torch.tensor([0, 128, 255], dtype=torch.uint8),
        "flags_bool": torch.tensor([True, False, True], dtype=torch.bool),
        "doubles_f64": torch.tensor([1 / 3, -1e300, 2.0 ** -1074], dtype=torch.float64),
        "random_f16": torch.randn((4, 5), generator=g).to(torch.float16),
    }
    metadata = {"format": "pt", "note": "SkillTune fixture: \u00fcn\u00efcode \"quotes\"\n\ttab"}
    ref_path = os.path.join(HERE, "reference.safetensors")
    save_file(tensors, ref_path, metadata=metadata)
    header = header_of(ref_path)

    expected = {"metadata": metadata, "tensors": {}}
    for name, t in tensors.items():
        expected["tensors"][name] = {
            "dtype": header[name]["dtype"],
            "shape": list(t.shape),
            "data_offsets": header[name]["data_offsets"],
            "float32_bits": bits(t),
        }

    # Float32 sources for the writer comparison: rounding ties, subnormals, overflow, random values. No NaN:
    # torch's vectorized BF16 cast turns NaN into 0xFFFF where the scalar cast (and ours) gives 0x7FC0, so
    # NaN bytes are not comparable; reading NaN is covered by reference.safetensors.
    source = {
        "b.weight": torch.tensor([[1 + 2.0 ** -11, 1 + 3 * 2.0 ** -11, 1 + 2.0 ** -8, 1 + 3 * 2.0 ** -8],
                                  [65519.0, 65520.0, 70000.0, -1e30],
                                  [3 * 2.0 ** -26, 2.0 ** -25, 5.96e-8, 1e-40],
                                  [-65504.5, -INF, -0.0, 3.3961776e38]], dtype=torch.float32),
        "a.bias": torch.randn((7,), generator=g, dtype=torch.float32),
        "c.scalar": torch.tensor(-0.3333333, dtype=torch.float32),
        "d.empty": torch.zeros((0, 2), dtype=torch.float32),
        "e.proj.weight": torch.randn((3, 5), generator=g, dtype=torch.float32) * 100,
    }
    # One key only: the reference writer orders metadata keys by a randomly seeded hash, so with several
    # keys its bytes vary from run to run (ours sorts them).
    writer_metadata = {"note": "step 3, caf\u00e9 \"quoted\"\n\u0001"}
    expected["writer_source"] = {name: {"shape": list(t.shape), "float32_bits": bits(t)}
                                 for name, t in source.items()}
    expected["writer_metadata"] = writer_metadata
    for dtype_name, dtype in [("f32", torch.float32), ("f16", torch.float16), ("bf16", torch.bfloat16)]:
        save_file({k: v.to(dtype) for k, v in source.items()},
                  os.path.join(HERE, f"writer_{dtype_name}.safetensors"), metadata=writer_metadata)

    with open(os.path.join(HERE, "reference.json"), "w") as f:
        json.dump(expected, f, indent=1, ensure_ascii=True)
        f.write("\n")
    for name in sorted(os.listdir(HERE)):
        print(name, os.path.getsize(os.path.join(HERE, name)), "bytes")


if __name__ == "__main__":
    main()
