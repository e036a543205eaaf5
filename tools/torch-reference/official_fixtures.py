"""Parity fixtures computed by the CFA reference code's own modules (official_code.py imports them
from a snapshot outside this repository): for each of its four backbones the tapped feature maps and
φ of its `Descriptor`; for resnet18 also the memory bank of `DSVDD._init_centroid`, the K+J nearest
distances, `DSVDD`'s loss and its gradients at two radii, the score of `DSVDD.forward`, the maps of
`utils/metric.py` `upsample` + `gaussian_smooth`, and three steps of the trainer's AdamW(amsgrad);
and `pro_auc_pxl` on a few score/mask sets for the metrics package.

The inputs come from make-official-inputs.ts (regenerable from the settings the fixtures carry).
The only things this driver sets are inputs: the backbone's state dict, the images, the
descriptor's initial parameters (by wrapping `utils.cfa.Descriptor`, whose constructor the
reference code calls inside `DSVDD.__init__`) and r.

    CFA_OFFICIAL_DIR=... /usr/bin/python3 official_fixtures.py <inputs dir> <backbone out dir> <cfa out dir> <metrics out dir>
"""
import json
import os
import sys

import numpy as np
import torch

import st_io
from official_code import load_official

MIN_TIE_MARGIN = 1e-4
torch.set_num_threads(1)


def official_backbone(official, cnn):
    if cnn == "res18":
        return official.resnet.resnet18(pretrained=False)
    if cnn == "wrn50_2":
        return official.resnet.wide_resnet50_2(pretrained=False)
    if cnn == "vgg19":
        return official.vgg.vgg19_bn(pretrained=False)
    if cnn == "effnet-b5":
        return official.efficientnet.EfficientNet.from_name("efficientnet-b5")
    raise ValueError(cnn)


# parts of each model that lie after the taps: present in the module, absent from our weights
UNUSED = {
    "res18": ("layer4.", "fc."),
    "wrn50_2": ("layer4.", "fc."),
    "vgg19": (),
    "effnet-b5": ("_conv_head.", "_bn1.", "_fc.") + tuple(f"_blocks.{i}." for i in range(27, 39)),
}


def load_weights(model, inputs, cnn):
    state = {k[len("backbone."):]: torch.from_numpy(v) for k, v in inputs.items() if k.startswith("backbone.")}
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected, f"keys the reference model does not have: {unexpected[:5]}"
    stray = [k for k in missing if not k.startswith(UNUSED[cnn])]
    assert not stray, f"reference parameters our weights lack: {stray[:5]}"


class injected_descriptor:
    """While active, `utils.cfa.Descriptor` instances start from the given CoordConv parameters.

    The reference constructor is wrapped rather than subclassed: it calls `super(Descriptor, self)`
    through the module global, and `DSVDD.__init__` builds its Descriptor through that global too."""

    def __init__(self, official, weight, bias):
        self.cls, self.weight, self.bias = official.cfa.Descriptor, weight, bias

    def __enter__(self):
        self.original = original = self.cls.__init__
        weight, bias = self.weight, self.bias

        def init(descriptor, gamma_d, cnn):
            original(descriptor, gamma_d, cnn)
            conv = descriptor.layer.conv
            assert tuple(conv.weight.shape) == weight.shape, (conv.weight.shape, weight.shape)
            with torch.no_grad():
                conv.weight.copy_(torch.from_numpy(weight))
                conv.bias.copy_(torch.from_numpy(bias))

        self.cls.__init__ = init
        return self.cls

    def __exit__(self, *exc):
        self.cls.__init__ = self.original


def nchw(images):
    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()


def sorted_distances(phi_p, C, k):
    """The K+J smallest squared distances as `DSVDD._soft_boundary` computes them."""
    features = torch.sum(torch.pow(phi_p, 2), 2, keepdim=True)
    centers = torch.sum(torch.pow(C, 2), 0, keepdim=True)
    return (features + centers - 2 * torch.matmul(phi_p, C)).topk(k, largest=False)


def boundary_gap(phi_p, C, K, J):
    d = sorted_distances(phi_p.detach(), C, K + J + 1).values
    return min(((d[..., b] - d[..., b - 1]) / d[..., b].abs().clamp(min=1e-12)).min().item() for b in (K, K + J))


def backbone_fixture(official, path, out_dir):
    inputs, meta = st_io.read(path)
    s = json.loads(meta["settings"])
    cnn = s["official"]
    model = official_backbone(official, cnn)
    load_weights(model, inputs, cnn)
    model.eval()
    x = nchw(inputs["images"])
    out = {}
    with torch.no_grad():
        maps = model(x)
        for i, m in enumerate(maps):
            out[f"features.{i}"] = m.permute(0, 2, 3, 1).numpy()
        with injected_descriptor(official, inputs["descriptor.weight"], inputs["descriptor.bias"]) as Descriptor:
            descriptor = Descriptor(s["gammaD"], cnn)
        phi = descriptor(maps)
        out["phi"] = phi.permute(0, 2, 3, 1).numpy()
    target = os.path.join(out_dir, f"{s['backbone']}.official.safetensors")
    st_io.write(target, out, {"settings": json.dumps(s), "inputsSha256": meta["inputsSha256"], "commit": official.commit, "torch": torch.__version__, "generator": "tools/torch-reference/official_fixtures.py"})
    print(f"wrote {target}: " + ", ".join(f"{k} {list(v.shape)}" for k, v in sorted(out.items())))
    return inputs, meta, s, model


def pipeline_fixture(official, inputs, meta, s, model, out_dir):
    K, J, nu, alpha = s["K"], s["J"], s["nu"], s["alpha"]
    x = nchw(inputs["images"])
    with torch.no_grad():
        p = model(x)
    loader = [(x, torch.zeros(len(x)), torch.zeros(len(x)))]  # one batch, as a DataLoader yields it
    with injected_descriptor(official, inputs["descriptor.weight"], inputs["descriptor.bias"]):
        dsvdd = official.cfa.DSVDD(model, loader, s["official"], 1, s["gammaD"], torch.device("cpu"))
    assert dsvdd.nu == nu and dsvdd.alpha == alpha and dsvdd.K == K and dsvdd.J == J
    out = {}
    C = dsvdd.C.detach()  # [D', HW]
    out["bank"] = C.t().contiguous().numpy()
    phi_p = dsvdd.Descriptor(p).permute(0, 2, 3, 1).reshape(len(x), -1, C.shape[0])
    out["phi"] = phi_p.detach().numpy()
    top = sorted_distances(phi_p.detach(), C, K + J)
    out["nearest.distances"] = top.values.numpy()
    out["nearest.indices"] = top.indices.numpy().astype(np.int64)
    margin = boundary_gap(phi_p, C, K, J)

    # r = 1e-5 (paper) leaves repulsion off; r² at the median 4th-nearest distance turns both terms on
    r_active = float(torch.sqrt(top.values[..., K].median()).item())
    radii = [1e-5, r_active]
    out["r_values"] = np.array(radii, dtype=np.float32)
    conv = dsvdd.Descriptor.layer.conv
    dsvdd.train()
    for i, r in enumerate(radii):
        with torch.no_grad():
            dsvdd.r.fill_(r)
        for t in (conv.weight, conv.bias, dsvdd.r):
            t.grad = None
        loss, _ = dsvdd(p)
        loss.backward()
        out[f"loss.{i}"] = np.array([loss.item()], dtype=np.float32)
        out[f"grad.{i}.weight"] = conv.weight.grad.numpy().copy()
        out[f"grad.{i}.bias"] = conv.bias.grad.numpy().copy()
        out[f"grad.{i}.r"] = dsvdd.r.grad.numpy().copy()

    # inference as the trainer's test phase: DSVDD.forward's score, mean over its channel, upsample, smooth
    dsvdd.eval()
    with torch.no_grad():
        _, score = dsvdd(p)
    out["score.patch"] = score[:, 0].numpy()
    heatmaps = torch.mean(score, dim=1)
    maps = official.metric.gaussian_smooth(official.metric.upsample(heatmaps, size=x.size(2), mode="bilinear"), sigma=s["sigma"])
    out["score.maps"] = maps.astype(np.float32)
    out["score.image"] = maps.reshape(len(x), -1).max(axis=1).astype(np.float32)

    # the trainer's optimiser over DSVDD's parameters (r, the descriptor; C and the unused parent
    # conv of CoordConv2d get no gradient), three steps on the batch from r = r_active
    with torch.no_grad():
        dsvdd.r.fill_(r_active)
        conv.weight.copy_(torch.from_numpy(inputs["descriptor.weight"]))
        conv.bias.copy_(torch.from_numpy(inputs["descriptor.bias"]))
    optimizer = torch.optim.AdamW(params=[{"params": dsvdd.parameters()}], lr=s["lr"], weight_decay=s["weightDecay"], amsgrad=True)
    dsvdd.train()
    losses = []
    for _ in range(s["steps"]):
        optimizer.zero_grad()
        margin = min(margin, boundary_gap(dsvdd.Descriptor(p).permute(0, 2, 3, 1).reshape(len(x), -1, C.shape[0]), C, K, J))
        loss, _ = dsvdd(p)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    out["train.losses"] = np.array(losses, dtype=np.float32)
    out["train.weight"] = conv.weight.detach().numpy()
    out["train.bias"] = conv.bias.detach().numpy()
    out["train.r"] = dsvdd.r.detach().numpy()
    out["tie_margin"] = np.array([margin], dtype=np.float32)
    if margin < MIN_TIE_MARGIN:
        print(f"near-tie in the neighbour order (relative gap {margin:.2e} < {MIN_TIE_MARGIN}): try another seed", file=sys.stderr)
        sys.exit(3)
    target = os.path.join(out_dir, "outputs.safetensors")
    st_io.write(target, out, {"settings": json.dumps(s), "inputsSha256": meta["inputsSha256"], "commit": official.commit, "torch": torch.__version__, "generator": "tools/torch-reference/official_fixtures.py"})
    print(f"wrote {target}: " + ", ".join(f"{k} {list(np.asarray(v).shape)}" for k, v in sorted(out.items())))


def blob_masks(rng, n, size):
    yy, xx = np.mgrid[0:size, 0:size]
    masks = np.zeros((n, size, size), dtype=np.float32)
    for i in range(n):
        for _ in range(int(rng.integers(0, 3))):
            cy, cx, r = rng.uniform(4, size - 4), rng.uniform(4, size - 4), rng.uniform(2, size / 5)
            masks[i][(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = 1
    return masks


def smooth_scores(rng, masks, signal):
    from scipy.ndimage import gaussian_filter

    noise = np.stack([gaussian_filter(rng.normal(size=m.shape), 2) for m in masks])
    return (noise + signal * np.stack([gaussian_filter(m, 1.5) for m in masks])).astype(np.float32)


def pro_fixture(official, out_dir):
    """`pro_auc_pxl` of the reference code (200 thresholds, FPR ≤ 0.3, both axes min-max rescaled)."""
    rng = np.random.default_rng(5)
    out, cases = {}, []
    for case, (n, size, signal) in enumerate([(4, 32, 0.5), (6, 24, 0.05), (3, 40, 2.0), (5, 16, 0.0)]):
        masks = blob_masks(rng, n, size)
        masks[0, 2:6, 2:9] = 1  # at least one region
        masks[1] = 0  # at least one normal image
        scores = smooth_scores(rng, masks, signal)
        out[f"case{case}.masks"] = masks
        out[f"case{case}.scores"] = scores
        # the trainer passes min-max rescaled maps; the function takes [N, 1, H, W] masks
        value = official.metric.pro_auc_pxl(masks[:, None].copy(), scores.copy())
        rescaled = official.metric.pro_auc_pxl(masks[:, None].copy(), official.metric.rescale(scores))
        out[f"case{case}.pro"] = np.array([value], dtype=np.float64).astype(np.float32)
        cases.append({"case": case, "images": n, "size": size, "signal": signal, "pro": value, "proOfRescaled": float(rescaled)})
    target = os.path.join(out_dir, "pro-reference.official.safetensors")
    st_io.write(target, out, {"cases": json.dumps(cases), "commit": official.commit, "generator": "tools/torch-reference/official_fixtures.py"})
    print(f"wrote {target}: " + ", ".join(f"case {c['case']} pro {c['pro']:.6f}" for c in cases))


def main(inputs_dir, backbone_dir, cfa_dir, metrics_dir):
    official = load_official()
    for d in (backbone_dir, cfa_dir, metrics_dir):
        os.makedirs(d, exist_ok=True)
    for name in ("resnet18", "wide_resnet50_2", "vgg19_bn", "efficientnet_b5"):
        inputs, meta, s, model = backbone_fixture(official, os.path.join(inputs_dir, f"{name}.inputs.safetensors"), backbone_dir)
        if name == "resnet18":
            pipeline_fixture(official, inputs, meta, s, model, cfa_dir)
    pro_fixture(official, metrics_dir)


if __name__ == "__main__":
    main(*sys.argv[1:5])
