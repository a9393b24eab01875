#!/usr/bin/env python3
"""The whole benchmark suite in one run: `substrate-bench suite` (the Swift-only ladder d = 64…1024, physical floor,
slopes, peak RSS) and its peers on the same inputs, interleaved, merged into bench-results/results.json and results.md.

Steps (each can be skipped with --skip):
  swift      `substrate-bench suite` over the catalogue → results.json, results.md, plots/*.svg (the Swift-only suite).
  numpy      compare.py: matmul, svd, eigh (float32 and float64, d on the ladder) and exp/silu/add over d² elements,
             `substrate-bench linear` against numpy in alternating fresh processes.
  substrate  compare_substrate.py: projection fits vs scikit-learn PCA (full, covariance_eigh, randomized), project,
             lift, CKA, Fréchet distance, MMD² vs numpy/scipy, on bit-identical data (`substrate-bench substrate`).
  torch      PyTorch CPU eager, interleaved here with `substrate-bench suite`: matmul, element-wise, svd/eigh, the MLP-denoiser
             training step (the same network as Generative's MLPDenoiser, DDPM ε loss, clipping, AdamW) and sampling
             throughput per sampler (same network, same steps and rows).
  jax        JAX jit (when it installs): matmul, element-wise, svd/eigh, interleaved the same way.
  torch-step torch_step.py (Neural's plain MLP step vs PyTorch, `substrate-bench neural-step`); off by
             default, --torch-step turns it on.
  scale      scale_commands.py --peers: wall time and peak RSS of `vst regimes`, `vst drift` and `vst trajectory` on
             --scale-rows × 256 float32 files (default 10⁶), beside numpy/scikit-learn equivalents on the same files;
             off by default (it writes two 1 GB files), --scale turns it on (--scale-rows 20000 for a smoke test).
Interleaving: for every round and workload, our side and each peer run as fresh processes, in an order that
rotates from round to round; each process reports the median of its repetitions, the table the median over rounds,
and the ratio peer time / our time per pair (> 1: ours is faster), so that load on a shared machine hits both
sides alike. Thread counts: OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS, `substrate-bench --threads`,
torch.set_num_threads, XLA's intra-op flag; the load average is logged after every workload.
Missing peers are installed from PyPI with pip; when that fails the peer is skipped with a message.

BLAS kernels: these machines set OPENBLAS_CORETYPE=Haswell (with OPENBLAS_L2_SIZE) as a guard, because some old
OpenBLAS builds misbehave on AVX-512 CPUs; with it, OpenBLAS runs AVX2 kernels where JAX (XLA) uses AVX-512 anyway.
--unset-coretype unsets both variables for EVERY side alike (ours, numpy, scikit-learn, PyTorch, JAX, and every
script and worker started from here, via BENCH_UNSET_CORETYPE=1), so all sides may pick the CPU's best kernels.
Benchmark runs may do that; tests and CI never change these variables. results.json records, under "blas", the
variables as found at the start, whether they were unset, and the OpenBLAS core type each side used (ours from
substrate-bench's environment record, numpy's from its bundled OpenBLAS, PyTorch's/JAX's from threadpoolctl).

Usage:
    python3 Benchmarks/compare/run_suite.py                   # everything, 1 thread, 2 rounds
    python3 Benchmarks/compare/run_suite.py --quick           # smoke test: d = 64, 256, short budgets
    python3 Benchmarks/compare/run_suite.py --skip substrate,jax --sizes 64,256,1024
    python3 Benchmarks/compare/run_suite.py --quick --unset-coretype    # every side without OPENBLAS_CORETYPE
    BENCH_BIN=/path/to/substrate-bench python3 Benchmarks/compare/run_suite.py
"""

import argparse
import datetime
import importlib
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from benchlib import (REPO, apply_unset_flag, blas_env_vars, find_bench, fmt_time, max_rss_kib,  # noqa: E402
                      numpy_blas_info, rotation, thread_env, threadpool_record, time_call, unset_coretype, write_json)

LADDER = [64, 128, 256, 512, 1024]
STEPS = ["swift", "numpy", "substrate", "torch", "jax", "torch-step", "scale"]

# Workloads run against PyTorch / JAX here (names as in `substrate-bench suite`).
TORCH_WORKLOADS = ["matmul-f32", "matmul-f64", "exp-f32", "silu-f32", "add-f32", "svd-f64", "eigh-f64", "train-step",
                   "ddpm-ancestral", "ddim", "fm-euler", "fm-rk4", "sde-em"]
# Table order (the catalogue of `substrate-bench suite`, with compare.py's and compare_substrate.py's extra rows in place).
ORDER = ["matmul-f32", "matmul-f64", "exp-f32", "silu-f32", "add-f32", "svd-f32", "svd-f64", "svd-tall-f32", "svd-tall-f64",
         "eigh-f32", "eigh-f64", "fit-svd", "fit-covariance", "fit-randomized", "project", "lift", "lift-core", "cka",
         "frechet", "mmd", "train-step", "mlp-step (neural-step)", "ddpm-ancestral", "ddim", "fm-euler", "fm-rk4", "sde-em"]
JAX_WORKLOADS = ["matmul-f32", "matmul-f64", "exp-f32", "silu-f32", "add-f32", "svd-f64", "eigh-f64"]


def log(msg):
    print(f"run_suite.py: {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------------------------
# peers: installation


def ensure(module, pip_args):
    """Imports `module`, installing it with pip when missing; False (with a message) when that fails."""
    try:
        importlib.import_module(module)
        return True
    except ImportError:
        pass
    for extra in pip_args:
        cmd = [sys.executable, "-m", "pip", "install", "--quiet"] + extra
        log(f"{module} is missing: {' '.join(cmd[3:])}")
        if subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
            importlib.invalidate_caches()
            try:
                importlib.import_module(module)
                return True
            except ImportError:
                pass
    log(f"{module} is not installed and pip could not install it: its comparisons are skipped.")
    return False


PIP = {
    "numpy": [["numpy"]],
    "scipy": [["scipy"]],
    "sklearn": [["scikit-learn"]],
    "threadpoolctl": [["threadpoolctl"]],
    "torch": [["torch", "--index-url", "https://download.pytorch.org/whl/cpu"], ["torch"]],
    "jax": [["jax"]],
}


# ----------------------------------------------------------------------------------------------------------------
# peers: the worker (one process per workload and round, every d in it)



def torch_denoiser(torch, d, hidden, blocks=3, freq=64):
    """Generative's MLPDenoiser in PyTorch: time embedding (sinusoidal 64 → Dense → SiLU → Dense), input Dense,
    residual blocks x + W₂·silu(W₁·LN(x)) of inner width 2·hidden, LayerNorm → SiLU → output Dense."""
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm, self.l1, self.l2 = nn.LayerNorm(hidden), nn.Linear(hidden, 2 * hidden), nn.Linear(2 * hidden, hidden)

        def forward(self, h):
            return h + self.l2(nn.functional.silu(self.l1(self.norm(h))))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.t1, self.t2 = nn.Linear(freq, hidden), nn.Linear(hidden, hidden)
            self.inp = nn.Linear(d, hidden)
            self.blocks = nn.ModuleList([Block() for _ in range(blocks)])
            self.norm, self.out = nn.LayerNorm(hidden), nn.Linear(hidden, d)
            half = freq // 2
            self.register_buffer("freqs", torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half))

        def forward(self, x, t):
            a = t[:, None] * self.freqs[None]
            e = self.t2(nn.functional.silu(self.t1(torch.cat([torch.cos(a), torch.sin(a)], dim=1))))
            h = self.inp(x) + e
            for b in self.blocks:
                h = b(h)
            return self.out(nn.functional.silu(self.norm(h)))

    return Net()


def torch_point(torch, w, d, a):
    """(callable, shape) for one workload at d in PyTorch eager."""
    g = torch.Generator().manual_seed(0)
    if w.startswith("matmul"):
        dt = torch.float32 if w.endswith("f32") else torch.float64
        x, y = torch.randn(d, d, generator=g, dtype=dt), torch.randn(d, d, generator=g, dtype=dt)
        return (lambda: x @ y), f"{d}x{d}"
    if w in ("exp-f32", "silu-f32", "add-f32"):
        x, y = torch.randn(d, d, generator=g), torch.randn(d, d, generator=g)
        f = {"exp-f32": lambda: torch.exp(x), "silu-f32": lambda: torch.nn.functional.silu(x), "add-f32": lambda: x + y}[w]
        return f, f"{d}x{d}"
    if w == "svd-f64":
        x = torch.randn(d, d, generator=g, dtype=torch.float64)
        return (lambda: torch.linalg.svd(x, full_matrices=False)), f"{d}x{d}"
    if w == "eigh-f64":
        x = torch.randn(d, d, generator=g, dtype=torch.float64)
        x = x + x.T
        return (lambda: torch.linalg.eigh(x)), f"{d}x{d}"
    hidden = max(256, d)
    torch.manual_seed(1)
    net = torch_denoiser(torch, d, hidden)
    betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
    abar = torch.cumprod(1 - betas, 0).float()
    if w == "train-step":
        b = a.batch
        opt = torch.optim.AdamW(net.parameters(), lr=1e-4, weight_decay=0.01)
        x0 = torch.randn(b, d, generator=g)

        def step():
            t = torch.randint(0, 1000, (b,), generator=g)
            eps = torch.randn(b, d, generator=g)
            ab = abar[t][:, None]
            xt = ab.sqrt() * x0 + (1 - ab).sqrt() * eps
            loss = torch.nn.functional.mse_loss(net(xt, t.float()), eps)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
        return step, f"batch {b}, hidden {hidden}"
    n, steps = a.sample_rows, a.sample_steps
    net.eval()

    def ev(x, tt):
        return net(x, torch.full((x.shape[0],), float(tt)))

    if w == "ddpm-ancestral":
        bs = torch.linspace(1e-4, 0.02, steps, dtype=torch.float64)
        ab_s = torch.cumprod(1 - bs, 0)

        @torch.no_grad()
        def run():
            x = torch.randn(n, d, generator=g)
            for t in reversed(range(steps)):
                eps = ev(x, t)
                ab, be = float(ab_s[t]), float(bs[t])
                x = (x - be / math.sqrt(1 - ab) * eps) / math.sqrt(1 - be)
                if t > 0:
                    x = x + math.sqrt(be) * torch.randn(n, d, generator=g)
            return x
    elif w == "ddim":
        ts = list(range(0, 1000, 1000 // steps))[::-1]

        @torch.no_grad()
        def run():
            x = torch.randn(n, d, generator=g)
            for i, t in enumerate(ts):
                eps = ev(x, t)
                ab = float(abar[t])
                ap = float(abar[ts[i + 1]]) if i + 1 < len(ts) else 1.0
                x0 = (x - math.sqrt(1 - ab) * eps) / math.sqrt(ab)
                x = math.sqrt(ap) * x0 + math.sqrt(1 - ap) * eps
            return x
    elif w in ("fm-euler", "fm-rk4"):
        h = 1.0 / steps

        @torch.no_grad()
        def run():
            x = torch.randn(n, d, generator=g)
            for k in range(steps):
                t = k * h
                if w == "fm-euler":
                    x = x + h * ev(x, 1000 * t)
                else:
                    k1 = ev(x, 1000 * t)
                    k2 = ev(x + 0.5 * h * k1, 1000 * (t + 0.5 * h))
                    k3 = ev(x + 0.5 * h * k2, 1000 * (t + 0.5 * h))
                    k4 = ev(x + h * k3, 1000 * (t + h))
                    x = x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            return x
    elif w == "sde-em":
        eps_t = 1e-3
        grid = [1 - (1 - eps_t) * k / steps for k in range(steps + 1)]

        @torch.no_grad()
        def run():
            x = torch.randn(n, d, generator=g)
            for k in range(steps):
                t, dt = grid[k], grid[k + 1] - grid[k]
                beta = 0.1 + 19.9 * t
                logm = -0.25 * t * t * 19.9 - 0.5 * t * 0.1
                std = math.sqrt(1 - math.exp(2 * logm))
                score = -ev(x, 1000 * t) / std
                drift = -0.5 * beta * x - beta * score
                x = x + drift * dt
                if k < steps - 1:
                    x = x + math.sqrt(beta * -dt) * torch.randn(n, d, generator=g)
            return x
    else:
        raise SystemExit(f"torch worker: no workload {w}")
    return run, f"{n} samples, {steps} steps, hidden {hidden}"


def jax_point(w, d):
    import jax
    import jax.numpy as jnp
    import numpy as np

    jax.config.update("jax_enable_x64", True)
    rng = np.random.default_rng(0)
    dt = np.float64 if w.endswith("f64") else np.float32
    x = jnp.asarray(rng.standard_normal((d, d)).astype(dt))
    y = jnp.asarray(rng.standard_normal((d, d)).astype(dt))
    if w == "eigh-f64":
        x = x + x.T
    f = {"matmul-f32": lambda a, b: a @ b, "matmul-f64": lambda a, b: a @ b, "exp-f32": lambda a, b: jnp.exp(a),
         "silu-f32": lambda a, b: jax.nn.silu(a), "add-f32": lambda a, b: a + b,
         "svd-f64": lambda a, b: jnp.linalg.svd(a, full_matrices=False), "eigh-f64": lambda a, b: jnp.linalg.eigh(a)}[w]
    jf = jax.jit(f)
    return (lambda: jax.block_until_ready(jf(x, y))), f"{d}x{d}"


def peer_worker(a):
    threads = a.threads
    results, meta = [], {}
    if a.peer_worker == "torch":
        import torch
        torch.set_num_threads(threads)
        meta = {"torch": torch.__version__, "threads": torch.get_num_threads()}
        make = lambda w, d: torch_point(torch, w, d, a)  # noqa: E731
    else:
        import jax
        meta = {"jax": jax.__version__, "backend": jax.default_backend()}
        make = jax_point
    for d in [int(s) for s in a.sizes.split(",")]:
        fn, shape = make(a.workload, d)
        r = time_call(fn, a.reps, a.warmup, a.min_rep_time, a.max_time, use_timeit=False)
        r.update(workload=a.workload, d=d, shape=shape, threads=threads, peakRSSKiB=max_rss_kib())
        results.append(r)
    meta.update(blas=threadpool_record(), environment=blas_env_vars())
    json.dump({"meta": meta, "results": results}, sys.stdout)


# ----------------------------------------------------------------------------------------------------------------
# driver


def suite_args(a):
    """`substrate-bench suite` settings shared by the Swift suite and the interleaved runs (so both measure the same thing)."""
    out = ["--threads", str(a.threads), "--reps", str(a.reps), "--max-time", str(a.max_time)]
    for flag, v in (("--rows", a.rows), ("--batch", a.batch), ("--sample-rows", a.sample_rows), ("--sample-steps", a.sample_steps)):
        out += [flag, str(v)]
    return out + (["--quick"] if a.quick else [])


def run_bench_suite(bench, a, workload, sizes, threads):
    """Our side of one interleaved run: `substrate-bench suite` for one workload (each point in a fresh worker)."""
    with tempfile.TemporaryDirectory(prefix="run-suite-") as tmp:
        cmd = [bench, "suite", "--workloads", workload, "--sizes", ",".join(map(str, sizes)), "--peak-n", "0",
               "--out", tmp] + suite_args(a)
        p = subprocess.run(cmd, env=thread_env(threads, xla=True), capture_output=True, text=True)
        if p.returncode != 0:
            log(f"substrate-bench suite --workloads {workload} failed ({p.returncode}): {p.stderr.strip()[-400:]}")
            return None
        with open(os.path.join(tmp, "results.json")) as f:
            return json.load(f)["results"]


def run_peer(kind, a, workload, sizes, threads):
    cmd = [sys.executable, os.path.abspath(__file__), "--peer-worker", kind, "--workload", workload,
           "--sizes", ",".join(map(str, sizes)), "--threads", str(threads), "--reps", str(a.reps), "--warmup", "1",
           "--min-rep-time", "0.005", "--max-time", str(a.max_time), "--batch", str(a.batch),
           "--sample-rows", str(a.sample_rows), "--sample-steps", str(a.sample_steps)]
    p = subprocess.run(cmd, env=thread_env(threads, xla=True), capture_output=True, text=True)
    if p.returncode != 0:
        log(f"{kind} worker for {workload} failed ({p.returncode}): {p.stderr.strip()[-400:]}")
        return None, {}
    rep = json.loads(p.stdout)
    return rep["results"], rep["meta"]


def interleaved_pairs(bench, a, peers, sizes, load_log):
    """Our `substrate-bench suite` and each peer, per workload and round, in rotating order. Returns pair rows and peer meta."""
    samples, meta = {}, {}
    workloads = [w for w in TORCH_WORKLOADS if any(w in ws for _, ws in peers)]
    for rnd in range(a.rounds):
        for w in workloads:
            for side in rotation(["ours"] + [k for k, ws in peers if w in ws], rnd):
                if side == "ours":
                    res = run_bench_suite(bench, a, w, sizes, a.threads)
                else:
                    res, m = run_peer(side, a, w, sizes, a.threads)
                    meta[side] = m or meta.get(side, {})
                for r in res or []:
                    samples.setdefault((side, w, r["d"]), []).append(r)
            load_log.append({"step": "torch/jax", "round": rnd + 1, "workload": w, "loadavg1": os.getloadavg()[0]})
            log(f"round {rnd + 1}/{a.rounds}: {w} done (load {os.getloadavg()[0]:.2f})")
    pairs = []
    for (side, w, d), rs in sorted(samples.items()):
        if side == "ours":
            continue
        ours = samples.get(("ours", w, d))
        if not ours:
            continue
        om, pm = statistics.median(r["median"] for r in ours), statistics.median(r["median"] for r in rs)
        label = {"torch": "PyTorch CPU eager", "jax": "JAX jit"}[side]
        pairs.append({"workload": w, "d": d, "dtype": "float64" if w.endswith("f64") or w in ("svd-f64", "eigh-f64") else "float32",
                      "threads": a.threads, "peer": label, "ours": om, "theirs": pm, "ratio": pm / om,
                      "rounds": len(rs), "ours_rounds": [r["median"] for r in ours], "theirs_rounds": [r["median"] for r in rs],
                      "ours_peakRSSKiB": max((r.get("peakRSSKiB") or 0) for r in ours) or None,
                      "theirs_peakRSSKiB": max((r.get("peakRSSKiB") or 0) for r in rs) or None,
                      "source": "run_suite.py (substrate-bench suite ↔ peer, interleaved)"})
    return pairs, meta


def blas_summary(results, found, unset, peer_meta, have_numpy):
    """The "blas" record of results.json: the variables as found at the start, whether --unset-coretype removed them,
    what every side then ran with (the core type each used), and the variables the sides saw."""
    sides = {"substrate": (results.get("environment") or {}).get("coreName", results.get("core"))}
    if have_numpy:
        try:
            sides["numpy"] = numpy_blas_info().get("core")
        except ImportError:
            pass
    for kind, meta in (peer_meta or {}).items():
        cores = [p.get("architecture") for p in meta.get("blas", []) if p.get("user_api") == "blas"]
        sides[kind] = ", ".join(c for c in cores if c) or None
    return {"found_at_start": found, "unset_coretype": unset, "env_of_every_side": blas_env_vars(), "core_by_side": sides}


def run_script(script, args, threads):
    cmd = [sys.executable, os.path.join(HERE, script)] + args
    log(f"running {' '.join(cmd[1:])}")
    p = subprocess.run(cmd, env=thread_env(threads, xla=True), stdout=subprocess.DEVNULL)
    if p.returncode != 0:
        log(f"{script} failed ({p.returncode}); its pairs are missing from the table")
    return p.returncode == 0


def load_json(path):
    """The JSON a step saved at path, or None when the step did not write it."""
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def rated_rows(path):
    """The rows with a ratio in a compare.py / compare_substrate.py report ([] when the report is missing)."""
    rep = load_json(path)
    return [r for r in rep["rows"] if r["ratio"] is not None] if rep is not None else []


def numpy_pairs(path, elementwise):
    pairs = []
    for r in rated_rows(path):
        n = r["n"]
        d = int(round(math.sqrt(n))) if elementwise else n
        suffix = "f32" if r["dtype"] == "float32" else "f64"
        pairs.append({"workload": f"{r['workload']}-{suffix}", "d": d, "dtype": r["dtype"], "threads": r["threads"],
                      "peer": "numpy", "ours": r["swift"]["median"], "theirs": r["numpy"]["median"], "ratio": r["ratio"],
                      "rounds": len(r["swift"]["round_medians"]), "ours_rounds": r["swift"]["round_medians"],
                      "theirs_rounds": r["numpy"]["round_medians"],
                      "source": "compare.py (substrate-bench linear ↔ numpy, interleaved)"})
    return pairs


def substrate_pairs(path):
    labels = {"sk-full": "sklearn PCA full", "sk-covariance_eigh": "sklearn PCA covariance_eigh",
              "sk-randomized": "sklearn PCA randomized", "sk-transform": "sklearn PCA.transform",
              "np-lift": "numpy lift", "sk-inverse_transform": "sklearn PCA.inverse_transform", "np-cka": "numpy CKA",
              "scipy-sqrtm-fd": "scipy sqrtm FD", "np-eigh-fd": "numpy eigh FD", "np-mmd": "numpy MMD² test"}
    return [{"workload": r["workload"], "d": r["d"], "dtype": r["dtype"], "threads": r["threads"],
             "peer": labels.get(r["peer"], r["peer"]), "ours": r["ours"]["median"], "theirs": r["theirs"]["median"],
             "ratio": r["ratio"], "rows": r["rows"], "rounds": len(r["ours"]["round_medians"]),
             "ours_rounds": r["ours"]["round_medians"], "theirs_rounds": r["theirs"]["round_medians"],
             "ours_peakExtraKiB": r["ours"].get("peakExtraKiB"), "theirs_peakExtraKiB": r["theirs"].get("peakExtraKiB"),
             "source": f"compare_substrate.py (substrate-bench substrate ↔ peer, interleaved, n = {r['rows']})"}
            for r in rated_rows(path)]


def torch_step_pairs(path):
    rows = load_json(path) or []
    return [{"workload": "mlp-step (neural-step)", "d": r["d"], "dtype": "float32", "threads": r["threads"],
             "peer": "PyTorch CPU eager", "ours": r["swift_ms"] / 1e3, "theirs": r["torch_ms"] / 1e3,
             "ratio": r["torch_ms"] / r["swift_ms"], "source": "torch_step.py (plain MLP, Adam, batch 256)"}
            for r in rows if r.get("torch_ms")]


NOISY = 1.5


def noisy(p):
    """True when either side's per-round medians differ by more than NOISY× (load moved during the pair)."""
    for k in ("ours_rounds", "theirs_rounds"):
        xs = [x for x in p.get(k) or [] if x]
        if len(xs) >= 2 and max(xs) / min(xs) > NOISY:
            return True
    return False


def render_peers(pairs, notes, sizes):
    out = ["", "## Peers (ratio = peer time / our time; > 1: ours is faster)", ""]
    out.append("Each ratio comes from one interleaved run of both sides on the same inputs (fresh processes, order "
               "rotating over rounds, median over rounds); the absolute times in this section come from those runs, not "
               "from the Swift-only table above.")
    out.append("")
    out.append(f"† = noisy pair: on one side the per-round medians differ by more than {NOISY}× (the machine's load moved "
               "between rounds); trust those ratios less, or rerun with more --rounds.")
    out.append("")

    def order(k):
        w = k[0]
        i = ORDER.index(w) if w in ORDER else len(ORDER)
        return (i, w, k[1], k[2])
    keys = sorted({(p["workload"], p["dtype"], p["peer"]) for p in pairs}, key=order)
    pairs = sorted(pairs, key=lambda p: (order((p["workload"], p["dtype"], p["peer"])), p["d"]))
    ds = sorted({p["d"] for p in pairs})
    out.append("| workload | dtype | peer | " + " | ".join(f"d={d}" for d in ds) + " |")
    out.append("|---|---|---|" + "|".join("---:" for _ in ds) + "|")
    for k in keys:
        cells = []
        for d in ds:
            m = [p for p in pairs if (p["workload"], p["dtype"], p["peer"]) == k and p["d"] == d]
            cells.append((f"{m[0]['ratio']:.2f}" + ("†" if noisy(m[0]) else "")) if m else "")
        out.append(f"| {k[0]} | {k[1]} | {k[2]} | " + " | ".join(cells) + " |")
    out += ["", "### Pairs", "", "| workload | d | dtype | threads | ours | peer | peer time | ratio | source |",
            "|---|---:|---|---:|---:|---|---:|---:|---|"]
    for p in pairs:
        out.append(f"| {p['workload']} | {p['d']} | {p['dtype']} | {p['threads']} | {fmt_time(p['ours'])} | {p['peer']} | "
                   f"{fmt_time(p['theirs'])} | {p['ratio']:.2f}{'†' if noisy(p) else ''} | {p['source']} |")
    if notes:
        out += ["", "### Peer notes", ""] + [f"- {n}" for n in notes]
    out.append("")
    return "\n".join(out)


def render_scale(scale):
    """The Markdown section of the scale figures (scale_commands.py's scale.json)."""
    lines = [f"\n## Scale ({scale['rows']} × {scale['dim']} float32, {scale['cores']} cores)\n",
             "| command | exit | seconds | peak RSS (MB) | result |", "| --- | --- | --- | --- | --- |"]
    for r in scale["runs"]:
        cmd = re.sub(r"\S*/data/", "", r["command"])
        lines.append(f"| `{cmd}` | {r['exit']} | {r['seconds']} | {r['peak_rss_mb']} | {r['result']} |")
    return "\n".join(lines) + "\n"


def write_results(out_dir, results, pairs, notes, sizes):
    """Writes results (with its "peers" set) to out_dir/results.json and replaces the Peers section of
    out_dir/results.md with render_peers(pairs, notes, sizes); returns (json path, md path, new Markdown)."""
    results_path = os.path.join(out_dir, "results.json")
    write_json(results_path, results)
    md_path = os.path.join(out_dir, "results.md")
    with open(md_path) as f:
        md = f.read()
    marker = "\n## Peers ("
    if marker in md:
        md = md[:md.index(marker)]
    md = md.rstrip("\n") + "\n" + render_peers(pairs, notes, sizes)
    with open(md_path, "w") as f:
        f.write(md)
    return results_path, md_path, md


def rerender(a):
    results_path, peers_dir = os.path.join(a.out_dir, "results.json"), os.path.join(a.out_dir, "peers")
    with open(results_path) as f:
        results = json.load(f)
    old = results.get("peers", {})
    pairs = numpy_pairs(os.path.join(peers_dir, "numpy-linalg", "compare.json"), elementwise=False)
    pairs += numpy_pairs(os.path.join(peers_dir, "numpy-elementwise", "compare.json"), elementwise=True)
    pairs += substrate_pairs(os.path.join(peers_dir, "substrate", "substrate.json"))
    pairs += torch_step_pairs(os.path.join(peers_dir, "torch_step.json"))
    pairs += [p for p in old.get("pairs", []) if p.get("source", "").startswith("run_suite.py")]
    old["pairs"] = pairs
    results["peers"] = old
    results_path, md_path, _ = write_results(a.out_dir, results, pairs, old.get("notes", []), old.get("sizes", []))
    log(f"rewrote {results_path} and {md_path} from the saved step outputs ({len(pairs)} pairs)")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--peer-worker", choices=["torch", "jax"], help=argparse.SUPPRESS)
    p.add_argument("--workload", help=argparse.SUPPRESS)
    p.add_argument("--warmup", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--min-rep-time", type=float, default=0.005, help=argparse.SUPPRESS)
    p.add_argument("--sizes", default=None, help="comma list of d (default 64,128,256,512,1024)")
    p.add_argument("--threads", type=int, default=1, help="BLAS / peer threads for every step (default 1)")
    p.add_argument("--rounds", type=int, default=2, help="interleaved rounds (median over rounds)")
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--max-time", type=float, default=2.0, help="seconds per point and round (at least 3 reps)")
    p.add_argument("--rows", type=int, default=10_000, help="substrate-bench suite --rows (fit/project/cka/frechet)")
    p.add_argument("--batch", type=int, default=256, help="training-step batch")
    p.add_argument("--sample-rows", type=int, default=64)
    p.add_argument("--sample-steps", type=int, default=20)
    p.add_argument("--substrate-rounds", type=int, default=1,
                   help="rounds of compare_substrate.py (its fits at n = 100 000 are slow; default 1)")
    p.add_argument("--substrate-dtypes", default="float64", help="dtypes of compare_substrate.py (default float64)")
    p.add_argument("--skip", action="append", default=[],
                   help="steps to skip, a comma list; may be repeated (--skip jax --skip torch): " + ", ".join(STEPS))
    p.add_argument("--torch-step", action="store_true", help="also run torch_step.py (substrate-bench neural-step vs PyTorch)")
    p.add_argument("--scale", action="store_true", help="also run scale_commands.py --peers (the 10⁶-row figures)")
    p.add_argument("--scale-rows", type=int, default=1_000_000, help="rows of the scale section's files")
    p.add_argument("--scale-steps", type=int, default=100, help="steps of the scale section's trajectory")
    p.add_argument("--quick", action="store_true", help="smoke test: d = 64 and 256, one round, short budgets")
    p.add_argument("--bench", default=os.environ.get("BENCH_BIN"),
                   help="substrate-bench binary (default: env BENCH_BIN, else beside --vst, else swift build)")
    p.add_argument("--vst", default=os.environ.get("VST_BIN"),
                   help="vst binary for the demo workload and the scale step (default: env VST_BIN, else beside substrate-bench)")
    p.add_argument("--scratch-path", default=os.environ.get("SWIFT_SCRATCH_PATH"))
    p.add_argument("--build", action="store_true", help="(re)build substrate-bench first")
    p.add_argument("--out-dir", default=os.path.join(REPO, "bench-results"))
    p.add_argument("--baseline", help="pass --baseline to substrate-bench suite (regression guard on the Swift suite)")
    p.add_argument("--unset-coretype", action="store_true",
                   help="unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for every side alike (benchmarks only; tests and "
                        "CI never change them)")
    p.add_argument("--rerender", action="store_true",
                   help="measure nothing: rebuild the peer pairs from bench-results/peers/* and the PyTorch/JAX pairs "
                        "already in results.json, and rewrite results.json and results.md")
    a = p.parse_args()
    apply_unset_flag()

    if a.peer_worker:
        a.sizes = a.sizes or ",".join(map(str, LADDER))
        peer_worker(a)
        return
    if a.quick:
        a.sizes = a.sizes or "64,256"
        a.rounds, a.reps, a.max_time = 1, 3, 0.5
        a.rows, a.batch, a.sample_rows, a.sample_steps = 2000, 64, 16, 4
    sizes = [int(s) for s in (a.sizes or ",".join(map(str, LADDER))).split(",")]
    skip = {s.strip() for item in a.skip for s in item.split(",") if s.strip()}
    if not a.torch_step:
        skip.add("torch-step")
    if not a.scale:
        skip.add("scale")
    if a.rerender:
        rerender(a)
        return
    started = time.time()
    found = unset_coretype(a.unset_coretype)
    bench = find_bench(a, "run_suite.py", absolute=True)
    vst = os.path.abspath(a.vst) if a.vst else os.path.join(os.path.dirname(bench), "vst")
    os.makedirs(a.out_dir, exist_ok=True)
    peers_dir = os.path.join(a.out_dir, "peers")
    os.makedirs(peers_dir, exist_ok=True)
    load_log, notes = [{"step": "start", "loadavg1": os.getloadavg()[0]}], []
    log(f"substrate-bench = {bench}; OPENBLAS_CORETYPE/L2_SIZE {found} "
        f"{'unset for every side' if a.unset_coretype else 'left as found'}; d = {sizes}; {a.threads} thread(s); {a.rounds} round(s); load {os.getloadavg()}")

    # 1. The Swift-only suite.
    results_path = os.path.join(a.out_dir, "results.json")
    if "swift" not in skip:
        cmd = [bench, "suite", "--sizes", ",".join(map(str, sizes)), "--out", a.out_dir, "--vst", vst] + suite_args(a)
        if a.baseline:
            cmd += ["--baseline", a.baseline]
        log(f"running {' '.join(cmd[1:])}")
        rc = subprocess.run(cmd, env=thread_env(a.threads, xla=True)).returncode
        if rc == 1 and a.baseline:
            notes.append(f"the regression guard failed against {a.baseline} (see results.md)")
        elif rc != 0:
            raise SystemExit(f"run_suite.py: substrate-bench suite failed ({rc})")
        load_log.append({"step": "swift", "loadavg1": os.getloadavg()[0]})
    if not os.path.exists(results_path):
        raise SystemExit(f"run_suite.py: no {results_path} (run without --skip swift first)")

    pairs = []
    have_numpy = ensure("numpy", PIP["numpy"])
    # 2. numpy (compare.py): matmul/svd/eigh on the ladder, element-wise over d² elements.
    if "numpy" not in skip and have_numpy:
        common = ["--threads", str(a.threads), "--rounds", str(a.rounds), "--reps", str(a.reps), "--max-time", str(a.max_time),
                  "--bench", bench]
        d1 = os.path.join(peers_dir, "numpy-linalg")
        if run_script("compare.py", ["--workloads", "matmul,svd,eigh", "--sizes", ",".join(map(str, sizes)), "--out-dir", d1] + common, a.threads):
            pairs += numpy_pairs(os.path.join(d1, "compare.json"), elementwise=False)
        d2 = os.path.join(peers_dir, "numpy-elementwise")
        if run_script("compare.py", ["--workloads", "exp,silu,add", "--dtypes", "float32", "--sizes",
                                     ",".join(str(d * d) for d in sizes), "--out-dir", d2] + common, a.threads):
            pairs += numpy_pairs(os.path.join(d2, "compare.json"), elementwise=True)
        load_log.append({"step": "numpy", "loadavg1": os.getloadavg()[0]})
    elif "numpy" not in skip:
        notes.append("numpy: not installed and not installable; its pairs are skipped")

    # 3. scikit-learn / numpy / scipy (compare_substrate.py).
    if "substrate" not in skip:
        ok = all(ensure(m, PIP[m]) for m in ("numpy", "scipy", "sklearn", "threadpoolctl"))
        if not ok:
            notes.append("substrate peers: scikit-learn/scipy not installable; skipped")
        else:
            d3 = os.path.join(peers_dir, "substrate")
            args = ["--threads", str(a.threads), "--rounds", str(a.substrate_rounds), "--bench", bench, "--out-dir", d3,
                    "--memory-rows", "", "--dtypes", a.substrate_dtypes, "--sizes", ",".join(map(str, sizes))]
            args += ["--quick"] if a.quick else []
            if run_script("compare_substrate.py", args, a.threads):
                pairs += substrate_pairs(os.path.join(d3, "substrate.json"))
            load_log.append({"step": "substrate", "loadavg1": os.getloadavg()[0]})

    # 4./5. PyTorch and JAX, interleaved here with substrate-bench suite.
    peers = []
    if "torch" not in skip:
        if ensure("torch", PIP["torch"]):
            peers.append(("torch", TORCH_WORKLOADS))
        else:
            notes.append("PyTorch: not installed and pip could not install it; skipped")
    if "jax" not in skip:
        if ensure("jax", PIP["jax"]):
            peers.append(("jax", JAX_WORKLOADS))
        else:
            notes.append("JAX: not installed and pip could not install it; skipped")
    peer_meta = {}
    if peers:
        tp, peer_meta = interleaved_pairs(bench, a, peers, sizes, load_log)
        pairs += tp
    if "torch" in dict(peers):
        notes.append("PyTorch train-step: the same network as MLPDenoiser (time embedding 64→h→h, input Dense, 3 residual "
                     "blocks of inner width 2h, LayerNorm/SiLU/output), h = max(256, d), DDPM ε-MSE, clip_grad_norm_(1), "
                     "AdamW(lr 1e-4, wd 0.01). Samplers: the same network and steps; the update arithmetic follows each "
                     "sampler (DDPM ancestral with T = steps, DDIM η = 0 over T = 1000, flow-matching Euler/RK4, VP "
                     "Euler–Maruyama) — per-evaluation cost is the network, so the ratio compares the engines.")
    if "jax" in dict(peers):
        notes.append("JAX: jax.jit of the operation, timed with block_until_ready, float64 via jax_enable_x64; the first "
                     "(compiling) call is the warm-up.")

    # 6. torch_step.py (optional).
    if "torch-step" not in skip:
        j = os.path.join(peers_dir, "torch_step.json")
        if run_script("torch_step.py", ["--dims", ",".join(map(str, sizes)), "--threads", str(a.threads), "--rounds",
                                        str(a.rounds), "--json-out", j, "--bench", bench], a.threads):
            pairs += torch_step_pairs(j)

    # 7. Scale figures (optional): the analysis commands on 10⁶ rows beside numpy/scikit-learn.
    scale = None
    if "scale" not in skip:
        d7 = os.path.join(peers_dir, "scale")
        traj_rows = max(100, min(4000, a.scale_rows // 250))
        os.environ["VST_BIN"] = vst
        if run_script("scale_commands.py", ["--out", d7, "--rows", str(a.scale_rows), "--steps", str(a.scale_steps),
                                            "--traj-rows", str(traj_rows), "--peers", "--clean"], a.threads):
            scale = load_json(os.path.join(d7, "scale.json"))
        load_log.append({"step": "scale", "loadavg1": os.getloadavg()[0]})

    # Merge.
    with open(results_path) as f:
        results = json.load(f)
    if scale is not None:
        results["scale"] = scale
    results["blas"] = blas_summary(results, found, a.unset_coretype, peer_meta, have_numpy)
    loads = [x["loadavg1"] for x in load_log] + [os.getloadavg()[0]]
    notes.append(f"1-minute load average during the run: min {min(loads):.2f}, median {statistics.median(loads):.2f}, "
                 f"max {max(loads):.2f} on {os.cpu_count()} cores (other processes share this machine; ratios from "
                 f"interleaved runs are what stays meaningful under load).")
    results["peers"] = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "threads": a.threads,
                        "rounds": a.rounds, "sizes": sizes, "meta": peer_meta, "notes": notes, "load": load_log,
                        "pairs": pairs}
    results_path, md_path, md = write_results(a.out_dir, results, pairs, notes, sizes)
    if scale is not None:
        md += render_scale(scale)
        with open(md_path, "w") as f:
            f.write(md)
    print(md)
    log(f"wrote {results_path} and {md_path} ({time.time() - started:.0f} s)")


if __name__ == "__main__":
    main()
