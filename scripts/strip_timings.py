#!/usr/bin/env python3
"""Prints stdin's JSON without its timing entries, for the behaviour snapshots (json_snapshot.sh, train_snapshot.sh).

Keys holding timings ("*seconds*", "*_time*", "elapsed", "duration") are removed at every depth. Input that is not
JSON, or JSON without timing keys, is written back byte for byte, so a hash covers the command's own output;
otherwise the cleaned object is written as compact JSON in its original key order.
"""
import json
import sys


def clean(v):
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items() if not ("seconds" in k or "_time" in k or k in ("elapsed", "duration"))}
    if isinstance(v, list):
        return [clean(x) for x in v]
    return v


raw = sys.stdin.read()
try:
    obj = json.loads(raw)
except ValueError:
    sys.stdout.write(raw)
    sys.exit(0)
if clean(obj) == obj:
    sys.stdout.write(raw)
else:
    sys.stdout.write(json.dumps(clean(obj), separators=(",", ":")) + "\n")
