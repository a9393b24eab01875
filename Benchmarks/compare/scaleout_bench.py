#!/usr/bin/env python3
"""Scale-out benchmark: throughput of the Dask driver with 1 and 2 workers against plain `vst` on the same corpus,
and the cost of one merge of statistics at D = 256 and 1024 (the O(D²) reduce step).

    VST=.build/release/vst .build/scaleout-venv/bin/python Benchmarks/compare/scaleout_bench.py [--shards 8]

Plain `vst`: the same per-shard commands the driver's tasks run (fit-projection --stats-only, merge-stats,
project), one after another, with BLAS's default threads and with one BLAS thread (as Dask's nannies start workers:
OMP/MKL/OPENBLAS_NUM_THREADS=1), the like-for-like baseline of the overhead. Driver: scripts/scaleout/driver.py on a local cluster (its own
LocalCluster, one thread per worker), no candidate corpus; its report's per-step timings are used, so cluster
start-up is reported separately. Overhead = driver time with 1 worker − plain time (scheduling, process start,
task serialisation). Writes --out (JSON) and prints a table. Not part of run_suite.py (it needs Dask).
"""

import argparse
import json
import os
import shutil
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts", "scaleout"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import apply_unset_flag, blas_env_vars, run_timed, vst_core, write_json  # noqa: E402
from corpus import make_corpus  # noqa: E402


def timed(cmd, cwd=None, env=None):
    """Wall seconds of one run of cmd (benchlib.run_timed; a failure raises)."""
    return run_timed(cmd, env=env, cwd=cwd, check=True, capture=False)["seconds"]


def plain(vst, shards, work, env=None):
    out = os.path.join(work, "plain")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    t = {"stats": 0.0, "merge": 0.0, "project": 0.0}
    files = []
    for i, s in enumerate(shards):
        f = os.path.join(out, f"s{i}.stats.safetensors")
        t["stats"] += timed([vst, "fit-projection", s, "--stats-only", "--out", f, "--quiet"], env=env)
        files.append(f)
    t["merge"] += timed([vst, "merge-stats", *files, "--rank", "9", "--out", os.path.join(out, "projection.safetensors"), "--quiet"], env=env)
    for i, s in enumerate(shards):
        t["project"] += timed([vst, "project", "--projection", os.path.join(out, "projection.safetensors"), s,
                               "--out", os.path.join(out, f"c{i}.core.npy"), "--quiet"], env=env)
    return t


def driver(vst, glob, work, workers):
    out = os.path.join(work, f"dask{workers}")
    shutil.rmtree(out, ignore_errors=True)
    wall = timed([sys.executable, os.path.join(ROOT, "scripts", "scaleout", "driver.py"), "--shards", glob, "--out", out,
                  "--vst", vst, "--workers", str(workers), "--quiet"])
    with open(os.path.join(out, "report.json")) as f:
        r = json.load(f)
    return wall, r["timings_s"]


def merge_cost(vst, work, d, copies=16):
    """Seconds per merge of two D×D statistics (merge-stats of `copies` files, minus reading one)."""
    x = np.random.default_rng(0).standard_normal((2 * d, d)).astype(np.float32)
    src = os.path.join(work, f"m{d}.npy")
    np.save(src, x)
    st = os.path.join(work, f"m{d}.stats.safetensors")
    if os.path.exists(st):
        os.remove(st)
    timed([vst, "fit-projection", src, "--stats-only", "--out", st, "--quiet"])
    outs = [os.path.join(work, f"merged{d}_{c}.safetensors") for c in (2, copies)]
    times = []
    for path, c in zip(outs, (2, copies)):
        if os.path.exists(path):
            os.remove(path)
        times.append(timed([vst, "merge-stats", *([st] * c), "--stats-only", "--out", path, "--quiet"]))
    return max(0.0, (times[1] - times[0]) / (copies - 2)), os.path.getsize(st)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--vst", default=os.environ.get("VST"))
    p.add_argument("--work", default=os.path.join(ROOT, ".build", "scaleout-bench"))
    p.add_argument("--shards", type=int, default=8)
    p.add_argument("--rows", type=int, default=50_000)
    p.add_argument("--dim", type=int, default=256)
    p.add_argument("--out", default=os.path.join(ROOT, "bench-results", "scaleout.json"))
    a = p.parse_args()
    apply_unset_flag()
    if not a.vst or not os.path.isfile(a.vst):
        raise SystemExit("scaleout_bench: pass --vst or set VST to a built vst binary")
    vst = os.path.abspath(a.vst)
    os.makedirs(a.work, exist_ok=True)
    shards, _ = make_corpus(os.path.join(a.work, "data"), a.shards, a.rows, a.dim)
    glob = os.path.join(a.work, "data", "corpus", "shard_*", "latents.npy")
    gb = a.shards * a.rows * a.dim * 4 / 1e9

    res = {"shards": a.shards, "rows_per_shard": a.rows, "dim": a.dim, "gigabytes": gb, "load_average": os.getloadavg()[0],
           "blas_env": blas_env_vars(), "vst_core": vst_core(vst)}
    res["plain"] = plain(vst, shards, a.work)
    # Dask's nannies start workers with OMP/MKL/OPENBLAS_NUM_THREADS=1 (distributed.nanny.pre-spawn-environ), so
    # the like-for-like baseline of the overhead is plain vst on one BLAS thread.
    res["plain_1_thread"] = plain(vst, shards, a.work, env=dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1"))
    for w in (1, 2):
        wall, steps = driver(vst, glob, a.work, w)
        res[f"dask_{w}"] = {"wall_s": wall, **steps}
    for d in (256, 1024):
        seconds, size = merge_cost(vst, a.work, d)
        res[f"merge_D{d}"] = {"seconds_per_merge": seconds, "stats_file_bytes": size}
    pl, p1 = res["plain"], res["plain_1_thread"]
    plain_sp = p1["stats"] + p1["merge"] + p1["project"]
    rows = []
    for name, t in [("plain vst (BLAS default threads)", pl), ("plain vst (1 BLAS thread)", p1),
                    ("Dask driver, 1 worker", res["dask_1"]), ("Dask driver, 2 workers", res["dask_2"])]:
        total = t["stats"] + t["merge"] + t["project"]
        rows.append((name, t["stats"], t["merge"], t["project"], total, a.shards / t["stats"], a.shards / t["project"], gb / total))
    res["overhead_1_worker_s"] = rows[2][4] - plain_sp
    res["overhead_1_worker_per_task_s"] = res["overhead_1_worker_s"] / (2 * a.shards + 3)
    res["speedup_2_vs_1"] = rows[2][4] / rows[3][4]
    write_json(a.out, res)
    print(f"{a.shards} shards × {a.rows} × {a.dim} float32 ({gb:.2f} GB), load average {res['load_average']:.1f}")
    print(f"{'':34s} {'stats s':>8s} {'merge s':>8s} {'project s':>9s} {'total s':>8s} {'stats sh/s':>10s} {'proj sh/s':>9s} {'GB/s':>6s}")
    for r in rows:
        print(f"{r[0]:34s} {r[1]:8.2f} {r[2]:8.2f} {r[3]:9.2f} {r[4]:8.2f} {r[5]:10.2f} {r[6]:9.2f} {r[7]:6.2f}")
    print(f"Dask overhead with 1 worker (against plain vst on 1 BLAS thread): {res['overhead_1_worker_s']:.2f} s ({res['overhead_1_worker_per_task_s'] * 1000:.0f} ms per task); "
          f"2 workers vs 1: ×{res['speedup_2_vs_1']:.2f}")
    for d in (256, 1024):
        m = res[f"merge_D{d}"]
        print(f"merge of two D = {d} statistics: {m['seconds_per_merge'] * 1000:.1f} ms (file {m['stats_file_bytes'] / 1e6:.1f} MB)")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
