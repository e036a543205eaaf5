#!/usr/bin/env bash
# Regenerates the PaDiM parity fixture computed by the PaDiM reference code's own main() (dev-only).
# Needs PADIM_REFERENCE_DIR = a checkout of xiahaifeng1995/PaDiM-Anomaly-Detection-Localization-master
# at 616004b9b7fa (outside this repository; see padim_code.py) and Debian's python3-torch,
# python3-torchvision, python3-scipy, python3-sklearn, python3-skimage, python3-matplotlib, python3-tqdm.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
: "${PADIM_REFERENCE_DIR:?set PADIM_REFERENCE_DIR to a checkout of the PaDiM reference code (see tools/torch-reference/padim_code.py)}"
"$PY" -c 'import torch, torchvision, scipy, sklearn, skimage, matplotlib, tqdm' || {
  echo "needs python3-torch python3-torchvision python3-scipy python3-sklearn python3-skimage python3-matplotlib python3-tqdm" >&2
  exit 1
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
npx tsx tools/torch-reference/make-padim-inputs.ts "$tmp" 3
(cd tools/torch-reference && "$PY" padim_fixtures.py "$tmp" ../../packages/padim/src/__fixtures__)
