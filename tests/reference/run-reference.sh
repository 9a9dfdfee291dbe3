#!/usr/bin/env bash
# Regenerates tests/data/faces/faceapi-reference.json with face-api on
# TensorFlow.js.  Installs the pinned npm packages into a temporary folder
# (or into $TL_FACEAPI_NODE_MODULES when set, reused between runs).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="${TL_FACEAPI_NODE_MODULES:-$(mktemp -d)}"
if [ ! -d "$work/node_modules/@vladmandic/face-api" ]; then
  cp "$here/package.json" "$work/"
  (cd "$work" && npm install --no-audit --no-fund --ignore-scripts >/dev/null)
fi
node "$here/faceapi-reference.mjs" "$work" "$here/../data/faces"
