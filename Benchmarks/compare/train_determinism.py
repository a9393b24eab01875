#!/usr/bin/env python3
"""Training determinism across two builds: the same `vst train` run (same family, data, seed and steps) with two
`vst` binaries — say, one built from main and one from a branch that changed the training kernels — then the same
`vst sample` from each model file; reports whether the sampled .npy files and the weight files are byte-identical,
and otherwise the largest absolute difference of the samples and of every tensor in the two model files.

Usage:
    python3 Benchmarks/compare/train_determinism.py --a /path/to/vst-main --b .build/release/vst
    python3 Benchmarks/compare/train_determinism.py --a A --b B --family ddpm --data moons --dim 64 --steps 200 --seed 3
"""

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np


def safetensors(path):
    """{name: float64 array} of a .safetensors file (F32/F64 tensors)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == "__metadata__" or v["dtype"] not in ("F32", "F64"):
            continue
        a, b = v["data_offsets"]
        out[k] = np.frombuffer(data[a:b], dtype=np.float32 if v["dtype"] == "F32" else np.float64).astype(np.float64)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--a", required=True, help="the first vst binary (e.g. built from main)")
    ap.add_argument("--b", required=True, help="the second vst binary")
    ap.add_argument("--family", default="ddpm")
    ap.add_argument("--data", default="moons")
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--samples", type=int, default=200)
    a = ap.parse_args()
    for b in (a.a, a.b):
        if not os.path.exists(b):
            raise SystemExit(f"train_determinism.py: vst binary {b} does not exist")
    work = tempfile.mkdtemp(prefix="train-determinism-")
    files = {}
    for tag, vst in (("a", a.a), ("b", a.b)):
        model, samples = os.path.join(work, f"{tag}.safetensors"), os.path.join(work, f"{tag}.npy")
        subprocess.run([vst, "train", a.family, "--data", a.data, "--dim", str(a.dim), "--steps", str(a.steps),
                        "--seed", str(a.seed), "-o", model], check=True, capture_output=True)
        subprocess.run([vst, "sample", "--model", model, "-n", str(a.samples), "--seed", "5", "--quiet", "-o", samples],
                       check=True, capture_output=True)
        files[tag] = (model, samples)
    same_samples = open(files["a"][1], "rb").read() == open(files["b"][1], "rb").read()
    sa, sb = np.load(files["a"][1]).astype(np.float64), np.load(files["b"][1]).astype(np.float64)
    ta, tb = safetensors(files["a"][0]), safetensors(files["b"][0])
    weight_diff = {k: float(np.max(np.abs(ta[k] - tb[k]))) if ta[k].size else 0.0 for k in ta if k in tb}
    report = {"run": f"vst train {a.family} --data {a.data} --dim {a.dim} --steps {a.steps} --seed {a.seed}; "
                     f"vst sample -n {a.samples} --seed 5",
              "samples_byte_identical": same_samples,
              "samples_max_abs_diff": float(np.max(np.abs(sa - sb))),
              "samples_max_abs": float(np.max(np.abs(sa))),
              "tensors_compared": len(weight_diff),
              "tensors_identical": sum(1 for v in weight_diff.values() if v == 0),
              "weights_max_abs_diff": max(weight_diff.values()) if weight_diff else None}
    print(json.dumps(report, indent=2))
    sys.exit(0 if same_samples else 1)


if __name__ == "__main__":
    main()
