"""Runs the CFA reference code itself (official_code.py) on a dataset in the MVTec AD layout, with
given backbone weights, over several seeds, and records per epoch what its trainer measures:
I-AUROC and P-AUROC (its `cal_img_roc`, `cal_pxl_roc`), its PRO (`cal_pxl_pro` → `pro_auc_pxl`,
our "P-PRO (ref)"), MVTec's AUPRO on the same maps (computed here, see `mvtec_aupro`) and the
learned radius r. The reference's `trainer_cfa.py` is not imported (it hard-codes 30 epochs, seed
1024 and downloads ImageNet weights); this driver follows its loop statement for statement with the
reference's own classes and functions: `MVTecDataset`, the DataLoaders (batch 4, shuffle, drop_last
for training), `DSVDD` (descriptor, memory bank, loss, score), AdamW(lr 1e-3, weight decay 5e-4,
amsgrad), the test phase's `upsample` + `gaussian_smooth` + `rescale`.

    CFA_OFFICIAL_DIR=... /usr/bin/python3 official_run.py --data-root DIR --category C \\
        --weights W.safetensors --cnn res18 --epochs 3 --seeds 0,1,2,3,4 --out official.json

Seeds run independently (each seeds `random` and torch itself), so several invocations with one seed
each can run side by side; `official_run.py merge --out official.json a.json b.json ...` joins their
results files after checking that they agree on everything but the seeds (settings, the reference
commit and patches, torch, the data's and the weights' sha256).

Besides official_code.py's patches, one more is applied here: `datasets/mvtec.py` accepts only
MVTec AD's 15 class names (an assert), so the category run is appended to `CLASS_NAMES`.
"""
import argparse
import hashlib
import json
import os
import random
import sys
import time

import numpy as np
import torch
from torch.utils.data import DataLoader

import st_io
from official_code import load_official

CNN_BUILDERS = {
    "res18": lambda o: o.resnet.resnet18(pretrained=False),
    "wrn50_2": lambda o: o.resnet.wide_resnet50_2(pretrained=False),
    "vgg19": lambda o: o.vgg.vgg19_bn(pretrained=False),
    "effnet-b5": lambda o: o.efficientnet.EfficientNet.from_name("efficientnet-b5"),
}


def mvtec_aupro(masks, maps, fpr_limit=0.3):
    """MVTec AD's AUPRO (Bergmann et al. 2021): per-region overlap against the normal pixels' FPR
    at every distinct score, area up to `fpr_limit` (trapezoid, interpolated at the limit) / limit;
    regions are 8-connected components of each mask. The same definition as @cfa/metrics `aupro`."""
    from scipy.ndimage import label

    masks = masks.astype(bool)
    n = masks.shape[0]
    region_weight = np.zeros(masks.shape, dtype=np.float64)
    regions = 0
    for i in range(n):
        labels, count = label(masks[i], structure=np.ones((3, 3)))
        regions += count
        for r in range(1, count + 1):
            where = labels == r
            region_weight[i][where] = 1.0 / where.sum()
    scores = maps.reshape(-1).astype(np.float64)
    normal = ~masks.reshape(-1)
    weight = region_weight.reshape(-1)
    order = np.argsort(-scores, kind="stable")
    s, fp, ov = scores[order], normal[order].astype(np.float64), weight[order]
    # one curve point per distinct score (all pixels tied at a score switch on together)
    last_of_run = np.r_[s[1:] != s[:-1], True]
    fpr = np.cumsum(fp)[last_of_run] / normal.sum()
    pro = np.minimum(np.cumsum(ov)[last_of_run] / regions, 1.0)
    fpr, pro = np.r_[0.0, fpr], np.r_[0.0, pro]
    k = np.searchsorted(fpr, fpr_limit, side="right")
    area = np.trapz(pro[:k], fpr[:k])
    if k < len(fpr) and fpr[k - 1] < fpr_limit:
        y = pro[k - 1] + (pro[k] - pro[k - 1]) * (fpr_limit - fpr[k - 1]) / (fpr[k] - fpr[k - 1])
        area += (fpr_limit - fpr[k - 1]) * (pro[k - 1] + y) / 2
    return float(area / fpr_limit)


def load_weights(model, path):
    tensors, _ = st_io.read(path)
    state = {k: torch.from_numpy(v) for k, v in tensors.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected, f"{path}: keys the reference model does not have: {unexpected[:5]}"
    return missing


def evaluator(official, model, loss_fn, test_loader, size, pro=True):
    """The trainer's test phase as a function: maps, upsample, gaussian_smooth, rescale, then its
    metrics (`pro=False` leaves out the two PROs, the slow part, for many-seed studies)."""
    metric = official.metric

    def evaluate():
        loss_fn.eval()
        gt_list, gt_mask_list, heatmaps = [], [], None
        for x, y, mask in test_loader:
            gt_list.extend(y.cpu().detach().numpy())
            gt_mask_list.extend(mask.cpu().detach().numpy())
            p = model(x)
            _, score = loss_fn(p)
            heatmap = torch.mean(score.cpu().detach(), dim=1)
            heatmaps = torch.cat((heatmaps, heatmap), dim=0) if heatmaps is not None else heatmap
        # x.size(2) in the trainer: the crop size
        heatmaps = metric.upsample(heatmaps, size=size, mode="bilinear")
        heatmaps = metric.gaussian_smooth(heatmaps, sigma=4)
        gt_mask = np.asarray(gt_mask_list)
        scores = metric.rescale(heatmaps)
        _, _, image_auroc = metric.cal_img_roc(scores, gt_list)
        _, _, pixel_auroc = metric.cal_pxl_roc(gt_mask, scores)
        record = {"imageAuroc": float(image_auroc), "pixelAuroc": float(pixel_auroc)}
        if pro:
            record["pixelAupro"] = mvtec_aupro(gt_mask[:, 0] > 0.5, scores)
            record["pixelProReference"] = float(metric.cal_pxl_pro(gt_mask.copy(), scores.copy()))
        record["radius"] = float(loss_fn.r.item())
        return record

    return evaluate


def train_epoch(model, loss_fn, optimizer, train_loader):
    """One epoch of the trainer's loop."""
    loss_fn.train()
    for (x, _, _) in train_loader:
        optimizer.zero_grad()
        p = model(x)
        loss, _ = loss_fn(p)
        loss.backward()
        optimizer.step()


def reference_optimizer(loss_fn):
    return torch.optim.AdamW(params=[{"params": loss_fn.parameters()}], lr=1e-3, weight_decay=5e-4, amsgrad=True)


def reference_datasets(official, args):
    dataset = official.mvtec.MVTecDataset
    common = dict(dataset_path=args.data_root, class_name=args.category, resize=256, cropsize=args.size, wild_ver=False)
    return dataset(is_train=True, **common), dataset(is_train=False, **common)


def reference_loaders(train_dataset, test_dataset):
    """The trainer's DataLoaders: batch 4, shuffle and drop_last for training."""
    train_loader = DataLoader(dataset=train_dataset, batch_size=4, pin_memory=False, shuffle=True, drop_last=True)
    return train_loader, DataLoader(dataset=test_dataset, batch_size=4, pin_memory=False)


def run_seed(official, args, seed, log):
    # the trainer's seeding, with this seed instead of its fixed 1024
    random.seed(seed)
    torch.manual_seed(seed)
    train_dataset, test_dataset = reference_datasets(official, args)
    train_loader, test_loader = reference_loaders(train_dataset, test_dataset)
    model = CNN_BUILDERS[args.cnn](official)
    missing = load_weights(model, args.weights)
    model.eval()
    device = torch.device("cpu")
    loss_fn = official.cfa.DSVDD(model, train_loader, args.cnn, args.gamma_c, args.gamma_d, device).to(device)
    optimizer = reference_optimizer(loss_fn)
    evaluate = evaluator(official, model, loss_fn, test_loader, args.size)

    # before any step: the random-init descriptor against the bank (our `loss: none`); the test
    # phase draws only the test loader's base seed (one number; nothing it uses), so the training
    # that follows gets other shuffles than without --untrained, from the same distribution
    untrained = evaluate() if args.untrained else None
    if untrained:
        log(f"seed {seed} untrained: " + " ".join(f"{k} {v:.4f}" for k, v in untrained.items()))
    epochs = []
    for epoch in range(args.epochs):
        start = time.perf_counter()
        train_epoch(model, loss_fn, optimizer, train_loader)
        record = {"epoch": epoch + 1, **evaluate(), "seconds": time.perf_counter() - start}
        epochs.append(record)
        log(f"seed {seed} epoch {epoch + 1}: " + " ".join(f"{k} {v:.4f}" for k, v in record.items() if k not in ("epoch",)))
    result = {"seed": seed, "epochs": epochs, "trainImages": len(train_dataset), "testImages": len(test_dataset), "unusedReferenceParameters": len(missing)}
    if untrained:
        result["untrained"] = untrained
    return result


def file_digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def data_digest(root, category):
    """sha256 over the relative paths and bytes of every file of the category (sorted)."""
    h = hashlib.sha256()
    base = os.path.join(root, category)
    for dirpath, _, files in sorted(os.walk(base)):
        for name in sorted(files):
            path = os.path.join(dirpath, name)
            h.update(os.path.relpath(path, base).encode())
            h.update(file_digest(path).encode())
    return h.hexdigest()


def write_results(args, official, runs, seconds):
    seeds = [run["seed"] for run in runs]
    result = {
        "generator": "tools/torch-reference/official_run.py",
        "official": {"repository": "sungwool/CFA_for_anomaly_localization", "commit": official.commit, "patches": official.patches + ["datasets.mvtec.CLASS_NAMES gains the category run"]},
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "settings": {"category": args.category, "cnn": args.cnn, "epochs": args.epochs, "size": args.size, "gammaC": args.gamma_c, "gammaD": args.gamma_d, "batchSize": 4, "seeds": seeds, "untrained": args.untrained},
        "weights": {"file": os.path.basename(args.weights), "sha256": file_digest(args.weights)},
        "data": {"category": args.category, "sha256": data_digest(args.data_root, args.category)},
        "seconds": seconds,
        "runs": runs,
    }
    with open(args.out + ".part", "w") as f:
        json.dump(result, f, indent=1)
    os.replace(args.out + ".part", args.out)


def merge_results(paths, out):
    """Joins results files of the same settings, data and weights into one, runs in seed order."""
    parts = [(p, json.load(open(p))) for p in paths]
    same = lambda r: {k: v for k, v in r.items() if k not in ("runs", "seconds", "settings", "note")} | {"settings": {k: v for k, v in r["settings"].items() if k != "seeds"}}  # noqa: E731
    first_path, first = parts[0]
    for path, r in parts[1:]:
        if same(r) != same(first):
            diff = sorted(k for k in same(r) if same(r)[k] != same(first).get(k))
            raise SystemExit(f"{path}: differs from {first_path} in {', '.join(diff)}: not the same measurement")
    runs = sorted((run for _, r in parts for run in r["runs"]), key=lambda run: run["seed"])
    seeds = [run["seed"] for run in runs]
    if len(set(seeds)) != len(seeds):
        raise SystemExit(f"seeds measured twice across {', '.join(paths)}: {seeds}")
    merged = {**first, "settings": {**first["settings"], "seeds": seeds}, "seconds": sum(r["seconds"] for _, r in parts), "runs": runs}
    merged["note"] = f"{len(parts)} invocations of official_run.py with the same settings, data and weights (checked equal by `official_run.py merge`), runs joined in seed order"
    with open(out, "w") as f:
        json.dump(merged, f, indent=1)
    print(f"wrote {out}: seeds {seeds}", file=sys.stderr)


def main():
    if sys.argv[1:2] == ["merge"]:
        merger = argparse.ArgumentParser(prog="official_run.py merge", description="join results files of one setup measured by several invocations")
        merger.add_argument("--out", required=True)
        merger.add_argument("parts", nargs="+")
        args = merger.parse_args(sys.argv[2:])
        return merge_results(args.parts, args.out)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", required=True)
    parser.add_argument("--category", required=True)
    parser.add_argument("--weights", required=True, help=".safetensors state dict for the reference model")
    parser.add_argument("--cnn", default="res18", choices=sorted(CNN_BUILDERS))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--gamma-c", type=int, default=1)
    parser.add_argument("--gamma-d", type=int, default=1)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--untrained", action="store_true", help="also evaluate each seed before its first step (the untrained descriptor)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    official = load_official()
    if args.category not in official.mvtec.CLASS_NAMES:
        official.mvtec.CLASS_NAMES.append(args.category)  # patch 5: the dataset asserts MVTec's names
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    seeds = [int(s) for s in args.seeds.split(",")]
    started = time.time()
    runs = []
    for seed in seeds:
        runs.append(run_seed(official, args, seed, log))
        # rewritten after every seed: a run stopped part-way keeps the seeds it finished, and the
        # file says which (settings.seeds lists only those)
        write_results(args, official, runs, time.time() - started)
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
