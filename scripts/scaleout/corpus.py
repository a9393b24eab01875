"""Synthetic sharded corpora for the scale-out checks, tests and benchmark, and a numpy reader of the statistics
and projection files (.safetensors: an 8-byte little-endian header length, a JSON header, raw tensors).

The corpus: rows x = μ + s·diag(scales)·Qᵀ + σ·ε, a `signal`-dimensional Gaussian signal in a random orthonormal
frame Q plus isotropic noise, float32, in shard_<i>/latents.npy. The candidate ("a later checkpoint" of the same
inputs) maps the same rows through a small rotation R and shift: y = x·R + δ + σ'·ε' (rows stay paired).
"""

import json
import os
import struct

import numpy as np


def make_corpus(root, shards, rows, dim, seed=0, signal=6, candidate_shards=0, force=False):
    """Writes `shards` shards (and `candidate_shards` paired candidate shards under root/later); returns the
    (reference, candidate) shard path lists. Existing files with the same parameters are reused."""
    params = {"shards": shards, "rows": rows, "dim": dim, "seed": seed, "signal": signal, "candidate_shards": candidate_shards}
    marker = os.path.join(root, "corpus.json")
    ref = [os.path.join(root, "corpus", f"shard_{i}", "latents.npy") for i in range(shards)]
    cand = [os.path.join(root, "later", f"shard_{i}", "latents.npy") for i in range(candidate_shards)]
    if not force and os.path.exists(marker):
        with open(marker) as f:
            if json.load(f) == params and all(os.path.exists(p) for p in ref + cand):
                return ref, cand
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    frame = q[:, :signal]
    scales = np.linspace(5.0, 1.5, signal)
    mu = rng.standard_normal(dim) * 0.5
    skew = rng.standard_normal((dim, dim)) * 0.002
    rotation = _expm_skew(skew - skew.T)
    shift = rng.standard_normal(dim) * 0.05
    for i, path in enumerate(ref):
        r = np.random.default_rng([seed, i])
        x = mu + (r.standard_normal((rows, signal)) * scales) @ frame.T + 0.5 * r.standard_normal((rows, dim))
        x = x.astype(np.float32)
        _save(path, x)
        if i < candidate_shards:
            y = x.astype(np.float64) @ rotation + shift + 0.05 * r.standard_normal((rows, dim))
            _save(cand[i], y.astype(np.float32))
    with open(marker, "w") as f:
        json.dump(params, f)
    return ref, cand


def _expm_skew(a):
    """exp(A) of a small matrix by scaling and squaring a Taylor series (orthogonal for skew-symmetric A)."""
    s = max(0, int(np.ceil(np.log2(max(np.abs(a).sum(axis=1).max(), 1e-12)))) + 1)
    b = a / 2.0 ** s
    out, term = np.eye(len(a)), np.eye(len(a))
    for k in range(1, 12):
        term = term @ b / k
        out = out + term
    for _ in range(s):
        out = out @ out
    return out


def _save(path, x):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".partial"
    with open(tmp, "wb") as f:
        np.save(f, x)
    os.replace(tmp, path)


def read_safetensors(path):
    """(metadata, {name: float64 array}) of a safetensors file, with numpy only."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    meta = header.pop("__metadata__", {})
    dtypes = {"F64": "<f8", "F32": "<f4", "I64": "<i8", "I32": "<i4"}
    tensors = {}
    for name, spec in header.items():
        a, b = spec["data_offsets"]
        tensors[name] = np.frombuffer(data[a:b], dtype=dtypes[spec["dtype"]]).reshape(spec["shape"]).astype(np.float64)
    return meta, tensors
