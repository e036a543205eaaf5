"""Imports the CRAD reference code itself (tae-mo/CRAD) from a snapshot kept OUTSIDE this repository,
after checking it is the recorded commit, with the few run-time patches a CPU machine with Debian's
packages needs. This project contains none of its code.

    export CRAD_OFFICIAL_DIR=/path/to/CRAD   # a checkout of COMMIT
    from crad_code import load_crad
    crad = load_crad()        # .efficientnet, .backbones, .mfcn, .reconstruction, .mobilenetv3, .criterion, .eval, .lr

Get the snapshot with
    git clone https://github.com/tae-mo/CRAD && git -C CRAD checkout b5a1c4721034

The run-time patches (listed again in docs/methods/crad.md); the first two change nothing the code
computes, the third only the width of a narrow fixture model, the fourth only records:
  1. `tabulate`: Debian does not package it; `utils/eval_helper.py` imports it for `Report.__str__`
     (a results table) only — a stand-in module whose `tabulate` raises if it is ever called.
  2. `torch.Tensor.cuda` returns the tensor itself: `EvalImageMax.encode_pred` moves its maps to
     CUDA for one `avg_pool2d`, which a CPU-only torch cannot.
  3. `narrow_bottlenecks(channels)` (a context manager, used for the narrow fixture only):
     `CRAD.__init__` hard-codes `MobileBottleneck(432, 432, …)` — 432 = 2 × 216, the channels of
     EfficientNet-B4's out-layers 3 and 4 — while everything else follows `inplanes`; inside the
     context the bottlenecks are built 2·C wide instead, so a C = 8 model's gradients fit in a
     committed fixture. The full-width fixture runs unpatched.
  4. `recorded_draws()` (a context manager): `torch.rand` / `torch.randn` as `crad.py` calls them
     (the coin that decides whether a training step adds coordinate noise, and the noise) are
     wrapped to keep what they return — the values are torch's own — so the fixture can give our
     implementation the same draws.
"""
import contextlib
import hashlib
import importlib
import os
import sys
import types

COMMIT = "b5a1c472103479bcda0b09bf40f463afd56e8007"
REPOSITORY = "https://github.com/tae-mo/CRAD"

# sha256 of the files we import, at COMMIT (a checkout of another commit is refused)
FILES = {
    "models/backbones/__init__.py": "0dc1a47d88975db63b08da0bdc520e6f23d26cb520e8f9f55b27dda7dd7a8ec0",
    "models/backbones/efficientnet/__init__.py": "b57900aa43204800fff6dbe229b279c5ceace8b64dd2a8b7346c346d0159c371",
    "models/backbones/efficientnet/model.py": "923640b1b260259871abcbe87fc95ca83b3195d5a61ab03803ec9eb35f13bc5d",
    "models/backbones/efficientnet/utils.py": "1c6db51f19968894c062bd5f4aab649e5d65a38864ecc1481bb6f48bdbbe7402",
    "models/necks/__init__.py": "f42db81f5a8f73da4f0cfe30cff3ceee0763f0c246425914114f266a5d02c202",
    "models/necks/mfcn.py": "2ac12db89476cf366d72db1210b6069dc418d718a117a8b8d2dc120482e77ff8",
    "models/reconstructions/__init__.py": "ecd17fc0de80a3d35b6302ae8239ca70c5a337b6a07e3a217a36ca67ec012df2",
    "models/reconstructions/crad.py": "836ee56184b96dcf8f97a83637c7f74a8d2900f5d858586a7fcb99c8bb451d7e",
    "models/reconstructions/mobilenetv3.py": "390db58340c3ac2f50884aa875a0df25d96969c148c7240f5321c1f85aed8866",
    "models/initializer.py": "8186739d69bfe76f05421282c72e9569fb7d98220c0b5487c25e67dccc36ff0c",
    "utils/criterion_helper.py": "8e31415f9673e60969457ede23656340d70a2a4efca5f3de8dc0b073ebd3499b",
    "utils/eval_helper.py": "eece3c1a4cc1334451878d715e61da8bb022182bcbdefde054f9466e96f6513d",
    "utils/lr_helper.py": "e31fd09d741c4a09ac087015cc597ef3d6003535818dd8bbee95dbd354f33a3a",
    "experiments/config.yaml": "226dc424fe55c1843b79757390b23123033461bde47fd905de338c45cbe289c1",
}

PATCHES = [
    "tabulate: a stand-in module (Debian has none; utils/eval_helper.py uses it for Report.__str__ only)",
    "torch.Tensor.cuda returns the tensor (EvalImageMax.encode_pred moves maps to CUDA; CPU-only torch)",
    "narrow fixture only: CRAD.__init__'s MobileBottleneck(432, 432, ...) built 2*C wide (432 = 2 x 216 hard-coded)",
    "recorded draws: torch.rand / torch.randn as crad.py calls them are recorded (values unchanged)",
]


def check_snapshot(root, files=None):
    """Refuses a checkout whose files (default: those this module imports) differ from COMMIT's."""
    bad = []
    for rel, digest in (files or FILES).items():
        path = os.path.join(root, rel)
        if not os.path.isfile(path):
            bad.append(f"{rel} is missing")
            continue
        with open(path, "rb") as f:
            if hashlib.sha256(f.read()).hexdigest() != digest:
                bad.append(f"{rel} differs from commit {COMMIT[:12]}")
    if bad:
        raise SystemExit(f"CRAD_OFFICIAL_DIR={root} is not the CRAD reference code at {COMMIT[:12]}: " + "; ".join(bad))


def _tabulate_shim():
    module = types.ModuleType("tabulate")

    def tabulate(*args, **kwargs):
        raise NotImplementedError("tabulate stand-in (crad_code.py patch 1): results tables are not printed")

    module.tabulate = tabulate
    return module


def load_crad(root=None):
    root = root or os.environ.get("CRAD_OFFICIAL_DIR")
    if not root:
        raise SystemExit(
            "set CRAD_OFFICIAL_DIR to a checkout of the CRAD reference code at "
            f"{COMMIT[:12]} ({REPOSITORY}); see tools/torch-reference/crad_code.py"
        )
    root = os.path.abspath(root)
    check_snapshot(root)
    import torch

    if "tabulate" not in sys.modules:  # patch 1
        try:
            importlib.import_module("tabulate")
        except ImportError:
            sys.modules["tabulate"] = _tabulate_shim()
    if not torch.cuda.is_available():  # patch 2
        torch.Tensor.cuda = lambda self, *args, **kwargs: self
    if root not in sys.path:
        sys.path.insert(0, root)
    import yaml

    with open(os.path.join(root, "experiments/config.yaml")) as f:
        config = yaml.safe_load(f)
    return types.SimpleNamespace(
        root=root,
        commit=COMMIT,
        patches=PATCHES,
        config=config,
        backbones=importlib.import_module("models.backbones"),
        efficientnet=importlib.import_module("models.backbones.efficientnet"),
        mfcn=importlib.import_module("models.necks.mfcn"),
        reconstruction=importlib.import_module("models.reconstructions.crad"),
        mobilenetv3=importlib.import_module("models.reconstructions.mobilenetv3"),
        criterion=importlib.import_module("utils.criterion_helper"),
        eval=importlib.import_module("utils.eval_helper"),
        lr=importlib.import_module("utils.lr_helper"),
    )


@contextlib.contextmanager
def narrow_bottlenecks(crad, channels):
    """Patch 3: while active, `CRAD` builds its bottlenecks 2·channels wide instead of 432."""
    module = crad.reconstruction
    original = module.MobileBottleneck

    def bottleneck(inp, oup, *args, **kwargs):
        width = 2 * channels
        return original(width if inp == 432 else inp, width if oup == 432 else oup, *args, **kwargs)

    module.MobileBottleneck = bottleneck
    try:
        yield
    finally:
        module.MobileBottleneck = original


@contextlib.contextmanager
def recorded_draws(crad):
    """Patch 4: what `torch.rand` and `torch.randn` return inside crad.py, in call order."""
    module = crad.reconstruction
    real = module.torch
    draws = []

    class Recorder(types.ModuleType):
        def __getattr__(self, name):
            return getattr(real, name)

        def rand(self, *args, **kwargs):
            draws.append(("rand", real.rand(*args, **kwargs)))
            return draws[-1][1]

        def randn(self, *args, **kwargs):
            draws.append(("randn", real.randn(*args, **kwargs)))
            return draws[-1][1]

    module.torch = Recorder("torch")
    try:
        yield draws
    finally:
        module.torch = real
