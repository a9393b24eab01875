"""Helpers shared by the benchmark comparison scripts in this folder (compare.py, compare_substrate.py, run_suite.py,
torch_step.py): the machine description, the `vst` lookup, the thread environment of a child process, the timing
loop that mirrors `vst`'s, the summary over rounds, formatting and the writing of a JSON + Markdown report.

The scripts run as `python3 Benchmarks/compare/<script>.py` from any directory (and re-invoke themselves as worker
processes); each puts its own directory on sys.path before importing this module.
"""

import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import timeit

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def machine_info():
    """CPU model (from /proc/cpuinfo, else platform.processor()), core count, Python version, platform and the
    1/5/15-minute load averages."""
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "system": platform.platform(),
            "loadavg": list(os.getloadavg())}


def thread_env(threads, names=BLAS_THREAD_VARS, xla=False):
    """A copy of os.environ with each variable in `names` set to `threads`; with xla, also XLA_FLAGS for JAX's CPU
    thread pool (multi-threaded Eigen only above one thread, intra-op parallelism = threads)."""
    t = str(threads)
    env = dict(os.environ, **{name: t for name in names})
    if xla:
        env["XLA_FLAGS"] = (f"--xla_cpu_multi_thread_eigen={'true' if threads > 1 else 'false'} "
                            f"intra_op_parallelism_threads={t}")
    return env


def find_vst(args, prog, absolute=False):
    """The `vst` binary: args.vst (from --vst or VST_BIN) when given, which must exist (made absolute when `absolute`);
    else the one `swift build -c release [--scratch-path args.scratch_path]` puts in its bin path, built first when
    args.build is set or it is missing. `prog` prefixes the messages."""
    if args.vst:
        if not os.path.exists(args.vst):
            raise SystemExit(f"{prog}: --vst/VST_BIN {args.vst} does not exist")
        return os.path.abspath(args.vst) if absolute else args.vst
    cmd = ["swift", "build", "-c", "release"]
    if args.scratch_path:
        cmd += ["--scratch-path", args.scratch_path]
    bin_dir = subprocess.run(cmd + ["--show-bin-path"], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    vst = os.path.join(bin_dir, "vst")
    if args.build or not os.path.exists(vst):
        print(f"{prog}: building vst ({' '.join(cmd)})", file=sys.stderr, flush=True)
        subprocess.run(cmd + ["--product", "vst"], cwd=REPO, check=True)
    return vst


def add_timing_options(parser, reps, warmup, max_time):
    """Adds --reps, --warmup, --min-rep-time and --max-time (the settings timing_args passes on) with these defaults."""
    parser.add_argument("--reps", type=int, default=reps, help="repetitions per point and round")
    parser.add_argument("--warmup", type=int, default=warmup)
    parser.add_argument("--min-rep-time", type=float, default=0.005, help="seconds; fast calls run in an inner loop")
    parser.add_argument("--max-time", type=float, default=max_time, help="seconds per point and round (at least 3 reps)")


def add_vst_options(parser):
    """Adds --vst, --scratch-path and --build (what find_vst reads) and --out-dir (default: bench-results/ at the
    repository root)."""
    parser.add_argument("--vst", default=os.environ.get("VST_BIN"), help="vst binary (default: env VST_BIN, else swift build)")
    parser.add_argument("--scratch-path", default=os.environ.get("SWIFT_SCRATCH_PATH"),
                        help="swift build --scratch-path for finding/building vst (default: env SWIFT_SCRATCH_PATH, "
                             "else .build)")
    parser.add_argument("--build", action="store_true", help="(re)build vst before running")
    parser.add_argument("--out-dir", default=os.path.join(REPO, "bench-results"))


def timing_args(args):
    """The timing flags (--reps, --warmup, --min-rep-time, --max-time) of args, for a `vst` run or a worker process."""
    return ["--reps", str(args.reps), "--warmup", str(args.warmup), "--min-rep-time", str(args.min_rep_time),
            "--max-time", str(args.max_time)]


def time_call(fn, reps, warmup, min_rep_time, max_time, env=None, use_timeit=True):
    """The same loop as vst's: warm-up (at most a quarter of max_time), an inner loop calibrated to last at least
    min_rep_time, then reps repetitions (at least min(reps, 3), fewer than reps when max_time runs out); returns
    seconds per call as {"median", "min", "max", "reps", "inner"}.

    fn is a callable, or with use_timeit a statement string evaluated in the globals `env`. With use_timeit (the
    default) each repetition runs through timeit.Timer, which switches the garbage collector off while it times;
    without it, a plain Python loop calls fn with the collector left as it is."""
    if use_timeit:
        run = timeit.Timer(fn, timer=time.perf_counter, globals=env).timeit

        def warm():
            run(1)
    else:
        def run(calls):
            t0 = time.perf_counter()
            for _ in range(calls):
                fn()
            return time.perf_counter() - t0
        warm = fn
    w0 = time.perf_counter()
    for _ in range(max(1, warmup)):
        warm()
        if time.perf_counter() - w0 > 0.25 * max_time:
            break
    calls = 1
    while True:
        elapsed = run(calls)
        if elapsed >= min_rep_time or calls >= 1 << 24:
            break
        target = int(min_rep_time / elapsed * calls * 1.2) + 1 if elapsed > 0 else calls * 10
        calls = min(calls * 10, max(calls * 2, target))
    times = [elapsed] if calls == 1 else []
    count = max(min(reps, 3), min(reps, int(max_time / max(elapsed, 1e-9))))
    while len(times) < count:
        times.append(run(calls) / calls)
    times.sort()
    return {"median": statistics.median(times), "min": times[0], "max": times[-1], "reps": len(times), "inner": calls}


def round_summary(rs):
    """One point over rounds, from each round's time_call-style result: the median of the per-round medians, the
    smallest minimum, and the per-round medians, repetition counts and inner-loop counts. None when rs is empty."""
    if not rs:
        return None
    return {"median": statistics.median(r["median"] for r in rs), "min": min(r["min"] for r in rs),
            "round_medians": [r["median"] for r in rs], "reps": [r["reps"] for r in rs], "inner": [r["inner"] for r in rs]}


def fmt_time(s):
    """Seconds as µs / ms / s with 3–4 significant digits; "—" for None."""
    if s is None:
        return "—"
    if s < 1e-3:
        return f"{s * 1e6:.3g} µs"
    if s < 1:
        return f"{s * 1e3:.4g} ms"
    return f"{s:.3g} s"


def met_cell(met):
    """A table's "met" cell: empty without a target, else "yes" or a bold "**no**"."""
    return "" if met is None else ("yes" if met else "**no**")


def md_table_head(title, header, align):
    """The opening lines of a Markdown section holding a table: heading, blank line, header row, alignment row."""
    return [title, "", header, align]


def notes_section(notes, errors=()):
    """The closing lines of a report: "## Notes", then one bullet per note and one "error:" bullet per error."""
    return ["## Notes", ""] + [f"- {n}" for n in notes] + [f"- error: {e}" for e in errors] + [""]


def machine_line(rounds):
    """The line under a report's title: CPU, cores, the time, the number of interleaved rounds and the load average."""
    mi = machine_info()
    return (f"{mi['cpu']}, {mi['cores']} cores; {datetime.datetime.now().isoformat(timespec='minutes')}; "
            f"{rounds} interleaved round(s), median over rounds of the per-round median; "
            f"load average at the end {mi['loadavg'][0]:.2f} / {mi['loadavg'][1]:.2f} / {mi['loadavg'][2]:.2f}.")


def report_head(args, settings, vst, meta):
    """The first keys of a report's JSON: date, machine, the named settings of args, the vst binary, and the per-side
    meta with its thread-count keys as strings."""
    return {"date": datetime.datetime.now().isoformat(timespec="seconds"), "machine": machine_info(),
            "settings": {k: getattr(args, k) for k in settings},
            "vst": vst, "meta": {s: {str(k): v for k, v in m.items()} for s, m in meta.items()}}


def write_report(out_dir, stem, report, md, prog, started):
    """Writes out_dir/<stem>.json and out_dir/<stem>.md, prints the Markdown, and says so on stderr (with the seconds
    since `started`)."""
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, f"{stem}.json"), "w") as f:
        json.dump(report, f, indent=1)
    with open(os.path.join(out_dir, f"{stem}.md"), "w") as f:
        f.write(md)
    print(md)
    print(f"{prog}: wrote {os.path.join(out_dir, f'{stem}.md')} and {stem}.json "
          f"({time.time() - started:.0f} s)", file=sys.stderr)
