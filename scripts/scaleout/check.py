#!/usr/bin/env python3
"""`make scale-out`: the scale-out path end to end on a local Dask cluster, checked against one process.

 1. generates a sharded corpus (default 16 shards of 50 000 × 256 float32, shard_i/latents.npy) and a paired
    candidate corpus (a later checkpoint of the first 4 shards) under --work;
 2. starts a Dask scheduler and --workers worker processes (`dask scheduler` / `dask worker`, each worker under
    its nanny) and points the driver at the scheduler file;
 3. runs the driver undisturbed, then again into a second directory with one worker SIGKILLed mid-job, and
    compares every output byte for byte (the projection's `created` timestamp aside) and looks for partial files;
 4. runs the one-process commands (`vst fit-projection` over all shards, `vst regimes`, `vst drift` on the
    concatenated files) and prints the largest differences and both sets of analysis numbers;
 5. shuts the cluster down. Exits 1 when any check fails.
"""

import argparse
import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from corpus import make_corpus, read_safetensors  # noqa: E402
import tasks  # noqa: E402

FAILURES = []


def check(ok, what):
    print(("  ok   " if ok else "  FAIL ") + what, flush=True)
    if not ok:
        FAILURES.append(what)


def start_cluster(work, workers):
    """`dask scheduler` and `workers` × `dask worker` (one process, one thread each); returns (scheduler file, procs)."""
    sched_file = os.path.join(work, "scheduler.json")
    if os.path.exists(sched_file):
        os.remove(sched_file)
    log = open(os.path.join(work, "cluster.log"), "w")
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--scheduler-file", sched_file,
                               "--port", "0", "--dashboard-address", ":0", "--host", "127.0.0.1"], stdout=log, stderr=log)]
    for _ in range(600):
        if os.path.exists(sched_file):
            break
        time.sleep(0.1)
    for i in range(workers):
        procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", sched_file,
                                       "--nthreads", "1", "--nworkers", "1", "--no-dashboard", "--name", f"w{i}",
                                       "--host", "127.0.0.1"], stdout=log, stderr=log))
    from distributed import Client
    with Client(scheduler_file=sched_file, timeout="60s") as c:
        c.wait_for_workers(workers, timeout=120)
    return sched_file, procs


def stop_cluster(sched_file, procs):
    from distributed import Client
    try:
        with Client(scheduler_file=sched_file, timeout="20s") as c:
            c.shutdown()
    except Exception as e:  # the processes are terminated below in any case
        print(f"cluster shutdown through the scheduler failed ({e}); terminating the processes", file=sys.stderr)
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.terminate()
            p.wait(timeout=10)


def run_driver(args, sched_file, out, ref_glob, cand_glob, extra=()):
    cmd = [sys.executable, os.path.join(HERE, "driver.py"), "--shards", ref_glob, "--candidate", cand_glob, "--out", out,
           "--scheduler", sched_file, "--vst", args.vst, "--seed", "0"] + list(extra)
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    seconds = time.monotonic() - t0
    if p.returncode != 0:
        raise SystemExit(f"driver failed (exit {p.returncode}): {' '.join(cmd)}")
    with open(os.path.join(out, "report.json")) as f:
        return json.load(f), seconds


def compared_files(out):
    """Every output of a job (relative paths), without the run's report."""
    files = []
    for dirpath, _, names in os.walk(out):
        for name in names:
            rel = os.path.relpath(os.path.join(dirpath, name), out)
            if rel not in ("report.json", "report.md"):
                files.append(rel)
    return sorted(files)


def same_projection(a, b):
    ma, ta = read_safetensors(a)
    mb, tb = read_safetensors(b)
    ma.pop("created", None)
    mb.pop("created", None)
    return ma == mb and ta.keys() == tb.keys() and all(np.array_equal(ta[k], tb[k]) for k in ta)


def vst(args, *cmd):
    p = subprocess.run([args.vst] + list(cmd), stdout=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise SystemExit(f"vst {' '.join(cmd)} failed (exit {p.returncode})")
    return p.stdout


def stats_of(path):
    meta, t = read_safetensors(path)
    scale = float(meta.get("scale", "1"))
    return int(meta["n"]), t["mean"] * scale, t["scatter"] * scale * scale


def rel_diff(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def concatenate(paths, out):
    if os.path.exists(out):
        return out
    arrays = [np.load(p, mmap_mode="r") for p in paths]
    n = sum(a.shape[0] for a in arrays)
    tmp = out + ".partial.npy"
    big = np.lib.format.open_memmap(tmp, mode="w+", dtype=arrays[0].dtype, shape=(n, arrays[0].shape[1]))
    start = 0
    for a in arrays:
        big[start:start + a.shape[0]] = a
        start += a.shape[0]
    big.flush()
    del big
    os.replace(tmp, out)
    return out


def main():
    p = argparse.ArgumentParser(description="make scale-out: the Dask scale-out path checked against one process")
    p.add_argument("--vst", default=os.environ.get("VST"), help="vst binary (default $VST)")
    p.add_argument("--work", default=".build/scaleout", help="work directory (data, cluster, jobs)")
    p.add_argument("--shards", type=int, default=16)
    p.add_argument("--rows", type=int, default=50_000)
    p.add_argument("--dim", type=int, default=256)
    p.add_argument("--candidate-shards", type=int, default=4)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--kill-after", type=int, default=5, help="completed tasks before one worker is killed")
    args = p.parse_args()
    if not args.vst or not os.path.isfile(args.vst):
        raise SystemExit("check.py: pass --vst PATH or set VST to a built vst binary")
    args.vst = os.path.abspath(args.vst)
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    t_all = time.monotonic()

    print(f"== corpus: {args.shards} shards of {args.rows} × {args.dim} float32 (+ {args.candidate_shards} paired candidate shards)", flush=True)
    t0 = time.monotonic()
    ref, cand = make_corpus(os.path.join(work, "data"), args.shards, args.rows, args.dim, candidate_shards=args.candidate_shards)
    print(f"   ready in {time.monotonic() - t0:.1f} s", flush=True)
    ref_glob = os.path.join(work, "data", "corpus", "shard_*", "latents.npy")
    cand_glob = os.path.join(work, "data", "later", "shard_*", "latents.npy")

    jobs = [os.path.join(work, "job-undisturbed"), os.path.join(work, "job-killed")]
    for j in jobs:
        shutil.rmtree(j, ignore_errors=True)
    print(f"== cluster: dask scheduler + {args.workers} workers", flush=True)
    sched_file, procs = start_cluster(work, args.workers)
    try:
        r1, s1 = run_driver(args, sched_file, jobs[0], ref_glob, cand_glob)
        print(f"   undisturbed job: {s1:.1f} s (steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in r1["timings_s"].items()) + ")", flush=True)
        r2, s2 = run_driver(args, sched_file, jobs[1], ref_glob, cand_glob, ["--kill-worker-after", str(args.kill_after)])
        print(f"   job with a killed worker: {s2:.1f} s ({r2.get('chaos')})", flush=True)
    finally:
        stop_cluster(sched_file, procs)
        print("   cluster shut down", flush=True)

    print("== faults", flush=True)
    check(r2.get("chaos") is not None, "a worker was killed mid-job")
    f1, f2 = compared_files(jobs[0]), compared_files(jobs[1])
    check(f1 == f2, f"same output files ({len(f1)})")
    differing = [f for f in f1 if f in f2 and f != "projection.safetensors"
                 and not filecmp.cmp(os.path.join(jobs[0], f), os.path.join(jobs[1], f), shallow=False)]
    check(not differing, f"outputs byte-identical to the undisturbed run{'' if not differing else ': differ ' + ', '.join(differing[:5])}")
    check(same_projection(os.path.join(jobs[0], "projection.safetensors"), os.path.join(jobs[1], "projection.safetensors")),
          "projection identical (tensors and metadata; only its `created` time differs)")
    partial = [f for f in f1 + f2 if tasks.TMP_MARK in f or f.endswith(".partial")]
    check(not partial, "no partial or temporary file left")

    print("== one process", flush=True)
    one = os.path.join(work, "one-process")
    os.makedirs(one, exist_ok=True)
    t0 = time.monotonic()
    for f in ["stats.safetensors", "projection.safetensors"]:
        if os.path.exists(os.path.join(one, f)):
            os.remove(os.path.join(one, f))
    vst(args, "fit-projection", *ref, "--stats-only", "--out", os.path.join(one, "stats.safetensors"), "--quiet")
    t_fit1 = time.monotonic() - t0
    vst(args, "fit-projection", *ref, "--method", "covariance", "--rank", "9", "--out", os.path.join(one, "projection.safetensors"), "--quiet")
    n1, m1, s1_ = stats_of(os.path.join(one, "stats.safetensors"))
    n2, m2, s2_ = stats_of(os.path.join(jobs[1], "corpus.stats.safetensors"))
    d_mean, d_cov = float(np.max(np.abs(m1 - m2))), float(np.max(np.abs(s1_ - s2_)) / (n1 - 1))
    rd_mean, rd_cov = rel_diff(m2, m1), rel_diff(s2_, s1_)
    _, p1 = read_safetensors(os.path.join(one, "projection.safetensors"))
    _, p2 = read_safetensors(os.path.join(jobs[1], "projection.safetensors"))
    rd_eig = rel_diff(p2["eigenvalues"], p1["eigenvalues"])
    k = 9
    b1, b2 = p1["basis"][:, :k], p2["basis"][:, :k]
    d_basis = float(np.max(np.abs(np.abs(np.sum(b1 * b2, axis=0)) - 1)))
    print(f"   rows {n2} (one process {n1}); largest |Δ mean| {d_mean:.3e} (relative {rd_mean:.3e}); "
          f"largest |Δ covariance| {d_cov:.3e} (relative {rd_cov:.3e}); eigenvalues relative {rd_eig:.3e}; "
          f"core directions 1 − |cos| {d_basis:.3e}", flush=True)
    check(n1 == n2, "merged row count equals the one-process count")
    # float32 shards: each process accumulates XᵀX in float32 blocks merged in float64, so two blockings of the same
    # rows agree to the float32 path's 1e-6 (measured: covariance 9.6e-9, eigenvalues 1.9e-10 relative).
    check(max(rd_mean, rd_cov, rd_eig) <= 1e-6, "merged fit equals the one-process fit to 1e-6 (relative; float32 blocks merged in float64)")
    check(d_basis <= 1e-8, "core directions equal the one-process ones (|cos| within 1e-8 of 1)")

    print("== analysis: scale-out (merged statistics) vs one process (concatenated files)", flush=True)
    t0 = time.monotonic()
    all_ref = concatenate(ref, os.path.join(work, "data", "all_corpus.npy"))
    all_cand = concatenate(cand, os.path.join(work, "data", "all_later.npy"))
    t_cat = time.monotonic() - t0
    t0 = time.monotonic()
    reg1 = json.loads(vst(args, "regimes", all_ref, "--json", "--quiet"))
    t_reg1 = time.monotonic() - t0
    t0 = time.monotonic()
    drift1 = json.loads(vst(args, "drift", all_ref, all_cand, "--json", "--quiet"))
    t_drift1 = time.monotonic() - t0
    reg2, drift2, align2 = r2["regimes"], r2["drift"], r2["align"]
    rows = [("regime", reg1["regime"], reg2["regime"]), ("signal_rank", reg1["signal_rank"], reg2["signal_rank"]),
            ("participation_ratio", reg1["participation_ratio"], reg2["participation_ratio"]),
            ("signal_energy", reg1["signal_energy"], reg2["signal_energy"]),
            ("core_energy[9]", reg1["core_energy"]["9"], reg2["core_energy"]["9"]),
            ("signal_stability.mean", (reg1["signal_stability"] or {}).get("mean"), (reg2["signal_stability"] or {}).get("mean")),
            ("twonn_dimension", reg1["twonn_dimension"], reg2["twonn_dimension"]),
            ("drift.drift", drift1["drift"], drift2["drift"]), ("drift.mmd2", drift1["mmd2"], drift2["mmd2"]),
            ("drift.p_value", drift1["p_value"], drift2["p_value"]),
            ("drift.frechet_distance", drift1["frechet_distance"], drift2["frechet_distance"]),
            ("drift.core_frechet_distance", drift1["core_frechet_distance"], drift2["core_frechet_distance"]),
            ("drift.core_similarity", drift1["core_similarity"], drift2["core_similarity"]),
            ("drift.regime_a/b", f"{drift1['regime_a']}/{drift1['regime_b']}", f"{drift2['regime_a']}/{drift2['regime_b']}")]
    print(f"   {'quantity':30s} {'one process':>22s} {'scale-out':>22s}")
    for name, a, b in rows:
        print(f"   {name:30s} {str(a):>22s} {str(b):>22s}")
    print(f"   align (scale-out, {r2.get('align_rows')} paired rows): {align2['regime']}, linear CKA {align2['linear_cka']:.4f}, "
          f"SVCCA {align2['svcca']:.4f}, mutual k-NN {align2['mutual_knn']:.4f}", flush=True)
    check(set(reg1) == set(reg2), "corpus regimes JSON has the keys of `vst regimes --json`")
    check(set(drift1) == set(drift2), "corpus drift JSON has the keys of `vst drift --json`")
    spec = max(rel_diff(reg2["eigenvalues"], reg1["eigenvalues"]), rel_diff(reg2["participation_ratio"], reg1["participation_ratio"]),
               rel_diff(reg2["signal_energy"], reg1["signal_energy"]))
    check(reg1["signal_rank"] == reg2["signal_rank"] and spec <= 1e-7, f"spectrum equals the one-process spectrum (relative {spec:.2e})")
    check(reg1["regime"] == reg2["regime"], "same regime")
    # Fréchet distances are differences of traces: their rounding is measured against the variance they cancel
    # (tr Σ for the full distance, the top-9 variance for the core one).
    fd = max(abs(drift2["frechet_distance"] - drift1["frechet_distance"]) / sum(reg1["eigenvalues"]),
             abs(drift2["core_frechet_distance"] - drift1["core_frechet_distance"]) / sum(reg1["eigenvalues"][:9]))
    check(fd <= 1e-6, f"Fréchet distances from merged moments equal the one-process ones ({fd:.2e} of the variance)")
    check(drift1["drift"] == drift2["drift"], "same drift verdict")

    timing = {"one_process": {"fit_stats_s": t_fit1, "regimes_s": t_reg1, "drift_s": t_drift1, "concatenate_s": t_cat},
              "scale_out": {"undisturbed_s": s1, "killed_worker_s": s2, "steps_undisturbed": r1["timings_s"]},
              "largest_difference": {"mean": d_mean, "covariance": d_cov, "relative_mean": rd_mean, "relative_covariance": rd_cov,
                                     "relative_eigenvalues": rd_eig, "basis": d_basis, "relative_spectrum": spec, "relative_frechet": fd},
              "failures": FAILURES, "total_s": time.monotonic() - t_all}
    tasks.atomic_write_json(os.path.join(work, "check.json"), timing)
    print(f"== {'PASS' if not FAILURES else 'FAIL'}: {len(FAILURES)} failed check(s); total {timing['total_s']:.0f} s "
          f"(summary: {os.path.join(work, 'check.json')}, reports: {jobs[0]}/report.md)", flush=True)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
