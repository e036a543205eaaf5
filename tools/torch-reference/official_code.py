"""Imports the CFA reference code itself (sungwool/CFA_for_anomaly_localization) from a snapshot kept
OUTSIDE this repository, after checking it is the recorded commit, with the few run-time patches a
CPU machine with Debian's packages needs. This project contains none of its code.

    export CFA_OFFICIAL_DIR=/path/to/CFA_for_anomaly_localization   # a checkout of COMMIT
    from official_code import load_official
    official = load_official()         # .resnet, .vgg, .efficientnet, .cfa, .metric, .mvtec, .coordconv

Get the snapshot with
    git clone https://github.com/sungwool/CFA_for_anomaly_localization && git -C CFA_for_anomaly_localization checkout 07080868be8d

The run-time patches, each one needed on torch 1.13 / NumPy 1.24 / CPU and none changing what the
code computes (listed again in docs/fidelity.md):
  1. `numpy.bool`: an alias of `bool` (NumPy 1.24 removed it; `utils/metric.py` `pro_auc_pxl` uses it).
  2. `einops`: Debian does not package it; a module with the one function the code imports,
     `rearrange`, for exactly the three patterns `utils/cfa.py` uses (anything else raises).
  3. `utils/coordconv.py` `CoordConv2d(use_cuda=True)`: the default becomes False. `AddCoords` tests
     `torch.cuda.is_available` without calling it (always true) and would move tensors to CUDA.
  4. `matplotlib` uses the non-interactive Agg backend (`utils/visualizer.py` imports pyplot).
"""
import importlib
import os
import sys
import types

from snapshot import check_snapshot

COMMIT = "07080868be8dbf7fd5573255bd32c7f7785e7c34"
REPOSITORY = "https://github.com/sungwool/CFA_for_anomaly_localization"

# sha256 of the files we import, at COMMIT (a checkout of another commit is refused)
FILES = {
    "cnn/efficientnet.py": "da22e437585cbb0c4d1054dd09e35bf4ff7eda7002ec60ffedffd6aa71bcc176",
    "cnn/resnet.py": "59e0a729c225f4ba219922cb2b3f1a63277ca8d83c9151ad169707032f8ff886",
    "cnn/utils.py": "17597da736ea9af85aca91e2397ec1936a7069514bd948f90be4cc9a0184bc86",
    "cnn/vgg.py": "d6fcac88fc98a4a143badb6958c976ed6d01fef5e190c71fff6188c1ba754f55",
    "utils/cfa.py": "f0eb8591df46a5bf577c907e6a73bdc3ffe35252e3ee2affc84ff70e1291d38d",
    "utils/coordconv.py": "c01aa113becda5a19e1a9f7f2e33c1af390b8e40c8d424310fc075f43d5ffc6d",
    "utils/metric.py": "ac31299debe921d18ac87b8c718501e67fec452dc5985331ee23e1b48b009554",
    "datasets/mvtec.py": "563b8a87294195c0e013add2dae0fa54bd7a5a49deb8be18f734b6c0f734eea6",
}

PATCHES = [
    "numpy.bool = bool (removed in NumPy 1.24; used by utils/metric.py pro_auc_pxl)",
    "einops.rearrange for the three patterns of utils/cfa.py (Debian has no python3-einops)",
    "utils.coordconv.CoordConv2d use_cuda default False (AddCoords tests torch.cuda.is_available without calling it)",
    "matplotlib backend Agg (headless)",
]


def _check_snapshot(root):
    check_snapshot(root, FILES, COMMIT, f"CFA_OFFICIAL_DIR={root} is not the reference code")


def _einops_shim():
    import torch

    def rearrange(t, pattern, **sizes):
        if pattern == "b c h w -> (b h w) c":
            return t.permute(0, 2, 3, 1).reshape(-1, t.shape[1])
        if pattern == "b c h w -> b (h w) c":
            return t.permute(0, 2, 3, 1).reshape(t.shape[0], -1, t.shape[1])
        if pattern == "b (h w) c -> b c h w":
            h = sizes["h"]
            b, hw, c = t.shape
            return t.reshape(b, h, hw // h, c).permute(0, 3, 1, 2)
        raise NotImplementedError(f"einops shim: pattern {pattern!r} is not one utils/cfa.py uses")

    module = types.ModuleType("einops")
    module.rearrange = rearrange
    module.__doc__ = "shim for the CFA reference code (official_code.py patch 2)"
    assert torch  # the shim works on torch tensors
    return module


def load_official(root=None):
    root = root or os.environ.get("CFA_OFFICIAL_DIR")
    if not root:
        raise SystemExit(
            "set CFA_OFFICIAL_DIR to a checkout of the CFA reference code at "
            f"{COMMIT[:12]} ({REPOSITORY}); see tools/torch-reference/official_code.py"
        )
    root = os.path.abspath(root)
    _check_snapshot(root)

    import numpy as np

    if "bool" not in np.__dict__:  # patch 1
        np.bool = bool
    if "einops" not in sys.modules:  # patch 2
        try:
            importlib.import_module("einops")
        except ImportError:
            sys.modules["einops"] = _einops_shim()
    import matplotlib  # patch 4

    matplotlib.use("Agg")

    if root not in sys.path:
        sys.path.insert(0, root)
    coordconv = importlib.import_module("utils.coordconv")
    defaults = list(coordconv.CoordConv2d.__init__.__defaults__)
    defaults[-1] = False  # patch 3: use_cuda
    coordconv.CoordConv2d.__init__.__defaults__ = tuple(defaults)

    return types.SimpleNamespace(
        root=root,
        commit=COMMIT,
        patches=PATCHES,
        resnet=importlib.import_module("cnn.resnet"),
        vgg=importlib.import_module("cnn.vgg"),
        efficientnet=importlib.import_module("cnn.efficientnet"),
        coordconv=coordconv,
        cfa=importlib.import_module("utils.cfa"),
        metric=importlib.import_module("utils.metric"),
        mvtec=importlib.import_module("datasets.mvtec"),
    )
