#!/usr/bin/env python3
"""The MLP-denoiser training step of issue #3 in PyTorch (CPU, eager) beside the same step in Swift (Neural).

Step: x [256, d] concatenated with a 128-dim sinusoidal embedding of t ([cos, sin], max period 10^4), an MLP
Linear(d+128, H)-SiLU-Linear(H, H)-SiLU-Linear(H, H)-SiLU-Linear(H, d) with H = max(256, d), MSE against a fixed
noise target, zero_grad, backward, Adam(lr 1e-4). The Swift side is `substrate-bench neural-step`
(Benchmarks/Sources/SubstrateBench/NeuralStep.swift); both time with the same loop (benchlib.time_call / BenchTiming:
3 warm-up steps, 7 repetitions of at least seconds/7, median per step).

For each thread count (1 and 2 by default) both sides run as fresh processes (OPENBLAS_NUM_THREADS and
torch.set_num_threads / OMP_NUM_THREADS set to the count), alternating which goes first over the rounds; each
reports the median time per step, and the table shows the median over rounds, with Swift/PyTorch ratios of
steps/s (> 1 means Swift is faster) and Swift's time beyond its gemm calls. The JSON records each side's BLAS
(Swift: its OpenBLAS core type; PyTorch: threadpoolctl's view of its BLAS) and the BLAS variables as found;
--unset-coretype unsets OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for both sides.

torch is installed from PyPI if missing (`pip install torch --index-url https://download.pytorch.org/whl/cpu`,
then plain `pip install torch`); if that fails the PyTorch column is skipped with a message.

Usage (from anywhere):
    python3 Benchmarks/compare/torch_step.py                      # d = 64…1024, 1 and 2 threads, 2 rounds
    python3 Benchmarks/compare/torch_step.py --dims 64,256 --threads 1 --rounds 1 --seconds 1
    BENCH_BIN=/path/to/substrate-bench python3 Benchmarks/compare/torch_step.py
    python3 Benchmarks/compare/torch_step.py --torch-worker --dims 64 --threads 1   # the PyTorch side alone
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (apply_unset_flag, blas_env_vars, find_bench, rotation, thread_env, threadpool_record,  # noqa: E402
                      time_call, unset_coretype, write_json)

BATCH, TIME_DIM = 256, 128


def torch_worker(dims, threads, seconds):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    rows = []
    for d in dims:
        hidden = max(256, d)
        net = torch.nn.Sequential(
            torch.nn.Linear(d + TIME_DIM, hidden), torch.nn.SiLU(),
            torch.nn.Linear(hidden, hidden), torch.nn.SiLU(),
            torch.nn.Linear(hidden, hidden), torch.nn.SiLU(),
            torch.nn.Linear(hidden, d))
        opt = torch.optim.Adam(net.parameters(), lr=1e-4)
        x = torch.randn(BATCH, d)
        t = torch.rand(BATCH) * 1000
        target = torch.randn(BATCH, d)
        half = TIME_DIM // 2
        freqs = torch.exp(-torch.log(torch.tensor(10000.0)) * torch.arange(half, dtype=torch.float32) / half)

        def step():
            with torch.no_grad():
                args = t[:, None] * freqs[None]
                emb = torch.cat([torch.cos(args), torch.sin(args)], dim=1)
            inp = torch.cat([x, emb], dim=1)
            loss = torch.nn.functional.mse_loss(net(inp), target)
            opt.zero_grad()
            loss.backward()
            opt.step()

        ms = time_call(step, reps=7, warmup=3, min_rep_time=seconds / 7, max_time=seconds, use_timeit=False)["median"] * 1e3
        rows.append({"d": d, "threads": threads, "step_ms": ms, "steps_per_second": 1e3 / ms})
    print(json.dumps({"torch": rows, "version": torch.__version__, "mkl": torch.backends.mkl.is_available(),
                      "blas": threadpool_record(), "environment": blas_env_vars()}))


def ensure_torch():
    try:
        import torch  # noqa: F401
        return True
    except ImportError:
        pass
    for cmd in ([sys.executable, "-m", "pip", "install", "torch", "--index-url", "https://download.pytorch.org/whl/cpu"],
                [sys.executable, "-m", "pip", "install", "torch"]):
        print("torch_step.py: installing torch:", " ".join(cmd[3:]), file=sys.stderr)
        if subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
            try:
                import torch  # noqa: F401,F811
                return True
            except ImportError:
                pass
    print("torch_step.py: PyTorch is not installed and could not be installed; the PyTorch column is skipped.", file=sys.stderr)
    return False


def run_json(cmd, threads):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=thread_env(threads)).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dims", default="64,128,256,512,1024")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=2.0, help="measuring time per point and side")
    ap.add_argument("--scratch-path", default=os.environ.get("SWIFT_SCRATCH_PATH"))
    ap.add_argument("--bench", default=os.environ.get("BENCH_BIN"), help="substrate-bench binary (default: env BENCH_BIN, else swift build)")
    ap.add_argument("--unset-coretype", action="store_true",
                    help="unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for both sides (benchmarks only)")
    ap.add_argument("--torch-worker", action="store_true")
    ap.add_argument("--json-out", help="also write the results as JSON to this path")
    a = ap.parse_args()
    apply_unset_flag()
    unset_coretype(a.unset_coretype)
    dims = [int(s) for s in a.dims.split(",")]
    threads = [int(s) for s in a.threads.split(",")]
    if a.torch_worker:
        torch_worker(dims, threads[0], a.seconds)
        return
    have_torch = ensure_torch()
    binary = find_bench(a, "torch_step.py")
    results, meta = {}, {}
    for n in threads:
        swift_runs, torch_runs = [], []
        for r in range(a.rounds):
            for side in rotation(["swift", "torch"], r):
                if side == "swift":
                    rep = run_json([binary, "neural-step", "--json", "--threads", str(n), "--seconds", str(a.seconds),
                                    "--dims", a.dims], n)
                    swift_runs.append(rep["swift"])
                    meta["swift"] = rep.get("environment")
                elif have_torch:
                    rep = run_json([sys.executable, os.path.abspath(__file__), "--torch-worker", "--dims", a.dims,
                                    "--threads", str(n), "--seconds", str(a.seconds)], n)
                    torch_runs.append(rep["torch"])
                    meta["torch"] = {k: v for k, v in rep.items() if k != "torch"}
        for i, d in enumerate(dims):
            sw = statistics.median(run[i]["step_ms"] for run in swift_runs)
            beyond = statistics.median(run[i]["beyond_gemm_fraction"] for run in swift_runs)
            adam = statistics.median(run[i]["adam_ms"] for run in swift_runs)
            th = statistics.median(run[i]["step_ms"] for run in torch_runs) if torch_runs else None
            results[(n, d)] = (sw, th, beyond, adam)
    print(f"\nMLP-denoiser training step, batch {BATCH}, steps/s (median over {a.rounds} rounds; ratio = Swift / PyTorch)\n")
    print("| threads | d | hidden | Swift steps/s | PyTorch steps/s | ratio | Swift beyond gemm | Swift Adam ms |")
    print("|---|---|---|---|---|---|---|---|")
    rows = []
    for (n, d), (sw, th, beyond, adam) in sorted(results.items()):
        ratio = f"{th / sw:.2f}×" if th else "n/a"
        tcol = f"{1e3 / th:.1f}" if th else "skipped"
        print(f"| {n} | {d} | {max(256, d)} | {1e3 / sw:.1f} | {tcol} | {ratio} | {beyond * 100:.1f} % | {adam:.2f} |")
        rows.append({"threads": n, "d": d, "swift_ms": sw, "torch_ms": th, "beyond_gemm_fraction": beyond, "swift_adam_ms": adam})
    if a.json_out:
        # A list of rows (run_suite.py reads it), each carrying the BLAS of both sides.
        write_json(a.json_out, [dict(r, blas=meta) for r in rows])


if __name__ == "__main__":
    main()
