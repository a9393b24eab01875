#!/usr/bin/env python3
"""`vst align` against numpy's linear CKA, as whole processes on the same float32 files (issue: every measure within
3× numpy's linear CKA time, and `--measures` to compute only some).

Sides, interleaved over rounds (benchlib.interleaved), each a fresh process:
  numpy-cka       python: np.load both files, centre, linear CKA (Kornblith et al. 2019, feature space)
  vst-none        vst align --measures none  (linear CKA, Procrustes, core Procrustes: the regime's measures)
  vst-no-knn      vst align --measures debiased_cka,rbf_cka,svcca,linear_predictivity
  vst-all         vst align (every measure)
The data: n rows of a rank-8 signal in d dimensions plus noise, float32, seeded. Writes
<out-dir>/align.json and align.md with the medians, ratios to numpy-cka and each side's OpenBLAS core type.

Usage: python3 Benchmarks/compare/align_command.py [--rows 10000] [--dims 256] [--threads 1] [--rounds 3]
       [--unset-coretype] [--vst PATH]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

CKA = ("import sys, numpy as np\n"
       "x = np.load(sys.argv[1]); y = np.load(sys.argv[2])\n"
       "x = x - x.mean(0); y = y - y.mean(0)\n"
       "print(np.linalg.norm(y.T @ x) ** 2 / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y)))\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=10000)
    p.add_argument("--dims", default="256", help="comma-separated d values")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--unset-coretype", action="store_true", help="unset OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE for every side")
    benchlib.add_vst_options(p)
    args = p.parse_args()
    benchlib.apply_unset_flag()
    found = benchlib.unset_coretype(args.unset_coretype)
    import numpy as np

    started = time.time()
    vst = benchlib.find_vst(args, "align_command.py")
    env = benchlib.thread_env(args.threads)
    sides = {
        "numpy-cka": lambda x, y: [sys.executable, "-c", CKA, x, y],
        "vst-none": lambda x, y: [vst, "align", x, y, "--json", "--measures", "none"],
        "vst-no-knn": lambda x, y: [vst, "align", x, y, "--json", "--measures", "debiased_cka,rbf_cka,svcca,linear_predictivity"],
        "vst-all": lambda x, y: [vst, "align", x, y, "--json"],
    }
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for d in [int(v) for v in args.dims.split(",")]:
            rng = np.random.default_rng(args.seed)
            z = rng.standard_normal((args.rows, 8))
            x = (z @ rng.standard_normal((8, d)) + 0.5 * rng.standard_normal((args.rows, d))).astype(np.float32)
            y = (z @ rng.standard_normal((8, d)) + 0.5 * rng.standard_normal((args.rows, d))).astype(np.float32)
            xp, yp = os.path.join(tmp, f"x{d}.npy"), os.path.join(tmp, f"y{d}.npy")
            np.save(xp, x)
            np.save(yp, y)
            times = {s: [] for s in sides}
            rss = {s: 0 for s in sides}
            for _, side in benchlib.interleaved(list(sides), args.rounds):
                r = benchlib.run_timed(sides[side](xp, yp), env=env, check=True)
                times[side].append(r["seconds"])
                rss[side] = max(rss[side], r["peak_rss_kib"])
            base = statistics.median(times["numpy-cka"])
            for side in sides:
                med = statistics.median(times[side])
                rows.append({"d": d, "rows": args.rows, "side": side, "median_s": med, "times_s": times[side],
                             "ratio_to_numpy_cka": med / base, "peak_rss_kib": rss[side]})
            print(f"align_command.py: d = {d} done", file=sys.stderr, flush=True)
    report = {"machine": benchlib.machine_info(), "threads": args.threads, "rounds": args.rounds,
              "coretype_vars_found": found, "unset_coretype": args.unset_coretype,
              "blas": {"vst": benchlib.blas_record(benchlib.vst_core(vst)),
                       "numpy": benchlib.blas_record(benchlib.numpy_blas_info().get("core"))},
              "results": rows}
    md = [f"# vst align against numpy's linear CKA ({args.rows} rows, float32, {args.threads} thread(s), "
          f"medians of {args.rounds} interleaved rounds; cores: vst {report['blas']['vst']['core']}, "
          f"numpy {report['blas']['numpy']['core']})", "",
          "| d | side | median | × numpy CKA | peak RSS (MB) |", "|---:|---|---:|---:|---:|"]
    for r in rows:
        md.append(f"| {r['d']} | {r['side']} | {r['median_s']:.3f} s | {r['ratio_to_numpy_cka']:.2f} | {r['peak_rss_kib'] / 1024:.0f} |")
    benchlib.write_report(args.out_dir, f"align-{args.threads}thread", report, "\n".join(md) + "\n", "align_command.py", started)


if __name__ == "__main__":
    main()
