#!/usr/bin/env bash
# make quality: trains every generative family `vst train` knows with its DEFAULTS (no --steps unless asked) on the
# ladder — a lifted 2-D toy at D = 64, 256 and 1024 — and on the digits, samples each with the samplers below, scores
# the samples with `vst evaluate --reference …` (docs/method.md §8b, beside the moment-matched Gaussian baseline) and
# writes quality/quality.md and quality/quality.json (one table per data set: family × sampler), one report per
# evaluation (quality/runs/<data>/<family>.<sampler>-<steps>/index.html, with the samples drawn on the toy's own 2-D
# plane beside held-out real points, also as plane.svg) and quality/reports.html, which links them with their verdicts.
#
# Data sets run in parallel, JOBS at a time (default 2, one BLAS thread each); inside a data set the families run in
# turn (consistency distillation `cd` needs that data set's flow-matching model as its teacher). A family this vst does
# not know is skipped with a message; a family that fails is reported as failed and the suite goes on. Budget: under
# 60 minutes on 2 idle cores with the defaults.
#
# Environment: VST (a built vst binary; default: build one with `swift build -c release`), SWIFT_FLAGS (extra flags
# for that build, e.g. "--scratch-path .build-x"), TABLES_ONLY=1 (rewrite the tables from the last run), OUT (default
# quality), N (samples, default 1000), SEED (3), JOBS (2), DATASETS (default "moons:1024 digits moons:256 moons:64":
# the heaviest first), STEPS (training steps for every family; default: each family's vst train default),
# FAMILIES (space-separated list). Per-family exceptions (DiT's steps, DiT and cgan on digits only) are in steps_for.
set -u

# ── What runs ──────────────────────────────────────────────────────────────────────────────────────────────────
FAMILIES=${FAMILIES:-"ddpm score-sde flow-matching consistency cd dit vae vqvae gan wgan-gp cgan realnvp latent-diffusion"}
DATASETS=${DATASETS:-"moons:1024 digits moons:256 moons:64"}
N=${N:-1000}
SEED=${SEED:-3}
JOBS=${JOBS:-2}
STEPS=${STEPS:-}
OUT=${OUT:-quality}

# Samplers scored per family, as sampler:steps ("default" = the family's own default sampler and steps).
samplers_for() {
    case "$1" in
        ddpm)          echo "ddpm:1000 ddim:50" ;;
        dit)           echo "ddim:50" ;;
        score-sde)     echo "euler-maruyama:500 pf-ode:100" ;;
        flow-matching) echo "rk4:20 rk4:200" ;;
        consistency|cd) echo "onestep:1 multistep:2" ;;
        *)             echo "default" ;;
    esac
}

# Training steps per family and data set ("" = the family's vst train default, or STEPS); 0 = not run, with the reason.
steps_for() {
    local family=$1 data=$2
    case "$family:$data" in
        dit:digits) echo 300 ;;                          # a transformer: ~50× the MLP's cost per step
        dit:*) echo "0 DiT is an image denoiser (digits only)" ;;
        cgan:digits) echo "${STEPS}" ;;
        cgan:*) echo "0 cgan needs class labels (digits only)" ;;
        *) echo "${STEPS}" ;;
    esac
}

# Extra `vst train` arguments per family and data set.
train_args_for() {
    local family=$1 data=$2
    case "$family:$data" in
        ddpm:digits|dit:digits) echo "--clip-sample 1" ;;   # x̂₀ clipped to the pixel range [−1, 1], as the DDPM paper does for images
        *) echo "" ;;
    esac
}

# ── Set-up ─────────────────────────────────────────────────────────────────────────────────────────────────────
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}   # small matrices: threads only contend
if [ -z "${VST:-}" ]; then
    echo "quality: building vst (swift build -c release ${SWIFT_FLAGS:-})"
    # shellcheck disable=SC2086
    swift build -c release --product vst ${SWIFT_FLAGS:-} || exit 2
    # shellcheck disable=SC2086
    VST="$(swift build -c release ${SWIFT_FLAGS:-} --show-bin-path)/vst"
fi
[ -x "$VST" ] || { echo "quality: no vst binary at $VST" >&2; exit 2; }
command -v python3 >/dev/null || { echo "quality: python3 is needed to write the tables" >&2; exit 2; }

RUNS="$OUT/runs"
mkdir -p "$RUNS"
ROWS="$RUNS/rows.jsonl"
SUITE_START=$(date +%s.%N)
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 2))" "$1" "$(now)"; }

# One JSON line per result: {data, family, sampler, steps, train_steps, train_seconds, sample_seconds, status, message, eval}.
row() {   # data family sampler steps train_steps train_s sample_s status message eval_file
    python3 - "$@" >> "$ROWS" <<'PY'
import json, sys
d, fam, smp, st, tst, ts, ss, status, msg, ev = sys.argv[1:11]
r = {"data": d, "family": fam, "sampler": smp, "steps": int(st) if st.isdigit() else None,
     "train_steps": int(tst) if tst.isdigit() else None,
     "train_seconds": float(ts) if ts else None, "sample_seconds": float(ss) if ss else None,
     "status": status, "message": msg}
if ev:
    import os
    with open(ev) as f: r["eval"] = json.load(f)
    # The report directory beside it holds plane.svg (toys): its path relative to OUT (= ev's directory's grandparent).
    r["figure"] = os.path.relpath(ev[:-len(".eval.json")] + "/plane.svg", os.path.dirname(os.path.dirname(os.path.dirname(ev))))
print(json.dumps(r))
PY
}

# ── Train, sample, evaluate ────────────────────────────────────────────────────────────────────────────────────
# One data set: its families in turn (cd after flow-matching: the teacher). Rows go to runs/<tag>/rows.jsonl.
run_dataset() {
    local data=$1 tag=${1//:/-}
    mkdir -p "$RUNS/$tag"
    local ROWS="$RUNS/$tag/rows.jsonl"
    : > "$ROWS"
    for family in $FAMILIES; do
        read -r steps why <<< "$(steps_for "$family" "$data")"
        if [ "$steps" = 0 ]; then
            echo "quality: $family on $data: not run ($why)"
            row "$data" "$family" "" "" "" "" "" "not run" "$why" ""
            continue
        fi
        model="$RUNS/$tag/$family.safetensors"
        local train_family=$family extra=()
        if [ "$family" = cd ]; then   # consistency distillation from this data set's flow-matching model
            train_family=consistency; extra=(--teacher "$RUNS/$tag/flow-matching.safetensors")
        fi
        echo "quality: $family on $data (${steps:-default} steps)"
        t0=$(now)
        # shellcheck disable=SC2046
        "$VST" train "$train_family" --data "$data" ${steps:+--steps "$steps"} --seed "$SEED" -o "$model" --force --quiet \
            "${extra[@]}" $(train_args_for "$family" "$data") > "$RUNS/$tag/$family.train.out" 2> "$RUNS/$tag/$family.train.err"
        rc=$?
        train_s=$(elapsed "$t0")
        # The steps trained, from the summary line ("<family>: 2000 steps (from 0) in …").
        [ -n "$steps" ] || steps=$(grep -oE '[0-9]+ steps' "$RUNS/$tag/$family.train.out" | head -1 | cut -d' ' -f1)
        if [ $rc -ne 0 ]; then
            msg=$(grep -v '^\s*$' "$RUNS/$tag/$family.train.err" | head -1)
            if [ $rc -eq 2 ] && echo "$msg" | grep -qiE "unknown|unavailable|not implemented"; then
                echo "quality:   skipped: this vst does not know '$family' ($msg)"
                row "$data" "$family" "" "" "$steps" "" "" skipped "$msg" ""
            else
                echo "quality:   training failed: $msg"
                row "$data" "$family" "" "" "$steps" "$train_s" "" failed "train: $msg" ""
            fi
            continue
        fi
        for spec in $(samplers_for "$family"); do
            sampler=${spec%%:*}; sampler_steps=${spec#*:}
            name="$family.$sampler${sampler_steps:+-$sampler_steps}"; [ "$spec" = default ] && name="$family.default"
            samples="$RUNS/$tag/$name.npy"
            args=()
            if [ "$spec" != default ]; then args=(--sampler "$sampler" --steps "$sampler_steps"); fi
            t1=$(now)
            "$VST" sample --model "$model" "${args[@]}" -n "$N" --seed "$SEED" -o "$samples" --force --quiet \
                > "$RUNS/$tag/$name.sample.out" 2> "$RUNS/$tag/$name.sample.err"
            rc=$?
            sample_s=$(elapsed "$t1")
            if [ $rc -ne 0 ]; then
                msg=$(grep -v '^\s*$' "$RUNS/$tag/$name.sample.err" | head -1)
                echo "quality:   sampling $spec failed: $msg"
                row "$data" "$family" "$sampler" "$sampler_steps" "$steps" "$train_s" "$sample_s" failed "sample: $msg" ""
                continue
            fi
            if [ "$spec" = default ]; then   # the sampler and step count the family chose, from vst sample's summary line
                sampler="default"
                sampler_steps=$(sed -n 's/.* \([0-9][0-9]*\) steps;.*/\1/p' "$RUNS/$tag/$name.sample.out" | head -1)
            fi
            "$VST" evaluate "$samples" --reference "$data" --seed "$SEED" --json --report "$RUNS/$tag/$name" --force \
                > "$RUNS/$tag/$name.eval.json" 2> "$RUNS/$tag/$name.eval.err"
            rc=$?
            if [ $rc -ne 0 ]; then
                msg=$(grep -v '^\s*$' "$RUNS/$tag/$name.eval.err" | head -1)
                echo "quality:   evaluate failed: $msg"
                row "$data" "$family" "$sampler" "$sampler_steps" "$steps" "$train_s" "$sample_s" failed "evaluate: $msg" ""
                continue
            fi
            row "$data" "$family" "$sampler" "$sampler_steps" "$steps" "$train_s" "$sample_s" ok "" "$RUNS/$tag/$name.eval.json"
            echo "quality:   $spec: sampled in ${sample_s}s"
        done
    done
}
if [ "${TABLES_ONLY:-0}" != 1 ]; then
    export -f run_dataset steps_for samplers_for train_args_for row now elapsed
    export VST RUNS FAMILIES N SEED STEPS
    # shellcheck disable=SC2086
    printf '%s\n' $DATASETS | xargs -P "$JOBS" -I{} bash -c 'run_dataset "$1"' _ {}
    for data in $DATASETS; do cat "$RUNS/${data//:/-}/rows.jsonl"; done > "$ROWS"
fi
if [ "${TABLES_ONLY:-0}" = 1 ]; then TOTAL_S=$(cat "$RUNS/total_seconds" 2>/dev/null || echo 0)
else TOTAL_S=$(elapsed "$SUITE_START"); echo "$TOTAL_S" > "$RUNS/total_seconds"; fi

# ── Tables ─────────────────────────────────────────────────────────────────────────────────────────────────────
python3 - "$ROWS" "$OUT" "$TOTAL_S" "$N" "$SEED" <<'PY'
import json, os, sys, datetime
rows_file, out, total, n, seed = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rows = [json.loads(l) for l in open(rows_file) if l.strip()]

def fmt(x, digits=4):
    if x is None: return "—"
    if isinstance(x, bool): return "yes" if x else "no"
    if isinstance(x, int): return str(x)
    if x != x: return "—"
    return f"{x:.{digits}g}"

def figures(e):
    f = {k: e.get(k) for k in ("mmd2", "precision", "recall", "density", "coverage", "frechet_distance",
                                "feature_frechet_distance", "class_coverage", "class_fraction", "classifier_confidence")}
    f["kid"] = (e.get("kid") or {}).get("mean")
    return f

results = []
datasets = []
for r in rows:
    if r["data"] not in datasets: datasets.append(r["data"])
    res = {k: r[k] for k in ("data", "family", "sampler", "steps", "train_steps", "train_seconds", "sample_seconds", "status", "message")}
    if "eval" in r:
        e = r["eval"]
        res.update(figures(e))
        res["beats_baseline"] = e.get("beats_baseline")
        res["n_real"] = e.get("n_real")
        fig = r.get("figure")
        if fig and os.path.exists(os.path.join(out, fig)): res["figure"] = f"[plane]({fig})"
    results.append(res)

baselines = {}
for r in rows:
    if "eval" in r and r["data"] not in baselines:
        b = figures(r["eval"]["baseline"])
        b.update({"data": r["data"], "family": "Gaussian baseline", "n_real": r["eval"].get("n_real")})
        baselines[r["data"]] = b

# The issue's targets, where both sides ran.
def pick(data, fam, smp, steps):
    for r in results:
        if r["data"] == data and r["family"] == fam and r["sampler"] == smp and r["steps"] == steps and r["status"] == "ok":
            return r
    return None
targets = []
for data in datasets:
    key = "feature_frechet_distance" if data == "digits" else "mmd2"
    label = "feature FD" if data == "digits" else "MMD²"
    for r in results:
        if r["data"] == data and r["status"] == "ok":
            rule = "MMD² (tie rule), precision and feature FD" if data == "digits" else "MMD² and precision"
            targets.append({"data": data, "target": f"{r['family']} {r['sampler']}{'' if r['steps'] is None else ' ' + str(r['steps'])}: beats the baseline on {rule}",
                            "met": bool(r.get("beats_baseline"))})
    for a, bb, what in ((("ddpm", "ddim", 50), ("ddpm", "ddpm", 1000), "DDIM 50 steps within 10 % of DDPM 1000"),
                        (("flow-matching", "rk4", 20), ("flow-matching", "rk4", 200), "flow matching RK4 20 within 10 % of RK4 200")):
        x, y = pick(data, *a), pick(data, *bb)
        if x and y and x.get(key) is not None and y.get(key):
            targets.append({"data": data, "target": f"{what} on {label} ({fmt(x[key])} vs {fmt(y[key])})",
                            "met": abs(x[key] - y[key]) <= 0.1 * abs(y[key])})

report = {"generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), "samples": n, "seed": seed,
          "total_seconds": total, "results": results, "baselines": list(baselines.values()), "targets": targets}
with open(f"{out}/quality.json", "w") as f: json.dump(report, f, indent=1)

lines = ["# Sample quality", "",
         f"`make quality` ({report['generated']}): every family `vst train` knows, trained with seed {seed}, {n} samples per sampler, "
         f"scored by `vst evaluate --reference <data>` against real data (digits: the 1 797 bundled digits; toys: fresh samples from "
         f"another seed). Lower is better for MMD², KID, FD and feature FD; higher for precision, recall, density, coverage and class "
         f"coverage. FD (data space) compares only means and covariances, so the Gaussian baseline scores well on it by construction. "
         f"Total wall time {total:.0f} s.", ""]
families = []
for r in results:
    if r["family"] not in families: families.append(r["family"])
lines += ["## Summary: does each family beat the Gaussian baseline?", "",
          "Its first sampler below, on each data set (✓ beats the baseline on " + "MMD² and precision; on digits also feature FD, with MMD² allowed to tie); "
          "MMD² / precision, baseline in the last row.", "",
          "| family | " + " | ".join(datasets) + " |", "|---|" + "---|" * len(datasets)]
for fam in families:
    cells = []
    for data in datasets:
        r = next((r for r in results if r["data"] == data and r["family"] == fam), None)
        if r is None: cells.append("—")
        elif r["status"] != "ok": cells.append(r["status"])
        else: cells.append(("✓ " if r.get("beats_baseline") else "✗ ") + f"{fmt(r['mmd2'], 2)} / {fmt(r['precision'], 2)}")
    lines.append(f"| {fam} | " + " | ".join(cells) + " |")
lines.append("| *Gaussian baseline* | " + " | ".join(f"{fmt(baselines[d]['mmd2'], 2)} / {fmt(baselines[d]['precision'], 2)}" if d in baselines else "—" for d in datasets) + " |")
lines.append("")
header = ["family", "sampler", "steps", "MMD²", "KID", "FD", "precision", "recall", "density", "coverage", "feature FD",
          "class cov.", "classes", "beats baseline", "train steps", "train s", "sample s", "figure"]
for data in datasets:
    lines += [f"## {data}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in results:
        if r["data"] != data: continue
        if r["status"] != "ok":
            lines.append(f"| {r['family']} | {r['sampler'] or '—'} | {fmt(r['steps'])} | {r['status']}: {r['message'].replace('|', '/')} |"
                         + " |" * (len(header) - 4))
            continue
        lines.append("| " + " | ".join([r["family"], r["sampler"], fmt(r["steps"]), fmt(r["mmd2"]), fmt(r["kid"]), fmt(r["frechet_distance"]),
                                        fmt(r["precision"], 3), fmt(r["recall"], 3), fmt(r["density"], 3), fmt(r["coverage"], 3),
                                        fmt(r["feature_frechet_distance"]), fmt(r["class_coverage"], 3), fmt(r["class_fraction"], 2),
                                        fmt(r["beats_baseline"]), fmt(r["train_steps"]), fmt(r["train_seconds"], 3),
                                        fmt(r["sample_seconds"], 3), r.get("figure") or "—"]) + " |")
    b = baselines.get(data)
    if b:
        lines.append("| **Gaussian baseline** | — | — | " + " | ".join([fmt(b["mmd2"]), fmt(b["kid"]), fmt(b["frechet_distance"]),
                     fmt(b["precision"], 3), fmt(b["recall"], 3), fmt(b["density"], 3), fmt(b["coverage"], 3),
                     fmt(b["feature_frechet_distance"]), fmt(b["class_coverage"], 3), fmt(b["class_fraction"], 2)]) + " | — | — | — | — | — |")
    lines.append("")
if targets:
    lines += ["## Targets", ""] + [f"- [{'x' if t['met'] else ' '}] {t['data']}: {t['target']}" for t in targets] + [""]
with open(f"{out}/quality.md", "w") as f: f.write("\n".join(lines))
print("\n".join(lines))
PY
# ── One page for every report: $OUT/reports.html links each evaluation's report (runs/<data>/<family>.<sampler>/)
# with its verdict against the Gaussian baseline.
if "$VST" report-index "$OUT" --title "Sample quality (make quality)" --depth 3 --force \
    --subtitle "Each trained family and sampler scored by vst evaluate against real data and the Gaussian baseline (seed $SEED, $N samples). Runs that failed or did not run are listed in quality.md." > "$RUNS/report-index.out" 2>&1; then
    echo "quality: wrote $OUT/reports.html"
else
    echo "quality: no reports.html: $(tail -1 "$RUNS/report-index.out")" >&2
fi
echo "quality: wrote $OUT/quality.md and $OUT/quality.json in ${TOTAL_S}s"
