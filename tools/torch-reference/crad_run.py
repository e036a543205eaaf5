"""Trains and evaluates the CRAD reference code itself (tae-mo/CRAD, imported by crad_code.py from a
snapshot outside this repository) on a dataset in the MVTec AD layout, with given EfficientNet-B4
weights, over several seeds, and records after every epoch what its evaluator measures. The
fidelity check (`nx run experiments:fidelity -- --setup experiments/fidelity/setup-crad.yaml`)
puts our CRAD's per-seed numbers beside these.

    CRAD_OFFICIAL_DIR=... /usr/bin/python3 crad_run.py --data-root DIR --category C \\
        --weights W.safetensors --size 128 --layers 4 --expansion 216 --epochs 1 \\
        --seeds 0,1,2,3,4 --out crad.json

The reference's `tools/train_val.py` is not imported (it needs CUDA, torch.distributed and
tensorboardX, and writes checkpoints); this driver follows its `main` / `train_one_epoch` /
`validate` statement for statement with the reference's own pieces: `experiments/config.yaml`
(with the sizes given here), `update_config`, `set_random_seed(seed, reproduce=True)`,
`ModelHelper` (EfficientNet-B4 out-layers 3 and 4, frozen; MFCN; CRAD), `build_custom_dataloader`
(non-distributed: its RandomSampler), `build_criterion` (FeatureMSELoss), AdamW with the two
parameter groups exactly as train_val.py selects them, `get_scheduler` (StepLR) stepped with the
epoch, clip_grad_norm_, and its evaluation `dump` → `merge_together` → `performances`.

Metrics per epoch, all on the evaluator's maps (`EvalDataMeta`: the x8-upsampled distance map
smoothed by a 21 x 21 box) and image scores (`EvalImageMax`: the largest 32 x 32 window mean):
  imageAuroc, pixelAuroc   sklearn's ROC AUC of those, AS IS;
  evaluatorImageAuroc, evaluatorPixelAuroc
                           what `performances` reports: the same AUCs, but `eval_auc` replaces an
                           AUC below 0.5 by 1 - AUC (a choice made with the test labels; ours does
                           not, so the comparison uses the unflipped ones; both are recorded);
  pixelAupro               MVTec's AUPRO (official_run.py `mvtec_aupro`, as @cfa/metrics `aupro`).

Run-time patches, besides crad_code.py's 1 and 2 (3 and 4 are not used here):
  5. `cv2`: Debian's python3-opencv is not installed; `datasets/image_reader.py` uses only
     `imread` (colour / grayscale) and `cvtColor(BGR2RGB)`. A stand-in decodes with Pillow into
     the same BGR / gray uint8 arrays (PNG is lossless: the same pixels).
  6. `datasets.custom_dataset.cls_ids` maps MVTec AD's 15 class names to ids (a KeyError for any
     other); the category run is added (the id is not used by CRAD).
  7. `ModelHelper.__init__` creates two `torch.cuda.Event(enable_timing=True)` for timing in
     `eval_mode` only (not set here); a CPU-only torch cannot construct them, so a stand-in is
     used while the model is built.
"""
import argparse
import contextlib
import copy
import importlib
import json
import os
import shutil
import sys
import tempfile
import time
import types

import numpy as np
import torch

import st_io
from crad_code import check_snapshot, load_crad
from official_run import data_digest, file_digest, mvtec_aupro

# the files this driver imports besides crad_code.py's, sha256 at crad_code.COMMIT
RUN_FILES = {
    "models/model_helper.py": "bc27a0c9f226705745534b0029954ff6216434fa60d0e722484d232d5ef8f21c",
    "utils/misc_helper.py": "b52b1095012ac0edee6e0eaf59e5a081f09a62c728c0850c0c44d314e91ca1c7",
    "datasets/custom_dataset.py": "bfa1b82865cd36869f0950064ba203c16b117f334f36b358892a6004f067ec99",
    "datasets/base_dataset.py": "6ab1481b7b88d46550f27f7628c1ff10c337b7e648fd93e15899a125d630667f",
    "datasets/image_reader.py": "2655918bc4955d4922f65a7697668167009fdad6f739d2ad93588bc11e82519f",
    "datasets/transforms.py": "67abbadaf2d19a93bebbd324b20cc20c794afb595164a743654600115bcd99c0",
    "datasets/data_builder.py": "6c32707c186c45f026912b787d5add2828a517e0ed47e28026f9f9401088fc1b",
    "tools/train_val.py": "8252a2be620421b842462776005f2945e7ae4914dcbd5f44a10c2a1cd6c0f0a3",  # not imported: pinned because the loop follows it
}

PATCHES = [
    "cv2: a stand-in with imread (Pillow decode to BGR / gray uint8) and cvtColor(BGR2RGB) for datasets/image_reader.py (no python3-opencv)",
    "datasets.custom_dataset.cls_ids gains the category run",
    "torch.cuda.Event: a stand-in while ModelHelper is built (CPU-only torch; its events time eval_mode only)",
]


def cv2_shim():
    """Patch 5."""
    from PIL import Image

    module = types.ModuleType("cv2")
    module.IMREAD_COLOR, module.IMREAD_GRAYSCALE = 1, 0
    module.COLOR_BGR2RGB, module.COLOR_BGR2GRAY = "BGR2RGB", "BGR2GRAY"

    def imread(path, flag=1):
        with Image.open(path) as image:
            if flag == 0:
                return np.array(image.convert("L"))
            return np.ascontiguousarray(np.array(image.convert("RGB"))[:, :, ::-1])

    def cvtColor(image, code):
        if code != "BGR2RGB":
            raise NotImplementedError(f"cv2 stand-in (crad_run.py patch 5): cvtColor {code}")
        return np.ascontiguousarray(image[:, :, ::-1])

    module.imread, module.cvtColor = imread, cvtColor
    return module


@contextlib.contextmanager
def cpu_cuda_events():
    """Patch 7."""
    real = torch.cuda.Event
    torch.cuda.Event = lambda *args, **kwargs: None
    try:
        yield
    finally:
        torch.cuda.Event = real


class AttrDict(dict):
    """The attribute access EasyDict gives train_val.py's config (Debian has no python3-easydict)."""

    def __init__(self, value=None):
        super().__init__()
        for k, v in (value or {}).items():
            self[k] = v

    @staticmethod
    def wrap(v):
        if isinstance(v, dict) and not isinstance(v, AttrDict):
            return AttrDict(v)
        if isinstance(v, list):
            return [AttrDict.wrap(x) for x in v]
        return v

    def __setitem__(self, k, v):
        super().__setitem__(k, AttrDict.wrap(v))

    def __getattr__(self, k):
        try:
            return self[k]
        except KeyError as e:
            raise AttributeError(k) from e

    def __setattr__(self, k, v):
        self[k] = v


def write_meta(path, root, category, split):
    """CRAD's meta file (one JSON object per line: filename, label, maskname, clsname) for an MVTec folder."""
    lines = []
    base = os.path.join(category, split)
    for defect in sorted(os.listdir(os.path.join(root, base))):
        for name in sorted(os.listdir(os.path.join(root, base, defect))):
            if not name.endswith(".png"):
                continue
            meta = {"filename": f"{base}/{defect}/{name}", "label": 0 if defect == "good" else 1, "clsname": category}
            if defect != "good":
                meta["maskname"] = f"{category}/ground_truth/{defect}/{name[:-4]}_mask.png"
            lines.append(json.dumps(meta))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return len(lines)


def roc_auc(labels, scores):
    from sklearn import metrics

    return float(metrics.roc_auc_score(labels, scores))


def run_seed(crad, args, seed, work, log):
    misc = importlib.import_module("utils.misc_helper")
    helper = importlib.import_module("models.model_helper")
    builder = importlib.import_module("datasets.data_builder")
    evaluation = crad.eval

    config = AttrDict(copy.deepcopy(crad.config))
    config.random_seed = seed
    config.dataset.image_reader.kwargs.image_dir = args.data_root
    config.dataset.train.meta_file = os.path.join(work, "train.json")
    config.dataset.test.meta_file = os.path.join(work, "test.json")
    config.dataset.input_size = [args.size, args.size]
    config.dataset.batch_size = args.batch_size
    config.dataset.workers = 0
    config.trainer.max_epoch = args.epochs
    config.net[0].kwargs.pretrained = False  # the given weights instead of ImageNet's
    config.net[2].kwargs.layers = args.layers
    config.net[2].kwargs.ch_exp = args.expansion
    # train_val.py's main, in its order
    config.feat_path = os.path.join(work, "feat")
    config.evaluator.eval_dir = os.path.join(work, "eval")
    config = misc.update_config(config)
    misc.set_random_seed(config.random_seed, config.reproduce)
    with cpu_cuda_events():
        model = helper.ModelHelper(config.net)
    state = {k: torch.from_numpy(v) for k, v in st_io.read(args.weights)[0].items()}
    missing, unexpected = model.backbone.load_state_dict(state, strict=False)
    assert not unexpected, f"{args.weights}: keys the reference backbone does not have: {unexpected[:5]}"
    model.cpu()
    params, query = [], []
    for name, p in model.named_parameters():
        name = "module." + name  # train_val.py selects on the DistributedDataParallel names
        if len(name.split(".")) > 2 and "query" in name.split(".")[2]:
            query.append(p)
            continue
        params.append(p)
    optimizer = torch.optim.AdamW([{"params": params, "lr": config.trainer.net_lr}, {"params": query, "lr": config.trainer.grid_lr}])
    lr_scheduler = crad.lr.get_scheduler(optimizer, config.trainer.lr_scheduler)
    train_loader, val_loader = builder.build_dataloader(config.dataset, distributed=False)
    criterion = crad.criterion.build_criterion(config.criterion)

    def validate():
        model.eval()
        os.makedirs(config.evaluator.eval_dir, exist_ok=True)
        with torch.no_grad():
            for batch in val_loader:
                outputs = model(batch)
                evaluation.dump(config.evaluator.eval_dir, outputs)
        fileinfos, preds, masks = evaluation.merge_together(config.evaluator.eval_dir)
        shutil.rmtree(config.evaluator.eval_dir)
        reported = evaluation.performances(fileinfos, preds, masks, config)
        # the same maps and image scores, unflipped
        meta = evaluation.EvalDataMeta(preds, masks)
        image = evaluation.EvalImageMax(meta, avgpool_size=config.evaluator.metrics.auc[0].kwargs.avgpool_size)
        pixel = evaluation.EvalPerPixelAUC(meta)
        model.train()
        return {
            "imageAuroc": roc_auc(image.masks, image.preds),
            "pixelAuroc": roc_auc(pixel.masks, pixel.preds),
            "pixelAupro": mvtec_aupro(meta.masks > 0.5, meta.preds),
            "evaluatorImageAuroc": float(reported["mean_max_auc"]),
            "evaluatorPixelAuroc": float(reported["mean_pixel_auc"]),
        }

    epochs = []
    for epoch in range(config.trainer.max_epoch):
        start = time.perf_counter()
        # train_one_epoch
        model.train()
        for layer in config.get("frozen_layers", []):
            module = getattr(model, layer)
            module.eval()
            for param in module.parameters():
                param.requires_grad = False
        losses = []
        for batch in train_loader:
            outputs = model(batch)
            loss = 0
            for _, criterion_loss in criterion.items():
                loss += criterion_loss.weight * criterion_loss(outputs)
            losses.append(loss.item())
            optimizer.zero_grad()
            loss.backward()
            if config.trainer.get("clip_max_norm", None):
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.trainer.clip_max_norm)
            optimizer.step()
        lr_scheduler.step(epoch)
        train_seconds = time.perf_counter() - start
        record = {"epoch": epoch + 1, **validate(), "loss": float(np.mean(losses)), "steps": len(losses), "trainSeconds": train_seconds, "seconds": time.perf_counter() - start}
        epochs.append(record)
        log(f"seed {seed} epoch {epoch + 1}: " + " ".join(f"{k} {v:.4f}" for k, v in record.items() if k != "epoch"))
    return {"seed": seed, "epochs": epochs, "trainImages": len(train_loader.dataset), "testImages": len(val_loader.dataset), "unusedReferenceParameters": len(missing)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", required=True)
    parser.add_argument("--category", required=True)
    parser.add_argument("--weights", required=True, help=".safetensors EfficientNet-B4 state dict (reference naming)")
    parser.add_argument("--size", type=int, default=224, help="input_size (square)")
    parser.add_argument("--layers", type=int, default=11)
    parser.add_argument("--expansion", type=int, default=864, help="ch_exp")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--append", action="store_true", help="keep the runs already in --out (same commit, settings, data and weights) and add these seeds")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    crad = load_crad()
    check_snapshot(crad.root, RUN_FILES)
    if "cv2" not in sys.modules:  # patch 5
        try:
            importlib.import_module("cv2")
        except ImportError:
            sys.modules["cv2"] = cv2_shim()
    custom = importlib.import_module("datasets.custom_dataset")
    custom.cls_ids.setdefault(args.category, len(custom.cls_ids))  # patch 6
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    seeds = [int(s) for s in args.seeds.split(",")]
    started = time.time()
    runs, earlier_seconds = [], 0.0
    if args.append and os.path.exists(args.out):
        with open(args.out) as f:
            earlier = json.load(f)
        same = {
            "commit": (earlier["official"]["commit"], crad.commit),
            "data": (earlier["data"]["sha256"], data_digest(args.data_root, args.category)),
            "weights": (earlier["weights"]["sha256"], file_digest(args.weights)),
            **{k: (earlier["settings"][k], v) for k, v in {"category": args.category, "size": args.size, "layers": args.layers, "expansion": args.expansion, "batchSize": args.batch_size, "epochs": args.epochs}.items()},
        }
        differ = [k for k, (a, b) in same.items() if a != b]
        if differ:
            raise SystemExit(f"--append: {args.out} was measured with another {', '.join(differ)}")
        clash = sorted({r["seed"] for r in earlier["runs"]} & set(seeds))
        if clash:
            raise SystemExit(f"--append: {args.out} already has seeds {clash}")
        runs, earlier_seconds = earlier["runs"], earlier["seconds"]
    all_seeds = [r["seed"] for r in runs] + seeds
    with tempfile.TemporaryDirectory() as work:
        counts = {split: write_meta(os.path.join(work, f"{split}.json"), args.data_root, args.category, split) for split in ("train", "test")}
        log(f"{args.category}: {counts['train']} train, {counts['test']} test images")
        for seed in seeds:
            runs.append(run_seed(crad, args, seed, work, log))
            result = {
                "generator": "tools/torch-reference/crad_run.py",
                "official": {"repository": "tae-mo/CRAD", "commit": crad.commit, "patches": crad.patches[:2] + PATCHES},
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
                "settings": {"category": args.category, "backbone": "efficientnet_b4", "size": args.size, "layers": args.layers, "expansion": args.expansion, "batchSize": args.batch_size, "epochs": args.epochs, "seeds": all_seeds},
                "weights": {"file": os.path.basename(args.weights), "sha256": file_digest(args.weights)},
                "data": {"category": args.category, "sha256": data_digest(args.data_root, args.category)},
                "seconds": earlier_seconds + time.time() - started,  # summed over --append invocations
                "runs": runs,
            }
            with open(args.out, "w") as f:  # after every seed: a stopped run keeps what it finished
                json.dump(result, f, indent=1)
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
