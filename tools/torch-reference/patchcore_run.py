"""The PatchCore reference code's own numbers for the fidelity check (docs/fidelity.md §5): the
authors' PatchCore (patchcore_code.py: the pinned snapshot with its run-time patches) on the
fidelity setup's data and seeded random-init weights, its own dataset class (MVTecDataset: Resize
256, CenterCrop 224, ImageNet normalisation), `PatchCore.fit` with its ApproximateGreedyCoresetSampler
and `PatchCore.predict` on the test loader, per seed (`utils.fix_seeds`: the sampler's random
projection and starting point are its only random draws). Metrics as the authors' code computes them
(`metrics.compute_imagewise_retrieval_metrics` / `compute_pixelwise_retrieval_metrics`: I-AUROC,
P-AUROC; the pixel metrics on the masks every fidelity row reads, nearest-resized, with the
authors' own mask rule kept as `pixelAurocAuthorsMasks`), MVTec's AUPRO on the same maps (official_run.py's `mvtec_aupro`, @cfa/metrics' definition)
and, when CFA_OFFICIAL_DIR is set, the CFA reference code's PRO (`cal_pxl_pro`: our "P-PRO (ref)").
Writes the results file the fidelity command reads (one "epoch": the fitted model).

    PATCHCORE_OFFICIAL_DIR=... CFA_OFFICIAL_DIR=... /usr/bin/python3 tools/torch-reference/patchcore_run.py \
        --data-root data/fidelity --category weave --weights .cache/fidelity/resnet18-seed0.safetensors \
        --backbone resnet18 --seeds 0,1,2,3,4 --out experiments/fidelity/patchcore-resnet18-weave.json
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import PIL.Image
import torch
import torchvision

from official_run import data_digest, file_digest, mvtec_aupro
from patchcore_code import load_patchcore
import st_io

UNUSED = ("layer4.", "fc.")  # after the taps: in the torchvision model, not in the fidelity weights


def torchvision_backbone(name, path):
    model = getattr(torchvision.models, name)(weights=None)
    tensors, _ = st_io.read(path)
    missing, unexpected = model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()}, strict=False)
    assert not unexpected, f"{path}: keys torchvision's {name} does not have: {unexpected[:5]}"
    stray = [k for k in missing if not k.startswith(UNUSED)]
    assert not stray, f"{path}: torchvision parameters the weights lack: {stray[:5]}"
    return model.eval()


def nearest_masks(dataset, size):
    """The test masks as our loader and the CFA reference code read them: Pillow's nearest resize
    (short side 256), the same centre crop, so binary. The authors' MVTecDataset resizes masks
    bilinearly and its metric truncates them to int: a different ground truth along every defect's
    edge, which moved P-AUROC by 0.07 points (docs/fidelity.md §5); both are recorded."""
    transform = torchvision.transforms.Compose(
        [
            torchvision.transforms.Resize(256, interpolation=torchvision.transforms.InterpolationMode.NEAREST),
            torchvision.transforms.CenterCrop(size),
            torchvision.transforms.ToTensor(),
        ]
    )
    out = []
    for _, _, _, mask_path in dataset.data_to_iterate:
        if mask_path is None:
            out.append(np.zeros((size, size), dtype=np.float32))
        else:
            out.append((transform(PIL.Image.open(mask_path))[0].numpy() > 0.5).astype(np.float32))
    return np.stack(out)


def run_seed(ref, args, seed, pro_reference, log):
    ref.utils.fix_seeds(seed, with_cuda=False)
    device = torch.device("cpu")
    mvtec = ref.mvtec
    split = lambda s: mvtec.MVTecDataset(args.data_root, args.category, resize=256, imagesize=args.size, split=s)  # noqa: E731
    train, test = split(mvtec.DatasetSplit.TRAIN), split(mvtec.DatasetSplit.TEST)
    loader = lambda d: torch.utils.data.DataLoader(d, batch_size=args.batch_size, shuffle=False)  # noqa: E731
    model = torchvision_backbone(args.backbone, args.weights)
    sampler = ref.sampler.ApproximateGreedyCoresetSampler(args.fraction, device)
    patchcore = ref.patchcore.PatchCore(device)
    patchcore.load(
        backbone=model,
        layers_to_extract_from=["layer2", "layer3"],
        device=device,
        input_shape=(3, args.size, args.size),
        pretrain_embed_dimension=1024,
        target_embed_dimension=1024,
        patchsize=3,
        featuresampler=sampler,
        anomaly_scorer_num_nn=1,
        nn_method=ref.common.FaissNN(False, max(1, torch.get_num_threads())),
    )
    start = time.perf_counter()
    patchcore.fit(loader(train))
    fit_seconds = time.perf_counter() - start
    scores, maps, labels, authors_masks = patchcore.predict(loader(test))
    maps, authors_masks = np.asarray(maps), np.asarray(authors_masks)[:, 0]
    masks = nearest_masks(test, args.size)
    assert masks.shape == maps.shape, f"masks {masks.shape} against maps {maps.shape}"
    record = {
        "epoch": 1,
        "imageAuroc": float(ref.metrics.compute_imagewise_retrieval_metrics(np.asarray(scores), np.asarray(labels))["auroc"]),
        # the same maps against the masks every other fidelity row reads (see nearest_masks)
        "pixelAuroc": float(ref.metrics.compute_pixelwise_retrieval_metrics(maps, masks)["auroc"]),
        "pixelAupro": mvtec_aupro(masks > 0.5, maps),
        # the authors' own rule: their bilinear mask resize, truncated to int (only pixels at exactly 1 are defective)
        "pixelAurocAuthorsMasks": float(ref.metrics.compute_pixelwise_retrieval_metrics(maps, authors_masks)["auroc"]),
        "seconds": fit_seconds,
    }
    if pro_reference:
        # the CFA trainer's metric.rescale first (min-max over the test set), as official_run.py does
        rescaled = (maps - maps.min()) / (maps.max() - maps.min())
        record["pixelProReference"] = float(pro_reference((masks[:, None] > 0.5).astype(np.float32), rescaled))
    log(f"seed {seed}: " + " ".join(f"{k} {v:.4f}" for k, v in record.items() if k != "epoch"))
    return {"seed": seed, "epochs": [record], "trainImages": len(train), "testImages": len(test)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", required=True)
    parser.add_argument("--category", required=True)
    parser.add_argument("--weights", required=True, help=".safetensors state dict in torchvision's names")
    parser.add_argument("--backbone", default="resnet18", choices=["resnet18", "wide_resnet50_2"])
    parser.add_argument("--fraction", type=float, default=0.1)
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    ref = load_patchcore()
    if args.category not in ref.mvtec._CLASSNAMES:
        ref.mvtec._CLASSNAMES.append(args.category)  # only the all-classes default reads the list
    pro_reference, patches = None, list(ref.patches)
    if os.environ.get("CFA_OFFICIAL_DIR"):
        from official_code import load_official

        pro_reference = load_official().metric.cal_pxl_pro
        patches.append("P-PRO (ref): the CFA reference code's metric.cal_pxl_pro on these maps (masks > 0.5)")
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    seeds = [int(s) for s in args.seeds.split(",")]
    started = time.time()
    runs = [run_seed(ref, args, seed, pro_reference, log) for seed in seeds]
    result = {
        "generator": "tools/torch-reference/patchcore_run.py",
        "official": {"repository": "amazon-science/patchcore-inspection", "commit": ref.commit, "patches": patches},
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "settings": {"category": args.category, "cnn": args.backbone, "epochs": 1, "size": args.size, "fraction": args.fraction, "layers": ["layer2", "layer3"], "embedding": [1024, 1024], "patchSize": 3, "neighbours": 1, "batchSize": args.batch_size, "seeds": seeds},
        "weights": {"file": os.path.basename(args.weights), "sha256": file_digest(args.weights)},
        "data": {"category": args.category, "sha256": data_digest(args.data_root, args.category)},
        "seconds": time.time() - started,
        "runs": runs,
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
