"""Do our seeds draw from the reference code's distributions? (issue #26) Compares, over many
seeds, what each side's seed draws in a CFA run: the descriptor's initial CoordConv weight and
bias (torch: `DSVDD`'s `Descriptor` after the trainer's manual_seed and resnet18; ours:
`our-seed-draws.ts`) and the per-epoch image orders (torch: the trainer's DataLoader(shuffle=True,
drop_last=True) over n images, after the bank's pass; ours: `epochOrders`). Two-sample
Kolmogorov–Smirnov tests (scipy) on

  - every weight and bias value, pooled over the seeds (the marginal: U(±1/√fan_in)?);
  - per-seed statistics: the weight's std and max |w|, the bias's std and mean, and the largest
    singular value of W (how far the draw stretches the features it projects);
  - the orders: the epoch-1 position of image 0, and whether images 0 and 1 share a batch
    (a chi-square test of the 0/1 counts).

    CFA_OFFICIAL_DIR=... /usr/bin/python3 draw_stats.py --draws ours.safetensors --seeds 0-199 --images 40 --out stats.json
"""
import argparse
import json

import numpy as np
import torch
from scipy import stats
from torch.utils.data import DataLoader

import st_io
from official_code import load_official
from official_run import CNN_BUILDERS


def torch_draws(official, seed, n, cnn):
    """The trainer's draws for one seed: manual_seed, resnet18, DSVDD's Descriptor, then the bank's
    pass and the first epoch of its train DataLoader (over indices; the images play no part)."""
    torch.manual_seed(seed)
    CNN_BUILDERS[cnn](official)
    conv = official.cfa.Descriptor(1, cnn).layer.conv
    loader = DataLoader(list(range(n)), batch_size=4, shuffle=True, drop_last=True)
    list(loader)  # the bank's pass
    order = torch.cat(list(loader)).numpy()
    return conv.weight.detach().numpy().reshape(conv.weight.shape[0], -1), conv.bias.detach().numpy(), order


def summary(weight, bias, order):
    where = {int(v): i for i, v in enumerate(order)}
    return {
        "weightStd": float(weight.std()),
        "weightMaxAbs": float(np.abs(weight).max()),
        "biasStd": float(bias.std()),
        "biasMean": float(bias.mean()),
        "weightTopSingular": float(np.linalg.norm(weight, 2)),
        "positionOfImage0": where[0],
        "images0And1ShareABatch": int(where[0] // 4 == where[1] // 4),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--draws", required=True, help="our-seed-draws.ts output for the same seeds")
    parser.add_argument("--seeds", default="0-199")
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--cnn", default="res18")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    first, last = (int(v) for v in args.seeds.split("-"))
    seeds = list(range(first, last + 1))
    official = load_official()
    ours = st_io.read(args.draws)[0]
    sides = {"torch": [], "ours": []}
    pooled = {"torch": {"weight": [], "bias": []}, "ours": {"weight": [], "bias": []}}
    for seed in seeds:
        w, b, order = torch_draws(official, seed, args.images, args.cnn)
        ow, ob, oo = ours[f"{seed}.weight"], ours[f"{seed}.bias"], ours[f"{seed}.orders"][0].astype(int)
        ow = ow.reshape(ow.shape[0], -1)
        sides["torch"].append(summary(w, b, order))
        sides["ours"].append(summary(ow, ob, oo))
        if seed < first + 5:  # 5 seeds × 201 600 values are plenty for the marginal
            for side, (sw, sb) in (("torch", (w, b)), ("ours", (ow, ob))):
                pooled[side]["weight"].append(sw.ravel())
                pooled[side]["bias"].append(sb)
    fan_in = w.shape[1]
    report = {"seeds": [first, last], "fanIn": fan_in, "bound": 1 / np.sqrt(fan_in), "tests": {}}
    for what in ("weight", "bias"):
        a, b = (np.concatenate(pooled[s][what]) for s in ("ours", "torch"))
        report["tests"][f"{what} values (pooled)"] = {
            "ks": stats.ks_2samp(a, b).pvalue,
            "ours": [float(a.min()), float(a.max()), float(a.std())],
            "torch": [float(b.min()), float(b.max()), float(b.std())],
            "uniformStd": 1 / np.sqrt(fan_in) / np.sqrt(3),
        }
    for key in sides["torch"][0]:
        a = np.array([s[key] for s in sides["ours"]])
        b = np.array([s[key] for s in sides["torch"]])
        if key == "images0And1ShareABatch":
            table = np.array([[a.sum(), len(a) - a.sum()], [b.sum(), len(b) - b.sum()]])
            p = stats.chi2_contingency(table)[1]
        else:
            p = stats.ks_2samp(a, b).pvalue
        report["tests"][key] = {"p": float(p), "ours": [float(a.mean()), float(a.std(ddof=1))], "torch": [float(b.mean()), float(b.std(ddof=1))]}
    report["perSeed"] = sides
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)
    for key, t in report["tests"].items():
        print(key, json.dumps(t))


if __name__ == "__main__":
    main()
