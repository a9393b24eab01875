"""Tests of the scale-out driver on a small corpus and a local Dask cluster of 2 worker processes.

Run: VST=path/to/vst python3 -m unittest scripts/scaleout/test_driver.py (make scale-out runs them).
"""

import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from corpus import make_corpus, read_safetensors  # noqa: E402
import tasks  # noqa: E402

VST = os.path.abspath(os.environ.get("VST", ""))


CLUSTER = {}


def driver(out, shards_glob, *extra, candidate=None):
    """Runs the driver against the tests' local cluster (2 worker processes, each under a nanny)."""
    cmd = [sys.executable, os.path.join(HERE, "driver.py"), "--shards", shards_glob, "--out", out, "--vst", VST,
           "--scheduler", CLUSTER["address"], "--twonn-rows", "2000", "--ks-rows", "2000", "--align-rows", "500",
           "--quiet"] + list(extra)
    if candidate:
        cmd += ["--candidate", candidate]
    return subprocess.run(cmd, capture_output=True, text=True)


def outputs(out):
    files = {}
    for dirpath, _, names in os.walk(out):
        for name in names:
            rel = os.path.relpath(os.path.join(dirpath, name), out)
            # The job's summary (report.json, report.md, reports.html) is written again by every run, like a log;
            # every task output must stay untouched.
            if rel not in ("report.json", "report.md", "reports.html"):
                files[rel] = os.path.join(dirpath, name)
    return files


def read(path):
    with open(path, "rb") as f:
        return f.read()


def stats(path):
    meta, t = read_safetensors(path)
    s = float(meta.get("scale", "1"))
    return int(meta["n"]), t["mean"] * s, t["scatter"] * s * s


class ScaleOutDriverTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not (os.path.isfile(VST) and os.access(VST, os.X_OK)):
            raise RuntimeError(f"set VST to a built vst binary (got {VST!r})")
        from distributed import LocalCluster
        cls.cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        CLUSTER["address"] = cls.cluster.scheduler_address
        cls.tmp = tempfile.mkdtemp(prefix="scaleout-test-")
        cls.ref, cls.cand = make_corpus(os.path.join(cls.tmp, "data"), shards=6, rows=2000, dim=16, seed=3, candidate_shards=3)
        cls.ref_glob = os.path.join(cls.tmp, "data", "corpus", "shard_*", "latents.npy")
        cls.cand_glob = os.path.join(cls.tmp, "data", "later", "shard_*", "latents.npy")
        cls.out1 = os.path.join(cls.tmp, "undisturbed")
        cls.out2 = os.path.join(cls.tmp, "killed")
        cls.run1 = driver(cls.out1, cls.ref_glob, candidate=cls.cand_glob)
        cls.run2 = driver(cls.out2, cls.ref_glob, "--kill-worker-after", "3", candidate=cls.cand_glob)

    @classmethod
    def tearDownClass(cls):
        cls.cluster.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_fit_equals_one_process_fit(self):
        self.assertEqual(self.run1.returncode, 0, self.run1.stderr)
        one = os.path.join(self.tmp, "one.stats.safetensors")
        subprocess.run([VST, "fit-projection", *self.ref, "--stats-only", "--out", one, "--quiet", "--force"], check=True, stdout=subprocess.DEVNULL)
        n1, m1, s1 = stats(one)
        n2, m2, s2 = stats(os.path.join(self.out1, "corpus.stats.safetensors"))
        self.assertEqual(n1, n2)
        self.assertEqual(n2, 6 * 2000)
        self.assertLessEqual(np.max(np.abs(m1 - m2)) / np.max(np.abs(m1)), 1e-10)
        self.assertLessEqual(np.max(np.abs(s1 - s2)) / np.max(np.abs(s1)), 1e-10)
        # and against numpy in float64 on the concatenated rows: vst folds float32 rows in by ssyrk a chunk at a
        # time (flushed into Double after each chunk), so agreement is at float32 rounding of one chunk, not 1e-10.
        x = np.concatenate([np.load(p).astype(np.float64) for p in self.ref])
        cov = np.cov(x, rowvar=False)
        self.assertLessEqual(np.max(np.abs(s2 / (n2 - 1) - cov)) / np.max(np.abs(cov)), 1e-6)
        _, proj = read_safetensors(os.path.join(self.out1, "projection.safetensors"))
        w = np.linalg.eigvalsh(cov)[::-1]
        self.assertLessEqual(np.max(np.abs(proj["eigenvalues"] - w)) / w[0], 1e-6)
        # the projection equals the one-process projection to 1e-10
        one_proj = os.path.join(self.tmp, "one.projection.safetensors")
        subprocess.run([VST, "fit-projection", *self.ref, "--method", "covariance", "--out", one_proj, "--quiet", "--force"], check=True, stdout=subprocess.DEVNULL)
        _, p1 = read_safetensors(one_proj)
        self.assertLessEqual(np.max(np.abs(p1["eigenvalues"] - proj["eigenvalues"])) / p1["eigenvalues"][0], 1e-10)
        cos = np.abs(np.sum(p1["basis"][:, :9] * proj["basis"][:, :9], axis=0))
        self.assertLessEqual(np.max(np.abs(cos - 1)), 1e-8)

    def test_cores_mirror_the_shard_layout_and_match_vst_project(self):
        self.assertEqual(self.run1.returncode, 0, self.run1.stderr)
        for i, shard in enumerate(self.ref):
            core = os.path.join(self.out1, "cores", f"shard_{i}", "latents.core.npy")
            self.assertTrue(os.path.isfile(core), core)
            z = np.load(core)
            self.assertEqual(z.shape, (2000, 9))
        direct = os.path.join(self.tmp, "direct.core.npy")
        subprocess.run([VST, "project", "--projection", os.path.join(self.out1, "projection.safetensors"), self.ref[2],
                        "--out", direct, "--quiet", "--force"], check=True, stdout=subprocess.DEVNULL)
        self.assertTrue(filecmp.cmp(direct, os.path.join(self.out1, "cores", "shard_2", "latents.core.npy"), shallow=False))

    def test_killed_worker_gives_identical_outputs_and_no_partial_file(self):
        self.assertEqual(self.run2.returncode, 0, self.run2.stderr)
        with open(os.path.join(self.out2, "report.json")) as f:
            report = json.load(f)
        self.assertIsNotNone(report["chaos"], "no worker was killed")
        a, b = outputs(self.out1), outputs(self.out2)
        self.assertEqual(sorted(a), sorted(b))
        for rel in a:
            if rel == "projection.safetensors":
                ma, ta = read_safetensors(a[rel])
                mb, tb = read_safetensors(b[rel])
                ma.pop("created"), mb.pop("created")
                self.assertEqual(ma, mb)
                for k in ta:
                    self.assertTrue(np.array_equal(ta[k], tb[k]), k)
            else:
                self.assertTrue(filecmp.cmp(a[rel], b[rel], shallow=False), rel)
        self.assertFalse([r for r in b if tasks.TMP_MARK in r], "temporary files left")

    def test_rerun_and_task_retry_are_idempotent(self):
        self.assertEqual(self.run1.returncode, 0, self.run1.stderr)
        out = os.path.join(self.tmp, "rerun")
        shutil.copytree(self.out1, out)
        before = {rel: (os.stat(p).st_mtime_ns, read(p)) for rel, p in outputs(out).items()}
        index = read(os.path.join(out, "reports.html"))
        self.assertIn(b"analysis/drift.json", index)
        # A retried task after a crash: one core lost, a dead run's temporary file and a stale merge node left.
        core = os.path.join(out, "cores", "shard_4", "latents.core.npy")
        os.remove(core)
        stale = os.path.join(out, "cores", "shard_4", ".latents.core.npy.tmp-999999-1234")
        with open(stale, "wb") as f:
            f.write(b"partial")
        r = driver(out, self.ref_glob, candidate=self.cand_glob)
        self.assertEqual(r.returncode, 0, r.stderr)
        after = outputs(out)
        self.assertEqual(sorted(after), sorted(before))
        for rel, path in after.items():
            data = read(path)
            self.assertEqual(data, before[rel][1], rel)
            if rel != "cores/shard_4/latents.core.npy":
                self.assertEqual(os.stat(path).st_mtime_ns, before[rel][0], f"{rel} was rewritten")
        self.assertFalse(os.path.exists(stale))
        self.assertEqual(read(os.path.join(out, "reports.html")), index, "the job's index page changed on a rerun")

    def test_corrupt_shard_stops_naming_it_and_keeps_other_work(self):
        data = os.path.join(self.tmp, "corrupt")
        shutil.copytree(os.path.join(self.tmp, "data", "corpus"), data)
        bad = os.path.join(data, "shard_3", "latents.npy")
        with open(bad, "r+b") as f:
            f.truncate(os.path.getsize(bad) // 2)
        out = os.path.join(self.tmp, "corrupt-job")
        r = driver(out, os.path.join(data, "shard_*", "latents.npy"))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(bad, r.stderr)
        self.assertIn("truncated", r.stderr)
        for i in [0, 1, 2, 4, 5]:
            self.assertTrue(os.path.isfile(os.path.join(out, "stats", f"shard_{i}", "latents.stats.safetensors")), i)
        self.assertFalse(os.path.exists(os.path.join(out, "projection.safetensors")))
        with open(os.path.join(out, "report.json")) as f:
            report = json.load(f)
        self.assertEqual(report["status"], "failed")
        self.assertEqual(list(report["corrupt_shards"]), [bad])
        # --skip-corrupt: the job finishes on the other shards, reusing their statistics.
        r = driver(out, os.path.join(data, "shard_*", "latents.npy"), "--skip-corrupt")
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, "report.json")) as f:
            report = json.load(f)
        self.assertEqual(report["used_shards"], 5)
        self.assertEqual(report["rows"], 5 * 2000)
        self.assertEqual(list(report["skipped_shards"]), [bad])
        self.assertFalse(os.path.exists(os.path.join(out, "cores", "shard_3")))

    def test_analysis_has_the_one_machine_keys_and_spectrum(self):
        self.assertEqual(self.run1.returncode, 0, self.run1.stderr)
        with open(os.path.join(self.out1, "report.json")) as f:
            report = json.load(f)
        allx = os.path.join(self.tmp, "all.npy")
        ally = os.path.join(self.tmp, "all_later.npy")
        np.save(allx, np.concatenate([np.load(p) for p in self.ref]))
        np.save(ally, np.concatenate([np.load(p) for p in self.cand]))
        reg = json.loads(subprocess.run([VST, "regimes", allx, "--json", "--quiet"], capture_output=True, text=True, check=True).stdout)
        drift = json.loads(subprocess.run([VST, "drift", allx, ally, "--json", "--quiet"], capture_output=True, text=True, check=True).stdout)
        align = json.loads(subprocess.run([VST, "align", ally, ally, "--json", "--quiet"], capture_output=True, text=True, check=True).stdout)
        self.assertEqual(set(report["regimes"]), set(reg))
        self.assertEqual(set(report["drift"]), set(drift))
        self.assertEqual(set(report["align"]), set(align))
        self.assertEqual(report["regimes"]["signal_rank"], reg["signal_rank"])
        self.assertEqual(report["regimes"]["regime"], reg["regime"])
        # In-memory `vst regimes` takes the spectrum of the float64 rows; the statistics fold float32 chunks by ssyrk.
        e1, e2 = np.array(reg["eigenvalues"]), np.array(report["regimes"]["eigenvalues"])
        self.assertLessEqual(np.max(np.abs(e1 - e2)) / e1[0], 1e-7)
        # Fréchet distances are differences of traces: compared against the scale of the variances they cancel
        # (float32 rows folded in by ssyrk chunks in both, chunked differently).
        scale = sum(reg["eigenvalues"][:9])
        self.assertLessEqual(abs(report["drift"]["frechet_distance"] - drift["frechet_distance"]), 1e-6 * sum(reg["eigenvalues"]))
        self.assertLessEqual(abs(report["drift"]["core_frechet_distance"] - drift["core_frechet_distance"]), 1e-6 * scale)
        self.assertTrue(report["drift"]["drift"])    # the candidate is rotated and shifted
        self.assertEqual(report["drift"]["test"], "block")

    def test_slurm_array_steps_give_the_same_fit(self):
        self.assertEqual(self.run1.returncode, 0, self.run1.stderr)
        out = os.path.join(self.tmp, "slurm")
        manifest = os.path.join(self.tmp, "manifest.txt")
        with open(manifest, "w") as f:
            f.write("# shards\n" + "\n".join(self.ref) + "\n")
        env = dict(os.environ, MANIFEST=manifest, SHARD_ROOT=os.path.join(self.tmp, "data", "corpus"), OUT=out, VST=VST)
        script = os.path.join(HERE, "slurm_array.sh")
        for step in ["stats", "reduce", "project"]:
            for i in (range(len(self.ref)) if step != "reduce" else [None]):
                e = dict(env, SLURM_ARRAY_TASK_ID=str(i)) if i is not None else env
                subprocess.run(["bash", script, step], env=e, check=True, stdout=subprocess.DEVNULL)
        _, a = read_safetensors(os.path.join(out, "projection.safetensors"))
        _, b = read_safetensors(os.path.join(self.out1, "projection.safetensors"))
        self.assertLessEqual(np.max(np.abs(a["eigenvalues"] - b["eigenvalues"])) / b["eigenvalues"][0], 1e-10)
        for i in range(len(self.ref)):
            za = np.load(os.path.join(out, "cores", f"shard_{i}", "latents.core.npy"))
            zb = np.load(os.path.join(self.out1, "cores", f"shard_{i}", "latents.core.npy"))
            self.assertLessEqual(np.max(np.abs(np.abs(za) - np.abs(zb))), 1e-4 * np.max(np.abs(zb)))
        with open(os.path.join(out, "analysis", "regimes.json")) as f:
            slurm_rank = json.load(f)["signal_rank"]
        with open(os.path.join(self.out1, "analysis", "regimes.json")) as f:
            self.assertEqual(slurm_rank, json.load(f)["signal_rank"])


if __name__ == "__main__":
    unittest.main()
