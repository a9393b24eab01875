#!/usr/bin/env python3
"""Batch jobs as whole processes (issue 17 item 4): `vst fit-projection --method covariance|randomized` against
np.load + scikit-learn PCA + np.save, and `vst drift` against a numpy script computing the same test, on the same
seeded .npy files. Each side is a fresh process timed by benchlib.run_timed (wall time and the child's peak RSS);
sides are interleaved over rounds (benchlib.interleaved) and the median over rounds is reported.

Sides:
  fit   vst-covariance   vst fit-projection X --method covariance --rank 9
        vst-randomized   vst fit-projection X --method randomized --rank 9
        sk-covariance    np.load; PCA(9, svd_solver="covariance_eigh").fit; np.save(components_, mean_)
        sk-randomized    np.load; PCA(9, svd_solver="randomized", random_state=0).fit; np.save
  drift vst-drift        vst drift A B (n rows each: the block MMD test over all rows, Fréchet distance, core
                         Fréchet distance, KS, regimes with 5 half-splits — more than the peer computes)
        numpy-drift      np.load both; Fréchet distance (eigh route, float64 covariances); the block MMD² test vst
                         runs at this n: median bandwidth of 1000 seeded rows of A, K = ⌊n/b⌋ block pairs of
                         b = min(256, ⌊n/20⌋) rows, unbiased MMD² per pair (Gaussian kernel), z-test
Ratios are peer time / vst time (> 1: vst is faster). "sklearn's fastest" is the faster of its two solvers.

Threads: 1 (every side pinned with `taskset -c 0` and the BLAS thread variables set to 1) and 2 (variables 2).
--unset-coretype unsets OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for every side alike (benchmark runs only).

Usage: python3 Benchmarks/compare/batch_jobs.py [--rows 100000] [--dims 64,256,512,1024] [--dtypes float32,float64]
       [--threads 1,2] [--rounds 3] [--drift-rows 10000] [--drift-dims 64,256,1024] [--skip-fit] [--skip-drift]
       [--unset-coretype] [--vst PATH] [--out-dir DIR]
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

SK = ("import sys, numpy as np\n"
      "from sklearn.decomposition import PCA\n"
      "x = np.load(sys.argv[1])\n"
      "p = PCA(n_components=9, svd_solver=sys.argv[2], random_state=0).fit(x)\n"
      "np.save(sys.argv[3], np.vstack([p.components_, p.mean_[None]]))\n"
      "print(' '.join(repr(float(v)) for v in p.explained_variance_))\n")

DRIFT = r"""
import sys, numpy as np
from math import erfc, sqrt
a = np.load(sys.argv[1]); b = np.load(sys.argv[2])
m, d = a.shape; n = b.shape[0]
def moments(x):
    mu = x.mean(0, dtype=np.float64); xc = x.astype(np.float64) - mu
    return mu, xc.T @ xc / (len(x) - 1)
ma, ca = moments(a); mb, cb = moments(b)
w, v = np.linalg.eigh(ca); ra = (v * np.sqrt(np.maximum(w, 0))) @ v.T
tr = np.sqrt(np.maximum(np.linalg.eigvalsh(ra @ cb @ ra), 0)).sum()
fd = float(((ma - mb) ** 2).sum() + np.trace(ca) + np.trace(cb) - 2 * tr)
rng = np.random.default_rng(0)
s = a[np.sort(rng.choice(m, min(m, 1000), replace=False))].astype(np.float64)
sq = (s * s).sum(1); dist = sq[:, None] + sq[None] - 2 * s @ s.T
h2 = float(np.median(dist[np.triu_indices(len(s), 1)])) / 2
size = max(2, min(256, min(m, n) // 20)); K = min(m, n) // size
def k(x, y):
    return np.exp(-np.maximum((x * x).sum(1)[:, None] + (y * y).sum(1)[None] - 2 * x @ y.T, 0) / (2 * h2))
stats = []
for j in range(K):
    x = a[j * m // K:(j + 1) * m // K].astype(np.float64); y = b[j * n // K:(j + 1) * n // K].astype(np.float64)
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    p, q = len(x), len(y)
    stats.append((kxx.sum() - np.trace(kxx)) / (p * (p - 1)) + (kyy.sum() - np.trace(kyy)) / (q * (q - 1)) - 2 * kxy.mean())
stats = np.array(stats); z = stats.mean() / (stats.std(ddof=1) / sqrt(K))
print(fd, stats.mean(), 0.5 * erfc(z / sqrt(2)))
"""


def write_rows(np, path, n, d, dtype, seed, offset=0.0):
    """n × d rows: a rank-8 signal (one basis per d, direction norms 24…8) plus unit noise (and a constant offset), written
    in blocks from `seed`."""
    basis = np.random.default_rng(d).standard_normal((8, d)) * np.linspace(6, 2, 8)[:, None] / np.sqrt(d) * 4
    rng = np.random.default_rng(seed)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=(n, d))
    for s in range(0, n, 20_000):
        e = min(n, s + 20_000)
        out[s:e] = (rng.standard_normal((e - s, 8)) @ basis + rng.standard_normal((e - s, d)) + offset).astype(dtype)
    out.flush()
    del out


def env_for(threads):
    return benchlib.thread_env(threads)


def pinned(cmd, threads):
    return (["taskset", "-c", "0"] + cmd) if threads == 1 and shutil.which("taskset") else cmd


def run_sides(sides, rounds, threads):
    """{side: {"seconds": median, "rss_mib": max, "all": [...], "stdout": last}} over interleaved rounds.

    The peak RSS is /usr/bin/time's %M of the command where /usr/bin/time exists: the ru_maxrss that wait4 reports
    for a child of this (large) Python process includes the parent's pages copied at fork, a floor of several
    hundred MiB after the inputs were written."""
    got = {s: [] for s in sides}
    gnu_time = os.path.exists("/usr/bin/time")
    for _, side in benchlib.interleaved(list(sides), rounds):
        with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
            cmd = pinned(sides[side], threads)
            if gnu_time:
                cmd = ["/usr/bin/time", "-f", "%M", "-o", rss.name] + cmd
            p = benchlib.run_timed(cmd, env=env_for(threads))
            if gnu_time and p["exit"] == 0:
                p["peak_rss_kib"] = int(rss.read().split()[-1])
        if p["exit"] != 0:
            raise SystemExit(f"batch_jobs.py: {side} failed ({p['exit']}): {p['stderr'][-1500:]}")
        got[side].append(p)
    return {s: {"seconds": statistics.median(r["seconds"] for r in rs), "all": [round(r["seconds"], 4) for r in rs],
                "rss_mib": max(r["peak_rss_kib"] for r in rs) / 1024, "stdout": rs[-1]["stdout"][-400:]}
            for s, rs in got.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--dims", default="64,256,512,1024")
    p.add_argument("--dtypes", default="float32,float64")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--drift-rows", type=int, default=10_000)
    p.add_argument("--drift-dims", default="64,256,1024")
    p.add_argument("--skip-fit", action="store_true")
    p.add_argument("--skip-drift", action="store_true")
    p.add_argument("--unset-coretype", action="store_true", help="unset OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE for every side")
    benchlib.add_vst_options(p)
    args = p.parse_args()
    benchlib.apply_unset_flag()
    found = benchlib.unset_coretype(args.unset_coretype)
    import numpy as np

    started = time.time()
    vst = benchlib.find_vst(args, "batch_jobs.py", absolute=True)
    threads = [int(t) for t in args.threads.split(",")]
    load_before = os.getloadavg()
    fit_rows, drift_rows = [], []
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out")
        if not args.skip_fit:
            for d in [int(v) for v in args.dims.split(",")]:
                for dtype in args.dtypes.split(","):
                    x = os.path.join(tmp, f"x{d}{dtype}.npy")
                    write_rows(np, x, args.rows, d, dtype, seed=d)
                    sides = {
                        "vst-covariance": [vst, "fit-projection", x, "--method", "covariance", "--rank", "9", "--out",
                                           out + ".safetensors", "--force", "--json", "--quiet"],
                        "vst-randomized": [vst, "fit-projection", x, "--method", "randomized", "--rank", "9", "--out",
                                           out + ".safetensors", "--force", "--json", "--quiet"],
                        "sk-covariance": [sys.executable, "-c", SK, x, "covariance_eigh", out + ".npy"],
                        "sk-randomized": [sys.executable, "-c", SK, x, "randomized", out + ".npy"],
                    }
                    for t in threads:
                        r = run_sides(sides, args.rounds, t)
                        fastest = min(r["sk-covariance"]["seconds"], r["sk-randomized"]["seconds"])
                        row = {"d": d, "dtype": dtype, "threads": t, "input_mib": os.path.getsize(x) / 2**20,
                               "load": os.getloadavg()[0], **{k: v for k, v in r.items()}}
                        row["covariance_vs_fastest"] = fastest / r["vst-covariance"]["seconds"]
                        row["randomized_vs_sk_randomized"] = r["sk-randomized"]["seconds"] / r["vst-randomized"]["seconds"]
                        fit_rows.append(row)
                        print(f"fit d={d} {dtype} t={t}: " + ", ".join(f"{k} {v['seconds']:.3f}s {v['rss_mib']:.0f}MiB"
                              for k, v in r.items()) + f"; cov/fastest {row['covariance_vs_fastest']:.2f}", file=sys.stderr, flush=True)
                    os.remove(x)
        if not args.skip_drift:
            for d in [int(v) for v in args.drift_dims.split(",")]:
                a, b = os.path.join(tmp, f"a{d}.npy"), os.path.join(tmp, f"b{d}.npy")
                write_rows(np, a, args.drift_rows, d, "float32", seed=1000 + d)
                write_rows(np, b, args.drift_rows, d, "float32", seed=2000 + d, offset=0.02)
                sides = {"vst-drift": [vst, "drift", a, b, "--json", "--quiet"],
                         "numpy-drift": [sys.executable, "-c", DRIFT, a, b]}
                for t in threads:
                    r = run_sides(sides, args.rounds, t)
                    row = {"d": d, "threads": t, "load": os.getloadavg()[0], **r,
                           "ratio": r["numpy-drift"]["seconds"] / r["vst-drift"]["seconds"]}
                    drift_rows.append(row)
                    print(f"drift d={d} t={t}: vst {r['vst-drift']['seconds']:.3f}s numpy {r['numpy-drift']['seconds']:.3f}s "
                          f"ratio {row['ratio']:.2f}", file=sys.stderr, flush=True)
    np_info = benchlib.numpy_blas_info()
    report = {"date": time.strftime("%Y-%m-%dT%H:%M"), "machine": benchlib.machine_info(), "blas_env_found": found,
              "blas": {"vst": benchlib.blas_record(benchlib.vst_core(vst)), "numpy": benchlib.blas_record(np_info.get("core"))},
              "numpy": np_info, "settings": vars(args), "load_before": load_before, "fit": fit_rows, "drift": drift_rows}
    mi = report["machine"]
    md = [f"# Batch jobs: vst vs scikit-learn / numpy (whole processes)", "",
          f"{mi['cpu']}, {mi['cores']} cores; {report['date']}; OpenBLAS core: vst {report['blas']['vst']['core']}, "
          f"numpy {report['blas']['numpy']['core']}; variables as found {found}"
          f"{' (unset for every side)' if args.unset_coretype else ''}; median of {args.rounds} interleaved rounds; "
          f"1 thread = taskset -c 0 + thread variables 1; load average before {load_before[0]:.2f}, "
          f"after {mi['loadavg'][0]:.2f}.", ""]
    if fit_rows:
        md += [f"## Fits ({args.rows} rows, k = 9)", "",
               "| d | dtype | thr | vst covariance | sk covariance_eigh | sk randomized | cov ratio vs sklearn's fastest | "
               "vst randomized | rand ratio | RSS vst cov / rand (MiB) | RSS sk cov / rand (MiB) | input (MiB) | load |",
               "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in fit_rows:
            md.append(f"| {r['d']} | {r['dtype']} | {r['threads']} | {benchlib.fmt_time(r['vst-covariance']['seconds'])} | "
                      f"{benchlib.fmt_time(r['sk-covariance']['seconds'])} | {benchlib.fmt_time(r['sk-randomized']['seconds'])} | "
                      f"{r['covariance_vs_fastest']:.2f} | {benchlib.fmt_time(r['vst-randomized']['seconds'])} | "
                      f"{r['randomized_vs_sk_randomized']:.2f} | {r['vst-covariance']['rss_mib']:.0f} / {r['vst-randomized']['rss_mib']:.0f} | "
                      f"{r['sk-covariance']['rss_mib']:.0f} / {r['sk-randomized']['rss_mib']:.0f} | {r['input_mib']:.0f} | {r['load']:.1f} |")
        md.append("")
    if drift_rows:
        md += [f"## Drift ({args.drift_rows} rows per set, float32)", "",
               "| d | thr | vst drift | numpy FD + block MMD² | ratio | RSS vst / numpy (MiB) | load |",
               "|---:|---:|---:|---:|---:|---:|---:|"]
        for r in drift_rows:
            md.append(f"| {r['d']} | {r['threads']} | {benchlib.fmt_time(r['vst-drift']['seconds'])} | "
                      f"{benchlib.fmt_time(r['numpy-drift']['seconds'])} | {r['ratio']:.2f} | "
                      f"{r['vst-drift']['rss_mib']:.0f} / {r['numpy-drift']['rss_mib']:.0f} | {r['load']:.1f} |")
        md.append("")
    stem = "batch" + ("-fit" if args.skip_drift else "") + ("-drift" if args.skip_fit else "")
    benchlib.write_report(args.out_dir, stem, report, "\n".join(md), "batch_jobs.py", started)


if __name__ == "__main__":
    main()
