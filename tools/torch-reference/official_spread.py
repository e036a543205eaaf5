"""Seed-to-seed spread of the CFA reference code on one setup, over many seeds, and where it comes
from (issue #26). Each run is `official_run.py`'s run of one seed — the reference's own `DSVDD`,
AdamW, DataLoaders and test phase — with the backbone's outputs computed once and looked up (the
backbone is fixed, in eval mode, and draws nothing; resnet18 is still built every run so that
torch's RNG stream is where the trainer's is). So a run with both sources `torch` reproduces
`official_run.py --untrained` for that seed (check: `--check official.json`).

What each run draws can come from elsewhere:
  --init torch|ours    the descriptor's initial CoordConv parameters: torch's draw after
                       manual_seed(init seed), or ours (`our-seed-draws.ts`, `--draws` file)
  --order torch|ours   the batches: the reference DataLoader's shuffles, or our epoch orders
  --init-seed K        every run starts from seed K's init (the order still follows the run's seed)
  --order-seed K       every run uses seed K's batches (the init still follows the run's seed)

    CFA_OFFICIAL_DIR=... /usr/bin/python3 official_spread.py --data-root DIR --category C \\
        --weights W.safetensors --seeds 0-29 --epochs 1 [--init ours --order ours --draws D] --out S.json

Per run it records I-AUROC and P-AUROC (untrained and per epoch; `--pro` adds both PROs), r, and
statistics of the draw itself: the init's weight and bias (std, max |.|), φ at init over the train
patches (mean ‖φ‖, mean distance to the nearest centre) and the same after the last epoch.
"""
import argparse
import json
import random
import sys
import time

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

import st_io
from official_code import load_official
from official_fixtures import injected_descriptor
from official_run import CNN_BUILDERS, evaluator, load_weights, reference_datasets, reference_loaders, reference_optimizer, train_epoch


# φ's statistics are taken on the first 8 train images (a distance matrix per image costs as much
# as a training step's)
PHI_STATS_IMAGES = 8


class Indexed(Dataset):
    """(index, label, mask) per item of a reference dataset: the loaders batch indices, which the
    cached backbone turns into its outputs."""

    def __init__(self, dataset):
        self.labels, self.masks = [], []
        for i in range(len(dataset)):
            _, y, mask = dataset[i]
            self.labels.append(y)
            self.masks.append(mask)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return torch.tensor(i), self.labels[i], self.masks[i]


class CachedBackbone:
    """The reference backbone's outputs for every image of a dataset, looked up by index."""

    def __init__(self, model, dataset):
        outputs = []
        with torch.no_grad():
            for start in range(0, len(dataset), 4):
                x = torch.stack([dataset[i][0] for i in range(start, min(start + 4, len(dataset)))])
                outputs.append([o.detach().clone() for o in model(x)])
        self.features = [torch.cat([o[level] for o in outputs]) for level in range(len(outputs[0]))]

    def __call__(self, index):
        return [f[index] for f in self.features]


class OrderSampler:
    """Batches of 4 in given orders: the first pass (the bank) in index order, as our bank reads
    every image when n is a multiple of 4, then one given order per epoch."""

    def __init__(self, n, orders):
        self.n, self.orders, self.passes = n, orders, 0

    def __iter__(self):
        order = list(range(self.n)) if self.passes == 0 else [int(i) for i in self.orders[self.passes - 1]]
        self.passes += 1
        for b in range(self.n // 4):
            yield order[4 * b : 4 * b + 4]

    def __len__(self):
        return self.n // 4


def torch_init(official, args, seed):
    """The descriptor parameters the trainer's DSVDD draws after manual_seed(seed): its resnet18
    is built first (that consumes the RNG), then DSVDD's Descriptor."""
    torch.manual_seed(seed)
    CNN_BUILDERS[args.cnn](official)
    conv = official.cfa.Descriptor(args.gamma_d, args.cnn).layer.conv
    return conv.weight.detach().numpy().copy(), conv.bias.detach().numpy().copy()


def phi_stats(loss_fn, model, n):
    """Mean ‖φ‖ and mean distance to the nearest centre over the patches of the first n train
    images."""
    norms, nearest = [], []
    with torch.no_grad():
        for start in range(0, n, 4):
            idx = torch.arange(start, min(start + 4, n))
            phi = loss_fn.Descriptor(model(idx))
            phi = phi.permute(0, 2, 3, 1).reshape(len(idx), -1, phi.shape[1])
            d = (phi**2).sum(2, keepdim=True) + (loss_fn.C**2).sum(0, keepdim=True) - 2 * phi @ loss_fn.C
            norms.append(phi.norm(dim=2).mean().item())
            nearest.append(d.clamp_min(0).min(2).values.sqrt().mean().item())
    return {"phiNorm": float(np.mean(norms)), "nearestDistance": float(np.mean(nearest))}


def run(official, args, cached, seed, draws):
    init_seed = seed if args.init_seed is None else args.init_seed
    order_seed = seed if args.order_seed is None else args.order_seed
    if args.init == "ours":
        weight, bias = draws[f"{init_seed}.weight"], draws[f"{init_seed}.bias"]
    else:
        weight, bias = torch_init(official, args, init_seed)
    # the trainer's seeding; everything below is official_run.run_seed with the cached backbone
    random.seed(order_seed)
    torch.manual_seed(order_seed)
    CNN_BUILDERS[args.cnn](official)  # its init draws as the trainer's does
    train, test = cached["train"], cached["test"]
    train_loader, test_loader = reference_loaders(train["data"], test["data"])
    if args.order == "ours":
        orders = draws[f"{order_seed}.orders"]
        assert orders.shape[0] >= args.epochs, f"--draws has {orders.shape[0]} epoch orders, --epochs is {args.epochs}"
        train_loader = DataLoader(train["data"], batch_sampler=OrderSampler(len(train["data"]), orders))
    model = lambda index: train["model"](index)  # noqa: E731
    with injected_descriptor(official, weight, bias):
        loss_fn = official.cfa.DSVDD(model, train_loader, args.cnn, args.gamma_c, args.gamma_d, torch.device("cpu"))
    optimizer = reference_optimizer(loss_fn)
    evaluate = evaluator(official, test["model"], loss_fn, test_loader, args.size, pro=args.pro)
    record = {
        "seed": seed,
        "initSeed": init_seed,
        "orderSeed": order_seed,
        "init": {"weightStd": float(weight.std()), "weightMaxAbs": float(np.abs(weight).max()), "biasStd": float(bias.std()), "biasMaxAbs": float(np.abs(bias).max())},
        "atInit": phi_stats(loss_fn, model, PHI_STATS_IMAGES),
        "untrained": evaluate(),
        "epochs": [],
    }
    for epoch in range(args.epochs):
        train_epoch(model, loss_fn, optimizer, train_loader)
        record["epochs"].append({"epoch": epoch + 1, **evaluate()})
    record["afterTraining"] = phi_stats(loss_fn, model, PHI_STATS_IMAGES)
    return record


def parse_seeds(text):
    if "-" in text:
        first, last = (int(v) for v in text.split("-"))
        return list(range(first, last + 1))
    return [int(s) for s in text.split(",")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", required=True)
    parser.add_argument("--category", required=True)
    parser.add_argument("--weights", required=True)
    parser.add_argument("--cnn", default="res18", choices=sorted(CNN_BUILDERS))
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seeds", default="0-29", help="a range 0-29 or a list 0,1,2")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--gamma-c", type=int, default=1)
    parser.add_argument("--gamma-d", type=int, default=1)
    parser.add_argument("--init", choices=["torch", "ours"], default="torch")
    parser.add_argument("--order", choices=["torch", "ours"], default="torch")
    parser.add_argument("--init-seed", type=int)
    parser.add_argument("--order-seed", type=int)
    parser.add_argument("--draws", help="our-seed-draws.ts output (for --init ours / --order ours)")
    parser.add_argument("--pro", action="store_true", help="also the two PROs (slow)")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--check", help="an official_run.py --untrained results file: the runs with both sources torch must reproduce it")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    if (args.init == "ours" or args.order == "ours") and not args.draws:
        parser.error("--init ours / --order ours need --draws (our-seed-draws.ts)")
    if args.threads:
        torch.set_num_threads(args.threads)
    official = load_official()
    if args.category not in official.mvtec.CLASS_NAMES:
        official.mvtec.CLASS_NAMES.append(args.category)  # official_run.py's patch 5
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    draws = st_io.read(args.draws)[0] if args.draws else {}
    started = time.time()
    backbone = CNN_BUILDERS[args.cnn](official)
    load_weights(backbone, args.weights)
    backbone.eval()
    cached = {}
    for part, dataset in zip(("train", "test"), reference_datasets(official, args)):
        cached[part] = {"data": Indexed(dataset), "model": CachedBackbone(backbone, dataset)}
    log(f"backbone outputs cached ({time.time() - started:.0f} s)")
    runs = []
    for seed in parse_seeds(args.seeds):
        t0 = time.time()
        runs.append(run(official, args, cached, seed, draws))
        last = runs[-1]["epochs"][-1] if args.epochs else runs[-1]["untrained"]
        log(f"seed {seed}: untrained P-AUROC {runs[-1]['untrained']['pixelAuroc']:.4f}, epoch {args.epochs} I-AUROC {last['imageAuroc']:.4f} P-AUROC {last['pixelAuroc']:.4f} ({time.time() - t0:.0f} s)")
    if args.check:
        reference = {r["seed"]: r for r in json.load(open(args.check))["runs"]}
        for r in runs:
            if args.init != "torch" or args.order != "torch" or r["seed"] not in reference:
                continue
            want = reference[r["seed"]]
            pairs = [(r["untrained"], want["untrained"])] + list(zip(r["epochs"], want["epochs"]))
            worst = max(abs(a[k] - b[k]) for a, b in pairs for k in ("imageAuroc", "pixelAuroc"))
            log(f"check seed {r['seed']}: largest |Δ| against {args.check} {worst:.2e}")
    settings = {k: v for k, v in vars(args).items() if k not in ("out", "check", "threads")}
    with open(args.out, "w") as f:
        json.dump({"generator": "tools/torch-reference/official_spread.py", "settings": settings, "seconds": time.time() - started, "runs": runs}, f, indent=1)
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
