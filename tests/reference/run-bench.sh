#!/usr/bin/env bash
# Runs `twinlockctl bench faces` and face-api on TensorFlow.js-wasm on the
# same inputs, one after the other in the same run, and prints both and the
# speed-up.  Usage: tests/reference/run-bench.sh [TWINLOCKCTL] [RUNS] [THREADS]
# (THREADS: Twinlock's, default all cores; face-api's wasm backend runs on
# one thread here, as it reports).
# Installs the pinned npm packages into a temporary folder (or reuses
# $TL_FACEAPI_NODE_MODULES).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ctl="${1:-$here/../../_build/src/ctl/twinlockctl}"
runs="${2:-50}"
threads="${3:-0}"
work="${TL_FACEAPI_NODE_MODULES:-$(mktemp -d)}"
if [ ! -d "$work/node_modules/@vladmandic/face-api" ]; then
  cp "$here/package.json" "$work/"
  (cd "$work" && npm install --no-audit --no-fund --ignore-scripts >/dev/null)
fi
ours="$("$ctl" bench faces --json --runs "$runs" --threads "$threads")"
theirs="$(node "$here/faceapi-bench.mjs" "$work" "$here/../data/faces" wasm "$runs" 2>/dev/null | tail -1)"
echo "twinlock: $ours"
echo "tfjs:     $theirs"
python3 - "$ours" "$theirs" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for k in ("detector_ms", "landmarks_ms", "encoder_ms"):
    print(f"{k:14s} twinlock {a[k]:8.3f}  face-api/{b['backend']} {b[k]:8.3f}  speed-up {b[k] / a[k]:5.1f}x")
PY
