#!/usr/bin/env python3
"""Writes data/golden/linear_golden.json: inputs and numpy/scipy reference outputs for the Linear module's math.

Run from anywhere:  python3 data/golden/make_golden.py
Deterministic: one fixed seed, and the output is rewritten byte-for-byte identically on every run
(for a given numpy/scipy version).

Conventions (read by Tests/LinearTests/GoldenTests.swift):
  * Every *input* value is rounded to float32 first (and stored as the float64 of that float32), so the
    Float tests see exactly the same input as the Double tests; differences then come from arithmetic only.
  * Reference *outputs* are computed in float64 from those inputs and stored as float64 (shortest repr,
    which round-trips exactly). Non-finite values are stored as the strings "inf", "-inf", "nan".
  * An array is {"shape": [...], "data": [row-major values]}; a scalar has shape [].
  * Each case is {"op", "name", "params": {str: number}, "arrays": {str: array}}. "params" holds axis, ddof,
    transpose flags (0/1), rank, and "scale": the magnitude that absolute errors are measured against
    (see GoldenTests.swift for how each op uses it). An absent "axis" means "all elements".
"""
import json
import math
import os
import sys

import numpy as np
import scipy
import scipy.linalg
import scipy.special

SEED = 20251125
rng = np.random.default_rng(SEED)
cases = []


def f32(x):
    """Round to float32 and back: the value both precisions will see."""
    return np.asarray(x, dtype=np.float64).astype(np.float32).astype(np.float64)


def enc_value(v):
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def arr(x):
    x = np.asarray(x, dtype=np.float64)
    return {"shape": list(x.shape), "data": [enc_value(v) for v in x.ravel()]}


def add(op, name, arrays, **params):
    clean = {}
    for k, v in params.items():
        if v is None:
            continue
        if isinstance(v, (bool, np.bool_)):
            v = int(v)
        clean[k] = float(v) if isinstance(v, (float, np.floating)) else int(v)
    cases.append({"op": op, "name": name, "params": clean, "arrays": {k: arr(v) for k, v in arrays.items()}})


def normal(*shape, scale=1.0):
    return f32(rng.standard_normal(shape) * scale)


def orthogonal(n):
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def with_singular_values(m, n, s):
    """U·diag(s)·Vᵀ (m×n) with random orthogonal U, V and the given singular values (rounded to float32)."""
    k = min(m, n)
    u = orthogonal(m)[:, :k]
    v = orthogonal(n)[:, :k]
    return f32(u @ np.diag(s) @ v.T)


def symmetric_with_eigenvalues(lams):
    n = len(lams)
    q = orthogonal(n)
    a = q @ np.diag(lams) @ q.T
    a = (a + a.T) / 2
    return f32(a)  # rounding element-wise keeps it exactly symmetric


def spd(n, lo=0.5, hi=10.0):
    return symmetric_with_eigenvalues(np.linspace(lo, hi, n))


# ---------------------------------------------------------------------------------------------------------------
# Products. scale = max of |A|·|B| (the standard bound: |fl(AB) − AB| ≤ k·ε·|A||B| element-wise).

def product_scale(a, b):
    return float(np.max(np.abs(a) @ np.abs(b))) if a.size and b.size else 1.0


for (m, k, n) in [(5, 3, 4), (20, 12, 8), (1, 7, 1), (8, 8, 8), (50, 50, 50), (3, 20, 5)]:
    for ta, tb in [(False, False), (True, False), (False, True), (True, True)]:
        if (m, k, n) == (50, 50, 50) and (ta or tb):
            continue  # keep the file small: the large case only untransposed
        a = normal(m, k)
        b = normal(k, n)
        sa = a.T.copy() if ta else a  # stored operand; the product uses its transpose
        sb = b.T.copy() if tb else b
        add("matmul", f"{m}x{k}x{n}{' Aᵀ' if ta else ''}{' Bᵀ' if tb else ''}", {"a": sa, "b": sb, "out": a @ b},
            transposeA=ta, transposeB=tb, scale=product_scale(a, b))

for name, ashape, bshape, ta, tb in [
    ("[4,5,3]·[4,3,6]", (4, 5, 3), (4, 3, 6), False, False),
    ("[4,5,3]·[3,6] (shared B)", (4, 5, 3), (3, 6), False, False),
    ("[5,3]·[4,3,6] (shared A)", (5, 3), (4, 3, 6), False, False),
    ("[1,5,3]·[4,3,6] (batch 1 broadcast)", (1, 5, 3), (4, 3, 6), False, False),
    ("[4,5,3]·[1,3,6] (batch 1 broadcast)", (4, 5, 3), (1, 3, 6), False, False),
    ("[3,3,5]ᵀ·[3,3,4]", (3, 3, 5), (3, 3, 4), True, False),
    ("[3,5,3]·[3,4,3]ᵀ", (3, 5, 3), (3, 4, 3), False, True),
    ("[2,6,4]ᵀ·[2,5,6]ᵀ", (2, 6, 4), (2, 5, 6), True, True),
]:
    a = normal(*ashape)
    b = normal(*bshape)
    oa = np.swapaxes(a, -1, -2) if ta else a
    ob = np.swapaxes(b, -1, -2) if tb else b
    out = np.matmul(oa, ob)
    if out.ndim == 2:
        out = out[None]
    scale = float(np.max(np.matmul(np.abs(oa), np.abs(ob))))
    add("batched_matmul", name, {"a": a, "b": b, "out": out}, transposeA=ta, transposeB=tb, scale=scale)

for (m, n, t) in [(20, 12, False), (20, 12, True), (1, 5, False), (6, 6, True)]:
    a = normal(m, n)
    x = normal(m if t else n)
    oa = a.T if t else a
    add("matvec", f"{m}x{n}{' Aᵀ' if t else ''}", {"a": a, "x": x, "out": oa @ x}, transposeA=t,
        scale=float(np.max(np.abs(oa) @ np.abs(x))))

for (p, q) in [(5, 7), (1, 3)]:
    x, y = normal(p), normal(q)
    add("outer", f"{p}x{q}", {"x": x, "y": y, "out": np.outer(x, y)}, scale=0.0)

for (m, n) in [(20, 12), (3, 8), (1, 4)]:
    x = normal(m, n)
    add("gram", f"{m}x{n}", {"x": x, "out": x.T @ x}, scale=float(np.max(np.abs(x).T @ np.abs(x))))

for n in [1, 17, 300]:
    x, y = normal(n), normal(n)
    add("dot", f"n={n}", {"x": x, "y": y, "out": np.array(x @ y)}, scale=float(np.abs(x) @ np.abs(y)))

# ---------------------------------------------------------------------------------------------------------------
# Reductions along every axis (and over everything). scale: see GoldenTests.swift (per op).

reduction_inputs = [
    ("[3,4,5]", normal(3, 4, 5, scale=2.0)),
    ("[6,7]", f32(normal(6, 7) + 3.0)),
    ("[1,9]", normal(1, 9)),
    ("[5,1]", normal(5, 1)),
    ("[40]", normal(40, scale=5.0)),
]
# Ties for argmax/argmin: the first occurrence must win.
ties = f32(np.array([[1.0, 3.0, 3.0, -2.0], [-2.0, 0.5, -2.0, 0.5], [7.0, 7.0, 7.0, 7.0]]))
reduction_inputs.append(("[3,4] with ties", ties))
# A logsumexp/softmax stress input: large values that overflow exp without the max shift.
reduction_inputs.append(("[4,6] large", f32(normal(4, 6, scale=3.0) + 800.0)))

for label, x in reduction_inputs:
    axes = [None] + list(range(x.ndim)) + [-1]
    for axis in axes:
        tag = f"{label} axis={'all' if axis is None else axis}"
        ax = axis
        absx = np.abs(x)
        add("sum", tag, {"x": x, "out": np.array(np.sum(x, axis=ax))}, axis=ax,
            scale=float(np.max(np.sum(absx, axis=ax))))
        add("mean", tag, {"x": x, "out": np.array(np.mean(x, axis=ax))}, axis=ax, scale=float(np.max(absx)))
        n = x.size if ax is None else x.shape[ax]
        for ddof in (0, 1):
            if n - ddof <= 0:
                continue
            add("var", f"{tag} ddof={ddof}", {"x": x, "out": np.array(np.var(x, axis=ax, ddof=ddof))}, axis=ax,
                ddof=ddof, scale=float(np.max(absx)) ** 2)
            add("std", f"{tag} ddof={ddof}", {"x": x, "out": np.array(np.std(x, axis=ax, ddof=ddof))}, axis=ax,
                ddof=ddof, scale=float(np.max(absx)))
        add("max", tag, {"x": x, "out": np.array(np.max(x, axis=ax))}, axis=ax, scale=0.0)
        add("min", tag, {"x": x, "out": np.array(np.min(x, axis=ax))}, axis=ax, scale=0.0)
        add("argmax", tag, {"x": x, "out": np.array(np.argmax(x, axis=ax), dtype=np.float64)}, axis=ax, scale=0.0)
        add("argmin", tag, {"x": x, "out": np.array(np.argmin(x, axis=ax), dtype=np.float64)}, axis=ax, scale=0.0)
        add("logsumexp", tag, {"x": x, "out": np.array(scipy.special.logsumexp(x, axis=ax))}, axis=ax,
            scale=float(np.max(absx)) + 1.0)
        add("norm", tag, {"x": x, "out": np.array(np.sqrt(np.sum(x * x, axis=ax)))}, axis=ax, scale=0.0)
        if axis is not None:
            add("softmax", tag, {"x": x, "out": scipy.special.softmax(x, axis=ax)}, axis=ax, scale=0.0)
            add("log_softmax", tag, {"x": x, "out": scipy.special.log_softmax(x, axis=ax)}, axis=ax,
                scale=float(np.max(absx)) + 1.0)

# ---------------------------------------------------------------------------------------------------------------
# Unary functions. scale = 0: purely relative comparison; 1 where the formula cancels (gelu for large negative
# x, sin/cos near their zeros), so absolute errors are measured against O(1).

grid = f32(np.concatenate([np.linspace(-8, 8, 33), [-50.0, -20.0, -1e-3, -1e-7, 0.0, 1e-7, 1e-3, 20.0, 50.0]]))
# softplus must not overflow where exp(x) does (x > 88.7 in float32); large negative x would be subnormal in float32.
wide = f32(np.concatenate([grid, [100.0, 200.0, 1000.0]]))
positive = f32(np.concatenate([np.geomspace(1e-6, 1e6, 25), [0.5, 1.0, 2.0, 1.0 + 2.0 ** -20]]))
small = f32(np.concatenate([np.linspace(-0.9, 3.0, 14), [-1e-10, -1e-6, 1e-10, 1e-6, 1e-3, 10.0, 100.0]]))
expm1in = f32(np.concatenate([small[small < 50], -small, [-30.0, 30.0]]))  # expm1(100) overflows float32
expin = f32(np.concatenate([np.linspace(-30, 30, 31), [-1e-8, 1e-8]]))
c = math.sqrt(2.0 / math.pi)
unary = [
    ("exp", expin, np.exp(expin), 0.0),
    ("log", positive, np.log(positive), 0.0),
    ("log1p", small, np.log1p(small), 0.0),
    ("expm1", expm1in, np.expm1(expm1in), 0.0),
    ("tanh", grid, np.tanh(grid), 0.0),
    ("sigmoid", grid, scipy.special.expit(grid), 0.0),
    ("silu", grid, grid * scipy.special.expit(grid), 0.0),
    ("gelu", grid, 0.5 * grid * (1.0 + np.tanh(c * (grid + 0.044715 * grid ** 3))), 1.0),
    ("softplus", wide, np.logaddexp(0.0, wide), 0.0),
    ("sqrt", positive, np.sqrt(positive), 0.0),
    ("rsqrt", positive, 1.0 / np.sqrt(positive), 0.0),
    ("square", grid, grid * grid, 0.0),
    ("abs", grid, np.abs(grid), 0.0),
    ("relu", grid, np.maximum(grid, 0.0), 0.0),
    ("sin", grid, np.sin(grid), 1.0),
    ("cos", grid, np.cos(grid), 1.0),
]
for name, x, y, scale in unary:
    add(name, f"{name} on {x.size} points", {"x": x, "out": y}, scale=scale)
# The same functions on a 2-D input, to make sure shape is kept.
x2 = normal(3, 5)
add("tanh", "tanh [3,5]", {"x": x2, "out": np.tanh(x2)}, scale=0.0)
add("exp", "exp [3,5]", {"x": x2, "out": np.exp(x2)}, scale=0.0)

# ---------------------------------------------------------------------------------------------------------------
# Linear algebra. Inputs have controlled conditioning (≤ ~20) so float32 results are meaningful;
# "scale" is given per op below and in GoldenTests.swift.

# SVD: "vectors" = 1 when singular values are well separated, so U and V are unique up to the sign of each pair.
svd_inputs = [
    ("random 5x3", normal(5, 3), 0),
    ("random 3x5", normal(3, 5), 0),
    ("random 8x8", normal(8, 8), 0),
    ("random 50x50", normal(50, 50), 0),
    ("separated 20x12", with_singular_values(20, 12, np.linspace(10.0, 1.0, 12)), 1),
    ("separated 12x20", with_singular_values(12, 20, np.linspace(10.0, 1.0, 12)), 1),
    ("separated 8x8", with_singular_values(8, 8, np.geomspace(20.0, 1.0, 8)), 1),
    ("separated 6x1", with_singular_values(6, 1, np.array([3.0])), 1),
]
for name, a, vectors in svd_inputs:
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    arrays = {"a": a, "s": s}
    if vectors:
        arrays.update({"u": u, "vt": vt})
    # Relative gap of the closest pair of singular values (vector errors scale with 1/gap).
    gaps = np.diff(-s) / s[0] if s.size > 1 else np.array([1.0])
    add("svd", name, arrays, vectors=vectors, scale=float(s[0]), gap=float(np.min(gaps)) if vectors else None)

eigh_inputs = [
    ("random sym 8x8", None, 8, 0),
    ("random sym 50x50", None, 50, 0),
    ("separated 12x12", np.linspace(-6.0, 5.0, 12), 12, 1),
    ("separated 30x30", np.concatenate([np.linspace(-10.0, -1.0, 10), np.linspace(0.5, 20.0, 20)]), 30, 1),
    ("1x1", np.array([2.5]), 1, 1),
]
for name, lams, n, vectors in eigh_inputs:
    if lams is None:
        g = rng.standard_normal((n, n))
        a = f32((g + g.T) / 2)
    else:
        a = symmetric_with_eigenvalues(lams)
    w, v = np.linalg.eigh(a)
    arrays = {"a": a, "values": w}
    if vectors:
        arrays["vectors"] = v
    gaps = np.diff(w) / np.max(np.abs(w)) if w.size > 1 else np.array([1.0])
    add("eigh", name, arrays, vectors=vectors, scale=float(np.max(np.abs(w))), gap=float(np.min(gaps)) if vectors else None)

qr_inputs = [
    ("random 5x3", normal(5, 3)),
    ("random 20x12", normal(20, 12)),
    ("conditioned 8x8", with_singular_values(8, 8, np.linspace(5.0, 1.0, 8))),
    ("conditioned 50x50", with_singular_values(50, 50, np.linspace(10.0, 1.0, 50))),
    ("random 3x5", normal(3, 5)),
    ("conditioned 12x20", with_singular_values(12, 20, np.linspace(4.0, 1.0, 12))),
]
for name, a in qr_inputs:
    q, r = np.linalg.qr(a, mode="reduced")
    assert np.all(np.abs(np.diag(r)) > 1e-3), name
    add("qr", name, {"a": a, "q": q, "r": r}, scale=float(np.max(np.abs(r))),
        cond=float(np.linalg.cond(a)))

for n in [1, 5, 20]:
    a = spd(n) if n > 1 else f32(np.array([[4.0]]))
    L = np.linalg.cholesky(a)
    add("cholesky", f"spd {n}x{n}", {"a": a, "l": L}, scale=float(np.max(np.abs(L))), cond=float(np.linalg.cond(a)))

for n, nrhs in [(5, 0), (8, 3), (30, 0), (30, 4)]:
    a = with_singular_values(n, n, np.linspace(8.0, 1.0, n))
    b = normal(n) if nrhs == 0 else normal(n, nrhs)
    x = np.linalg.solve(a, b)
    add("solve", f"{n}x{n}, {'vector b' if nrhs == 0 else f'{nrhs} right-hand sides'}", {"a": a, "b": b, "x": x},
        scale=float(np.max(np.abs(x))), cond=float(np.linalg.cond(a)))

for n, nrhs in [(6, 0), (12, 2)]:
    a = spd(n)
    b = normal(n) if nrhs == 0 else normal(n, nrhs)
    add("solve_spd", f"spd {n}x{n}", {"a": a, "b": b, "x": np.linalg.solve(a, b)},
        scale=float(np.max(np.abs(np.linalg.solve(a, b)))), cond=float(np.linalg.cond(a)))


def lstsq_case(name, a, b):
    x, _, rank, sv = np.linalg.lstsq(a, b, rcond=None)
    add("lstsq", name, {"a": a, "b": b, "x": x, "s": sv}, rank=int(rank),
        scale=float(np.max(np.abs(x))), cond=float(sv[0] / sv[rank - 1]), smax=float(sv[0]))


lstsq_case("tall 20x12, vector b", normal(20, 12), normal(20))
lstsq_case("tall 20x12, 3 right-hand sides", normal(20, 12), normal(20, 3))
lstsq_case("wide 5x8 (minimum norm)", normal(5, 8), normal(5))
lstsq_case("square 8x8", with_singular_values(8, 8, np.linspace(6.0, 1.0, 8)), normal(8, 2))
# A small but genuine singular value (σ_min/σ₁ = 1e-4, above the default rcond in float32 and float64): full rank.
lstsq_case("small singular value 8x8 (full rank)", with_singular_values(8, 8, np.array([10.0, 5, 2, 1, 0.5, 0.2, 0.1, 1e-3])),
           normal(8))
deficient = normal(20, 8)
deficient[:, 6] = deficient[:, 1]   # exact duplicates: rank 6 in float32 and float64 alike
deficient[:, 7] = deficient[:, 3]
lstsq_case("rank-deficient 20x8 (rank 6)", deficient, normal(20))
zero_cols = normal(10, 5)
zero_cols[:, 2] = 0.0
lstsq_case("zero column 10x5 (rank 4)", zero_cols, normal(10, 2))

for n in [6, 20]:
    a = spd(n, lo=0.25, hi=16.0)
    root = scipy.linalg.sqrtm(a)
    root = np.real(root)
    w, v = np.linalg.eigh(a)
    root_eigh = (v * np.sqrt(w)) @ v.T
    assert np.max(np.abs(root - root_eigh)) < 1e-10 * np.max(np.abs(root))
    inv_root = (v / np.sqrt(w)) @ v.T
    assert np.max(np.abs(inv_root - np.linalg.inv(root))) < 1e-10 * np.max(np.abs(inv_root))
    add("sqrtm", f"spd {n}x{n} (scipy.linalg.sqrtm)", {"a": a, "out": root}, scale=float(np.max(np.abs(root))),
        cond=float(np.linalg.cond(a)))
    add("inv_sqrtm", f"spd {n}x{n} (inv of scipy.linalg.sqrtm)", {"a": a, "out": np.linalg.inv(root)},
        scale=float(np.max(np.abs(inv_root))), cond=float(np.linalg.cond(a)))

slog_inputs = [
    ("conditioned 8x8", with_singular_values(8, 8, np.linspace(3.0, 0.5, 8))),
    ("random 5x5", normal(5, 5)),
    ("random 50x50", normal(50, 50)),
    ("1x1 negative", f32(np.array([[-0.75]]))),
]
neg = with_singular_values(6, 6, np.linspace(2.0, 0.5, 6))
if np.linalg.det(neg) > 0:
    neg[[0, 1]] = neg[[1, 0]]
slog_inputs.append(("negative determinant 6x6", neg))
singular = normal(5, 5)
singular[:, 3] = 0.0
slog_inputs.append(("singular 5x5 (zero column)", singular))
for name, a in slog_inputs:
    sign, logabs = np.linalg.slogdet(a)
    add("slogdet", name, {"a": a, "sign": np.array(sign), "logabsdet": np.array(logabs)},
        scale=float(np.sum(np.abs(np.log(np.linalg.svd(a, compute_uv=False) + 1e-300)))) + 1.0,
        cond=float(np.linalg.cond(a)) if np.isfinite(logabs) else None)

for n in [4, 20]:
    a = spd(n)
    add("logdet", f"spd {n}x{n}", {"a": a, "out": np.array(np.linalg.slogdet(a)[1])},
        scale=float(np.sum(np.abs(np.log(np.linalg.eigvalsh(a))))) + 1.0)

for name, a in [("conditioned 8x8", with_singular_values(8, 8, np.linspace(4.0, 1.0, 8))),
                ("conditioned 20x20", with_singular_values(20, 20, np.linspace(10.0, 1.0, 20))),
                ("random 3x3", normal(3, 3)),
                ("1x1", f32(np.array([[-4.0]])))]:
    inv = np.linalg.inv(a)
    add("inverse", name, {"a": a, "out": inv}, scale=float(np.max(np.abs(inv))), cond=float(np.linalg.cond(a)))

# ---------------------------------------------------------------------------------------------------------------
# A parsing probe: values whose exact float64 bits the Swift side checks, so a lossy JSON reader is caught.
probe = [0.1, 1.0 / 3.0, 2.0 ** -1074, 1.7976931348623157e308, -2.2250738585072014e-308, 0.30000000000000004,
         123456789.12345679]
add("probe", "exact float64 parsing", {"values": np.array(probe)},
    )
cases[-1]["bits"] = [format(np.float64(v).view(np.uint64), "016x") for v in probe]

out = {
    "generator": "data/golden/make_golden.py",
    "seed": SEED,
    "numpy": np.__version__,
    "scipy": scipy.__version__,
    "cases": cases,
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "linear_golden.json")
text = json.dumps(out, separators=(",", ":"), allow_nan=False)
with open(path, "w") as f:
    f.write(text)
    f.write("\n")
counts = {}
for c_ in cases:
    counts[c_["op"]] = counts.get(c_["op"], 0) + 1
print(f"wrote {path}: {len(text) / 1e6:.2f} MB, {len(cases)} cases", file=sys.stderr)
print("  " + ", ".join(f"{k}: {v}" for k, v in counts.items()), file=sys.stderr)
