#!/usr/bin/env python3
"""Side-by-side timing of Substrate (via `substrate-bench substrate`) and its peers (scikit-learn PCA, numpy, scipy) on this
machine, as ratios from one run, with an accuracy cross-check of the explained variance on the same data.

Workloads (ours → peers):
    fit-svd (d ≤ 256)  Projection.fit(k = 9, .svd)          → sklearn PCA(svd_solver='full')               (d ≤ 256)
    fit-covariance     Projection.fit(k = 9, .covariance)   → sklearn PCA(svd_solver='covariance_eigh'), and the
                                                               target compares with sklearn's fastest solver at that d
    fit-randomized     Projection.fit(k = 9, .randomized)   → sklearn PCA(svd_solver='randomized', n_oversamples=10,
                                                               iterated_power=4)  (ours: p = 10, q = 4)
    project            Projection.project                   → sklearn PCA.transform
    lift               Projection.lift(z, residual: r)      → numpy z @ V_kᵀ + r @ V_⊥ᵀ + μ  (the exact inverse)
    lift-core          Projection.lift(z)                   → sklearn PCA.inverse_transform
    cka                Alignment.linearCKA                  → numpy, Kornblith et al.'s feature_space_linear_cka
    frechet            Drift.frechetDistance                → scipy.linalg.sqrtm route (pytorch-fid) and numpy eigh route
    mmd                Drift.mmdTest(permutations: 200)     → numpy: median heuristic, RBF kernel, 200 permutations
                                                               (all at once: one K·S product, as ours)
fit-* at n = 100 000 rows, project/lift at 20 000, cka/frechet at 10 000, mmd at 2 000 per set; float32 and float64
input for fit-* and project (the other APIs take Double only).

Data: both sides build the same matrices from a counter-based generator (splitmix64 of the element index, see
SyntheticData in Benchmarks/Sources/SubstrateBench/SyntheticData.swift): a rank-16 signal with singular values decaying by 0.8 per
direction plus noise of standard deviation 0.05 and a per-feature offset, so the spectrum has a clear gap after
direction 16. Differences between the two sides' data are rounding only (numpy forms the signal with a BLAS product).

Interleaving: for every round, thread count and point (workload group, d, dtype) each side runs in a fresh process —
ours `substrate-bench substrate` with one workload, each peer in `python3 compare_substrate.py --peer-worker` — alternating
which side goes first from round to round. Each process reports the median of its repetitions; the table reports
the median over rounds. Threads: OPENBLAS_NUM_THREADS and OMP_NUM_THREADS for both sides, `--threads` (BLAS and
Linear's element-wise threads), threadpoolctl.threadpool_limits in the peer worker (numpy's and scipy's bundled
OpenBLAS builds both obey it). Each side records its OpenBLAS core type (meta.swift.*.environment; the
peer's threadpoolctl pools and blas); --unset-coretype unsets OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for both sides.

Memory: each process resets its peak-RSS mark (/proc/self/clear_refs = 5) after building its inputs and reports
VmHWM after the repetitions minus VmRSS before them: the workload's own peak on top of its inputs ("+RSS"). A separate
pass repeats the covariance and randomized fits at n = 25 000 and 100 000 to show whether that peak grows with n.

Writes bench-results/substrate.json and bench-results/substrate.md (repository root) and prints the Markdown.

Usage (from anywhere):
    python3 Benchmarks/compare/compare_substrate.py                    # full run: 1 and 2 threads, 3 rounds
    python3 Benchmarks/compare/compare_substrate.py --quick            # d = 64, 256; one round, 1 thread
    python3 Benchmarks/compare/compare_substrate.py --groups fit,cka --sizes 64,128 --threads 1 --rounds 1
    BENCH_BIN=/path/to/substrate-bench python3 Benchmarks/compare/compare_substrate.py
    SWIFT_SCRATCH_PATH=.build-bench python3 Benchmarks/compare/compare_substrate.py   # or --scratch-path
"""

import argparse
import json
import math
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (add_timing_options, add_vst_options, apply_unset_flag, blas_env_vars, find_bench,  # noqa: E402
                      fmt_time, machine_line, md_table_head, met_cell, notes_section, numpy_blas_info, proc_status,
                      report_head, reset_peak, round_summary, rotation, run_timed, thread_env, time_call, timing_args,
                      unset_coretype, write_report)

LADDER = [64, 128, 256, 512, 1024]
SVD_MAX_D = 256
K = 9
PERMUTATIONS = 200

# Point groups: each runs our workloads and the peers on the same (d, dtype).
GROUPS = {
    "fit": {"ours": ["fit-svd", "fit-covariance", "fit-randomized"],
            "peers": ["sk-full", "sk-covariance_eigh", "sk-randomized", "np-syrk"],
            "sizes": LADDER, "rows": 100_000, "dtypes": ["float32", "float64"]},
    "project": {"ours": ["project"], "peers": ["sk-transform"], "sizes": LADDER, "rows": 20_000,
                "dtypes": ["float32", "float64"]},
    "lift": {"ours": ["lift"], "peers": ["np-lift"], "sizes": LADDER, "rows": 20_000, "dtypes": ["float64"]},
    "lift-core": {"ours": ["lift-core"], "peers": ["sk-inverse_transform"], "sizes": LADDER, "rows": 20_000,
                  "dtypes": ["float64"]},
    "cka": {"ours": ["cka"], "peers": ["np-cka"], "sizes": LADDER, "rows": 10_000, "dtypes": ["float64"]},
    "frechet": {"ours": ["frechet"], "peers": ["scipy-sqrtm-fd", "np-eigh-fd"], "sizes": LADDER, "rows": 10_000,
                "dtypes": ["float64"]},
    "mmd": {"ours": ["mmd"], "peers": ["np-mmd"], "sizes": [64], "rows": 2_000, "dtypes": ["float64"]},
}
# Which peers each of our workloads is compared with (the first is its direct counterpart).
PEERS_OF = {
    "fit-svd": ["sk-full"],
    "fit-covariance": ["sk-covariance_eigh", "sk-full", "sk-randomized", "np-syrk"],
    "fit-randomized": ["sk-randomized"],
    "project": ["sk-transform"],
    "lift": ["np-lift"],
    "lift-core": ["sk-inverse_transform"],
    "cka": ["np-cka"],
    "frechet": ["np-eigh-fd", "scipy-sqrtm-fd"],
    "mmd": ["np-mmd"],
}
PEER_LABEL = {
    "sk-full": "sklearn PCA full",
    "sk-covariance_eigh": "sklearn PCA covariance_eigh",
    "sk-randomized": "sklearn PCA randomized",
    "np-syrk": "numpy XᵀX alone (floor)",
    "sk-transform": "sklearn PCA.transform",
    "np-lift": "numpy z@V_kᵀ + r@V_⊥ᵀ + μ",
    "sk-inverse_transform": "sklearn PCA.inverse_transform",
    "np-cka": "numpy feature-space CKA",
    "scipy-sqrtm-fd": "scipy sqrtm FD",
    "np-eigh-fd": "numpy eigh FD",
    "np-mmd": "numpy MMD² test",
}
METHOD_PEER = {"fit-svd": "sk-full", "fit-covariance": "sk-covariance_eigh", "fit-randomized": "sk-randomized"}


def feasible(job, d):
    return not (job in ("fit-svd", "sk-full") and d > SVD_MAX_D)


# ----------------------------------------------------------------------------------------------------------------
# data: the exact mirror of SyntheticData in Benchmarks/Sources/SubstrateBench/SyntheticData.swift

FIT_SEEDS = (1, 2, 3, 4)
CKA_SEEDS, CKA_NOISE_SEED = (11, 12, 13, 14), 15
FRECHET_SEEDS_A, FRECHET_SEEDS_B = (21, 2, 23, 4), (31, 2, 33, 34)
MMD_SEEDS_A, MMD_SEEDS_B = (41, 2, 43, 4), (51, 2, 53, 54)
RANK, DECAY, NOISE, OFFSET = 16, 0.8, 0.05, 0.5
MASK = (1 << 64) - 1


def uniform(seed, start, count):
    """(u − ½)·√12 for u the 53-bit uniform of splitmix64(index + seed·0xD1B5… + 0x9E37…), index in [start, start+count)."""
    import numpy as np

    z = np.arange(start, start + count, dtype=np.uint64)
    z += np.uint64((seed * 0xD1B54A32D192ED03 + 0x9E3779B97F4A7C15) & MASK)
    z ^= z >> np.uint64(30)
    z *= np.uint64(0xBF58476D1CE4E5B9)
    z ^= z >> np.uint64(27)
    z *= np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    z >>= np.uint64(11)
    u = z.astype(np.float64)
    u *= 2.0 ** -53
    u -= 0.5
    u *= math.sqrt(12.0)
    return u


def gapped(n, d, seeds, dtype="float64", chunk_rows=None):
    """X[i, j] = Σ_r S[i, r]·0.8^r·W[r, j] + 0.05·E[i, j] + 0.5·M[j] (see the Swift side)."""
    import numpy as np

    s_seed, w_seed, e_seed, m_seed = seeds
    w = uniform(w_seed, 0, RANK * d).reshape(RANK, d)
    scales = np.array([math.pow(DECAY, r) for r in range(RANK)])
    off = OFFSET * uniform(m_seed, 0, d)
    x = np.empty((n, d), dtype=dtype)
    step = chunk_rows or max(1, (1 << 16) // d)
    for i0 in range(0, n, step):
        i1 = min(n, i0 + step)
        s = uniform(s_seed, i0 * RANK, (i1 - i0) * RANK).reshape(-1, RANK) * scales
        block = s @ w
        block += NOISE * uniform(e_seed, i0 * d, (i1 - i0) * d).reshape(-1, d)
        block += off
        x[i0:i1] = block
    return x


def perturbed(x, seed, scale):
    import numpy as np

    out = np.empty_like(x)
    flat, src = out.reshape(-1), x.reshape(-1)
    step = 1 << 16
    for s in range(0, src.size, step):
        e = min(src.size, s + step)
        flat[s:e] = src[s:e] + scale * uniform(seed, s, e - s)
    return out


# ----------------------------------------------------------------------------------------------------------------
# peer worker (its own process: OPENBLAS_NUM_THREADS takes effect at load, and the peak-RSS mark is per process)


def sqdist(a, b):
    import numpy as np

    na = np.einsum("ij,ij->i", a, a)
    nb = na if b is a else np.einsum("ij,ij->i", b, b)
    g = a @ b.T
    g *= -2
    g += na[:, None]
    g += nb[None, :]
    np.maximum(g, 0, out=g)
    return g


def mmd2_from_kernel(k, m):
    n = k.shape[0] - m
    kaa, kbb, kab = k[:m, :m], k[m:, m:], k[:m, m:]
    return ((kaa.sum() - kaa.trace()) / (m * (m - 1)) + (kbb.sum() - kbb.trace()) / (n * (n - 1))
            - 2 * kab.sum() / (m * n))


def mmd_test(a, b, permutations=PERMUTATIONS, bandwidth_points=1000, seed=0, h2=None):
    """Unbiased MMD² with the RBF kernel (h² = ½ median pairwise squared distance within ≤ 1000 rows of A), and its
    permutation p-value; all permutations at once through one K·S product (S: N×P indicators of the permuted A)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    m, n = len(a), len(b)
    if h2 is None:
        sub = a[rng.choice(m, bandwidth_points, replace=False)] if m > bandwidth_points else a
        d2 = sqdist(sub, sub)
        upper = d2[np.triu_indices(len(sub), 1)]
        med = np.median(upper)
        h2 = 0.5 * med if med > 0 else 1.0
    z = np.concatenate([a, b])
    k = sqdist(z, z)
    k *= -1 / (2 * h2)
    np.exp(k, out=k)
    observed = mmd2_from_kernel(k, m)
    total = m + n
    s = np.zeros((total, permutations))
    for q in range(permutations):
        s[rng.permutation(total)[:m], q] = 1
    ks = k @ s
    rows = k.sum(axis=1)
    diag = k.diagonal().copy()
    ktot, dsum = rows.sum(), diag.sum()
    aka = np.einsum("ij,ij->j", s, ks)
    oneka = rows @ s
    diag_a = diag @ s
    saa = aka - diag_a
    sab = oneka - aka
    sbb = ktot - 2 * oneka + aka - (dsum - diag_a)
    perm = saa / (m * (m - 1)) + sbb / (n * (n - 1)) - 2 * sab / (m * n)
    p = (1 + int((perm >= observed).sum())) / (1 + permutations)
    return observed, p, h2


def feature_space_linear_cka(x, y):
    """Kornblith et al. 2019 (google-research/representation_similarity), debiased=False."""
    import numpy as np

    x = x - np.mean(x, 0, keepdims=True)
    y = y - np.mean(y, 0, keepdims=True)
    dot = np.linalg.norm(x.T.dot(y)) ** 2
    nx = np.linalg.norm(x.T.dot(x))
    ny = np.linalg.norm(y.T.dot(y))
    return dot / (nx * ny)


def fd_sqrtm(a, b):
    """pytorch-fid's calculate_frechet_distance: np.cov and scipy.linalg.sqrtm of Σ_A·Σ_B."""
    import numpy as np
    import scipy.linalg

    mu1, mu2 = a.mean(axis=0), b.mean(axis=0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    diff = mu1 - mu2
    covmean = scipy.linalg.sqrtm(s1.dot(s2))
    if not np.isfinite(covmean).all():
        offset = np.eye(s1.shape[0]) * 1e-6
        covmean = scipy.linalg.sqrtm((s1 + offset).dot(s2 + offset))
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def fd_eigh(a, b):
    """The symmetric route (as ours): tr((Σ_A^½ Σ_B Σ_A^½)^½) from eigh/eigvalsh, eigenvalues clamped at 0."""
    import numpy as np

    mu1, mu2 = a.mean(axis=0), b.mean(axis=0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    diff = mu1 - mu2
    w, v = np.linalg.eigh(s1)
    root = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    m = root @ s2 @ root
    ev = np.linalg.eigvalsh((m + m.T) * 0.5)
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(np.clip(ev, 0, None)).sum())


def peer_worker(args):
    import numpy as np
    from sklearn.decomposition import PCA

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        threadpool_limits = None
    job, d, n, dt = args.job, args.d, args.rows, args.dtype
    values = {}
    limiter = threadpool_limits(limits=args.threads) if (threadpool_limits and args.threads) else None

    if job in ("sk-full", "sk-covariance_eigh", "sk-randomized"):
        x = gapped(n, d, FIT_SEEDS, dt)
        solver = job[3:]
        kw = {"n_oversamples": 10, "iterated_power": 4, "random_state": 0} if solver == "randomized" else {}
        holder = {}

        def fn():
            holder["p"] = PCA(n_components=K, svd_solver=solver, **kw).fit(x)
    elif job == "np-syrk":
        # The floor of any exact covariance fit: one syrk over the raw rows (numpy sends x.T @ x to syrk), without
        # centring, eigendecomposition or anything else.
        x = gapped(n, d, FIT_SEEDS, dt)

        def fn():
            return x.T @ x
    elif job in ("sk-transform", "sk-inverse_transform", "np-lift"):
        x = gapped(n, d, FIT_SEEDS, dt)
        pca = PCA(n_components=K, svd_solver="covariance_eigh").fit(x)
        if job == "sk-transform":
            def fn():
                return pca.transform(x)
        elif job == "sk-inverse_transform":
            z = pca.transform(x)

            def fn():
                return pca.inverse_transform(z)
        else:
            full = PCA(n_components=None, svd_solver="covariance_eigh").fit(x)
            ck, cp, mu = full.components_[:K].copy(), full.components_[K:].copy(), full.mean_
            xc = x - mu
            z, r = xc @ ck.T, xc @ cp.T
            del xc

            def fn():
                return z @ ck + r @ cp + mu
            back = fn()
            values["round_trip_error"] = [float(np.linalg.norm(back - x) / np.linalg.norm(x))]
            del back
    elif job == "np-cka":
        x = gapped(n, d, CKA_SEEDS)
        y = perturbed(x, CKA_NOISE_SEED, 0.5)

        def fn():
            return feature_space_linear_cka(x, y)
        values["cka"] = [float(fn())]
    elif job in ("scipy-sqrtm-fd", "np-eigh-fd"):
        a, b = gapped(n, d, FRECHET_SEEDS_A), gapped(n, d, FRECHET_SEEDS_B)
        f = fd_sqrtm if job == "scipy-sqrtm-fd" else fd_eigh

        def fn():
            return f(a, b)
    elif job == "np-mmd":
        a, b = gapped(n, d, MMD_SEEDS_A), gapped(n, d, MMD_SEEDS_B)

        def fn():
            return mmd_test(a, b)
    else:
        raise SystemExit(f"peer worker: unknown job {job}")

    before = proc_status("VmRSS") if reset_peak() else None
    r = time_call(fn, args.reps, args.warmup, args.min_rep_time, args.max_time)
    peak = proc_status("VmHWM") if before is not None else None
    if job.startswith("sk-") and job in METHOD_PEER.values():
        p = holder["p"]
        values["explained_variance"] = [float(v) for v in p.explained_variance_]
    if job in ("scipy-sqrtm-fd", "np-eigh-fd"):
        values["frechet_distance"] = [fn()]
    if job == "np-mmd":
        mmd2, pv, h2 = fn()
        values.update(mmd2=[float(mmd2)], p_value=[pv], bandwidth2=[float(h2)])
    r.update(workload=job, d=d, rows=n, dtype=dt, threads=args.threads, rssBeforeKiB=before, peakKiB=peak,
             peakExtraKiB=(peak - before) if (peak is not None and before is not None) else None, values=values)
    if job in ("sk-transform", "np-lift", "sk-inverse_transform"):
        r["rowsPerSecond"] = n / r["median"]
    info = {}
    try:
        from threadpoolctl import threadpool_info

        info = [{k: v for k, v in i.items() if k in ("internal_api", "version", "num_threads", "architecture", "prefix")}
                for i in threadpool_info()]
    except ImportError:  # pragma: no cover
        pass
    if limiter is not None:
        limiter.restore_original_limits()
    import scipy
    import sklearn

    json.dump({"numpy": np.__version__, "scipy": scipy.__version__, "sklearn": sklearn.__version__, "pools": info,
               "blas": numpy_blas_info(), "environment": blas_env_vars(), "results": [r]}, sys.stdout)


# ----------------------------------------------------------------------------------------------------------------
# driver


def run_json(cmd, threads):
    out = run_timed(cmd, env=thread_env(threads, ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")))
    if out["exit"] != 0:
        return None, f"{' '.join(cmd)} failed ({out['exit']}): {out['stderr'].strip()[-2000:]}"
    try:
        rep = json.loads(out["stdout"])
    except json.JSONDecodeError as e:
        return None, f"{' '.join(cmd)}: bad JSON ({e}): {out['stdout'][:500]}"
    rep["wall"] = out["seconds"]
    rep["processPeakRSSKiB"] = out["peak_rss_kib"]
    return rep, None


def swift_cmd(bench, job, d, n, dt, threads, args):
    return [bench, "substrate", "--json", "--workloads", job, "--sizes", str(d), "--rows", str(n), "--dtypes", dt,
            "--threads", str(threads), "--svd-max-d", str(max(SVD_MAX_D, d)), "--permutations", str(PERMUTATIONS)] + timing_args(args)


def peer_cmd(job, d, n, dt, threads, args):
    return [sys.executable, os.path.abspath(__file__), "--peer-worker", "--job", job, "--d", str(d), "--rows", str(n),
            "--dtype", dt, "--threads", str(threads)] + timing_args(args)


def fmt_mib(kib):
    return "—" if kib is None else f"{kib / 1024:.1f} MiB"


def fmt_rate(r):
    if r is None:
        return ""
    return f"{r / 1e6:.3g} M rows/s" if r >= 1e6 else f"{r / 1e3:.3g} k rows/s"


def median_or_none(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def max_rel(a, b):
    if not a or not b:
        return None
    m = min(len(a), len(b))
    return max(abs(x - y) / abs(y) if y != 0 else abs(x - y) for x, y in zip(a[:m], b[:m]))


def reference_spectrum(d, dt):
    """Top-9 eigenvalues of the exact covariance (ddof 1) of the data as the fit sees it (float32 data: its rounded
    values), in float64 with two-pass centring, by numpy eigvalsh."""
    import numpy as np

    x = gapped(100_000, d, FIT_SEEDS, dt).astype(np.float64, copy=False)
    x -= x.mean(axis=0)
    c = x.T @ x
    c /= x.shape[0] - 1
    return [float(v) for v in np.linalg.eigvalsh(c)[::-1][:K]]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--peer-worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--job", help=argparse.SUPPRESS)
    p.add_argument("--d", type=int, help=argparse.SUPPRESS)
    p.add_argument("--dtype", help=argparse.SUPPRESS)
    p.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    p.add_argument("--groups", default=",".join(GROUPS), help="comma list of point groups (default: all): " + ", ".join(GROUPS))
    p.add_argument("--sizes", default=None, help="comma list of d overriding every group's default")
    p.add_argument("--dtypes", default="float32,float64")
    p.add_argument("--threads", default="1,2", help="BLAS thread counts (comma list)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (the median over rounds is reported)")
    add_timing_options(p, reps=5, warmup=1, max_time=1.5)
    p.add_argument("--memory-rows", default="25000,100000", help="n of the memory pass ('' skips it)")
    p.add_argument("--no-accuracy", action="store_true", help="skip the exact reference spectrum")
    add_vst_options(p)
    p.add_argument("--quick", action="store_true", help="smoke test: d = 64 and 256, one round, 1 thread, short budgets")
    p.add_argument("--unset-coretype", action="store_true",
                   help="unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for both sides (benchmarks only)")
    args = p.parse_args()
    apply_unset_flag()
    unset_coretype(args.unset_coretype)

    if args.peer_worker:
        args.threads = int(args.threads)
        peer_worker(args)
        return
    if args.quick:
        args.rounds, args.reps, args.threads, args.max_time = 1, 3, "1", 0.5
        args.sizes = args.sizes or "64,256"
        args.memory_rows = "25000,100000"
    groups = [g for g in args.groups.split(",") if g]
    for g in groups:
        if g not in GROUPS:
            raise SystemExit(f"compare_substrate.py: unknown group {g}; choose from {', '.join(GROUPS)}")
    threads_list = [int(t) for t in args.threads.split(",")]
    dtypes = [t for t in args.dtypes.split(",") if t]
    bench = find_bench(args, "compare_substrate.py")

    units = []  # (group, d, dtype)
    for g in groups:
        sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else GROUPS[g]["sizes"]
        if g == "mmd" and args.sizes:
            sizes = [s for s in sizes if s <= 256] or [64]
        for d in sizes:
            for dt in GROUPS[g]["dtypes"]:
                if dt in dtypes:
                    units.append((g, d, dt))

    samples, meta, load_log, errors = {}, {"swift": {}, "peer": {}}, [], []
    started = time.time()

    def record(side, rep, threads):
        meta[side][threads] = {k: v for k, v in rep.items() if k not in ("results", "wall")}
        for r in rep["results"]:
            key = (r["workload"], r["d"], r["rows"], r["dtype"], threads)
            samples.setdefault(key, []).append(r)

    for rnd in range(args.rounds):
        for threads in threads_list:
            for ui, (g, d, dt) in enumerate(units):
                n = GROUPS[g]["rows"]
                jobs = [("swift", j) for j in GROUPS[g]["ours"] if feasible(j, d)]
                peers = [("peer", j) for j in GROUPS[g]["peers"] if feasible(j, d)]
                order = [x for batch in rotation([jobs, peers], rnd + ui) for x in batch]
                for side, job in order:
                    cmd = swift_cmd(bench, job, d, n, dt, threads, args) if side == "swift" else peer_cmd(job, d, n, dt, threads, args)
                    rep, err = run_json(cmd, threads)
                    if err:
                        errors.append(err)
                        print(f"compare_substrate.py: {err}", file=sys.stderr)
                        continue
                    record(side, rep, threads)
                load = os.getloadavg()[0]
                load_log.append({"round": rnd + 1, "threads": threads, "group": g, "d": d, "dtype": dt, "loadavg1": load})
                print(f"compare_substrate.py: round {rnd + 1}/{args.rounds}, {threads} thread(s), {g} d={d} {dt} done "
                      f"({time.time() - started:.0f} s, load {load:.2f})", file=sys.stderr, flush=True)

    # Memory pass: does the workload's own peak grow with n? One fresh process per point, 1 thread.
    memory_rows = [int(s) for s in args.memory_rows.split(",") if s.strip()]
    memory = []
    if memory_rows and "fit" in groups:
        mem_sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else LADDER
        for d in mem_sizes:
            for dt in dtypes:
                for side, job in (("swift", "fit-covariance"), ("peer", "sk-covariance_eigh"),
                                  ("swift", "fit-randomized"), ("peer", "sk-randomized")):
                    row = {"side": side, "workload": job, "d": d, "dtype": dt, "by_rows": {}}
                    for n in memory_rows:
                        margs = argparse.Namespace(**{**vars(args), "reps": 1, "warmup": 0, "max_time": 0.01})
                        cmd = swift_cmd(bench, job, d, n, dt, 1, margs) if side == "swift" else peer_cmd(job, d, n, dt, 1, margs)
                        rep, err = run_json(cmd, 1)
                        if err:
                            errors.append(err)
                            continue
                        r = rep["results"][0]
                        row["by_rows"][n] = {"peakExtraKiB": r.get("peakExtraKiB"), "rssBeforeKiB": r.get("rssBeforeKiB"),
                                             "peakKiB": r.get("peakKiB"), "input_bytes": n * d * (4 if dt == "float32" else 8)}
                    memory.append(row)
                print(f"compare_substrate.py: memory pass d={d} done ({time.time() - started:.0f} s)", file=sys.stderr, flush=True)

    # Exact reference spectra for the accuracy check.
    reference = {}
    if not args.no_accuracy and "fit" in groups:
        for (g, d, dt) in units:
            if g == "fit":
                reference[(d, dt)] = reference_spectrum(d, dt)

    def summary(job, d, n, dt, t):
        rs = samples.get((job, d, n, dt, t))
        s = round_summary(rs)
        if s is not None:
            s.update(peakExtraKiB=median_or_none([r.get("peakExtraKiB") for r in rs]),
                     rowsPerSecond=(n / s["median"]) if rs[0].get("rowsPerSecond") else None,
                     values=rs[-1].get("values", {}))
        return s

    rows = []
    for (g, d, dt) in units:
        n = GROUPS[g]["rows"]
        for t in threads_list:
            fastest_sk = None
            if g == "fit":
                cands = [(summary(j, d, n, dt, t), j) for j in ("sk-full", "sk-covariance_eigh", "sk-randomized")]
                cands = [(s["median"], j) for s, j in cands if s]
                fastest_sk = min(cands) if cands else None
            for ours in GROUPS[g]["ours"]:
                if not feasible(ours, d):
                    continue
                s = summary(ours, d, n, dt, t)
                for peer in PEERS_OF[ours]:
                    if not feasible(peer, d):
                        continue
                    ps = summary(peer, d, n, dt, t)
                    ratio = ps["median"] / s["median"] if (s and ps) else None
                    target, thr = None, None
                    if ours == "fit-covariance" and fastest_sk and peer == fastest_sk[1]:
                        thr = 2.0 if d <= 256 else 1.0
                        target = f"≥ {thr:g}× sklearn's fastest"
                    elif ours == "fit-randomized":
                        thr, target = 2.0, "≥ 2× (same accuracy)"
                    elif ours in ("cka", "frechet"):
                        thr, target = 1.0, "≥ 1× numpy"
                    loads = [x["loadavg1"] for x in load_log if (x["group"], x["d"], x["dtype"], x["threads"]) == (g, d, dt, t)]
                    rows.append({"group": g, "workload": ours, "peer": peer, "d": d, "rows": n, "dtype": dt, "threads": t,
                                 "ours": s, "theirs": ps, "ratio": ratio, "target": target, "threshold": thr,
                                 "load": statistics.median(loads) if loads else None,
                                 "met": (ratio >= thr) if (thr is not None and ratio is not None) else None})

    # Accuracy: explained variance (top 9) vs the exact reference and vs sklearn's same solver, 1-thread runs first.
    accuracy = []
    for (g, d, dt) in units:
        if g != "fit":
            continue
        ref = reference.get((d, dt))
        t0 = threads_list[0]
        for ours in GROUPS["fit"]["ours"]:
            if not feasible(ours, d):
                continue
            so, sp = summary(ours, d, 100_000, dt, t0), summary(METHOD_PEER[ours], d, 100_000, dt, t0)
            ev_o = so["values"].get("explained_variance") if so else None
            ev_p = sp["values"].get("explained_variance") if sp else None
            a = {"d": d, "dtype": dt, "method": ours, "peer": METHOD_PEER[ours], "ours": ev_o, "sklearn": ev_p,
                 "reference": ref, "ours_vs_ref": max_rel(ev_o, ref), "sklearn_vs_ref": max_rel(ev_p, ref),
                 "ours_vs_sklearn": max_rel(ev_o, ev_p), "target": None, "met": None}
            if ours == "fit-covariance" and a["ours_vs_ref"] is not None:
                a["target"], a["met"] = "≤ 1e-6 vs exact", a["ours_vs_ref"] <= 1e-6
            if ours == "fit-randomized" and a["ours_vs_ref"] is not None and a["sklearn_vs_ref"] is not None:
                a["target"] = "same accuracy: ≤ max(2 × sklearn's error, 1e-12)"
                a["met"] = a["ours_vs_ref"] <= max(2 * a["sklearn_vs_ref"], 1e-12)
            accuracy.append(a)
    # sklearn solvers against each other (for the covariance target: "the same explained variance to 1e-6").
    # Value cross-checks for CKA, FD and MMD².
    checks = []
    for (g, d, dt) in units:
        t0 = threads_list[0]
        n = GROUPS[g]["rows"]
        if g == "cka":
            so, sp = summary("cka", d, n, dt, t0), summary("np-cka", d, n, dt, t0)
            if so and sp:
                a, b = so["values"]["cka"][0], sp["values"]["cka"][0]
                checks.append({"what": "linear CKA", "d": d, "ours": a, "peer": b, "rel": abs(a - b) / abs(b)})
        if g == "frechet":
            so = summary("frechet", d, n, dt, t0)
            for peer in ("np-eigh-fd", "scipy-sqrtm-fd"):
                sp = summary(peer, d, n, dt, t0)
                if so and sp:
                    a, b = so["values"]["frechet_distance"][0], sp["values"]["frechet_distance"][0]
                    checks.append({"what": f"Fréchet distance vs {PEER_LABEL[peer]}", "d": d, "ours": a, "peer": b,
                                   "rel": abs(a - b) / abs(b)})
        if g == "mmd":
            so = summary("mmd", d, n, dt, t0)
            if so:
                a_, b_ = gapped(n, d, MMD_SEEDS_A), gapped(n, d, MMD_SEEDS_B)
                ours_h2 = so["values"]["bandwidth2"][0]
                npv, _, _ = mmd_test(a_, b_, h2=ours_h2)
                a = so["values"]["mmd2"][0]
                checks.append({"what": "MMD² (numpy with our h²)", "d": d, "ours": a, "peer": float(npv),
                               "rel": abs(a - npv) / abs(npv)})
                sp = summary("np-mmd", d, n, dt, t0)
                if sp:
                    checks.append({"what": "h² (median heuristic, different 1000-row subsets)", "d": d, "ours": ours_h2,
                                   "peer": sp["values"]["bandwidth2"][0],
                                   "rel": abs(ours_h2 - sp["values"]["bandwidth2"][0]) / sp["values"]["bandwidth2"][0]})
                    checks.append({"what": "permutation p-value", "d": d, "ours": so["values"]["p_value"][0],
                                   "peer": sp["values"]["p_value"][0], "rel": None})
        if g == "lift":
            so, sp = summary("lift", d, n, dt, t0), summary("np-lift", d, n, dt, t0)
            if so and sp and "round_trip_error" in so["values"]:
                checks.append({"what": "lift round-trip ‖x̂ − x‖/‖x‖", "d": d, "ours": so["values"]["round_trip_error"][0],
                               "peer": sp["values"]["round_trip_error"][0], "rel": None})

    loads = [x["loadavg1"] for x in load_log] or [os.getloadavg()[0]]
    notes = notes_for(meta, loads)
    md = render_markdown(rows, accuracy, memory, checks, meta, notes, errors, args)
    settings = ("groups", "sizes", "dtypes", "threads", "rounds", "reps", "warmup", "min_rep_time", "max_time",
                "memory_rows")
    report = {**report_head(args, settings, bench, meta),
              "notes": notes, "errors": errors, "load": load_log, "rows": rows, "accuracy": accuracy,
              "memory": [{**m, "by_rows": {str(k): v for k, v in m["by_rows"].items()}} for m in memory],
              "checks": checks,
              "samples": [{"key": list(k), "runs": v} for k, v in samples.items()]}
    write_report(args.out_dir, "substrate", report, md, "compare_substrate.py", started)


def notes_for(meta, loads):
    notes = [
        f"1-minute load average sampled after each point: min {min(loads):.2f}, median {statistics.median(loads):.2f}, "
        f"max {max(loads):.2f} on {os.cpu_count()} cores. Other processes share this machine; with a load above the "
        f"core count the 2-thread rows (and to a lesser degree every row) are unreliable.",
        "Ratio = peer time / our time (> 1: Substrate is faster). Each side ran in its own fresh process per point; "
        "inputs are built before the timing; results are allocated per call on both sides.",
        "load = median over rounds of the 1-minute load average sampled right after that point's processes.",
        "+RSS = VmHWM after the repetitions − VmRSS before them (peak mark reset with /proc/self/clear_refs), i.e. the "
        "workload's own peak memory on top of its inputs; median over rounds.",
        "fit-svd / sklearn 'full' (a thin SVD of the whole 100 000 × d matrix) only for d ≤ 256: above that a "
        "single call takes tens of seconds and O(n·d) extra memory on both sides.",
        "Our fits return the full D×D basis (orthonormal completion for randomized); sklearn PCA(n_components=9) "
        "keeps 9 components. Our project/lift always return Double (float32 input is converted); sklearn keeps float32.",
        "sklearn randomized: n_oversamples=10, iterated_power=4, power_iteration_normalizer='auto' (= LU for 4 "
        "iterations); ours: oversampling 10, 4 power iterations with QR after every product, Rayleigh–Ritz on "
        "span(C^5 Ω). Ours applies C = X_cᵀX_c through the formed D×D matrix (one syrk read) where its cost model "
        "finds that cheaper than q + 2 = 6 streamed reads (d ≤ 1341 for float32 input, d ≤ 911 for float64), else "
        "streamed; both are the same iteration (Projection.randomizedFormsCovariance).",
        "numpy XᵀX alone (floor): x.T @ x on the raw input in its dtype, which numpy sends to syrk. Every exact "
        "covariance fit does at least this; its ratio (< 1) says how close to it our whole fit is.",
    ]
    for side in ("swift", "peer"):
        for t, m in sorted(meta[side].items()):
            if side == "swift":
                notes.append(f"ours at {t} thread(s): {m.get('blas')} (core {m.get('core')}, BLAS threads "
                             f"{m.get('blasThreads')}, Linear threads {m.get('linearThreads')})")
            else:
                pools = "; ".join(f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture', '')}, "
                                  f"{p.get('num_threads')} threads)" for p in m.get("pools", []))
                notes.append(f"peers at {t} thread(s): numpy {m.get('numpy')}, scipy {m.get('scipy')}, scikit-learn "
                             f"{m.get('sklearn')}; thread pools inside the limit: {pools}")
    return notes


def target_summary(rows, accuracy, memory):
    """The issue's targets, each with the points that met / missed it."""
    out = ["## Targets", "", "| target | met | missed (d, dtype, threads: ratio) |", "|---|---:|---|"]

    def line(label, items):
        met = [i for i in items if i[1]]
        missed = [i for i in items if not i[1]]
        out.append(f"| {label} | {len(met)}/{len(items)} | {', '.join(i[0] for i in missed) or '—'} |")

    cov = [r for r in rows if r["workload"] == "fit-covariance" and r["met"] is not None]
    line("covariance fit ≥ sklearn's fastest solver (every d)",
         [(f"{r['d']} {r['dtype']} {r['threads']}t: {r['ratio']:.2f}", r["ratio"] >= 1) for r in cov])
    floors = {(r["d"], r["dtype"], r["threads"]): r for r in rows
              if r["workload"] == "fit-covariance" and r["peer"] == "np-syrk" and r["theirs"]}

    def bound(r):
        """sklearn's fastest time over the syrk floor: the best ratio any exact covariance fit could reach."""
        f = floors.get((r["d"], r["dtype"], r["threads"]))
        return f" (bound {r['theirs']['median'] / f['theirs']['median']:.2f})" if f and r["theirs"] else ""
    line("covariance fit ≥ 2× sklearn's fastest (d ≤ 256); bound = sklearn's fastest / numpy's bare XᵀX, the ratio a "
         "fit costing nothing beyond one syrk would reach",
         [(f"{r['d']} {r['dtype']} {r['threads']}t: {r['ratio']:.2f}{bound(r)}", r["ratio"] >= 2) for r in cov if r["d"] <= 256])
    acc = {(a["d"], a["dtype"], a["method"]): a for a in accuracy}
    line("covariance explained variance within 1e-6 of exact",
         [(f"{a['d']} {a['dtype']}: {a['ours_vs_ref']:.1e}", a["met"]) for a in accuracy
          if a["method"] == "fit-covariance" and a["met"] is not None])
    rnd = [r for r in rows if r["workload"] == "fit-randomized" and r["met"] is not None]
    items = []
    for r in rnd:
        a = acc.get((r["d"], r["dtype"], "fit-randomized"))
        same = a["met"] if a and a["met"] is not None else True
        items.append((f"{r['d']} {r['dtype']} {r['threads']}t: {r['ratio']:.2f}{'' if same else ' (accuracy)'}", r["met"] and same))
    line("randomized ≥ 2× sklearn randomized at the same accuracy (gapped spectrum)", items)
    for w in ("cka", "frechet"):
        rs = [r for r in rows if r["workload"] == w and r["met"] is not None]
        line(f"{w} ≥ 1× {'numpy' if w == 'cka' else 'numpy eigh route and scipy sqrtm route'}",
             [(f"{r['d']} {r['threads']}t vs {PEER_LABEL[r['peer']]}: {r['ratio']:.2f}", r["met"]) for r in rs])
    cm = [m for m in memory if m["side"] == "swift" and m["workload"] == "fit-covariance" and len(m["by_rows"]) >= 2]
    if cm:
        def grows(m):
            ns = sorted(m["by_rows"])
            lo, hi = m["by_rows"][ns[0]].get("peakExtraKiB"), m["by_rows"][ns[-1]].get("peakExtraKiB")
            return lo is not None and hi is not None and hi <= lo * 1.25 + 4096
        line("covariance fit memory independent of n (+RSS at the largest n ≤ 1.25 × smallest + 4 MiB)",
             [(f"{m['d']} {m['dtype']}", grows(m)) for m in cm])
    out.append("")
    return out


def render_markdown(rows, accuracy, memory, checks, meta, notes, errors, args):
    out = ["# Substrate vs scikit-learn / numpy / scipy", "", machine_line(args.rounds), ""]
    out.extend(target_summary(rows, accuracy, memory))
    out += md_table_head("## Time (ratio = peer time / our time; > 1 means Substrate is faster)",
                         "| workload | n × d | dtype | thr | ours | peer | peer time | ratio | ours +RSS | peer +RSS | load "
                         "| target | met |", "|---|---|---|---:|---:|---|---:|---:|---:|---:|---:|---|---|")
    for r in rows:
        met = met_cell(r["met"])
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "—"
        o, p = r["ours"], r["theirs"]
        load = "" if r["load"] is None else f"{r['load']:.1f}"
        ot = fmt_time(o["median"] if o else None) + (f" ({fmt_rate(o['rowsPerSecond'])})" if o and o.get("rowsPerSecond") else "")
        pt = fmt_time(p["median"] if p else None) + (f" ({fmt_rate(p['rowsPerSecond'])})" if p and p.get("rowsPerSecond") else "")
        out.append(f"| {r['workload']} | {r['rows']} × {r['d']} | {r['dtype']} | {r['threads']} | {ot} | "
                   f"{PEER_LABEL[r['peer']]} | {pt} | {ratio} | {fmt_mib(o['peakExtraKiB'] if o else None)} | "
                   f"{fmt_mib(p['peakExtraKiB'] if p else None)} | {load} | {r['target'] or ''} | {met} |")
    out.append("")
    if accuracy:
        out.append("## Accuracy: explained variance of the top 9 (max relative difference)")
        out.append("")
        out.append("Reference: numpy eigvalsh of the float64 covariance (two-pass centring) of the same data (float32 "
                   "rows: of their rounded values). 'same solver' = sklearn's counterpart of our method.")
        out.append("")
        out.append("| d | dtype | our method | ours vs exact | sklearn same solver vs exact | ours vs sklearn | target | met |")
        out.append("|---:|---|---|---:|---:|---:|---|---|")

        def e(v):
            return "—" if v is None else f"{v:.1e}"
        for a in accuracy:
            met = met_cell(a["met"])
            out.append(f"| {a['d']} | {a['dtype']} | {a['method']} (vs {PEER_LABEL[a['peer']]}) | {e(a['ours_vs_ref'])} | "
                       f"{e(a['sklearn_vs_ref'])} | {e(a['ours_vs_sklearn'])} | {a['target'] or ''} | {met} |")
        out.append("")
    if memory:
        out.append("## Memory: the workload's own peak (+RSS) against n (1 thread, one process per point)")
        out.append("")
        ns = sorted({n for m in memory for n in m["by_rows"]})
        out.append("| workload | d | dtype | " + " | ".join(f"+RSS at n = {n}" for n in ns) + " | " +
                   " | ".join(f"input at n = {n}" for n in ns) + " |")
        out.append("|---|---:|---|" + "---:|" * (2 * len(ns)))
        for m in memory:
            label = m["workload"] if m["side"] == "swift" else PEER_LABEL[m["workload"]]
            cells = [fmt_mib(m["by_rows"].get(n, {}).get("peakExtraKiB")) for n in ns]
            inputs = [f"{m['by_rows'][n]['input_bytes'] / 2**20:.0f} MiB" if n in m["by_rows"] else "—" for n in ns]
            out.append(f"| {label} | {m['d']} | {m['dtype']} | " + " | ".join(cells) + " | " + " | ".join(inputs) + " |")
        out.append("")
    if checks:
        out += md_table_head("## Value cross-checks (same data on both sides)", "| quantity | d | ours | peer | rel. difference |",
                             "|---|---:|---:|---:|---:|")
        for c in checks:
            rel = "—" if c["rel"] is None else f"{c['rel']:.1e}"
            out.append(f"| {c['what']} | {c['d']} | {c['ours']:.10g} | {c['peer']:.10g} | {rel} |")
        out.append("")
    out += notes_section(notes, errors)
    return "\n".join(out)


if __name__ == "__main__":
    main()
