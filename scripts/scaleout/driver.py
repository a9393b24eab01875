#!/usr/bin/env python3
"""Scale-out driver: fit, project and analyse a sharded latent corpus on a Dask cluster.

    python3 scripts/scaleout/driver.py --shards 'corpus/shard_*/latents.npy' --out job/ --workers 2
    python3 scripts/scaleout/driver.py --manifest shards.txt --scheduler tcp://head:8786 --out "$STORE/job"

Steps (each a set of Dask tasks; every task is one `vst` call on one shard or one reduce node):
 1. map: `vst fit-projection SHARD --stats-only` -> stats/<shard path>.stats.safetensors (n, mean, scatter);
 2. reduce: a tree of `vst merge-stats --stats-only` (fan-in --fan-in) -> corpus.stats.safetensors, then
    `vst merge-stats --rank k` -> projection.safetensors (Chan et al. merges: equal to one pass over all rows);
 3. map: `vst project --resume` -> cores/<shard dir>/<name>.core.npy, mirroring the shard layout;
 4. analysis: `vst corpus regimes` (merged spectrum, shard half-splits, TwoNN on a seeded subsample);
    with --candidate: `vst corpus block-mmd` per shard pair and `vst corpus drift` (Fréchet from merged moments,
    block MMD test from per-block statistics); `vst align` on a seeded subsample of paired rows;
 5. report.json and report.md in --out, and reports.html linking the job report and each analysis with its verdict.

Every output is written atomically and skipped when present, so rerunning a job (or Dask retrying a task whose
worker died) finishes the remaining work and produces the same bytes. A shard that `vst` refuses (exit 2) stops
the job after the other shards' statistics are written, naming it (exit 2), or is left out with --skip-corrupt.
Progress (done/total, rate, ETA) goes to stderr.
"""

import argparse
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
import tasks  # noqa: E402
from tasks import ShardError, VSTFailure  # noqa: E402


class JobError(Exception):
    """Bad usage or bad input of the whole job (exit 2)."""


# ── inputs ──────────────────────────────────────────────────────────────────────────────────────────────────────

def find_vst(explicit):
    """--vst, else $VST, else `swift build -c release --show-bin-path`/vst."""
    candidates = []
    if explicit:
        candidates.append(("--vst", explicit))
    elif os.environ.get("VST"):
        candidates.append(("$VST", os.environ["VST"]))
    else:
        try:
            binpath = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], capture_output=True, text=True,
                                     cwd=os.path.dirname(os.path.dirname(HERE))).stdout.strip()
            candidates.append(("swift build --show-bin-path", os.path.join(binpath, "vst")))
        except OSError:
            pass
    for source, path in candidates:
        path = os.path.abspath(path)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
        raise JobError(f"vst ({source}): {path} is not an executable file")
    raise JobError("no vst binary: pass --vst PATH or set VST (or build with `swift build -c release`)")


def list_shards(patterns, manifest, option):
    """Shard paths (absolute, sorted, unique) from glob patterns or a manifest (one path per line, # comments)."""
    paths = []
    if manifest:
        if not os.path.isfile(manifest):
            raise JobError(f"{option}-manifest {manifest}: no such file")
        base = os.path.dirname(os.path.abspath(manifest))
        with open(manifest) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#"):
                    paths.append(line if os.path.isabs(line) else os.path.join(base, line))
        missing = [p for p in paths if not os.path.isfile(p)]
        if missing:
            raise JobError(f"{manifest}: lists {len(missing)} missing shard(s), first {missing[0]}")
    for pattern in patterns or []:
        hits = sorted(glob.glob(pattern))
        if not hits:
            raise JobError(f"{option} {pattern}: matches no file")
        paths.extend(hits)
    paths = sorted({os.path.abspath(p) for p in paths})
    if not paths:
        raise JobError(f"{option}: give shard files (a glob or a manifest)")
    bad = [p for p in paths if not p.endswith(".npy")]
    if bad:
        raise JobError(f"{bad[0]}: shards must be .npy files (n×D)")
    return paths


def layout(paths):
    """(root, relative paths): the shards' paths relative to their common parent directory."""
    root = os.path.commonpath([os.path.dirname(p) for p in paths])
    return root, [os.path.relpath(p, root) for p in paths]


# ── progress and faults ─────────────────────────────────────────────────────────────────────────────────────────

class Progress:
    """One stderr line per completed task: done/total, rate and ETA of the step."""

    def __init__(self, label, total, quiet=False):
        self.label, self.total, self.quiet = label, total, quiet
        self.done = 0
        self.start = time.monotonic()

    def tick(self):
        self.done += 1
        if self.quiet:
            return
        elapsed = time.monotonic() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        print(f"[{self.label}] {self.done}/{self.total} done  {rate:.2f}/s  elapsed {elapsed:.1f}s  ETA {eta:.1f}s",
              file=sys.stderr, flush=True)

    @property
    def seconds(self):
        return time.monotonic() - self.start


class Chaos:
    """--kill-worker-after N: SIGKILLs one worker process that is running a task once N tasks have completed
    (a fault drill for local clusters: the pid must be on this machine)."""

    def __init__(self, client, after):
        self.client, self.after = client, after
        self.completed = 0
        self.killed = None

    def tick(self):
        self.completed += 1
        if self.after is None or self.killed is not None or self.completed < self.after:
            return
        for _ in range(200):
            busy = [w for w, keys in self.client.processing().items() if keys]
            if busy:
                pid = self.client.run(os.getpid, workers=[busy[0]])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                self.killed = {"worker": busy[0], "pid": pid, "after_tasks": self.completed}
                print(f"[chaos] killed worker {busy[0]} (pid {pid}) after {self.completed} completed tasks", file=sys.stderr, flush=True)
                return
            time.sleep(0.05)


def _call(fn, *args):
    """Runs a task. Defined in the driver script (__main__), so Dask ships the task graph with cloudpickle, which
    sends the `tasks` module by value (registered in `connect`): workers and scheduler need not import it."""
    return fn(*args)


def is_shard_error(exc):
    # By name: an exception class shipped by value may come back as a copy of tasks.ShardError.
    return type(exc).__name__ == "ShardError" and hasattr(exc, "path") and hasattr(exc, "message")


def gather(client, futures, label, chaos, quiet, collect_errors=False):
    """Waits for every future (progress on stderr). Bad-input errors are collected (collect_errors) or raised;
    every other task still runs to completion first, so no finished work is lost."""
    from distributed import as_completed
    progress = Progress(label, len(futures), quiet)
    results, errors = {}, {}
    index = {f.key: i for i, f in enumerate(futures)}
    for future in as_completed(futures):
        i = index[future.key]
        if future.status == "error":
            exc = future.exception()
            errors[i] = exc
        else:
            results[i] = future.result()
        progress.tick()
        chaos.tick()
    if errors and not collect_errors:
        first = errors[min(errors)]
        raise first
    return [results.get(i) for i in range(len(futures))], errors, progress.seconds


# ── the job ─────────────────────────────────────────────────────────────────────────────────────────────────────

def stats_path(prefix, rel):
    return os.path.join(prefix, os.path.splitext(rel)[0] + ".stats.safetensors")


def merge_tree(client, vst, out, leaves, fan_in, prefix, submit):
    """Submits a tree of merge-stats tasks over `leaves` (relative stats paths) and returns the root's future."""
    level, nodes = 0, [(rel, None) for rel in leaves]
    while len(nodes) > 1 or level == 0:
        level += 1
        groups = [nodes[i:i + fan_in] for i in range(0, len(nodes), fan_in)]
        nodes = []
        for g, group in enumerate(groups):
            out_rel = os.path.join(prefix, f"level{level}", f"node{g:05d}.stats.safetensors")
            deps = [f for _, f in group if f is not None]
            fut = submit(tasks.merge_node, vst, out, [rel for rel, _ in group], out_rel, *deps,
                         key=f"merge-{prefix}-{level}-{g}")
            nodes.append((out_rel, fut))
    return nodes[0]


def seeded_rows(counts, total_rows, seed):
    """A seeded sample of min(total_rows, n) global row indices, split per shard (sorted local indices)."""
    n = sum(counts)
    rng = np.random.default_rng(seed)
    picked = np.sort(rng.choice(n, size=min(total_rows, n), replace=False))
    starts = np.concatenate([[0], np.cumsum(counts)])
    return [picked[(picked >= starts[i]) & (picked < starts[i + 1])] - starts[i] for i in range(len(counts))]


def sample(client, out, shards, counts, rows, seed, out_rel, submit, label):
    local = seeded_rows(counts, rows, seed)
    futs = [submit(tasks.sample_rows, s, idx.tolist(), key=f"sample-{label}-{i}") for i, (s, idx) in enumerate(zip(shards, local)) if len(idx)]
    return submit(tasks.write_sample, out, out_rel, futs, key=f"write-sample-{label}")


def sweep_temporaries(out, quiet):
    """Removes the temporary files of dead runs under `out` (called when no task is running)."""
    removed = []
    for dirpath, _, files in os.walk(out):
        for name in files:
            if name.startswith(".") and tasks.TMP_MARK in name:
                path = os.path.join(dirpath, name)
                os.remove(path)
                removed.append(os.path.relpath(path, out))
    for rel in removed:
        if not quiet:
            print(f"[cleanup] removed the temporary file of a dead run: {rel}", file=sys.stderr, flush=True)
    return removed


def run_job(args, client):
    vst = find_vst(args.vst)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    shards = list_shards(args.shards, args.manifest, "--shards")
    root, rels = layout(shards)
    cand = list_shards(args.candidate, args.candidate_manifest, "--candidate") if (args.candidate or args.candidate_manifest) else []
    croot, crels = layout(cand) if cand else (None, [])
    if args.fan_in < 2:
        raise JobError(f"--fan-in must be at least 2, got {args.fan_in}")
    if args.rank < 1:
        raise JobError(f"--rank must be at least 1, got {args.rank}")

    chaos = Chaos(client, args.kill_worker_after)
    timings, report = {}, {"out": out, "shards": len(shards), "shard_root": root, "vst": vst, "seed": args.seed,
                           "workers": len(client.scheduler_info()["workers"])}

    def submit(fn, *a, key):
        # pure=False: every task runs once per job (its outputs are files); retries handle lost workers.
        return client.submit(_call, fn, *a, key=f"{key}-{args.job_tag}", pure=False, retries=args.retries)

    # 1. map: shard statistics (reference and candidate corpora).
    t0 = time.monotonic()
    futs = [submit(tasks.shard_stats, vst, out, s, stats_path("stats", r), key=f"stats-{i}") for i, (s, r) in enumerate(zip(shards, rels))]
    futs += [submit(tasks.shard_stats, vst, out, s, stats_path("candidate-stats", r), key=f"cstats-{i}") for i, (s, r) in enumerate(zip(cand, crels))]
    results, errors, seconds = gather(client, futs, "stats", chaos, args.quiet, collect_errors=True)
    timings["stats"] = seconds
    bad = {}
    for i, e in errors.items():
        if not is_shard_error(e):
            raise e
        bad[(shards + cand)[i]] = e.message
    if bad and not args.skip_corrupt:
        report.update({"status": "failed", "corrupt_shards": bad,
                       "completed_shards": sum(1 for r in results if r is not None)})
        write_report(out, report)
        raise JobError("; ".join(f"{p}: {m}" for p, m in bad.items())
                       + f" — stopped; the other {report['completed_shards']} shards' statistics are kept under {out}/stats"
                       " (rerun after fixing, or pass --skip-corrupt)")
    keep = [i for i in range(len(shards)) if results[i] is not None]
    ckeep = [i for i in range(len(cand)) if results[len(shards) + i] is not None]
    report["skipped_shards"] = bad
    if len(keep) == 0:
        raise JobError("no usable shard left")
    widths = {results[i]["d"] for i in keep} | {results[len(shards) + i]["d"] for i in ckeep}
    if len(widths) != 1:
        raise JobError(f"shards of different widths D: {sorted(widths)}")
    dtypes = {results[i]["dtype"] for i in keep}
    storage = "float64" if "float64" in dtypes else "float32"
    counts = [results[i]["n"] for i in keep]
    report.update({"rows": int(sum(counts)), "d": widths.pop(), "used_shards": len(keep)})

    # 2. reduce: the merge tree, then the projection.
    t0 = time.monotonic()
    root_rel, root_fut = merge_tree(client, vst, out, [results[i]["stats"] for i in keep], args.fan_in, "merge", submit)
    corpus_stats = "corpus.stats.safetensors"
    final = submit(tasks.merge_node, vst, out, [root_rel], corpus_stats, root_fut, key="merge-final")
    proj = submit(tasks.fit_projection, vst, out, corpus_stats, "projection.safetensors", args.rank, final, key="projection")
    gather(client, [proj], "merge", chaos, args.quiet)
    timings["merge"] = time.monotonic() - t0

    # 3. map: project every shard (outputs mirror the shard layout).
    pfuts = [submit(tasks.project_shard, vst, out, "projection.safetensors", shards[i], os.path.join("cores", os.path.dirname(rels[i])),
                    key=f"project-{i}") for i in keep]
    cores, _, timings["project"] = gather(client, pfuts, "project", chaos, args.quiet)
    report["projection"] = "projection.safetensors"
    report["cores"] = cores

    # 4. analysis from mergeable statistics.
    t0 = time.monotonic()
    kept = [shards[i] for i in keep]
    tw = sample(client, out, kept, counts, args.twonn_rows, args.seed, "samples/twonn.npy", submit, "twonn")
    reg_args = ["corpus", "regimes"] + [results[i]["stats"] for i in keep] + ["--twonn-sample", "samples/twonn.npy",
                                                                               "--storage", storage, "--seed", str(args.seed)]
    reg = submit(tasks.vst_json, vst, out, reg_args, "analysis/regimes.json", "corpus regimes", tw, key="regimes")
    analysis_futs = [reg]
    names = ["regimes"]
    if cand:
        ccounts = [results[len(shards) + i]["n"] for i in ckeep]
        ckept = [cand[i] for i in ckeep]
        bw = sample(client, out, kept, counts, args.bandwidth_rows, args.seed + 1, "samples/bandwidth.npy", submit, "bandwidth")
        ka = sample(client, out, kept, counts, args.ks_rows, args.seed + 2, "samples/ks_reference.npy", submit, "ksa")
        kb = sample(client, out, ckept, ccounts, args.ks_rows, args.seed + 3, "samples/ks_candidate.npy", submit, "ksb")
        pairs = list(zip(kept, ckept))
        mmd = [submit(tasks.block_mmd, vst, out, a, b, "samples/bandwidth.npy", f"mmd/pair{j:05d}.json", args.seed, bw,
                      key=f"mmd-{j}") for j, (a, b) in enumerate(pairs)]
        drift_args = (["corpus", "drift", "--reference"] + [results[i]["stats"] for i in keep]
                      + ["--candidate"] + [results[len(shards) + i]["stats"] for i in ckeep]
                      + ["--blocks"] + [f"mmd/pair{j:05d}.json" for j in range(len(pairs))]
                      + ["--reference-sample", "samples/ks_reference.npy", "--candidate-sample", "samples/ks_candidate.npy",
                         "--storage", storage, "--seed", str(args.seed)])
        analysis_futs.append(submit(tasks.vst_json, vst, out, drift_args, "analysis/drift.json", "corpus drift", ka, kb, *mmd, key="drift"))
        names.append("drift")
        # Alignment: rows are paired only between shards at the same relative path with the same row count.
        crel_index = {r: i for i, r in enumerate(crels)}
        paired = [(i, crel_index[rels[i]]) for i in keep if rels[i] in crel_index and crel_index[rels[i]] in ckeep
                  and results[len(shards) + crel_index[rels[i]]]["n"] == results[i]["n"]]
        if paired:
            pcounts = [results[i]["n"] for i, _ in paired]
            local = seeded_rows(pcounts, args.align_rows, args.seed + 4)
            xa = [submit(tasks.sample_rows, shards[i], idx.tolist(), key=f"align-x-{i}") for (i, _), idx in zip(paired, local) if len(idx)]
            xb = [submit(tasks.sample_rows, cand[j], idx.tolist(), key=f"align-y-{j}") for (_, j), idx in zip(paired, local) if len(idx)]
            wa = submit(tasks.write_sample, out, "samples/align_x.npy", xa, key="align-write-x")
            wb = submit(tasks.write_sample, out, "samples/align_y.npy", xb, key="align-write-y")
            analysis_futs.append(submit(tasks.vst_json, vst, out, ["align", "samples/align_x.npy", "samples/align_y.npy", "--seed", str(args.seed)],
                                        "analysis/align.json", "align", wa, wb, key="align"))
            names.append("align")
            report["align_rows"] = int(sum(len(i) for i in local))
        else:
            report["align_rows"] = 0
    analyses, _, _ = gather(client, analysis_futs, "analysis", chaos, args.quiet)
    timings["analysis"] = time.monotonic() - t0
    for name, value in zip(names, analyses):
        report[name] = value
    report["samples"] = {"twonn_rows": min(args.twonn_rows, int(sum(counts)))}

    report["removed_temporaries"] = sweep_temporaries(out, args.quiet)
    report["chaos"] = chaos.killed
    report["timings_s"] = timings
    report["rates"] = {"stats_shards_per_s": len(futs) / timings["stats"] if timings["stats"] > 0 else None,
                       "project_shards_per_s": len(pfuts) / timings["project"] if timings["project"] > 0 else None,
                       "rows_per_s_project": sum(counts) / timings["project"] if timings["project"] > 0 else None}
    report["status"] = "ok"
    write_report(out, report)
    return report


# ── report ──────────────────────────────────────────────────────────────────────────────────────────────────────

def write_report(out, report):
    """report.json and report.md (the run log: numbers, timings, faults) — not part of the compared outputs."""
    tasks.atomic_write_json(os.path.join(out, "report.json"), report)
    lines = ["# Scale-out job report", "", f"Status: **{report.get('status')}**", ""]
    lines += ["| quantity | value |", "| --- | --- |"]
    for k in ["shards", "used_shards", "rows", "d", "workers", "projection", "align_rows"]:
        if k in report:
            lines.append(f"| {k} | {report[k]} |")
    for k, v in report.get("timings_s", {}).items():
        lines.append(f"| time: {k} | {v:.2f} s |")
    for k, v in (report.get("rates") or {}).items():
        if v is not None:
            lines.append(f"| rate: {k} | {v:.3g} |")
    if report.get("skipped_shards"):
        lines += ["", "Skipped (corrupt) shards:", ""] + [f"- `{p}`: {m}" for p, m in report["skipped_shards"].items()]
    if report.get("corrupt_shards"):
        lines += ["", "Corrupt shards (job stopped):", ""] + [f"- `{p}`: {m}" for p, m in report["corrupt_shards"].items()]
    if report.get("chaos"):
        lines += ["", f"Fault drill: worker killed ({report['chaos']})."]
    r = report.get("regimes")
    if r:
        lines += ["", "## Regimes (corpus)", "", f"regime {r['regime']}, k* = {r['signal_rank']}, ρ = {r['signal_energy']:.4f}, "
                  f"PR = {r['participation_ratio']:.3f}, E₉ = {r['core_energy']['9']:.4f}, TwoNN = {r['twonn_dimension']}"]
        lines += [f"- {x}" for x in r["reasons"]] + [f"- warning: {x}" for x in r["warnings"]]
    d = report.get("drift")
    if d:
        lines += ["", "## Drift (reference → candidate)", "", f"drift {d['drift']}, block MMD² = {d['mmd2']:.4g} (p = {d['p_value']:.4g}), "
                  f"Fréchet = {d['frechet_distance']:.6g}, core Fréchet = {d['core_frechet_distance']:.6g}, regimes {d['regime_a']} → {d['regime_b']}"]
    a = report.get("align")
    if a:
        lines += ["", "## Alignment (paired subsample)", "", f"{a['regime']}: linear CKA {a['linear_cka']:.4f}, SVCCA {a['svcca']:.4f}, "
                  f"Procrustes similarity {a['procrustes_similarity']:.4f}, mutual k-NN {a['mutual_knn']:.4f}"]
    tasks.atomic_write_bytes(os.path.join(out, "report.md"), ("\n".join(lines) + "\n").encode())
    write_index(out, report)


def write_index(out, report):
    """reports.html: the job report and each analysis with its verdict on one page, written by `vst report-index`
    (only the top of --out is searched: cores/ and stats/ hold no reports). Holds no timings or paths, so a rerun
    writes the same bytes. A vst without report-index (an older build) leaves a warning, not a failed job."""
    vst = report.get("vst")
    if not vst:
        return
    results = ["report.json"] + [f"analysis/{name}.json" for name in ("regimes", "drift", "align")
                                 if os.path.isfile(os.path.join(out, "analysis", f"{name}.json"))]
    subtitle = (f"{report['rows']} rows × D = {report['d']} from {report.get('used_shards', report.get('shards'))} shards; "
                if "rows" in report and "d" in report else "") + "details in report.md"
    cmd = [vst, "report-index", out, "--title", "Scale-out job", "--subtitle", subtitle, "--depth", "0", "--force"]
    for r in results:
        cmd += ["--result", r]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.SubprocessError) as e:
        print(f"scaleout-driver: warning: no reports.html ({e})", file=sys.stderr)
        return
    if p.returncode != 0:
        print(f"scaleout-driver: warning: no reports.html ({(p.stderr.strip().splitlines() or ['vst report-index failed'])[-1]})", file=sys.stderr)


# ── cluster ─────────────────────────────────────────────────────────────────────────────────────────────────────

def connect(args):
    """A Dask client: to --scheduler (address or scheduler file) or to a new local cluster of --workers processes."""
    from distributed import Client, LocalCluster
    import cloudpickle
    cloudpickle.register_pickle_by_value(tasks)   # workers need not have scripts/scaleout on their path
    if args.scheduler:
        if os.path.isfile(args.scheduler):
            return Client(scheduler_file=args.scheduler), None
        return Client(args.scheduler), None
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster), cluster


def parse(argv):
    p = argparse.ArgumentParser(prog="scaleout-driver", description=__doc__.split("\n\n")[0])
    p.add_argument("--shards", action="append", help="glob of the corpus' shard files (.npy, n×D); repeatable")
    p.add_argument("--manifest", help="file listing the shard paths, one per line (relative to the manifest)")
    p.add_argument("--candidate", action="append", help="glob of a second corpus (e.g. a later checkpoint) for drift and alignment")
    p.add_argument("--candidate-manifest", help="manifest of the second corpus")
    p.add_argument("--out", required=True, help="output directory on storage every worker sees")
    p.add_argument("--scheduler", help="Dask scheduler address (tcp://host:8786) or scheduler file; default: a local cluster")
    p.add_argument("--workers", type=int, default=2, help="worker processes of the local cluster (default 2)")
    p.add_argument("--vst", help="vst binary (default: $VST, else swift build -c release --show-bin-path)")
    p.add_argument("--rank", type=int, default=9, help="core size k of the projection (default 9)")
    p.add_argument("--fan-in", type=int, default=4, help="inputs per merge-stats node of the reduce tree (default 4)")
    p.add_argument("--seed", type=int, default=0, help="seed of every sample and split (default 0)")
    p.add_argument("--twonn-rows", type=int, default=10000, help="rows of the seeded TwoNN subsample (default 10000)")
    p.add_argument("--ks-rows", type=int, default=10000, help="rows per corpus of the seeded KS subsample (default 10000)")
    p.add_argument("--bandwidth-rows", type=int, default=1000, help="reference rows of the kernel bandwidth (default 1000)")
    p.add_argument("--align-rows", type=int, default=2000, help="paired rows of the alignment subsample (default 2000)")
    p.add_argument("--skip-corrupt", action="store_true", help="leave out shards vst refuses instead of stopping")
    p.add_argument("--retries", type=int, default=0, help="retries of a task that raised (a lost worker's tasks are always rerun)")
    p.add_argument("--kill-worker-after", type=int, help="fault drill: SIGKILL a busy worker after N tasks (local clusters)")
    p.add_argument("--job-tag", default=uuid.uuid4().hex[:8], help=argparse.SUPPRESS)
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return p.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    if args.workers < 1:
        print("scaleout-driver: error: --workers must be at least 1", file=sys.stderr)
        return 2
    client = cluster = None
    try:
        client, cluster = connect(args)
        report = run_job(args, client)
        print(json.dumps({k: report[k] for k in ["status", "shards", "used_shards", "rows", "d", "timings_s"] if k in report}))
        return 0
    except (JobError, ShardError) as e:
        print(f"scaleout-driver: error: {e}", file=sys.stderr)
        return 2
    except Exception as e:
        if is_shard_error(e):
            print(f"scaleout-driver: error: {e.path}: {e.message}", file=sys.stderr)
            return 2
        if type(e).__name__ != "VSTFailure":
            raise
        print(f"scaleout-driver: error: {e}", file=sys.stderr)
        return 1
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


if __name__ == "__main__":
    sys.exit(main())
