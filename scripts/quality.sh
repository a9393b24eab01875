#!/usr/bin/env bash
# make quality: trains every generative family `vst train` knows on the digits and on a lifted 2-D toy (fixed seeds,
# small budgets), samples each with the samplers below, scores the samples with `vst evaluate --reference …`
# (spec §8b, beside the Gaussian baseline) and writes quality/quality.md and quality/quality.json, one report per
# evaluation (quality/runs/<data>/<family>.<sampler>-<steps>/index.html) and quality/reports.html, which links them
# with their verdicts (`vst report-index`).
#
# A family this vst does not know yet (families are being added) is skipped with a message; a family that fails is
# reported as failed and the suite goes on. Budget: under 15 minutes on 2 idle cores with the defaults.
#
# Environment: VST (a built vst binary; default: build one with `swift build -c release`), SWIFT_FLAGS (extra flags
# for that build, e.g. "--scratch-path .build-x"), TABLES_ONLY=1 (rewrite the tables from the last run), OUT (default quality), N (samples, default 1000), SEED (0),
# STEPS_DIGITS (2000), STEPS_TOY (1000), TOY (the lifted toy, default moons:64), FAMILIES (space-separated list). Per-family exceptions
# (fewer steps for DiT and the WGAN critics, DiT and cgan on digits only) are in steps_for below.
set -u

# ── What runs ──────────────────────────────────────────────────────────────────────────────────────────────────
FAMILIES=${FAMILIES:-"ddpm score-sde flow-matching consistency dit vae vqvae gan wgan-gp cgan realnvp latent-diffusion"}
DATASETS=${DATASETS:-"digits ${TOY:-moons:64}"}
N=${N:-1000}
SEED=${SEED:-0}
STEPS_DIGITS=${STEPS_DIGITS:-2000}
STEPS_TOY=${STEPS_TOY:-1000}
OUT=${OUT:-quality}

# Samplers scored per family, as sampler:steps ("default" = the family's own default sampler and steps).
samplers_for() {
    case "$1" in
        ddpm)          echo "ddpm:1000 ddim:50" ;;
        dit)           echo "ddim:50" ;;
        score-sde)     echo "euler-maruyama:500 pf-ode:100" ;;
        flow-matching) echo "rk4:20 rk4:200" ;;
        consistency)   echo "onestep:1 multistep:4" ;;
        *)             echo "default" ;;
    esac
}

# Training steps per family and data set (default: STEPS_DIGITS / STEPS_TOY); 0 = not run on this data, with the reason.
steps_for() {
    local family=$1 data=$2 default=$3
    case "$family:$data" in
        dit:digits) echo 300 ;;                          # a transformer: ~50× the MLP's cost per step
        dit:*) echo "0 DiT is an image denoiser (digits only)" ;;
        cgan:digits|wgan-gp:digits) echo $((default / 2)) ;;  # 5 critic steps per generator step
        cgan:*) echo "0 cgan needs class labels (digits only)" ;;
        wgan-gp:*) echo $((default / 2)) ;;
        *) echo "$default" ;;
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
[ "${TABLES_ONLY:-0}" = 1 ] || : > "$ROWS"
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
    with open(ev) as f: r["eval"] = json.load(f)
print(json.dumps(r))
PY
}

# ── Train, sample, evaluate ────────────────────────────────────────────────────────────────────────────────────
[ "${TABLES_ONLY:-0}" = 1 ] && DATASETS=""   # only rewrite the tables from the last run's rows
for data in $DATASETS; do
    if [ "$data" = digits ]; then default_steps=$STEPS_DIGITS; else default_steps=$STEPS_TOY; fi
    tag=${data//:/-}
    for family in $FAMILIES; do
        read -r steps why <<< "$(steps_for "$family" "$data" "$default_steps")"
        if [ "$steps" = 0 ]; then
            echo "quality: $family on $data: not run ($why)"
            row "$data" "$family" "" "" "" "" "" "not run" "$why" ""
            continue
        fi
        model="$RUNS/$tag/$family.safetensors"
        mkdir -p "$RUNS/$tag"
        echo "quality: $family on $data ($steps steps)"
        t0=$(now)
        # shellcheck disable=SC2046
        "$VST" train "$family" --data "$data" --steps "$steps" --seed "$SEED" -o "$model" --force --quiet \
            $(train_args_for "$family" "$data") > "$RUNS/$tag/$family.train.out" 2> "$RUNS/$tag/$family.train.err"
        rc=$?
        train_s=$(elapsed "$t0")
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
done
if [ "${TABLES_ONLY:-0}" = 1 ]; then TOTAL_S=$(cat "$RUNS/total_seconds" 2>/dev/null || echo 0)
else TOTAL_S=$(elapsed "$SUITE_START"); echo "$TOTAL_S" > "$RUNS/total_seconds"; fi

# ── Tables ─────────────────────────────────────────────────────────────────────────────────────────────────────
python3 - "$ROWS" "$OUT" "$TOTAL_S" "$N" "$SEED" <<'PY'
import json, sys, datetime
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
    b = baselines.get(data)
    for r in results:
        if r["data"] == data and r["status"] == "ok" and b:
            ok = (r["mmd2"] < b["mmd2"] and r["precision"] > b["precision"]
                  and (data != "digits" or (r["feature_frechet_distance"] or 1e300) * 2 <= b["feature_frechet_distance"]))
            targets.append({"data": data, "target": f"{r['family']} {r['sampler']}{'' if r['steps'] is None else ' ' + str(r['steps'])}: beats the baseline on MMD², precision"
                            + (" and feature FD by ≥ 2×" if data == "digits" else ""), "met": ok})
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
header = ["family", "sampler", "steps", "MMD²", "KID", "FD", "precision", "recall", "density", "coverage", "feature FD",
          "class cov.", "classes", "beats baseline", "train steps", "train s", "sample s"]
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
                                        fmt(r["sample_seconds"], 3)]) + " |")
    b = baselines.get(data)
    if b:
        lines.append("| **Gaussian baseline** | — | — | " + " | ".join([fmt(b["mmd2"]), fmt(b["kid"]), fmt(b["frechet_distance"]),
                     fmt(b["precision"], 3), fmt(b["recall"], 3), fmt(b["density"], 3), fmt(b["coverage"], 3),
                     fmt(b["feature_frechet_distance"]), fmt(b["class_coverage"], 3), fmt(b["class_fraction"], 2)]) + " | — | — | — | — |")
    lines.append("")
if targets:
    lines += ["## Targets (issue 5)", ""] + [f"- [{'x' if t['met'] else ' '}] {t['data']}: {t['target']}" for t in targets] + [""]
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
