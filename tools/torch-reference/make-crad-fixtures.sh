#!/usr/bin/env bash
# Regenerates the parity fixtures computed by the CRAD reference code's own modules (dev-only).
# Needs CRAD_OFFICIAL_DIR = a checkout of tae-mo/CRAD at b5a1c4721034 (outside this repository;
# see crad_code.py) and Debian's python3-torch, python3-scipy, python3-sklearn, python3-yaml.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
: "${CRAD_OFFICIAL_DIR:?set CRAD_OFFICIAL_DIR to a checkout of the CRAD reference code (see tools/torch-reference/crad_code.py)}"
"$PY" -c 'import torch, scipy, sklearn, yaml' || {
  echo "needs python3-torch python3-scipy python3-sklearn python3-yaml" >&2
  exit 1
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# the first seed whose blend has no position at its rounding boundary (crad_fixtures.py exits 3 on one)
for seed in $(seq 3 40); do
  npx tsx tools/torch-reference/make-crad-inputs.ts "$tmp" "$seed" >/dev/null
  rc=0
  (cd tools/torch-reference && "$PY" crad_fixtures.py "$tmp" \
    ../../packages/descriptor/src/__fixtures__/official \
    ../../packages/memory-bank/src/__fixtures__ \
    ../../packages/crad/src/__fixtures__ \
    ../../packages/scoring/src/__fixtures__) || rc=$?
  [ "$rc" = 0 ] && { echo "seed $seed"; break; }
  [ "$rc" = 3 ] || exit "$rc"
done
