"""Worker-side tasks of the scale-out driver: each one is a `vst` call (or a small numpy read) on one shard or one
reduce node, idempotent and atomic.

Idempotent: a task whose output already exists returns at once (every output is moved into place only when
complete, so existence means complete). Atomic: `vst` writes to `.<name>.tmp-<pid>-<random>` and renames; the
few files written here (JSON, sampled rows) do the same. A task retried after its worker was killed therefore
redoes only unfinished work and writes the same bytes. `vst` runs with PR_SET_PDEATHSIG, so it dies with its
worker instead of racing the retry; the driver sweeps the temporary files dead runs leave behind.

All output paths are relative to the job's output directory (`out_root`, on storage every worker sees) and `vst`
runs with that directory as its working directory, so the files record relative sources and two runs of one
job write identical bytes wherever their output directories are.
"""

import ctypes
import json
import os
import signal
import subprocess
import uuid

import numpy as np

TMP_MARK = ".tmp-"


class ShardError(Exception):
    """Bad input: a shard (or file) that `vst` or the header check refused. Not retried."""

    def __init__(self, path, message):
        super().__init__(path, message)
        self.path = path
        self.message = message

    def __str__(self):
        return f"{self.path}: {self.message}"


class VSTFailure(Exception):
    """`vst` failed for another reason than bad input (exit code other than 2)."""


def _die_with_parent():
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def run_vst(vst, args, cwd, subject):
    """Runs `vst args` in `cwd`; exit 2 (bad input) raises ShardError naming `subject`, any other failure VSTFailure."""
    p = subprocess.run([vst] + args, cwd=cwd, capture_output=True, text=True, preexec_fn=_die_with_parent)
    if p.returncode == 0:
        return p.stdout
    lines = [ln.strip() for ln in p.stderr.replace("\r", "\n").splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith(("vst: error:", "Error:"))]
    message = errors[0] if errors else (lines[-1] if lines else f"exit code {p.returncode}")
    if message.startswith("Error: "):
        message = message[len("Error: "):]
    if message.startswith("vst: error: "):
        message = message[len("vst: error: "):]
    if p.returncode == 2:
        raise ShardError(subject, message)
    raise VSTFailure(f"vst {' '.join(args[:1])} on {subject}: exit code {p.returncode}: {message}")


def atomic_write_bytes(path, data):
    """Writes `data` to `path` through a temporary file in the same directory, then renames it into place."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}{TMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def atomic_write_json(path, obj):
    atomic_write_bytes(path, (json.dumps(obj, indent=1, sort_keys=False) + "\n").encode())


def atomic_save_npy(path, array):
    import io
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array))
    atomic_write_bytes(path, buf.getvalue())


def npy_shape(path):
    """(rows, columns, dtype) of a 2-D .npy file from its header, checking the file holds all its data."""
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read(f)
            offset = f.tell()
    except (OSError, ValueError) as e:
        raise ShardError(path, f"not a readable .npy file ({e})")
    if len(shape) != 2:
        raise ShardError(path, f"expected an n×D array, got shape {shape}")
    if dtype.kind != "f":
        raise ShardError(path, f"expected floating-point rows, got dtype {dtype}")
    need = offset + int(np.prod(shape)) * dtype.itemsize
    have = os.path.getsize(path)
    if have < need:
        raise ShardError(path, f"truncated: {have} bytes, the header promises {need}")
    return int(shape[0]), int(shape[1]), str(dtype)


def shard_stats(vst, out_root, shard, out_rel):
    """Map step: the shard's mergeable statistics (n, μ, M₂) by `vst fit-projection --stats-only`."""
    n, d, dtype = npy_shape(shard)
    out = os.path.join(out_root, out_rel)
    skipped = os.path.exists(out)
    if not skipped:
        os.makedirs(os.path.dirname(out), exist_ok=True)
        run_vst(vst, ["fit-projection", shard, "--stats-only", "--out", out_rel, "--quiet"], out_root, shard)
    return {"shard": shard, "stats": out_rel, "n": n, "d": d, "dtype": dtype, "skipped": skipped}


def merge_node(vst, out_root, inputs_rel, out_rel, *dependencies):
    """Reduce step: merges statistics files (one node of the merge tree). `dependencies` only order the tasks."""
    out = os.path.join(out_root, out_rel)
    if not os.path.exists(out):
        os.makedirs(os.path.dirname(out), exist_ok=True)
        run_vst(vst, ["merge-stats"] + list(inputs_rel) + ["--stats-only", "--out", out_rel, "--quiet"], out_root, out_rel)
    return out_rel


def fit_projection(vst, out_root, stats_rel, out_rel, rank, *dependencies):
    """The projection of the merged statistics (`vst merge-stats --rank k`)."""
    out = os.path.join(out_root, out_rel)
    if not os.path.exists(out):
        run_vst(vst, ["merge-stats", stats_rel, "--rank", str(rank), "--out", out_rel, "--quiet"], out_root, stats_rel)
    return out_rel


def project_shard(vst, out_root, projection_rel, shard, out_dir_rel, *dependencies):
    """Map step: the shard's core coordinates (`vst project --resume`): skips a complete output, removes the
    temporary files of dead runs, writes atomically."""
    os.makedirs(os.path.join(out_root, out_dir_rel), exist_ok=True)
    run_vst(vst, ["project", "--projection", projection_rel, shard, "--out-dir", out_dir_rel, "--resume", "--quiet"], out_root, shard)
    stem = os.path.splitext(os.path.basename(shard))[0]
    return os.path.join(out_dir_rel, stem + ".core.npy")


def sample_rows(shard, rows):
    """The rows `rows` (sorted indices) of a shard, as float32 (a read of only those rows)."""
    x = np.load(shard, mmap_mode="r")
    return np.asarray(x[np.asarray(rows, dtype=np.int64)], dtype=np.float32)


def write_sample(out_root, out_rel, parts):
    """Concatenates sampled rows (a list of arrays, in shard order) into one .npy, atomically."""
    out = os.path.join(out_root, out_rel)
    if not os.path.exists(out):
        atomic_save_npy(out, np.concatenate(parts, axis=0))
    return out_rel


def block_mmd(vst, out_root, reference, candidate, sample_rel, out_rel, seed, *dependencies):
    """Map step of the drift test: block MMD statistics of one reference/candidate shard pair."""
    out = os.path.join(out_root, out_rel)
    if not os.path.exists(out):
        os.makedirs(os.path.dirname(out), exist_ok=True)
        run_vst(vst, ["corpus", "block-mmd", reference, candidate, "--bandwidth-sample", sample_rel, "--out", out_rel,
                      "--seed", str(seed), "--quiet"], out_root, f"{reference} / {candidate}")
    return out_rel


def vst_json(vst, out_root, args, out_rel, subject, *dependencies):
    """Runs a `vst … --json` analysis and stores its JSON object at `out_rel` (atomically; skipped when present)."""
    out = os.path.join(out_root, out_rel)
    if not os.path.exists(out):
        text = run_vst(vst, args + ["--json", "--quiet"], out_root, subject)
        atomic_write_json(out, json.loads(text))
    with open(out) as f:
        return json.load(f)
