#!/usr/bin/env python3
"""Scale figures of the analysis commands on large .npy files (issue 15): wall time and peak RSS of
`vst regimes`, `vst drift` and `vst trajectory`, each run once as a fresh process under /usr/bin/time -v.

The inputs are seeded float32 files written a block at a time with numpy (never held whole):
  states_a.npy, states_b.npy  n × D: a rank-5 signal (scale 3) plus unit noise, two independent draws of one law
  traj.npy                    T × m × D: noise that turns into the same rank-5 signal over the steps

Usage:
    VST_BIN=.build/release/vst python3 Benchmarks/compare/scale_commands.py --out scale-results [--rows 1000000]
Writes <out>/scale.json and prints a Markdown table. The files stay in <out>/data unless --clean.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

import numpy as np


def write_states(path, n, d, seed, basis, block=50_000):
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, d))
    rng = np.random.default_rng(seed)
    for start in range(0, n, block):
        m = min(block, n - start)
        z = rng.standard_normal((m, basis.shape[0]), dtype=np.float32)
        out[start:start + m] = z @ basis + rng.standard_normal((m, d), dtype=np.float32)
    out.flush()
    del out


def write_trajectory(path, t_count, m, d, seed, basis):
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(t_count, m, d))
    rng = np.random.default_rng(seed)
    signal = rng.standard_normal((m, basis.shape[0]), dtype=np.float32) @ basis
    noise = rng.standard_normal((m, d), dtype=np.float32)
    for t in range(t_count):
        w = max(0.0, (t - t_count // 10) / (t_count - 1 - t_count // 10))
        out[t] = w * signal + (1 - 0.95 * w) * noise
    out.flush()
    del out


def timed(vst, args):
    cmd = ["/usr/bin/time", "-v", vst] + args + ["--json", "--quiet"]
    start = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    result = {"command": "vst " + " ".join(args), "exit": p.returncode, "seconds": round(wall, 2),
              "peak_rss_mb": round(int(rss.group(1)) / 1024, 1) if rss else None}
    if p.returncode == 0:
        result["json"] = json.loads(p.stdout)
    else:
        result["stderr"] = p.stderr[-2000:]
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="scale-results")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--traj-rows", type=int, default=4_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--clean", action="store_true", help="remove the generated files afterwards")
    a = ap.parse_args()
    vst = os.environ.get("VST_BIN", "vst")
    data = os.path.join(a.out, "data")
    os.makedirs(data, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    basis = (3 * np.linalg.qr(rng.standard_normal((a.dim, 5)))[0].T).astype(np.float32)
    files = {name: os.path.join(data, name) for name in ["states_a.npy", "states_b.npy", "traj.npy"]}
    if not os.path.exists(files["states_a.npy"]):
        write_states(files["states_a.npy"], a.rows, a.dim, a.seed + 1, basis)
    if not os.path.exists(files["states_b.npy"]):
        write_states(files["states_b.npy"], a.rows, a.dim, a.seed + 2, basis)
    if not os.path.exists(files["traj.npy"]):
        write_trajectory(files["traj.npy"], a.steps, a.traj_rows, a.dim, a.seed + 3, basis)
    runs = [
        timed(vst, ["regimes", files["states_a.npy"]]),
        timed(vst, ["drift", files["states_a.npy"], files["states_a.npy"]]),
        timed(vst, ["drift", files["states_a.npy"], files["states_b.npy"]]),
        timed(vst, ["trajectory", files["traj.npy"], "--stride", "10"]),
    ]
    summary = []
    for r in runs:
        j = r.get("json", {})
        note = ""
        if "regimes" in r["command"]:
            note = f"regime {j.get('regime')}, k* {j.get('signal_rank')}, TwoNN {j.get('twonn_dimension', 0):.2f} {j.get('twonn_interval')} on {j.get('twonn_rows')} rows"
        elif "drift" in r["command"]:
            note = f"drift {j.get('drift')}, p {j.get('p_value'):.3g}, test {j.get('test')} on {j.get('test_rows')} rows"
        elif "trajectory" in r["command"]:
            note = f"phases {j.get('regime_sequence')}"
        summary.append({k: v for k, v in r.items() if k != "json"} | {"result": note})
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "scale.json"), "w") as f:
        json.dump({"rows": a.rows, "dim": a.dim, "cores": os.cpu_count(), "runs": summary}, f, indent=1)
    print(f"| command ({a.rows} × {a.dim} float32) | exit | seconds | peak RSS (MB) | result |")
    print("| --- | --- | --- | --- | --- |")
    for s in summary:
        cmd = s["command"].replace(data + "/", "")
        print(f"| `{cmd}` | {s['exit']} | {s['seconds']} | {s['peak_rss_mb']} | {s['result']} |")
    if a.clean:
        shutil.rmtree(data)
    return 0 if all(s["exit"] == 0 for s in summary) else 1


if __name__ == "__main__":
    sys.exit(main())
