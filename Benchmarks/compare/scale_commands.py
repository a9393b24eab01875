#!/usr/bin/env python3
"""Scale figures of the analysis commands on large .npy files (issue 15): wall time and peak RSS of
`vst regimes`, `vst drift` and `vst trajectory`, each run once as a fresh process (benchlib.run_timed: wall time
and the child's ru_maxrss from wait4).

The inputs are seeded float32 files written a block at a time with numpy (never held whole):
  states_a.npy, states_b.npy  n × D: a rank-5 signal (scale 3) plus unit noise, two independent draws of one law
  traj.npy                    T × m × D: noise that turns into the same rank-5 signal over the steps

With --peers, the numpy/scikit-learn equivalent of each command runs on the same files, also as a fresh process
timed the same way (the peers compute the core of each command only, so they are a floor for ours):
  regimes     numpy: the covariance spectrum over all rows, streamed from a memmap in blocks (float64 X_cᵀX_c,
              eigvalsh), plus scikit-learn NearestNeighbors TwoNN on a 10 000-row seeded subsample
  drift       numpy: the block MMD² statistic over all rows (Gaussian kernel, median bandwidth, blocks of 256)
  trajectory  numpy: the covariance spectrum of every 10th step

Usage:
    VST_BIN=.build/release/vst python3 Benchmarks/compare/scale_commands.py --out scale-results [--rows 1000000] [--peers]
Writes <out>/scale.json (with the OpenBLAS core type of each side and the BLAS variables as found) and prints a
Markdown table. The files stay in <out>/data unless --clean. --unset-coretype unsets OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE for both sides.
"""

import argparse
import json
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (apply_unset_flag, blas_env_vars, numpy_blas_info, run_timed, unset_coretype, vst_core,  # noqa: E402
                      write_json)


def write_states(path, n, d, seed, basis, block=50_000):
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, d))
    rng = np.random.default_rng(seed)
    for start in range(0, n, block):
        m = min(block, n - start)
        z = rng.standard_normal((m, basis.shape[0]), dtype=np.float32)
        out[start:start + m] = z @ basis + rng.standard_normal((m, d), dtype=np.float32)
    out.flush()
    del out


def write_trajectory(path, t_count, m, d, seed, basis):
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(t_count, m, d))
    rng = np.random.default_rng(seed)
    signal = rng.standard_normal((m, basis.shape[0]), dtype=np.float32) @ basis
    noise = rng.standard_normal((m, d), dtype=np.float32)
    for t in range(t_count):
        w = max(0.0, (t - t_count // 10) / (t_count - 1 - t_count // 10))
        out[t] = w * signal + (1 - 0.95 * w) * noise
    out.flush()
    del out


def timed(vst, args):
    p = run_timed([vst] + args + ["--json", "--quiet"])
    result = {"command": "vst " + " ".join(args), "exit": p["exit"], "seconds": round(p["seconds"], 2),
              "peak_rss_mb": round(p["peak_rss_kib"] / 1024, 1)}
    if p["exit"] == 0:
        result["json"] = json.loads(p["stdout"])
    else:
        result["stderr"] = p["stderr"][-2000:]
    return result


PEER_REGIMES = r"""
import sys, numpy as np
x = np.load(sys.argv[1], mmap_mode="r"); n, d = x.shape
mu = np.zeros(d); s = np.zeros((d, d)); shift = np.asarray(x[0], dtype=np.float64)
for i in range(0, n, 8192):
    b = np.asarray(x[i:i + 8192], dtype=np.float64) - shift
    mu += b.sum(0); s += b.T @ b
mu /= n; ev = np.linalg.eigvalsh((s - n * np.outer(mu, mu)) / (n - 1))[::-1]
rng = np.random.default_rng(0); sub = np.asarray(x[np.sort(rng.choice(n, min(n, 10000), replace=False))], dtype=np.float64)
try:
    from sklearn.neighbors import NearestNeighbors
    dist, _ = NearestNeighbors(n_neighbors=3).fit(sub).kneighbors(sub)
    r1, r2 = dist[:, 1], dist[:, 2]
except ImportError:  # numpy blocked k-NN when scikit-learn is missing
    sq = (sub * sub).sum(1); r1 = np.empty(len(sub)); r2 = np.empty(len(sub))
    for i in range(0, len(sub), 1000):
        d2 = np.maximum(sq[i:i + 1000, None] + sq[None] - 2 * sub[i:i + 1000] @ sub.T, 0)
        d2[np.arange(d2.shape[0]), np.arange(i, i + d2.shape[0])] = np.inf
        p = np.partition(d2, 1, axis=1); r1[i:i + 1000] = np.sqrt(p[:, 0]); r2[i:i + 1000] = np.sqrt(p[:, 1])
mu2 = r2 / np.maximum(r1, 1e-300); mu2 = mu2[mu2 > 1]
print(ev[:3].sum() / ev.sum(), len(mu2) / np.log(mu2).sum())
"""

PEER_DRIFT = r"""
import sys, numpy as np
a = np.load(sys.argv[1], mmap_mode="r"); b = np.load(sys.argv[2], mmap_mode="r")
m = min(len(a), len(b)) // 256 * 256
rng = np.random.default_rng(0); i = rng.choice(len(a), min(len(a), 1000), replace=False)
s = np.asarray(a[np.sort(i)], dtype=np.float64); q = (s * s).sum(1); d2 = np.maximum(q[:, None] + q[None] - 2 * s @ s.T, 0)
h2 = np.median(d2[np.triu_indices(len(s), 1)])
def k(x, y): return np.exp(-np.maximum((x * x).sum(1)[:, None] + (y * y).sum(1)[None] - 2 * x @ y.T, 0) / (2 * h2))
stats = []
for j in range(0, m, 256):
    x = np.asarray(a[j:j + 256], dtype=np.float64); y = np.asarray(b[j:j + 256], dtype=np.float64)
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    q = 256
    stats.append((kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy) - kxy.sum() - kxy.T.sum() + 2 * np.trace(kxy)) / (q * (q - 1)))
stats = np.array(stats); print(stats.mean(), stats.mean() / (stats.std(ddof=1) / np.sqrt(len(stats)) + 1e-300))
"""

PEER_TRAJECTORY = r"""
import sys, numpy as np
x = np.load(sys.argv[1], mmap_mode="r")
out = []
for t in list(range(0, x.shape[0], 10)) + [x.shape[0] - 1]:
    s = np.asarray(x[t], dtype=np.float64); s = s - s.mean(0)
    ev = np.linalg.eigvalsh(s.T @ s / (len(s) - 1))[::-1]; out.append(ev[:5].sum() / ev.sum())
print(out[0], out[-1])
"""


def timed_peer(name, code, args):
    p = run_timed([sys.executable, "-c", code] + args)
    return {"command": name, "exit": p["exit"], "seconds": round(p["seconds"], 2),
            "peak_rss_mb": round(p["peak_rss_kib"] / 1024, 1),
            "result": p["stdout"].strip() if p["exit"] == 0 else p["stderr"][-500:]}


def blas_kernels(vst):
    """Which OpenBLAS kernel set each side ran with (the guide: both sides run with the same environment, and the
    core type used is recorded): `vst --version` names its core; numpy's bundled OpenBLAS is asked through ctypes
    (benchlib.numpy_blas_info); the steering variables as found."""
    return {"vst": vst_core(vst), "numpy": numpy_blas_info().get("core"),
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "unset"), "env": blas_env_vars()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="scale-results")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--traj-rows", type=int, default=4_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--clean", action="store_true", help="remove the generated files afterwards")
    ap.add_argument("--peers", action="store_true", help="also time the numpy/scikit-learn equivalents on the same files")
    ap.add_argument("--unset-coretype", action="store_true",
                    help="unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for both sides (benchmarks only)")
    a = ap.parse_args()
    apply_unset_flag()
    unset_coretype(a.unset_coretype)
    vst = os.environ.get("VST_BIN", "vst")
    data = os.path.join(a.out, "data")
    os.makedirs(data, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    basis = (3 * np.linalg.qr(rng.standard_normal((a.dim, 5)))[0].T).astype(np.float32)
    files = {name: os.path.join(data, name) for name in ["states_a.npy", "states_b.npy", "traj.npy"]}
    if not os.path.exists(files["states_a.npy"]):
        write_states(files["states_a.npy"], a.rows, a.dim, a.seed + 1, basis)
    if not os.path.exists(files["states_b.npy"]):
        write_states(files["states_b.npy"], a.rows, a.dim, a.seed + 2, basis)
    if not os.path.exists(files["traj.npy"]):
        write_trajectory(files["traj.npy"], a.steps, a.traj_rows, a.dim, a.seed + 3, basis)
    runs = [
        timed(vst, ["regimes", files["states_a.npy"]]),
        timed(vst, ["drift", files["states_a.npy"], files["states_a.npy"]]),
        timed(vst, ["drift", files["states_a.npy"], files["states_b.npy"]]),
        timed(vst, ["trajectory", files["traj.npy"], "--stride", "10"]),
    ]
    summary = []
    for r in runs:
        j = r.get("json", {})
        note = ""
        if "regimes" in r["command"]:
            note = f"regime {j.get('regime')}, k* {j.get('signal_rank')}, TwoNN {j.get('twonn_dimension', 0):.2f} {j.get('twonn_interval')} on {j.get('twonn_rows')} rows"
        elif "drift" in r["command"]:
            note = f"drift {j.get('drift')}, p {j.get('p_value'):.3g}, test {j.get('test')} on {j.get('test_rows')} rows"
        elif "trajectory" in r["command"]:
            note = f"phases {j.get('regime_sequence')}"
        summary.append({k: v for k, v in r.items() if k != "json"} | {"result": note})
    if a.peers:
        summary += [
            timed_peer("numpy covariance spectrum + sklearn TwoNN (10 000 rows) of states_a", PEER_REGIMES, [files["states_a.npy"]]),
            timed_peer("numpy block MMD² of states_a vs states_a", PEER_DRIFT, [files["states_a.npy"], files["states_a.npy"]]),
            timed_peer("numpy block MMD² of states_a vs states_b", PEER_DRIFT, [files["states_a.npy"], files["states_b.npy"]]),
            timed_peer("numpy covariance spectra of every 10th step of traj", PEER_TRAJECTORY, [files["traj.npy"]]),
        ]
    os.makedirs(a.out, exist_ok=True)
    blas = blas_kernels(vst)
    write_json(os.path.join(a.out, "scale.json"), {"rows": a.rows, "dim": a.dim, "cores": os.cpu_count(), "blas": blas, "runs": summary})
    print(f"BLAS kernels: vst {blas['vst']}; numpy {blas['numpy']}; OPENBLAS_CORETYPE={blas['OPENBLAS_CORETYPE']}")
    print(f"| command ({a.rows} × {a.dim} float32) | exit | seconds | peak RSS (MB) | result |")
    print("| --- | --- | --- | --- | --- |")
    for s in summary:
        cmd = s["command"].replace(data + "/", "")
        print(f"| `{cmd}` | {s['exit']} | {s['seconds']} | {s['peak_rss_mb']} | {s['result']} |")
    if a.clean:
        shutil.rmtree(data)
    return 0 if all(s["exit"] == 0 for s in summary) else 1


if __name__ == "__main__":
    sys.exit(main())
