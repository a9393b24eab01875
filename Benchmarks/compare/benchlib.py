"""The one helper module of the benchmark scripts in this folder (run_suite.py, compare.py, compare_substrate.py,
torch_step.py, scale_commands.py, scaleout_bench.py): the machine description, the lookup of the `substrate-bench`
and `vst` binaries, the BLAS environment of a child process (threads, and --unset-coretype), the OpenBLAS core type
each side used, the timing loop that mirrors substrate-bench's, timed child processes with their peak RSS, this
process's memory marks, the interleaving of sides over rounds, the summary over rounds, formatting and the writing
of JSON + Markdown reports. No script keeps a timing loop, RSS reader or JSON writer of its own.

OpenBLAS core type: these machines set OPENBLAS_CORETYPE=Haswell (with OPENBLAS_L2_SIZE) as a guard, because some
old OpenBLAS builds misbehave on AVX-512 CPUs. A benchmark run may unset both for every side alike
(`run_suite.py --unset-coretype`, which exports BENCH_UNSET_CORETYPE=1 so every script and worker it starts does the
same); tests and CI never change them. Every JSON records the core type each side ran (`blas_record`).

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
CORETYPE_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
UNSET_FLAG = "BENCH_UNSET_CORETYPE"


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


def unset_coretype(enabled=True):
    """Unsets OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE in this process's environment (so every child, whichever side,
    starts without them) and sets BENCH_UNSET_CORETYPE=1 so the scripts it starts do the same. Returns what was found."""
    found = {k: os.environ.get(k, "unset") for k in CORETYPE_VARS}
    if enabled:
        for k in CORETYPE_VARS:
            os.environ.pop(k, None)
        os.environ[UNSET_FLAG] = "1"
    return found


def apply_unset_flag():
    """Honours BENCH_UNSET_CORETYPE=1 from a parent run_suite.py --unset-coretype (call at a script's start)."""
    if os.environ.get(UNSET_FLAG) == "1":
        unset_coretype()


def blas_env_vars():
    """The variables that steer OpenBLAS, as found in this process's environment ("unset" when absent)."""
    return {k: os.environ.get(k, "unset") for k in CORETYPE_VARS + BLAS_THREAD_VARS}


def thread_env(threads, names=BLAS_THREAD_VARS, xla=False):
    """A copy of os.environ with each variable in `names` set to `threads`; with xla, also XLA_FLAGS for JAX's CPU
    thread pool (multi-threaded Eigen only above one thread, intra-op parallelism = threads). OPENBLAS_CORETYPE and
    OPENBLAS_L2_SIZE pass through as found (run_suite.py --unset-coretype removes them for every side first)."""
    t = str(threads)
    env = dict(os.environ, **{name: t for name in names})
    if xla:
        env["XLA_FLAGS"] = (f"--xla_cpu_multi_thread_eigen={'true' if threads > 1 else 'false'} "
                            f"intra_op_parallelism_threads={t}")
    return env


def _built(product, given, args, prog, absolute):
    """A binary of the root package: `given` (from an option or environment variable) when set, which must exist
    (made absolute when `absolute`); else the one `swift build -c release [--scratch-path args.scratch_path]` puts in
    its bin path, built first when args.build is set or it is missing."""
    if given:
        if not os.path.exists(given):
            raise SystemExit(f"{prog}: {product} binary {given} does not exist")
        return os.path.abspath(given) if absolute else given
    cmd = ["swift", "build", "-c", "release"]
    if getattr(args, "scratch_path", None):
        cmd += ["--scratch-path", args.scratch_path]
    bin_dir = subprocess.run(cmd + ["--show-bin-path"], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    path = os.path.join(bin_dir, product)
    if getattr(args, "build", False) or not os.path.exists(path):
        print(f"{prog}: building {product} ({' '.join(cmd)} --product {product})", file=sys.stderr, flush=True)
        subprocess.run(cmd + ["--product", product], cwd=REPO, check=True)
    return path


def find_vst(args, prog, absolute=False):
    """The `vst` binary (--vst or VST_BIN, else the build's)."""
    return _built("vst", getattr(args, "vst", None), args, prog, absolute)


def find_bench(args, prog, absolute=False):
    """The `substrate-bench` binary (--bench or BENCH_BIN, else the build's; else beside --vst when that is given)."""
    given = getattr(args, "bench", None)
    if not given and getattr(args, "vst", None):
        sibling = os.path.join(os.path.dirname(os.path.abspath(args.vst)), "substrate-bench")
        given = sibling if os.path.exists(sibling) else None
    return _built("substrate-bench", given, args, prog, absolute)


def add_timing_options(parser, reps, warmup, max_time):
    """Adds --reps, --warmup, --min-rep-time and --max-time (the settings timing_args passes on) with these defaults."""
    parser.add_argument("--reps", type=int, default=reps, help="repetitions per point and round")
    parser.add_argument("--warmup", type=int, default=warmup)
    parser.add_argument("--min-rep-time", type=float, default=0.005, help="seconds; fast calls run in an inner loop")
    parser.add_argument("--max-time", type=float, default=max_time, help="seconds per point and round (at least 3 reps)")


def add_vst_options(parser):
    """Adds --bench, --vst, --scratch-path and --build (what find_bench and find_vst read) and --out-dir (default:
    bench-results/ at the repository root)."""
    parser.add_argument("--bench", default=os.environ.get("BENCH_BIN"),
                        help="substrate-bench binary (default: env BENCH_BIN, else beside --vst, else swift build)")
    parser.add_argument("--vst", default=os.environ.get("VST_BIN"), help="vst binary (default: env VST_BIN, else swift build)")
    parser.add_argument("--scratch-path", default=os.environ.get("SWIFT_SCRATCH_PATH"),
                        help="swift build --scratch-path for finding/building vst (default: env SWIFT_SCRATCH_PATH, "
                             "else .build)")
    parser.add_argument("--build", action="store_true", help="(re)build vst before running")
    parser.add_argument("--out-dir", default=os.path.join(REPO, "bench-results"))


def timing_args(args):
    """The timing flags (--reps, --warmup, --min-rep-time, --max-time) of args, for a substrate-bench run or a worker."""
    return ["--reps", str(args.reps), "--warmup", str(args.warmup), "--min-rep-time", str(args.min_rep_time),
            "--max-time", str(args.max_time)]


def time_call(fn, reps, warmup, min_rep_time, max_time, env=None, use_timeit=True):
    """The same loop as substrate-bench's (BenchTiming): warm-up (at most a quarter of max_time), an inner loop calibrated to last at least
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


def report_head(args, settings, binary, meta):
    """The first keys of a report's JSON: date, machine, the named settings of args, the binary measured, the BLAS
    variables as found, and the per-side meta (which holds each side's core type) with its thread-count keys as
    strings."""
    return {"date": datetime.datetime.now().isoformat(timespec="seconds"), "machine": machine_info(),
            "settings": {k: getattr(args, k) for k in settings}, "blas_env": blas_env_vars(),
            "bench": binary, "meta": {s: {str(k): v for k, v in m.items()} for s, m in meta.items()}}


def write_report(out_dir, stem, report, md, prog, started):
    """Writes out_dir/<stem>.json and out_dir/<stem>.md, prints the Markdown, and says so on stderr (with the seconds
    since `started`)."""
    os.makedirs(out_dir, exist_ok=True)
    write_json(os.path.join(out_dir, f"{stem}.json"), report)
    with open(os.path.join(out_dir, f"{stem}.md"), "w") as f:
        f.write(md)
    print(md)
    print(f"{prog}: wrote {os.path.join(out_dir, f'{stem}.md')} and {stem}.json "
          f"({time.time() - started:.0f} s)", file=sys.stderr)


def write_json(path, obj):
    """Writes obj as indented JSON to path, creating its directory."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)


# ----------------------------------------------------------------------------------------------------------------
# OpenBLAS core type of each side


def numpy_blas_info():
    """numpy's BLAS build, kernel set (core type) and the thread count it actually uses (None where unreadable):
    numpy's bundled scipy-openblas asked through ctypes, else threadpoolctl's `internal_api`/`architecture`."""
    import ctypes
    import glob

    import numpy as np

    info = {"numpy": np.__version__, "config": None, "core": None, "threads": None, "internal_api": None}
    libs = glob.glob(os.path.join(os.path.dirname(np.__file__), "..", "numpy.libs", "libscipy_openblas*.so*"))
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
            for prefix in ("scipy_openblas_", "openblas_"):
                for suffix in ("64_", ""):
                    try:
                        cfg = getattr(lib, prefix + "get_config" + suffix)
                        core = getattr(lib, prefix + "get_corename" + suffix)
                        thr = getattr(lib, prefix + "get_num_threads" + suffix)
                    except AttributeError:
                        continue
                    cfg.restype = core.restype = ctypes.c_char_p
                    info.update(config=cfg().decode(), core=core().decode(), threads=int(thr()), internal_api="openblas")
                    return info
        except OSError:
            pass
    try:
        from threadpoolctl import threadpool_info
        for pool in threadpool_info():
            if pool.get("user_api") == "blas":
                info.update(config=pool.get("version"), core=pool.get("architecture"), threads=pool.get("num_threads"),
                            internal_api=pool.get("internal_api"))
                break
    except ImportError:
        pass
    return info


def threadpool_record():
    """threadpoolctl's view of every BLAS/OpenMP library this process loaded (internal_api, version, architecture =
    the core type, num_threads); [] without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keys = ("user_api", "internal_api", "version", "architecture", "num_threads")
    return [{k: pool.get(k) for k in keys} for pool in threadpool_info()]


def vst_core(vst):
    """The OpenBLAS core type a vst binary runs with (`vst --version` names it: "… core <name>"); None if unreadable."""
    import re
    p = subprocess.run([vst, "--version"], capture_output=True, text=True)
    m = re.search(r"core (\w+)", p.stdout)
    return m.group(1) if m else None


def blas_record(side_core):
    """What a JSON records about BLAS for one side: its core type (as the side reported it) and the variables found."""
    return {"core": side_core, "env": blas_env_vars()}


# ----------------------------------------------------------------------------------------------------------------
# Memory and timed child processes


def proc_status(key):
    """A figure of this process from /proc/self/status in KiB (VmRSS, VmHWM, …); None where unavailable."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak():
    """Resets VmHWM to the current RSS (writes 5 to /proc/self/clear_refs); False where unavailable."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def max_rss_kib():
    """This process's ru_maxrss (KiB on Linux)."""
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_timed(cmd, env=None, cwd=None, check=False, capture=True):
    """Runs cmd as a child and reaps it with os.wait4: {"exit", "seconds" (wall), "peak_rss_kib" (the child's own
    ru_maxrss), "stdout", "stderr"} (text through temporary files; None when not captured). check raises on a
    non-zero exit."""
    import tempfile

    with tempfile.TemporaryFile("w+") as fo, tempfile.TemporaryFile("w+") as fe:
        sink_out, sink_err = (fo, fe) if capture else (subprocess.DEVNULL, subprocess.DEVNULL)
        start = time.perf_counter()
        p = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=sink_out, stderr=sink_err, text=True)
        _, status, usage = os.wait4(p.pid, 0)
        seconds = time.perf_counter() - start
        p.returncode = code = os.waitstatus_to_exitcode(status)
        stdout = stderr = None
        if capture:
            fo.seek(0)
            fe.seek(0)
            stdout, stderr = fo.read(), fe.read()
    if check and code != 0:
        raise subprocess.CalledProcessError(code, cmd, stdout, stderr)
    return {"exit": code, "seconds": seconds, "peak_rss_kib": usage.ru_maxrss, "stdout": stdout, "stderr": stderr}


# ----------------------------------------------------------------------------------------------------------------
# Interleaving


def rotation(sides, r):
    """The sides in the order they run in round r: rotated by r, so no side is always first (or always right after
    another) while the machine's state drifts. With two sides this alternates which goes first."""
    sides = list(sides)
    k = r % len(sides) if sides else 0
    return sides[k:] + sides[:k]


def interleaved(sides, rounds):
    """(round, side) over all rounds, each round in `rotation` order."""
    for r in range(rounds):
        for side in rotation(sides, r):
            yield r, side
