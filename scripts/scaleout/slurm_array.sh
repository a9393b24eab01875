#!/usr/bin/env bash
#SBATCH --job-name=vst-scaleout
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --output=vst-scaleout-%A_%a.log
# The scale-out job as Slurm job arrays, for clusters without Dask: the same vst calls as scripts/scaleout/driver.py.
#
#   MANIFEST=shards.txt SHARD_ROOT="$STORE/corpus" OUT="$STORE/job" VST="$STORE/bin/vst" RANK=9 \
#       scripts/scaleout/slurm_array.sh submit
#
# submits three jobs, each waiting for the previous one (afterok):
#   stats    (array, one task per manifest line): vst fit-projection SHARD --stats-only -> OUT/stats/<rel>.stats.safetensors
#   reduce   (one task): vst merge-stats over every shard's statistics -> OUT/corpus.stats.safetensors and
#            OUT/projection.safetensors; vst corpus regimes -> OUT/analysis/regimes.json
#   project  (array): vst project --resume -> OUT/cores/<rel dir>/<name>.core.npy
# <rel> is the shard's path below SHARD_ROOT. MANIFEST lists absolute shard paths, one per line. Every step skips
# outputs that exist (vst writes atomically), so `scontrol requeue` or resubmitting finishes a broken run.
# OUT, VST and the shards must be on storage every node sees. ARRAY_LIMIT=64 runs at most 64 array tasks at once.
# Each step also runs without Slurm (SLURM_ARRAY_TASK_ID=i scripts/scaleout/slurm_array.sh stats), as the tests do.
set -euo pipefail
: "${MANIFEST:?set MANIFEST}" "${SHARD_ROOT:?set SHARD_ROOT}" "${OUT:?set OUT}" "${VST:?set VST}"
RANK=${RANK:-9}
SEED=${SEED:-0}
SCRIPT=$(readlink -f "${BASH_SOURCE[0]}")
shards() { grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$MANIFEST"; }
shard_at() { shards | sed -n "$(( $1 + 1 ))p"; }
rel_of() { local s=$1; echo "${s#"$SHARD_ROOT"/}"; }

case "${1:-}" in
submit)
    n=$(shards | wc -l)
    [ "$n" -ge 1 ] || { echo "slurm_array: $MANIFEST lists no shard" >&2; exit 2; }
    limit=${ARRAY_LIMIT:+%$ARRAY_LIMIT}
    a=$(sbatch --parsable --export=ALL --array="0-$((n - 1))$limit" "$SCRIPT" stats)
    b=$(sbatch --parsable --export=ALL --dependency="afterok:$a" "$SCRIPT" reduce)
    c=$(sbatch --parsable --export=ALL --dependency="afterok:$b" --array="0-$((n - 1))$limit" "$SCRIPT" project)
    echo "submitted: stats $a, reduce $b, project $c"
    ;;
stats)
    shard=$(shard_at "$SLURM_ARRAY_TASK_ID"); rel=$(rel_of "$shard")
    out="$OUT/stats/${rel%.npy}.stats.safetensors"
    mkdir -p "$(dirname "$out")"
    [ -e "$out" ] || "$VST" fit-projection "$shard" --stats-only --out "$out" --quiet
    ;;
reduce)
    files=()
    while IFS= read -r shard; do rel=$(rel_of "$shard"); files+=("$OUT/stats/${rel%.npy}.stats.safetensors"); done < <(shards)
    cd "$OUT"
    [ -e corpus.stats.safetensors ] || "$VST" merge-stats "${files[@]}" --stats-only --out corpus.stats.safetensors --quiet
    [ -e projection.safetensors ] || "$VST" merge-stats corpus.stats.safetensors --rank "$RANK" --out projection.safetensors --quiet
    mkdir -p analysis
    if [ ! -e analysis/regimes.json ]; then
        "$VST" corpus regimes "${files[@]}" --seed "$SEED" --json --quiet > analysis/.regimes.json.partial
        mv analysis/.regimes.json.partial analysis/regimes.json
    fi
    ;;
project)
    shard=$(shard_at "$SLURM_ARRAY_TASK_ID"); rel=$(rel_of "$shard")
    dir="$OUT/cores/$(dirname "$rel")"
    mkdir -p "$dir"
    "$VST" project --projection "$OUT/projection.safetensors" "$shard" --out-dir "$dir" --resume --quiet
    ;;
*)
    echo "usage: MANIFEST=… SHARD_ROOT=… OUT=… VST=… $0 submit   (steps: stats | reduce | project)" >&2
    exit 2
    ;;
esac
