#!/usr/bin/env python3
"""Side-by-side timing of Linear (via `substrate-bench linear`) and numpy on this machine, as ratios from one run.

For every round, BLAS thread count and workload it runs the Swift harness for that workload, then the same
workload in numpy (a fresh `python3 compare.py --numpy-worker` process), alternating which side goes first from
round to round (benchlib.rotation), so drift and noise on a shared machine hit both sides alike. Each side reports the median time
per call of its repetitions; the final figure per point is the median over rounds.

Both sides get OPENBLAS_NUM_THREADS (numpy's bundled OpenBLAS reads it at load; substrate-bench also gets --threads,
which sets BLAS.threads and Linear's own element-wise threads). Each side's OpenBLAS core type is recorded in the
JSON (meta.swift.*.environment, meta.numpy.*.blas); --unset-coretype unsets OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
for both sides.

Writes bench-results/compare.json and bench-results/compare.md (repository root) and prints the Markdown.

Usage (from anywhere):
    python3 Benchmarks/compare/compare.py                   # full run, 1 and 2 threads, 3 rounds
    python3 Benchmarks/compare/compare.py --quick           # a few points, 1 round (smoke test)
    python3 Benchmarks/compare/compare.py --workloads matmul,svd --sizes 256,512 --threads 1
    BENCH_BIN=/path/to/substrate-bench python3 Benchmarks/compare/compare.py
    SWIFT_SCRATCH_PATH=.build-bench python3 Benchmarks/compare/compare.py   # or --scratch-path
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (add_timing_options, add_vst_options, apply_unset_flag, find_bench, fmt_time,  # noqa: E402
                      machine_line, md_table_head, met_cell, notes_section, numpy_blas_info, report_head, rotation,
                      round_summary, thread_env, time_call, timing_args, unset_coretype, write_report)

MATMUL_SIZES = [4, 8, 16, 32, 64, 128, 256, 512, 1024]
FACTOR_SIZES = [64, 128, 256, 512, 1024]
ELEMENTS = [1_000_000]
# Workload name -> default sizes. `gemm` (direct cblas call) exists only on the Swift side.
WORKLOADS = {
    "matmul": MATMUL_SIZES,
    "exp": ELEMENTS,
    "silu": ELEMENTS,
    "add": ELEMENTS,
    "svd": FACTOR_SIZES,
    "svd-tall": FACTOR_SIZES,
    "eigh": FACTOR_SIZES,
}
# Swift-only companions run in the same substrate-bench invocation as their workload (interleaved per size).
SWIFT_COMPANIONS = {"matmul": ["gemm"]}
DTYPES = ["float32", "float64"]


# ----------------------------------------------------------------------------------------------------------------
# numpy worker (runs in its own process so that OPENBLAS_NUM_THREADS takes effect at numpy's load)


def numpy_linalg_precision():
    """What numpy computes a float32 svd/eigh in: numpy.linalg's own `_commonType` says (computation, result)."""
    import numpy as np

    try:
        from numpy.linalg import _linalg as L  # numpy >= 2
    except ImportError:  # pragma: no cover
        from numpy.linalg import linalg as L
    t, result_t = L._commonType(np.zeros((2, 2), dtype=np.float32))
    return {"computed_in": np.dtype(t).name, "returned_as": np.dtype(result_t).name}


def numpy_worker(args):
    import numpy as np

    rng = np.random.default_rng(12345)
    results = []
    points = []
    for w in args.workloads.split(","):
        for n in sizes_for(w, args.sizes):
            points.append((w, n))
    order = {w: i for i, w in enumerate(args.workloads.split(","))}
    points.sort(key=lambda p: (p[1], order[p[0]]))
    for w, n in points:
        for dt in args.dtypes.split(","):
            dtype = np.dtype(dt)
            shape = f"{n}x{n}"
            if w == "matmul":
                env = {"a": rng.standard_normal((n, n)).astype(dtype), "b": rng.standard_normal((n, n)).astype(dtype)}
                stmt = "a @ b"
            elif w in ("exp", "silu", "add"):
                shape = f"{n}"
                env = {"np": np, "x": rng.standard_normal(n).astype(dtype), "y": rng.standard_normal(n).astype(dtype)}
                # silu has no numpy ufunc: the cheapest plain-numpy form, one temporary and four in-place passes.
                stmt = {
                    "exp": "np.exp(x)",
                    "add": "x + y",
                    "silu": "t = np.negative(x); np.exp(t, out=t); t += 1; np.divide(x, t, out=t)",
                }[w]
            elif w == "svd":
                env = {"np": np, "a": rng.standard_normal((n, n)).astype(dtype)}
                stmt = "np.linalg.svd(a, full_matrices=False)"
            elif w == "svd-tall":
                shape = f"{4 * n}x{n}"
                env = {"np": np, "a": rng.standard_normal((4 * n, n)).astype(dtype)}
                stmt = "np.linalg.svd(a, full_matrices=False)"
            elif w == "eigh":
                g = rng.standard_normal((n, n))
                env = {"np": np, "a": (g + g.T).astype(dtype)}
                stmt = "np.linalg.eigh(a)"
            else:
                raise SystemExit(f"numpy worker: unknown workload {w}")
            r = time_call(stmt, args.reps, args.warmup, args.min_rep_time, args.max_time, env=env)
            r.update(workload=w, n=n, shape=shape, dtype=dt)
            results.append(r)
    info = numpy_blas_info()
    json.dump({"blas": info.get("config"), "core": info.get("core"), "blasThreads": info.get("threads"),
               "numpy": info.get("numpy"), "results": results}, sys.stdout)


# ----------------------------------------------------------------------------------------------------------------
# driver


QUICK_SIZES = {}  # set by --quick


def sizes_for(workload, override):
    if workload in QUICK_SIZES:
        return QUICK_SIZES[workload]
    if override:
        return [int(s) for s in override.split(",") if s.strip()]
    return WORKLOADS.get(workload, MATMUL_SIZES)


def run_json(cmd, threads):
    env = thread_env(threads, ("OPENBLAS_NUM_THREADS",))
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"compare.py: {' '.join(cmd)} failed ({out.returncode}):\n{out.stderr}")
    return json.loads(out.stdout)


def run_swift(bench, workload, args, threads):
    wl = ",".join([workload] + SWIFT_COMPANIONS.get(workload, []))
    cmd = [bench, "linear", "--json", "--workloads", wl, "--dtypes", args.dtypes, "--threads", str(threads)]
    cmd += ["--sizes", ",".join(str(n) for n in sizes_for(workload, args.sizes))] + timing_args(args)
    return run_json(cmd, threads)


def run_numpy(workload, args, threads):
    cmd = [sys.executable, os.path.abspath(__file__), "--numpy-worker", "--workloads", workload, "--dtypes", args.dtypes,
           "--sizes", ",".join(str(n) for n in sizes_for(workload, args.sizes))] + timing_args(args)
    return run_json(cmd, threads)


def target_for(workload, n, dtype):
    """(description, threshold on numpy/Swift) for the numpy comparison, or None where there is no target."""
    if workload == "matmul" and n <= 32:
        return ("≥ 3× numpy per call", 3.0)
    if workload in ("exp", "silu", "add"):
        return ("≥ 1× numpy", 1.0)
    if workload in ("svd", "svd-tall") and dtype == "float32":
        return ("≥ 1.5× numpy", 1.5)
    if workload in ("svd", "svd-tall", "eigh") and dtype == "float64":
        return ("within 1.1× of numpy", 1 / 1.1)
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--numpy-worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--workloads", default=",".join(WORKLOADS), help="comma list (default: all)")
    p.add_argument("--sizes", default=None, help="comma list overriding every workload's default sizes")
    p.add_argument("--dtypes", default=",".join(DTYPES))
    p.add_argument("--threads", default="1,2", help="BLAS thread counts to run (comma list)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (the median over rounds is reported)")
    add_timing_options(p, reps=9, warmup=3, max_time=2.0)
    add_vst_options(p)
    p.add_argument("--quick", action="store_true", help="smoke test: a few small points, one round")
    p.add_argument("--unset-coretype", action="store_true",
                   help="unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for both sides (benchmarks only)")
    args = p.parse_args()
    apply_unset_flag()
    unset_coretype(args.unset_coretype)

    if args.numpy_worker:
        numpy_worker(args)
        return
    if args.quick:
        args.workloads, args.rounds, args.reps, args.threads, args.max_time = "matmul,exp,svd,eigh", 1, 3, "1", 0.5
        QUICK_SIZES.update(matmul=[8, 128], exp=[1_000_000], svd=[128], eigh=[128])
    workloads = [w for w in args.workloads.split(",") if w]
    for w in workloads:
        if w not in WORKLOADS:
            raise SystemExit(f"compare.py: unknown workload {w}; choose from {', '.join(WORKLOADS)}")
    threads_list = [int(t) for t in args.threads.split(",")]
    bench = find_bench(args, "compare.py")

    # samples[(side, workload, shape, dtype, threads)] = list of per-round medians
    samples, meta, load_log = {}, {"swift": {}, "numpy": {}}, []
    started = time.time()
    for rnd in range(args.rounds):
        for threads in threads_list:
            for w in workloads:
                sides = [("swift", lambda: run_swift(bench, w, args, threads)), ("numpy", lambda: run_numpy(w, args, threads))]
                for side, fn in rotation(sides, rnd):
                    rep = fn()
                    meta[side][threads] = {k: v for k, v in rep.items() if k != "results"}
                    for r in rep["results"]:
                        key = (side, r["workload"], r["n"], r["shape"], r["dtype"], threads)
                        samples.setdefault(key, []).append(r)
                load_log.append({"round": rnd + 1, "threads": threads, "workload": w, "loadavg1": os.getloadavg()[0]})
                print(f"compare.py: round {rnd + 1}/{args.rounds}, {threads} thread(s), {w} done "
                      f"({time.time() - started:.0f} s, load {os.getloadavg()[0]:.2f})", file=sys.stderr, flush=True)

    def summary(side, w, n, shape, dt, t):
        return round_summary(samples.get((side, w, n, shape, dt, t)))

    rows, gemm_rows = [], []
    keys = sorted({k[1:] for k in samples if k[0] == "swift"},
                  key=lambda k: (k[4], list(WORKLOADS).index(k[0]) if k[0] in WORKLOADS else -1, k[1], k[3]))
    for (w, n, shape, dt, t) in keys:
        if w == "gemm":
            continue
        s, npy = summary("swift", w, n, shape, dt, t), summary("numpy", w, n, shape, dt, t)
        ratio = npy["median"] / s["median"] if s and npy else None
        tgt = target_for(w, n, dt)
        rows.append({"workload": w, "n": n, "shape": shape, "dtype": dt, "threads": t, "swift": s, "numpy": npy,
                     "ratio": ratio, "target": tgt[0] if tgt else None,
                     "met": (ratio >= tgt[1]) if (tgt and ratio is not None) else None})
        if w == "matmul":
            g = summary("swift", "gemm", n, shape, dt, t)
            if g:
                r = g["median"] / s["median"]
                gemm_rows.append({"n": n, "dtype": dt, "threads": t, "tensor": s, "gemm": g, "ratio": r,
                                  "target": "≥ 0.95" if n >= 256 else None, "met": (r >= 0.95) if n >= 256 else None})

    notes = numpy_notes(meta)
    loads = [x["loadavg1"] for x in load_log]
    notes.append(f"1-minute load average sampled after each workload: min {min(loads):.2f}, median "
                 f"{statistics.median(loads):.2f}, max {max(loads):.2f} on {os.cpu_count()} cores (other processes "
                 f"share this machine; a load above the core count makes the 2-thread rows unreliable).")
    md = render_markdown(rows, gemm_rows, meta, notes, args)
    settings = ("workloads", "sizes", "dtypes", "threads", "rounds", "reps", "warmup", "min_rep_time", "max_time")
    report = {**report_head(args, settings, bench, meta),
              "notes": notes, "load": load_log, "rows": rows, "tensor_vs_gemm": gemm_rows}
    write_report(args.out_dir, "compare", report, md, "compare.py", started)


def numpy_notes(meta):
    notes = []
    try:
        prec = numpy_linalg_precision()
        notes.append(f"numpy.linalg computes a float32 svd/eigh in {prec['computed_in']} (LAPACK d-routines) and returns "
                     f"{prec['returned_as']}: its `_commonType` maps float32 to (double, single). So the float32 "
                     f"svd/eigh rows compare Linear's sgesdd/ssyevd with numpy's dgesdd/dsyevd plus casts.")
    except Exception as e:  # pragma: no cover
        notes.append(f"could not determine numpy's float32 linalg precision: {e}")
    notes.append("numpy silu is `t = np.negative(x); np.exp(t, out=t); t += 1; np.divide(x, t, out=t)` "
                 "(no silu ufunc; one temporary, four passes). numpy element-wise ufuncs are single-threaded; "
                 "Linear's element-wise kernels use --threads threads (Parallel.threads).")
    notes.append("Times are per call; allocation of each result is included on both sides (Tensor results, numpy "
                 "arrays). `gemm` is the direct cblas call (Scalar.gemm) into a preallocated output.")
    return notes


def render_markdown(rows, gemm_rows, meta, notes, args):
    out = ["# Linear vs numpy", "", machine_line(args.rounds), ""]
    for side in ("swift", "numpy"):
        for t, m in sorted(meta[side].items()):
            extra = f", numpy {m['numpy']}" if side == "numpy" else f", Linear threads {m.get('linearThreads')}"
            out.append(f"- {side} at {t} thread(s): {m.get('blas')} (core {m.get('core')}, BLAS threads {m.get('blasThreads')}{extra})")
    out.append("")
    out += md_table_head("## Linear vs numpy (ratio = numpy time / Linear time; > 1 means Linear is faster)",
                         "| workload | shape | dtype | threads | Linear median | numpy median | ratio | target | met |",
                         "|---|---|---|---:|---:|---:|---:|---|---|")
    for r in rows:
        met = met_cell(r["met"])
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "—"
        out.append(f"| {r['workload']} | {r['shape']} | {r['dtype']} | {r['threads']} | "
                   f"{fmt_time(r['swift']['median'] if r['swift'] else None)} | "
                   f"{fmt_time(r['numpy']['median'] if r['numpy'] else None)} | {ratio} | {r['target'] or ''} | {met} |")
    if gemm_rows:
        out.append("")
        out += md_table_head("## Tensor matmul vs direct cblas gemm (ratio = gemm time / matmul time; target ≥ 0.95 "
                             "at n ≥ 256)", "| n | dtype | threads | Tensor matmul | direct gemm | ratio | met |",
                             "|---:|---|---:|---:|---:|---:|---|")
        for g in gemm_rows:
            met = met_cell(g["met"])
            out.append(f"| {g['n']} | {g['dtype']} | {g['threads']} | {fmt_time(g['tensor']['median'])} | "
                       f"{fmt_time(g['gemm']['median'])} | {g['ratio']:.3f} | {met} |")
    out.append("")
    out += notes_section(notes)
    return "\n".join(out)


if __name__ == "__main__":
    main()
