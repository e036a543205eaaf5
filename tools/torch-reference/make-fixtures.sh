#!/usr/bin/env bash
# Regenerates the committed torchvision parity fixtures (dev-only; needs Debian's python3-torch,
# python3-torchvision and python3-scipy): the backbones with taps 'torchvision' against torchvision's
# own modules, their weight files in every format we read, the state-dict key lists, and PyTorch's
# F.grid_sample / F.affine_grid with their gradients (@cfa/tensor-runtime's grid sampling), and
# FYD's training maths as we state it in torch (fyd_reference.py: no FYD code is public). The
# fixtures computed by the CFA reference code itself come from make-official-fixtures.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
"$PY" -c 'import torch, torchvision, scipy' || { echo "needs python3-torch, python3-torchvision, python3-scipy" >&2; exit 1; }
keys=(packages/backbone/src/__fixtures__/torchvision-state-dict-keys.json)
# the reference codes' key list needs their snapshots (see official_code.py, crad_code.py)
[ -n "${CFA_OFFICIAL_DIR:-}" ] && keys+=(packages/backbone/src/__fixtures__/reference-state-dict-keys.json)
(cd tools/torch-reference && "$PY" export_state_dict_keys.py "${keys[@]/#/../../}")
(cd tools/torch-reference && "$PY" backbone_reference.py ../../packages/backbone/src/__fixtures__/torch-backbones)
(cd tools/torch-reference && "$PY" legacy_checkpoints.py ../../packages/backbone/src/__fixtures__/legacy-torch)
(cd tools/torch-reference && "$PY" grid_sample_reference.py ../../packages/tensor-runtime/src/__fixtures__/grid-sample.torch.json)
(cd tools/torch-reference && "$PY" fyd_reference.py ../../packages/fyd/src/__fixtures__/fyd-reference.torch.safetensors)
