#!/usr/bin/env bash
# Regenerates the committed PyTorch parity fixtures (dev-only; needs Debian's python3-torch,
# python3-torchvision and python3-scipy: apt-get install python3-torch python3-torchvision python3-scipy).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
"$PY" -c 'import torch, torchvision, scipy' || { echo "needs python3-torch, python3-torchvision, python3-scipy" >&2; exit 1; }
out=packages/cfa/src/__fixtures__/torch-parity
mkdir -p "$out"
# the first seed whose neighbour order has no near-tie (cfa_reference.py exits 3 on one)
for seed in $(seq 7 40); do
  PARITY_SEED=$seed npx tsx tools/torch-reference/make-inputs.ts "$out/inputs.safetensors"
  rc=0; (cd tools/torch-reference && "$PY" cfa_reference.py "../../$out/inputs.safetensors" "../../$out/outputs.safetensors") || rc=$?
  [ "$rc" = 0 ] && break
  [ "$rc" = 3 ] || exit "$rc"
done
"$PY" tools/torch-reference/export_state_dict_keys.py packages/backbone/src/__fixtures__/torchvision-state-dict-keys.json
(cd tools/torch-reference && "$PY" backbone_reference.py ../../packages/backbone/src/__fixtures__/torch-backbones)
(cd tools/torch-reference && "$PY" legacy_checkpoints.py ../../packages/backbone/src/__fixtures__/legacy-torch)
ls -la "$out"
