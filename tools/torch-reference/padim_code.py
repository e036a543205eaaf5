"""Imports the PaDiM reference code (xiahaifeng1995/PaDiM-Anomaly-Detection-Localization-master, the
PyTorch re-implementation whose ResNet-18 / WRN50-2 numbers the literature quotes) from a snapshot
kept OUTSIDE this repository, after checking it is the recorded commit, and runs its `main()` with
the run-time patches listed below. This project contains none of its code.

    export PADIM_REFERENCE_DIR=/path/to/PaDiM-Anomaly-Detection-Localization-master   # a checkout of COMMIT
    from padim_code import load_padim, run_padim_main
    padim = load_padim()               # .main (main.py as a module), .mvtec (datasets/mvtec.py)
    captured = run_padim_main(padim, ...)

Get the snapshot with
    git clone https://github.com/xiahaifeng1995/PaDiM-Anomaly-Detection-Localization-master \
      && git -C PaDiM-Anomaly-Detection-Localization-master checkout 616004b9b7fa

`main()` is the whole method in one function (features, Gaussians, distances, maps, metrics), so it
is run as it is and what it computes is read off the functions it calls (spies that call the
original and keep its result). The run-time patches, none changing what it computes (listed again
in docs/fidelity.md):
  1. matplotlib's non-interactive Agg backend (main.py imports pyplot and draws ROC figures).
  2. `resnet18` / `wide_resnet50_2` in main.py's namespace return torchvision's model with OUR
     weights (`pretrained=True` would download ImageNet weights; the weights are an input).
  3. `sys.argv` carries `--data_path`, `--save_path` (a temporary folder) and `--arch`.
  4. `mvtec.CLASS_NAMES` is the one category run (`MVTecDataset` asserts its name is in that list,
     and `main()` loops over it); for fixtures `mvtec.MVTecDataset` is a stand-in yielding given
     normalised tensors (the inputs), instead of reading PNGs.
  5. `plot_fig` (five-panel figures for every test image, with a morphology opening) is replaced by
     a function that keeps its `scores` (the min-max normalised maps) and draws nothing.
Spies (call the original, keep the result): `random.sample` (the channel draw `idx`),
`embedding_concat`, `np.linalg.inv`, `scipy.spatial.distance.mahalanobis`, `gaussian_filter`,
`roc_auc_score`; the Gaussians are read back from the pickle `main()` writes.
"""
import importlib
import os
import pickle
import sys
import tempfile
import time
import types

from snapshot import check_snapshot

COMMIT = "616004b9b7fa6a507d196dd3eeeba9e0a93f160f"
REPOSITORY = "https://github.com/xiahaifeng1995/PaDiM-Anomaly-Detection-Localization-master"

# sha256 of the files we import, at COMMIT (a checkout of another commit is refused)
FILES = {
    "main.py": "4fe927c41fa4b4621155167f5987d9595f954ace70dc3b8c16e3b79492f1f73a",
    "datasets/mvtec.py": "6ffa35337c55246427dfd8892b14d35df6f4b48b516d7da60698290f8c5cd54d",
}

PATCHES = [
    "matplotlib backend Agg (headless)",
    "main.resnet18 / main.wide_resnet50_2 return torchvision's model with the given weights (no ImageNet download)",
    "sys.argv = --data_path, --save_path (temporary), --arch",
    "mvtec.CLASS_NAMES = [the category]; fixtures: mvtec.MVTecDataset yields given tensors",
    "main.plot_fig keeps its normalised score maps and draws nothing",
]


def _check_snapshot(root):
    check_snapshot(root, FILES, COMMIT, f"PADIM_REFERENCE_DIR={root} is not the PaDiM reference code")


def load_padim(root=None):
    root = root or os.environ.get("PADIM_REFERENCE_DIR")
    if not root:
        raise SystemExit(
            "set PADIM_REFERENCE_DIR to a checkout of the PaDiM reference code at "
            f"{COMMIT[:12]} ({REPOSITORY}); see tools/torch-reference/padim_code.py"
        )
    root = os.path.abspath(root)
    _check_snapshot(root)
    import matplotlib  # patch 1

    matplotlib.use("Agg")
    if root not in sys.path:
        sys.path.insert(0, root)
    main = importlib.import_module("main")
    assert os.path.abspath(main.__file__) == os.path.join(root, "main.py"), f"imported {main.__file__}, not the snapshot's"
    return types.SimpleNamespace(root=root, commit=COMMIT, patches=PATCHES, main=main, mvtec=main.mvtec)


class _Spy:
    """Replaces `owner.name` by a function that calls the original and records (args, result)."""

    def __init__(self, owner, name, keep=lambda args, result: result):
        self.owner, self.name, self.keep, self.calls = owner, name, keep, []

    def __enter__(self):
        self.original = original = getattr(self.owner, self.name)

        def spy(*args, **kwargs):
            result = original(*args, **kwargs)
            self.calls.append(self.keep(args, result))
            return result

        setattr(self.owner, self.name, spy)
        return self

    def __exit__(self, *exc):
        setattr(self.owner, self.name, self.original)


class _Timed:
    """Replaces `owner.name` by a function that calls the original and adds its wall time to
    `seconds` (and records when it was last called in `at`)."""

    def __init__(self, owner, name):
        self.owner, self.name, self.seconds, self.at = owner, name, 0.0, None

    def __enter__(self):
        self.original = original = getattr(self.owner, self.name)

        def timed(*args, **kwargs):
            self.at = time.perf_counter()
            result = original(*args, **kwargs)
            self.seconds += time.perf_counter() - self.at
            return result

        setattr(self.owner, self.name, timed)
        return self

    def __exit__(self, *exc):
        setattr(self.owner, self.name, self.original)


class _Patched:
    def __init__(self, owner, name, value):
        self.owner, self.name, self.value = owner, name, value

    def __enter__(self):
        self.original = getattr(self.owner, self.name)
        setattr(self.owner, self.name, self.value)

    def __exit__(self, *exc):
        setattr(self.owner, self.name, self.original)


def run_padim_main(padim, *, arch, model, data_path, category, dataset=None, capture=True):
    """Runs `main()` on one category with `model` (a torchvision module holding the weights) and
    returns what it computed: idx, the concatenated embeddings, mean and covariance (its pickle),
    the inverses, the patch distances [N, H, W] (position-major calls reshaped as main() does), the
    blurred maps before its min-max normalisation, the normalised maps and the two ROC AUCs; and
    how long its phases took (`timings`: the train phase up to its pickle of the Gaussians, the
    test phase up to its figures, the backbone's share of each, and its `np.linalg.inv` calls).
    With `capture=False` (timing) nothing but the timings and the ROC AUCs is kept."""
    import numpy as np

    main = padim.main
    save = tempfile.mkdtemp(prefix="padim-reference-")
    kept = {}

    def plot_fig(test_img, scores, gts, threshold, save_dir, class_name):  # patch 5
        kept["test_end"] = time.perf_counter()
        kept["scores"] = np.array(scores, copy=True)
        kept["gt_masks"] = np.array(gts)

    backbone = {"train": 0.0, "test": 0.0, "start": None}

    def before(module, inputs):
        backbone["start"] = time.perf_counter()

    def after(module, inputs, output):
        phase = "train" if "train_end" not in kept else "test"
        backbone[phase] += time.perf_counter() - backbone["start"]

    hooks = [model.register_forward_pre_hook(before), model.register_forward_hook(after)]

    patches = [
        _Patched(main, arch, lambda pretrained=True, progress=True: model),  # patch 2
        _Patched(sys, "argv", ["main.py", "--data_path", data_path, "--save_path", save, "--arch", arch]),  # patch 3
        _Patched(padim.mvtec, "CLASS_NAMES", [category]),  # patch 4
        _Patched(main, "plot_fig", plot_fig),  # patch 5
    ]
    if dataset is not None:
        patches.append(_Patched(padim.mvtec, "MVTecDataset", dataset))
    spies = {} if not capture else {
        "sample": _Spy(main, "sample", lambda a, r: list(r)),
        "concat": _Spy(main, "embedding_concat", lambda a, r: r.detach().numpy().copy()),
        "inv": _Spy(np.linalg, "inv", lambda a, r: np.array(r, copy=True)),
        "mahalanobis": _Spy(main, "mahalanobis", lambda a, r: float(r)),
        "blur": _Spy(main, "gaussian_filter", lambda a, r: np.array(r, copy=True)),
    }
    spies["auc"] = _Spy(main, "roc_auc_score", lambda a, r: float(r))
    # the end of the train phase: main() pickles the Gaussians
    spies["pickled"] = _Spy(main.pickle, "dump", lambda a, r: kept.setdefault("train_end", time.perf_counter()))
    inv_time = _Timed(np.linalg, "inv")
    for p in patches:
        p.__enter__()
    try:
        for s in spies.values():
            s.__enter__()
        inv_time.__enter__()
        start = time.perf_counter()
        try:
            main.main()
        finally:
            inv_time.__exit__()
            for s in spies.values():
                s.__exit__()
    finally:
        for p in reversed(patches):
            p.__exit__()
        for h in hooks:
            h.remove()
    timings = {
        "train_s": kept["train_end"] - start,
        "test_s": kept["test_end"] - kept["train_end"],
        "backbone_train_s": backbone["train"],
        "backbone_test_s": backbone["test"],
        "inverse_s": inv_time.seconds,
    }
    aucs = {"image_auroc": spies["auc"].calls[0], "pixel_auroc": spies["auc"].calls[1]}
    if not capture:
        return {"timings": timings, **aucs}
    with open(os.path.join(save, f"temp_{arch}", f"train_{category}.pkl"), "rb") as f:
        mean, cov = pickle.load(f)
    # main() concatenates layer2 then layer3: the second call of each pair is the whole embedding,
    # train first, then test
    concat = spies["concat"].calls
    train_embedding, test_embedding = concat[1], concat[3]
    n_test, _, h, w = test_embedding.shape
    distances = np.array(spies["mahalanobis"].calls, dtype=np.float64).reshape(h * w, n_test).T.reshape(n_test, h, w)
    return {
        "idx": np.array(spies["sample"].calls[0], dtype=np.int64),
        "train_embedding": train_embedding,
        "test_embedding": test_embedding,
        "mean": mean,  # [d, H·W]
        "cov": cov,  # [d, d, H·W]
        "inverses": spies["inv"].calls,  # one [d, d] per position, in order
        "distances": distances,
        "maps": np.stack(spies["blur"].calls),  # [N, S, S] blurred, before normalisation
        "scores": kept["scores"],
        "save_path": save,
        "timings": timings,
        **aucs,
    }


def tensor_dataset(images, labels, size):
    """A stand-in for datasets/mvtec.py's MVTecDataset (patch 4) yielding the given normalised
    images (x [3, S, S], y, mask [1, S, S]) for train or test; an anomalous image's mask is a
    square, so that the reference's pixel ROC has both classes."""

    import torch

    class TensorDataset(torch.utils.data.Dataset):
        def __init__(self, dataset_path=None, class_name=None, is_train=True, resize=256, cropsize=224):
            self.x = images["train" if is_train else "test"]
            self.y = labels["train" if is_train else "test"]

        def __len__(self):
            return len(self.x)

        def __getitem__(self, i):
            mask = torch.zeros(1, size, size)
            if self.y[i]:
                mask[:, size // 4 : size // 2, size // 4 : size // 2] = 1
            return torch.from_numpy(self.x[i]), int(self.y[i]), mask

    return TensorDataset
