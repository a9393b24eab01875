#!/usr/bin/env bash
# Fuzzes Substrate's readers with libFuzzer (swiftc -sanitize=fuzzer,address):
#   npy          NPY.decode + NPYReader (streaming)               Sources/Linear/IO/NPY.swift, NPYStream.swift
#   safetensors  SafetensorsFile.decode                           Sources/Linear/IO/Safetensors.swift
#   csv          CSV.parse (header detection, label columns)      Sources/Linear/IO/CSV.swift
#   checkpoint   GenerativeModelFile.load + Module.load(from:)    Sources/Generative/Training/GenerativeModelFile.swift,
#                                                                 Sources/Neural/Checkpoint.swift
#
# usage: scripts/fuzz.sh [seconds per target, default 60] [targets...]
#   FUZZ_SECONDS=60 scripts/fuzz.sh                 all four targets, 60 s each
#   scripts/fuzz.sh 300 npy csv                     five minutes each for two targets
#   FUZZ_REPLAY_ONLY=1 scripts/fuzz.sh              only replay fuzz/corpus and fuzz/regressions (no fuzzing)
#
# The committed seed corpus is fuzz/corpus/<target>/ (made by the targets themselves when empty, then minimised
# with libFuzzer's -merge so it stays small). Every crash, timeout or out-of-memory input is saved as
# fuzz/regressions/<target>-<kind>-<sha1>; Tests/LinearTests/FuzzRegressionTests.swift replays the corpus and
# regressions through the readers on every `swift test`. Limits per input: 10 s, 2 GB RSS, 512 MB per malloc
# (so a header claiming a huge tensor that is allocated is reported as a crash).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_PER_TARGET=${1:-${FUZZ_SECONDS:-60}}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(npy safetensors csv checkpoint)
SCRATCH=${FUZZ_SCRATCH:-$ROOT/.build-fuzz}
mkdir -p "$SCRATCH"
CONFIG=${FUZZ_CONFIG:-release}

binary_name() {
    case "$1" in
        npy) echo FuzzNPY ;; safetensors) echo FuzzSafetensors ;; csv) echo FuzzCSV ;; checkpoint) echo FuzzCheckpoint ;;
        *) echo "unknown fuzz target '$1' (npy, safetensors, csv, checkpoint)" >&2; exit 2 ;;
    esac
}

echo "== building the fuzz targets ($CONFIG, -sanitize=fuzzer,address) into $SCRATCH"
BUILT=()
for t in "${TARGETS[@]}"; do
    if swift build --package-path fuzz --scratch-path "$SCRATCH" -c "$CONFIG" --product "$(binary_name "$t")" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library >"$SCRATCH/build-$t.log" 2>&1; then
        BUILT+=("$t")
    else
        echo "   $t: BUILD FAILED (see $SCRATCH/build-$t.log):"
        grep -E "error:" "$SCRATCH/build-$t.log" | grep -v "Cannot export" | head -n 5 | sed 's/^/      /'
    fi
done
BIN=$SCRATCH/$CONFIG
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=0}

SUMMARY=()
STATUS=0
[ ${#BUILT[@]} -lt ${#TARGETS[@]} ] && STATUS=1
for t in "${BUILT[@]}"; do
    exe=$BIN/$(binary_name "$t")
    corpus=fuzz/corpus/$t
    mkdir -p "$corpus" fuzz/regressions
    if [ -z "$(ls -A "$corpus" 2>/dev/null)" ]; then
        FUZZ_MAKE_SEEDS="$ROOT/$corpus" "$exe" >/dev/null 2>&1 || true
        if [ "$t" = checkpoint ]; then
            # Generative model files of each family, written by the real writer (vst train, a few steps).
            VST=${VST:-$(ls -t "$ROOT"/.build*/release/vst 2>/dev/null | head -n 1)}
            if [ -n "$VST" ] && [ -x "$VST" ]; then
                for fam in flow-matching ddpm score-sde; do
                    "$VST" train "$fam" --data moons --count 64 --steps 3 --batch-size 16 --hidden 4 --blocks 1 \
                        --timesteps 10 --quiet -o "$corpus/$fam.safetensors" >/dev/null 2>&1 || echo "   (vst train $fam failed)"
                done
            else
                echo "   no vst binary found: the checkpoint corpus has the Neural seed only (set VST=path/to/vst)"
            fi
        fi
        echo "   seeded $corpus with $(ls "$corpus" | wc -l) files"
    fi
    # Replay: the corpus and every saved regression must run without a crash.
    regressions=(fuzz/regressions/"$t"-*)
    replay_files=("$corpus"/*)
    [ -e "${regressions[0]}" ] && replay_files+=("${regressions[@]}")
    if "$exe" -runs=0 -rss_limit_mb=2048 -malloc_limit_mb=512 "${replay_files[@]}" >"$SCRATCH/replay-$t.log" 2>&1; then
        replay="replay of ${#replay_files[@]} files ok"
    else
        replay="REPLAY FAILED (see $SCRATCH/replay-$t.log)"
        STATUS=1
    fi
    if [ -n "${FUZZ_REPLAY_ONLY:-}" ]; then SUMMARY+=("$t: $replay"); continue; fi

    work=$SCRATCH/work/$t
    rm -rf "$work"; mkdir -p "$work"
    echo "== fuzzing $t for ${SECONDS_PER_TARGET}s"
    before=$(ls fuzz/regressions | grep -c "^$t-" || true)
    log=$SCRATCH/fuzz-$t.log
    # Fork mode with ignore_* keeps fuzzing after a crash, so one run finds more than the first bug.
    "$exe" "$work" "$corpus" -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 \
        -max_total_time="$SECONDS_PER_TARGET" -max_len=4096 -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
        -artifact_prefix="fuzz/regressions/$t-" -print_final_stats=1 >"$log" 2>&1 || true
    execs=$(grep -o 'exec/s: [0-9]*\|#[0-9]*' "$log" | grep '^#' | tail -n 1 | tr -d '#' || true)
    [ -z "$execs" ] && execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{s+=$2} END {print s+0}')
    crashes=$(grep -c 'ERROR: libFuzzer\|ERROR: AddressSanitizer\|Fatal error\|==ERROR' "$log" || true)
    after=$(ls fuzz/regressions | grep -c "^$t-" || true)
    # Keep the committed corpus minimal: merge only inputs that add coverage.
    "$exe" -merge=1 -max_len=4096 -rss_limit_mb=2048 -malloc_limit_mb=512 "$corpus" "$work" >"$SCRATCH/merge-$t.log" 2>&1 || true
    SUMMARY+=("$t: ${SECONDS_PER_TARGET}s, ~${execs:-?} executions, $crashes crash reports, $((after - before)) new regression files, corpus $(ls "$corpus" | wc -l) files; $replay")
    [ "$after" -gt "$before" ] && STATUS=1
done

# The npy and checkpoint targets hand each input to the file readers through /dev/shm/substrate-fuzz-<pid>.*.
rm -f /dev/shm/substrate-fuzz-*

echo
echo "== summary"
printf '   %s\n' "${SUMMARY[@]}"
[ $STATUS -ne 0 ] && echo "   new crashes or failed replays: see fuzz/regressions/ and $SCRATCH/*.log"
exit $STATUS
