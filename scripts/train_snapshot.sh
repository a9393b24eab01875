#!/usr/bin/env bash
# Hashes what `vst train` + `vst sample` produce for every family on fixed seeds, so a refactoring of the generative
# commands can show that its behaviour is unchanged: run it on two builds and compare the lists.
#
#   scripts/train_snapshot.sh [path/to/vst] > train-hashes.txt
#
# Each case trains a small model (moons lifted to 16-D, 200 steps; digits with fewer steps for cgan and dit), samples
# 64 rows with --seed 9 and hashes the .npy byte for byte. The model file's tensors are hashed too (its metadata,
# which holds the creation date, is not). `vst train --help` is hashed, and refused runs are listed with their exit
# code and first line of stderr (messages may be reworded; the exit code may not). KEEP=1 keeps the scratch directory.
set -u
VST="${1:-.build/release/vst}"
VST="$(cd "$(dirname "$VST")" && pwd)/$(basename "$VST")"
# The bundled digits (and the digits classifier) are found through SUBSTRATE_DATA from the scratch directory.
export SUBSTRATE_DATA="${SUBSTRATE_DATA:-$(cd "$(dirname "$0")/.." && pwd)/data}"
SCRIPTS="$(cd "$(dirname "$0")" && pwd)"
WORK="$(mktemp -d)"
[ -n "${KEEP:-}" ] && echo "keeping $WORK" >&2 || trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

# tensors NAME FILE: hash of a .safetensors file's tensors (header entries except __metadata__, and the data).
tensors() {
    python3 -c '
import json, struct, sys, hashlib
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
header = json.loads(b[8:8 + n]); header.pop("__metadata__", None)
print(hashlib.sha256(json.dumps(header, sort_keys=True).encode() + b[8 + n:]).hexdigest()[:16])
' "$1" 2>/dev/null || echo missing
}
# case NAME TRAIN-ARGS...: trains NAME.safetensors, samples NAME.npy, prints the train exit code and both hashes.
case_() {
    local name="$1"; shift
    "$VST" train "$@" --quiet -o "$name.safetensors" >"$name.train.out" 2>"$name.train.err"; local rc=$?
    "$VST" sample --model "$name.safetensors" -n 64 --seed 9 --quiet -o "$name.npy" >/dev/null 2>&1; local src=$?
    local h; h="$( [ -f "$name.npy" ] && sha256sum "$name.npy" | cut -c1-16 || echo missing)"
    printf '%-22s train rc=%s sample rc=%s npy %s tensors %s\n' "$name" "$rc" "$src" "$h" "$(tensors "$name.safetensors")"
}
# err NAME ARGS...: exit code and first line of stderr of a refused run.
err() {
    local name="$1"; shift
    local e rc
    e="$("$VST" "$@" 2>&1 >/dev/null)"; rc=$?
    printf '%-22s rc=%s stderr: %s\n' "$name" "$rc" "$(printf '%s' "$e" | head -1)"
}

M=(--data moons --dim 16 --steps 200 --seed 3)
case_ ddpm            ddpm "${M[@]}"
case_ flow-matching   flow-matching "${M[@]}"
case_ score-sde       score-sde "${M[@]}"
case_ consistency-ct  consistency "${M[@]}"
case_ consistency-cd  consistency "${M[@]}" --teacher flow-matching.safetensors
case_ vae             vae "${M[@]}"
case_ vqvae           vqvae "${M[@]}"
case_ gan             gan "${M[@]}"
case_ wgan-gp         wgan-gp "${M[@]}"
case_ realnvp         realnvp "${M[@]}"
case_ latent-diffusion latent-diffusion "${M[@]}"
case_ ddpm-options    ddpm --data moons --dim 16 --steps 150 --seed 4 --schedule cosine --target epsilon --hidden 64 --lr 1e-3 --skip-variance median
case_ vae-lr          vae "${M[@]}" --lr 1e-3 --latent-dim 3 --beta 2
# Resume: 100 steps, then on to 200 (ddpm and gan).
"$VST" train ddpm "${M[@]}" --steps 100 --quiet -o ddpm-resume.safetensors >/dev/null 2>&1
case_ ddpm-resume     ddpm "${M[@]}" --resume ddpm-resume.safetensors
"$VST" train gan "${M[@]}" --steps 100 --quiet -o gan-resume.safetensors >/dev/null 2>&1
case_ gan-resume      gan "${M[@]}" --resume gan-resume.safetensors
case_ cgan-digits     cgan --data digits --steps 8 --seed 2 --hidden 64 --batch-size 64
case_ dit-digits      dit --data digits --steps 10 --seed 2 --depth 1 --width 32 --batch-size 64
case_ realnvp-digits  realnvp --data digits --steps 30 --seed 2 --couplings 2 --hidden 64

printf '%-22s %s\n' "train --help" "$("$VST" train --help 2>&1 | sha256sum | cut -c1-16)"
printf '%-22s %s\n' "sample --help" "$("$VST" sample --help 2>&1 | sha256sum | cut -c1-16)"

err err-family        train foo --data moons -o x.safetensors
err err-lr            train ddpm --data moons --lr=-1 -o x.safetensors
err err-ema           train ddpm --data moons --ema-decay 2 -o x.safetensors
err err-teacher       train ddpm --data moons --teacher ddpm.safetensors -o x.safetensors
err err-exists        train ddpm --data moons -o ddpm.safetensors
err err-steps         train ddpm --data moons --steps 0 -o x.safetensors
err err-data          train ddpm --data nowhere.npy -o x.safetensors
err err-scaling       train ddpm --data moons --scaling foo -o x.safetensors
err err-denoiser      train ddpm --data moons --denoiser cnn -o x.safetensors
err err-dim-huge      train ddpm --data moons --dim 10000000 -o x.safetensors
err err-resume-seed   train ddpm "${M[@]}" --seed 5 --resume ddpm-resume.safetensors -o ddpm-resume.safetensors
err err-resume-family train vae "${M[@]}" --resume ddpm-resume.safetensors -o ddpm-resume.safetensors
err err-ct-recipe     train consistency --data moons --ct-recipe foo -o x.safetensors
err err-lr-decay      train gan --data moons --lr-decay foo -o x.safetensors
err err-r1            train wgan-gp --data moons --r1 1 -o x.safetensors
err err-likelihood    train vae --data moons --likelihood foo -o x.safetensors
err err-prior         train latent-diffusion --data moons --steps 5 --prior foo -o x.safetensors
err err-monitor       train ddpm --data moons --monitor 0 -o x.safetensors
err err-hidden-layers train vae --data moons --hidden-layers=-1 -o x.safetensors

# vst evaluate on the samples above: the JSON (keys holding timings removed) and the report files.
strip() { python3 "$SCRIPTS/strip_timings.py"; }
evaluate() {
    local name="$1"; shift
    local out rc
    out="$("$VST" evaluate "$@" --json 2>/dev/null)"; rc=$?
    printf '%-22s rc=%s json %s\n' "$name" "$rc" "$(printf '%s' "$out" | strip | sha256sum | cut -c1-16)"
}
evaluate eval-ddpm-moons   ddpm.npy --reference moons --dim 16 --seed 1
evaluate eval-gan-moons    gan.npy --reference moons --dim 16 --count 500 --report rep-toy
printf '%-22s json %s svg %s\n' "eval-toy-report" "$(strip < rep-toy/report.json | sha256sum | cut -c1-16)" "$(sha256sum < rep-toy/plane.svg | cut -c1-16)"
evaluate eval-two-files    vae.npy vqvae.npy
evaluate eval-cgan-digits  cgan-digits.npy --reference digits --report rep-digits
printf '%-22s json %s\n' "eval-digits-report" "$(strip < rep-digits/report.json | sha256sum | cut -c1-16)"
evaluate eval-dit-digits   dit-digits.npy --reference digits --count 400 --reference-seed 5
err err-eval-both          evaluate ddpm.npy vae.npy --reference moons
err err-eval-dim           evaluate ddpm.npy --reference digits
err err-eval-ref           evaluate ddpm.npy --reference nowhere

# vst likelihood on the models above: the JSON (timings removed) and the per-row .npy.
likelihood() {
    local name="$1"; shift
    local out rc
    out="$("$VST" likelihood "$@" --json --quiet 2>/dev/null)"; rc=$?
    printf '%-22s rc=%s json %s\n' "$name" "$rc" "$(printf '%s' "$out" | strip | sha256sum | cut -c1-16)"
}
likelihood lik-fm             --model flow-matching.safetensors --data moons --dim 16 --count 200 --seed 1 --steps 20 -o lik-fm.npy
printf '%-22s file %s\n' "lik-fm.npy" "$(sha256sum < lik-fm.npy | cut -c1-16)"
likelihood lik-sde            --model score-sde.safetensors --data moons --dim 16 --count 200 --steps 20 --method heun --divergence hutchinson:2
likelihood lik-realnvp        --model realnvp.safetensors --data moons --dim 16 --count 300
err err-lik-family            likelihood --model vae.safetensors --data moons --dim 16
err err-lik-dim               likelihood --model flow-matching.safetensors --data moons --dim 8
err err-lik-divergence        likelihood --model flow-matching.safetensors --data moons --dim 16 --divergence foo

# vst encode / decode on the vae, vqvae and latent-diffusion models: every written .npy.
code() {
    local name="$1" file="$2"; shift 2
    "$VST" "$@" >/dev/null 2>&1; local rc=$?
    printf '%-22s rc=%s file %s\n' "$name" "$rc" "$( [ -f "$file" ] && sha256sum < "$file" | cut -c1-16 || echo missing)"
}
code enc-vae          z-vae.npy     encode --model vae.safetensors --data moons --dim 16 --count 300 --seed 2 --log-variance lv-vae.npy -o z-vae.npy
printf '%-22s file %s\n' "enc-vae-logvar" "$(sha256sum < lv-vae.npy | cut -c1-16)"
code dec-vae          x-vae.npy     decode --model vae.safetensors z-vae.npy -o x-vae.npy
code enc-vqvae        c-vq.npy      encode --model vqvae.safetensors --data moons --dim 16 --count 300 -o c-vq.npy
code enc-vqvae-ze     ze-vq.npy     encode --model vqvae.safetensors --data moons --dim 16 --count 300 --continuous -o ze-vq.npy
code enc-vqvae-zq     zq-vq.npy     encode --model vqvae.safetensors --data moons --dim 16 --count 300 --quantized -o zq-vq.npy
code dec-vqvae        x-vq.npy      decode --model vqvae.safetensors c-vq.npy -o x-vq.npy
code enc-ld           z-ld.npy      encode --model latent-diffusion.safetensors --data moons --dim 16 --count 300 -o z-ld.npy
code dec-ld           x-ld.npy      decode --model latent-diffusion.safetensors z-ld.npy -o x-ld.npy
err err-enc-family    encode --model ddpm.safetensors --data moons --dim 16 -o e.npy
err err-enc-both      encode --model vqvae.safetensors --data moons --dim 16 --continuous --quantized -o e.npy
err err-dec-width     decode --model vae.safetensors c-vq.npy -o d.npy

# Builds with --recipe / --print-recipe (lines absent on older builds): the printed recipe trains the same model as the
# options it came from, so each "recipe-…" hash equals the case of the same name above.
if "$VST" train --help 2>/dev/null | grep -q -- '--print-recipe'; then
    for f in ddpm consistency vae gan latent-diffusion; do
        "$VST" train "$f" "${M[@]}" -o unused.safetensors --print-recipe > "$f.recipe.json" 2>/dev/null
        "$VST" train "$f" --data moons --recipe "$f.recipe.json" --quiet -o "recipe-$f.safetensors" >/dev/null 2>&1
        "$VST" sample --model "recipe-$f.safetensors" -n 64 --seed 9 --quiet -o "recipe-$f.npy" >/dev/null 2>&1
        printf '%-22s npy %s (%s: %s)\n' "recipe-$f" "$(sha256sum "recipe-$f.npy" 2>/dev/null | cut -c1-16)" "$f" "$(sha256sum "$( [ "$f" = consistency ] && echo consistency-ct || echo "$f").npy" | cut -c1-16)"
    done
    # The recipe a model file records.
    "$VST" train vae --data moons --recipe vae.safetensors --quiet -o recipe-file-vae.safetensors >/dev/null 2>&1
    "$VST" sample --model recipe-file-vae.safetensors -n 64 --seed 9 --quiet -o recipe-file-vae.npy >/dev/null 2>&1
    printf '%-22s npy %s (vae: %s)\n' "recipe-from-model" "$(sha256sum recipe-file-vae.npy 2>/dev/null | cut -c1-16)" "$(sha256sum vae.npy | cut -c1-16)"
fi
