#!/usr/bin/env bash
# Leak checks of Tensor storage, the file formats and autodiff, two ways:
#
#  1. LeakSanitizer: fuzz/Sources/LeakCheck runs a fixed workload (copies and copy-on-write, products, SVD/eigh/QR,
#     .npy/.safetensors/CSV round trips, the streaming reader and writer, forward/backward with gradients of
#     gradients, an Adam step, a checkpoint round trip) LEAK_RUNS times (default 200) in one process built with
#     -sanitize=fuzzer,address (the fuzz build, see scripts/fuzz.sh); LSan reports every allocation that is
#     neither freed nor reachable at exit.
#  2. valgrind (installed with apt-get when missing) on the release `vst` binary: fit-projection, project, lift
#     and a short `vst train`; "definitely lost" and "indirectly lost" must be 0 bytes.
#
# usage: scripts/leakcheck.sh            both
#        LEAK_SKIP_VALGRIND=1 scripts/leakcheck.sh
# Exit status 0 when neither tool finds a leak.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SCRATCH=${FUZZ_SCRATCH:-$ROOT/.build-fuzz}
RUNS=${LEAK_RUNS:-200}
STATUS=0

echo "== LeakSanitizer: building fuzz/LeakCheck (-sanitize=fuzzer,address)"
swift build --package-path fuzz --scratch-path "$SCRATCH" -c release --product LeakCheck \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library 2>&1 | grep -v "Cannot export local symbol" | tail -n 3
seed=$(mktemp -d)
echo x > "$seed/input"
LOG=$SCRATCH/leakcheck-lsan.log
if ASAN_OPTIONS=detect_leaks=1 "$SCRATCH/release/LeakCheck" -runs="$RUNS" -detect_leaks=1 "$seed" >"$LOG" 2>&1; then
    echo "   LSan: no leaks in $RUNS runs of the workload ($(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$LOG" | tail -n 1))"
else
    echo "   LSan: LEAKS or errors found, see $LOG:"
    grep -A12 'ERROR: LeakSanitizer\|ERROR: AddressSanitizer' "$LOG" | head -n 40
    STATUS=1
fi
rm -rf "$seed"

if [ -z "${LEAK_SKIP_VALGRIND:-}" ]; then
    if ! command -v valgrind >/dev/null; then
        echo "== installing valgrind"
        if [ "$(id -u)" = 0 ]; then apt-get install -y valgrind >/dev/null; else sudo apt-get install -y valgrind >/dev/null; fi
    fi
    VST=${VST:-$ROOT/.build-h4/release/vst}
    if [ ! -x "$VST" ]; then
        echo "== building vst (release) for valgrind"
        swift build --scratch-path "$ROOT/.build-h4" -c release --product vst 2>&1 | tail -n 2
    fi
    work=$(mktemp -d)
    python3 - "$work" <<'PY' 2>/dev/null || "$VST" --help >/dev/null
import sys, numpy as np
rng = np.random.default_rng(0)
np.save(sys.argv[1] + "/x.npy", rng.standard_normal((500, 16)))
PY
    [ -f "$work/x.npy" ] || { echo "numpy is needed to make the valgrind input"; exit 2; }
    echo "== valgrind --leak-check=full on vst ($VST)"
    for cmd in "fit-projection x.npy --rank 4 --out p.safetensors" \
               "project --projection p.safetensors x.npy --out-dir cores --residual" \
               "lift --projection p.safetensors cores/x.core.npy --residual cores/x.residual.npy --out back.npy" \
               "train flow-matching --data moons --count 256 --steps 30 --batch-size 32 --hidden 16 --blocks 1 --quiet -o m.safetensors"; do
        name=${cmd%% *}
        (cd "$work" && OPENBLAS_NUM_THREADS=1 valgrind --leak-check=full --show-leak-kinds=definite,indirect \
            --errors-for-leak-kinds=definite,indirect --error-exitcode=99 "$VST" $cmd >"$work/$name.out" 2>"$work/$name.vg")
        rc=$?
        summary=$(grep -E 'definitely lost|indirectly lost|ERROR SUMMARY' "$work/$name.vg" | sed 's/==[0-9]*== *//' | tr '\n' ';')
        echo "   vst $name: exit $rc; $summary"
        if [ $rc -ne 0 ]; then STATUS=1; cp "$work/$name.vg" "$SCRATCH/leakcheck-valgrind-$name.log"; fi
    done
    rm -rf "$work"
fi
[ $STATUS -eq 0 ] && echo "== no leaks found" || echo "== leaks or errors found (logs in $SCRATCH)"
exit $STATUS
