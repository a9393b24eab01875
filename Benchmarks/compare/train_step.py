#!/usr/bin/env python3
"""The families' training step (issue #17 item 2) in Substrate, PyTorch eager and JAX jit, interleaved, with the
Swift step's time split into GEMM and everything else. Writes Benchmarks/results/train-step.md and .json.

Step (all three sides): Generative's MLPDenoiser with hidden H = max(256, d) — sinusoidal time features (64,
[cos, sin], max period 10⁴) → Dense(64, H) → SiLU → Dense(H, H); Dense(d, H)(x_t) + that; 3 residual blocks
h + W₂·silu(W₁·LayerNorm(h)) of inner width 2H; LayerNorm → SiLU → Dense(H, d) — batch 256, the DDPM ε loss
(t uniform in 0…999 and ε ~ N(0, I) drawn per step, linear β 1e-4…0.02 over 1000 steps, x_t = √ᾱ·x₀ + √(1−ᾱ)·ε,
mean squared error against ε), gradients, global-norm clipping at 1 (scale max/(‖g‖ + 1e-6) when above, as
torch.nn.utils.clip_grad_norm_), AdamW (lr 1e-4, β 0.9/0.999, ε 1e-8, λ 0.01, bias-corrected, decoupled decay).
  swift  `substrate-bench train-step --json` (Benchmarks/Sources/SubstrateBench/TrainStep.swift): steps/s, and on
         their own the step's 22 GEMM calls on preallocated buffers, the clipping and the AdamW update.
  torch  run_suite.torch_denoiser, eager (torch.set_num_threads).
  jax    the same network as a pytree of arrays; one jax.jit'd function does the sampling of t and ε, the loss, the
         gradient (jax.grad), the clipping and AdamW, with the parameters and moments donated; timed with
         jax.block_until_ready on the new parameters. Threads: XLA_FLAGS (Eigen multi-threading and intra-op
         parallelism = the count).
Every side runs as a fresh process pinned with taskset (1 thread: core 0; 2 threads: cores 0,1) with
OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS = the count; the order of the sides rotates from round to
round; each process reports the median over its repetitions (benchlib.time_call / BenchTiming: 3 warm-ups,
7 repetitions of ≥ seconds/7) and the table shows the median over rounds. --unset-coretype unsets OPENBLAS_CORETYPE
and OPENBLAS_L2_SIZE for every side alike (benchmark runs only; tests and CI never change them). The 1-minute load
average is recorded before every process.

Usage:
    .venv-bench/bin/python Benchmarks/compare/train_step.py --unset-coretype        # d = 64, 256, 1024; 1 and 2 threads
    .venv-bench/bin/python Benchmarks/compare/train_step.py --dims 64 --threads 1 --rounds 1 --seconds 1 --no-write
    python3 Benchmarks/compare/train_step.py --worker jax --dims 64 --threads 1     # one side alone (JSON)
"""

import argparse
import datetime
import json
import math
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from benchlib import (REPO, apply_unset_flag, blas_env_vars, find_bench, machine_info, rotation,  # noqa: E402
                      thread_env, threadpool_record, time_call, unset_coretype, write_json)

BATCH, FREQ, BLOCKS, T = 256, 64, 3, 1000
LR, WD, B1, B2, EPS = 1e-4, 0.01, 0.9, 0.999, 1e-8


def torch_worker(dims, threads, seconds):
    import torch
    from run_suite import torch_denoiser

    torch.set_num_threads(threads)
    torch.manual_seed(1)
    g = torch.Generator().manual_seed(0)
    betas = torch.linspace(1e-4, 0.02, T, dtype=torch.float64)
    abar = torch.cumprod(1 - betas, 0).float()
    rows = []
    for d in dims:
        hidden = max(256, d)
        net = torch_denoiser(torch, d, hidden, blocks=BLOCKS, freq=FREQ)
        opt = torch.optim.AdamW(net.parameters(), lr=LR, betas=(B1, B2), eps=EPS, weight_decay=WD)
        x0 = torch.randn(BATCH, d, generator=g)

        def step():
            t = torch.randint(0, T, (BATCH,), generator=g)
            eps = torch.randn(BATCH, d, generator=g)
            ab = abar[t][:, None]
            xt = ab.sqrt() * x0 + (1 - ab).sqrt() * eps
            loss = torch.nn.functional.mse_loss(net(xt, t.float()), eps)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()

        r = time_call(step, reps=7, warmup=3, min_rep_time=seconds / 7, max_time=seconds, use_timeit=False)
        rows.append({"d": d, "threads": threads, "step_ms": r["median"] * 1e3})
    return {"rows": rows, "version": torch.__version__, "blas": threadpool_record(), "environment": blas_env_vars()}


def jax_worker(dims, threads, seconds):
    import jax
    import jax.numpy as jnp
    import numpy as np

    f32 = jnp.float32
    tree_map = jax.tree_util.tree_map
    betas = np.linspace(1e-4, 0.02, T, dtype=np.float64)
    abar = jnp.asarray(np.cumprod(1 - betas).astype(np.float32))
    half = FREQ // 2
    freqs = jnp.asarray(np.exp(-math.log(10000.0) * np.arange(half, dtype=np.float64) / half).astype(np.float32))

    def dense(key, k, n):
        kw, kb = jax.random.split(key)
        bound = 1 / math.sqrt(k)   # PyTorch's default initialisation
        return {"w": jax.random.uniform(kw, (k, n), f32, -bound, bound), "b": jax.random.uniform(kb, (n,), f32, -bound, bound)}

    def norm(n):
        return {"g": jnp.ones((n,), f32), "b": jnp.zeros((n,), f32)}

    def lin(p, x):
        return x @ p["w"] + p["b"]

    def layer_norm(p, h):
        mu = jnp.mean(h, axis=-1, keepdims=True)
        var = jnp.mean(jnp.square(h - mu), axis=-1, keepdims=True)
        return (h - mu) * jax.lax.rsqrt(var + 1e-5) * p["g"] + p["b"]

    def net(p, x, t):
        a = t[:, None] * freqs[None]
        e = lin(p["t2"], jax.nn.silu(lin(p["t1"], jnp.concatenate([jnp.cos(a), jnp.sin(a)], axis=1))))
        h = lin(p["inp"], x) + e
        for b in p["blocks"]:
            h = h + lin(b["l2"], jax.nn.silu(lin(b["l1"], layer_norm(b["norm"], h))))
        return lin(p["out"], jax.nn.silu(layer_norm(p["norm"], h)))

    def loss_fn(p, x0, t, eps):
        ab = abar[t][:, None]
        xt = jnp.sqrt(ab) * x0 + jnp.sqrt(1 - ab) * eps
        return jnp.mean(jnp.square(net(p, xt, t.astype(f32)) - eps))

    def step(p, m, v, count, key, x0):
        key, kt, ke = jax.random.split(key, 3)
        t = jax.random.randint(kt, (x0.shape[0],), 0, T)
        eps = jax.random.normal(ke, x0.shape, f32)
        grads = jax.grad(loss_fn)(p, x0, t, eps)
        total = jnp.sqrt(sum(jnp.sum(jnp.square(x)) for x in jax.tree_util.tree_leaves(grads)))
        scale = jnp.minimum(1.0, 1.0 / (total + 1e-6))
        grads = tree_map(lambda x: x * scale, grads)
        count = count + 1
        c1, c2 = 1 - B1 ** count, 1 - B2 ** count
        m = tree_map(lambda m, g: B1 * m + (1 - B1) * g, m, grads)
        v = tree_map(lambda v, g: B2 * v + (1 - B2) * g * g, v, grads)
        p = tree_map(lambda p, m, v: p * (1 - LR * WD) - LR * (m / c1) / (jnp.sqrt(v / c2) + EPS), p, m, v)
        return p, m, v, count, key

    jstep = jax.jit(step, donate_argnums=(0, 1, 2))
    rows = []
    for d in dims:
        hidden = max(256, d)
        keys = iter(jax.random.split(jax.random.PRNGKey(1), 16))
        p = {"t1": dense(next(keys), FREQ, hidden), "t2": dense(next(keys), hidden, hidden), "inp": dense(next(keys), d, hidden),
             "blocks": [{"norm": norm(hidden), "l1": dense(next(keys), hidden, 2 * hidden), "l2": dense(next(keys), 2 * hidden, hidden)}
                        for _ in range(BLOCKS)],
             "norm": norm(hidden), "out": dense(next(keys), hidden, d)}
        state = [p, tree_map(jnp.zeros_like, p), tree_map(jnp.zeros_like, p), jnp.asarray(0, jnp.int32),
                 jax.random.PRNGKey(3), jax.random.normal(jax.random.PRNGKey(2), (BATCH, d), f32)]

        def call():
            p, m, v, c, k = jstep(*state)
            state[:5] = [p, m, v, c, k]
            jax.block_until_ready(p)

        r = time_call(call, reps=7, warmup=3, min_rep_time=seconds / 7, max_time=seconds, use_timeit=False)
        rows.append({"d": d, "threads": threads, "step_ms": r["median"] * 1e3})
    return {"rows": rows, "version": jax.__version__, "backend": jax.default_backend(),
            "xla_flags": os.environ.get("XLA_FLAGS", ""), "environment": blas_env_vars()}


def pin(threads):
    cores = os.cpu_count() or 1
    return ["taskset", "-c", ",".join(str(c) for c in range(min(threads, cores)))]


def run_before(binary, dims, threads, seconds, env):
    """The step of an earlier substrate-bench that has no `train-step` command: its suite's `train-step` workload
    (the same step and timing loop), in-process, read back from results.json."""
    import tempfile
    out = tempfile.mkdtemp(prefix="train-step-before-")
    cmd = [binary, "suite", "--workloads", "train-step", "--sizes", ",".join(map(str, dims)), "--threads", str(threads),
           "--in-process", "--peak-n", "0", "--warmup", "3", "--max-time", str(seconds), "--out", out]
    p = subprocess.run(pin(threads) + cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise SystemExit(f"train_step.py: the before side failed ({p.returncode}): {p.stderr.strip()[-2000:]}")
    with open(os.path.join(out, "results.json")) as f:
        res = json.load(f)
    rows = [{"d": r["d"], "threads": threads, "step_ms": r["median"] * 1e3} for r in res["results"] if r["workload"] == "train-step"]
    return {"rows": rows, "environment": {"coreName": res.get("core")}}


def run_side(side, binary, dims, threads, seconds):
    env = thread_env(threads, xla=(side == "jax"))
    if side == "before":
        help_text = subprocess.run([binary, "--help"], capture_output=True, text=True).stdout
        if "train-step" not in help_text:
            return run_before(binary, dims, threads, seconds, env)
    if side in ("swift", "before"):
        cmd = [binary, "train-step", "--json", "--threads", str(threads), "--seconds", str(seconds),
               "--dims", ",".join(map(str, dims))]
    else:
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", side, "--threads", str(threads),
               "--seconds", str(seconds), "--dims", ",".join(map(str, dims))]
    p = subprocess.run(pin(threads) + cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise SystemExit(f"train_step.py: the {side} side failed ({p.returncode}): {p.stderr.strip()[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "n/a"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dims", default="64,256,1024")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=3.0, help="measuring time per point and side")
    ap.add_argument("--sides", default="swift,torch,jax")
    ap.add_argument("--bench", default=os.environ.get("BENCH_BIN"), help="substrate-bench binary (default: env BENCH_BIN, else the build's)")
    ap.add_argument("--before", help="a substrate-bench built from the code before the change: measured as a fourth side, "
                    "interleaved, and shown as 'before' (steps/s, GEMM ms) beside the current build")
    ap.add_argument("--scratch-path", default=os.environ.get("SWIFT_SCRATCH_PATH"))
    ap.add_argument("--unset-coretype", action="store_true",
                    help="unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for every side (benchmark runs only)")
    ap.add_argument("--worker", choices=["torch", "jax"])
    ap.add_argument("--out", default=os.path.join(REPO, "Benchmarks", "results", "train-step"),
                    help="path stem of the .md and .json written")
    ap.add_argument("--no-write", action="store_true", help="print the table only")
    a = ap.parse_args()
    apply_unset_flag()
    found = unset_coretype(a.unset_coretype)
    dims = [int(s) for s in a.dims.split(",")]
    if a.worker:
        rep = (torch_worker if a.worker == "torch" else jax_worker)(dims, int(a.threads.split(",")[0]), a.seconds)
        print(json.dumps(rep))
        return
    sides = a.sides.split(",")
    binary = find_bench(a, "train_step.py") if "swift" in sides else None
    if a.before:
        if not os.path.exists(a.before):
            raise SystemExit(f"train_step.py: --before binary {a.before} does not exist")
        sides.append("before")
    started = datetime.datetime.now().isoformat(timespec="seconds")
    runs, meta, loads = {}, {}, []
    for n in [int(s) for s in a.threads.split(",")]:
        for r in range(a.rounds):
            for side in rotation(sides, r):
                loads.append(os.getloadavg()[0])
                rep = run_side(side, a.before if side == "before" else binary, dims, n, a.seconds)
                rows = rep.pop("swift", None) or rep.pop("rows")
                meta[side] = rep
                for row in rows:
                    runs.setdefault((n, row["d"], side), []).append(row)
                print(f"train_step.py: threads {n} round {r + 1} {side} done (load {loads[-1]:.2f})", file=sys.stderr, flush=True)
                # The raw runs so far, so an interrupted run loses nothing.
                write_json(a.out + ".raw.json", [{"threads": k[0], "d": k[1], "side": k[2], "runs": v} for k, v in runs.items()])
    loads.append(os.getloadavg()[0])

    def med(n, d, side, key="step_ms"):
        vals = [x[key] for x in runs.get((n, d, side), []) if x.get(key) is not None]
        return statistics.median(vals) if vals else None

    core = (meta.get("swift") or {}).get("environment", {}).get("coreName", "n/a")
    table, out_rows = [], []
    before = "before" in sides
    table.append("| threads | d | Substrate steps/s | torch eager | JAX jit | vs torch | vs JAX | Substrate ms | GEMM ms | beyond GEMM | clip ms | AdamW ms | GEMM GFLOP/s |"
                 + (" before: steps/s | before: beyond GEMM |" if before else ""))
    table.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if before else ""))
    for n in sorted({k[0] for k in runs}):
        for d in dims:
            s, t, j = med(n, d, "swift"), med(n, d, "torch"), med(n, d, "jax")
            g = med(n, d, "swift", "gemm_ms")
            bs, bg = med(n, d, "before"), med(n, d, "before", "gemm_ms")
            row = {"threads": n, "d": d, "swift_ms": s, "torch_ms": t, "jax_ms": j, "gemm_ms": g, "before_ms": bs, "before_gemm_ms": bg,
                   "clip_ms": med(n, d, "swift", "clip_ms"), "adamw_ms": med(n, d, "swift", "adamw_ms"),
                   "gemm_gflops": med(n, d, "swift", "gemm_gflops"),
                   "rounds": {side: [x["step_ms"] for x in runs.get((n, d, side), [])] for side in sides}}
            out_rows.append(row)
            sps = lambda ms: f"{1e3 / ms:.1f}" if ms else "n/a"  # noqa: E731
            beyond = f"{s - g:.2f} ms ({(s - g) / s * 100:.0f} %)" if s and g else "n/a"
            extra = ""
            if before:
                extra = f" {sps(bs)} | " + (f"{bs - bg:.2f} ms |" if bg else (f"{bs - g:.2f} ms |" if g else "n/a |"))
            table.append((f"| {n} | {d} | {sps(s)} | {sps(t)} | {sps(j)} | {ratio(t, s)} | {ratio(j, s)} | "
                          f"{s:.2f} | {g:.2f} | {beyond} | {row['clip_ms']:.3f} | {row['adamw_ms']:.3f} | {row['gemm_gflops']:.0f} |"
                          if s else f"| {n} | {d} | n/a | {sps(t)} | {sps(j)} | | | | | | | | |") + extra)
    mi = machine_info()
    head = [f"# Training step: Substrate vs PyTorch eager vs JAX jit", "",
            f"{mi.get('cpu', '?')}, {mi.get('cores', '?')} cores; {started}; {a.rounds} interleaved rounds, "
            f"{a.seconds:g} s per point and side; 1-minute load average min {min(loads):.2f}, median "
            f"{statistics.median(loads):.2f}, max {max(loads):.2f}.", "",
            f"OpenBLAS core type (Substrate): {core}; OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE as found: "
            f"{found['OPENBLAS_CORETYPE']} / {found['OPENBLAS_L2_SIZE']}, "
            f"{'unset for every side' if a.unset_coretype else 'left as found'}. "
            f"torch {meta.get('torch', {}).get('version', 'n/a')}, jax {meta.get('jax', {}).get('version', 'n/a')}.", "",
            "Ratios are steps/s of Substrate over the peer's (> 1: Substrate is faster). GEMM ms: the step's 22 GEMM "
            "calls issued alone on preallocated buffers; beyond GEMM = step − GEMM (element-wise kernels, tape, "
            "clipping, AdamW); clip and AdamW also timed alone.", ""]
    md = "\n".join(head + table) + "\n"
    print(md)
    if not a.no_write:
        with open(a.out + ".md", "w") as f:
            f.write(md)
        write_json(a.out + ".json", {"date": started, "machine": mi, "core": core, "variables_found": found,
                                     "unset_coretype": a.unset_coretype, "rounds": a.rounds, "seconds": a.seconds,
                                     "load": loads, "meta": meta, "rows": out_rows})


if __name__ == "__main__":
    main()
