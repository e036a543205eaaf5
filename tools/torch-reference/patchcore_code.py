"""Imports the PatchCore reference code (amazon-science/patchcore-inspection, the authors' code of
Roth et al. 2022) from a snapshot kept OUTSIDE this repository, after checking it is the recorded
commit, with the run-time patches a CPU machine with Debian's packages needs. This project contains
none of its code.

    export PATCHCORE_OFFICIAL_DIR=/path/to/patchcore-inspection   # a checkout of COMMIT
    from patchcore_code import load_patchcore
    ref = load_patchcore()      # .patchcore, .common, .sampler, .backbones, .mvtec, .metrics, .utils

Get the snapshot with
    git clone https://github.com/amazon-science/patchcore-inspection && git -C patchcore-inspection checkout fcaa92f124fb

The run-time patches, none changing what the code computes (listed again in docs/patchcore.md):
  1. `faiss`: Debian has no python3-faiss. `common.py` uses it only through `FaissNN` (exact search,
     `IndexFlatL2`); a stand-in module provides exactly that: `omp_set_num_threads` (no-op) and
     `IndexFlatL2` with `add`, `search`, `reset`, `ntotal` — the k smallest SQUARED L2 distances in
     ascending order with their indices, each Σ (x − y)² computed directly in float64 on torch
     (`squared_distances`: faiss's own result up to float32 rounding). Anything else (GPU, IVF-PQ,
     reading/writing index files) raises.
  2. `timm`: `backbones.py` imports it at the top for its timm backbones; a module whose
     `create_model` raises (WRN50-2 and the ResNets are torchvision's, which it does not touch).
  3. `matplotlib` uses the non-interactive Agg backend (`utils.py` imports pyplot).
"""
import importlib
import os
import sys
import types

from snapshot import check_snapshot

COMMIT = "fcaa92f124fb1ad74a7acf56726decd4b27cbcad"
REPOSITORY = "https://github.com/amazon-science/patchcore-inspection"

# sha256 of the files we import, at COMMIT (a checkout of another commit is refused)
FILES = {
    "src/patchcore/__init__.py": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "src/patchcore/patchcore.py": "70cb638cd78692159e4a210424b37763558e8af8969109ef3d83765c351f3027",
    "src/patchcore/common.py": "e18e05d976f029ecad1fe786c270fdb8d6f2f1bf69d466f22f90704154e7fe7d",
    "src/patchcore/sampler.py": "39612cd2b486865ece304348f740f4bc700a1c2e8684fbab3c2ed016c7801f2d",
    "src/patchcore/backbones.py": "d02b4317f8a9e4cca17d6c0c4f4760d00bf9020cbd25d33f88f27198384d4472",
    "src/patchcore/datasets/mvtec.py": "ccc9afd84d8145ca1f3241fc2156988029742664f40f24dd04725c488fb3bf76",
    "src/patchcore/metrics.py": "5c0c1942643b2eda63fbbaacffaeeedb4fded35a628094fa9fa4a672805db7f5",
    "src/patchcore/utils.py": "c0d0f2c78f228e5c73bc33a9985ab46bfc7e853bc5cc1e2302d209625d665af7",
}

PATCHES = [
    "faiss stand-in: IndexFlatL2 exact search on torch (squared L2 distances Σ(x−y)² in float64, k smallest ascending); omp_set_num_threads a no-op (Debian has no python3-faiss)",
    "timm stand-in whose create_model raises (backbones.py imports timm; the torchvision backbones do not use it)",
    "matplotlib backend Agg (headless; utils.py imports pyplot)",
]


def _check_snapshot(root):
    check_snapshot(root, FILES, COMMIT, f"PATCHCORE_OFFICIAL_DIR={root} is not the PatchCore reference code")


def squared_distances(queries, index):
    """Σ (x − y)², computed directly in float64 (torch.cdist), returned as float32. faiss computes the
    same sum directly for fewer than 20 queries and in the expanded form ‖x‖² + ‖y‖² − 2 x·y (float32,
    clamped at 0) for more; on PatchCore's features, whose norms are large against the nearest
    distances, that form loses about 1e-4 of a distance, which is rounding, not the method."""
    import torch

    q = torch.as_tensor(queries).double()
    x = torch.as_tensor(index).double()
    return torch.cdist(q, x).pow(2)


def _faiss_stand_in():
    import numpy as np
    import torch

    class IndexFlatL2:
        """faiss.IndexFlatL2 as `common.FaissNN` uses it: exact k-NN by squared L2 distance."""

        def __init__(self, d):
            self.d = d
            self._data = np.zeros((0, d), dtype=np.float32)

        @property
        def ntotal(self):
            return len(self._data)

        def add(self, x):
            x = np.ascontiguousarray(x, dtype=np.float32)
            assert x.ndim == 2 and x.shape[1] == self.d, (x.shape, self.d)
            self._data = np.concatenate([self._data, x], axis=0)

        def train(self, x):
            pass  # a flat index needs no training (FaissNN._train is a no-op for it too)

        def reset(self):
            self._data = np.zeros((0, self.d), dtype=np.float32)

        def search(self, x, k):
            d = squared_distances(np.ascontiguousarray(x, dtype=np.float32), self._data)
            values, indices = torch.topk(d, k, dim=1, largest=False, sorted=True)
            return values.float().numpy(), indices.numpy().astype(np.int64)

    def unsupported(name):
        def fail(*args, **kwargs):
            raise NotImplementedError(f"faiss stand-in (patchcore_code.py patch 1): {name} is not provided; only exact CPU search is")

        return fail

    module = types.ModuleType("faiss")
    module.__doc__ = "stand-in for the PatchCore reference code (patchcore_code.py patch 1)"
    module.IndexFlatL2 = IndexFlatL2
    module.omp_set_num_threads = lambda n: None
    for name in ("GpuClonerOptions", "StandardGpuResources", "GpuIndexFlatL2", "GpuIndexFlatConfig", "IndexIVFPQ", "index_cpu_to_gpu", "index_gpu_to_cpu", "write_index", "read_index"):
        setattr(module, name, unsupported(name))
    return module


def _timm_stand_in():
    module = types.ModuleType("timm")
    module.__doc__ = "stand-in for the PatchCore reference code (patchcore_code.py patch 2)"

    def create_model(name, *args, **kwargs):
        raise NotImplementedError(f"timm stand-in (patchcore_code.py patch 2): timm backbone {name!r} is not available")

    module.create_model = create_model
    return module


def load_patchcore(root=None):
    root = root or os.environ.get("PATCHCORE_OFFICIAL_DIR")
    if not root:
        raise SystemExit(
            "set PATCHCORE_OFFICIAL_DIR to a checkout of the PatchCore reference code at "
            f"{COMMIT[:12]} ({REPOSITORY}); see tools/torch-reference/patchcore_code.py"
        )
    root = os.path.abspath(root)
    _check_snapshot(root)
    stood_in = []
    for name, make in (("faiss", _faiss_stand_in), ("timm", _timm_stand_in)):  # patches 1, 2
        try:
            importlib.import_module(name)  # the real package, where one is installed
        except ImportError:
            sys.modules[name] = make()
            stood_in.append(name)
    import matplotlib  # patch 3

    matplotlib.use("Agg")
    src = os.path.join(root, "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    return types.SimpleNamespace(
        root=root,
        commit=COMMIT,
        patches=[p for p in PATCHES if p.split(" ")[0] not in ("faiss", "timm") or p.split(" ")[0] in stood_in],
        patchcore=importlib.import_module("patchcore.patchcore"),
        common=importlib.import_module("patchcore.common"),
        sampler=importlib.import_module("patchcore.sampler"),
        backbones=importlib.import_module("patchcore.backbones"),
        mvtec=importlib.import_module("patchcore.datasets.mvtec"),
        metrics=importlib.import_module("patchcore.metrics"),
        utils=importlib.import_module("patchcore.utils"),
    )
