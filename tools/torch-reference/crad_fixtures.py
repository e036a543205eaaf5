"""Parity fixtures computed by the CRAD reference code's own modules (crad_code.py imports them from a
snapshot outside this repository):

- efficientnet_b4: the out-layer maps of its `efficientnet_b4` backbone (EfficientNet-PyTorch,
  out-layers [3, 4] as `experiments/config.yaml` asks, blocks from its `backbone_info`) and of its
  `MFCN` neck, for seeded weights and images;
- grid-sample: `F.grid_sample` as `crad.py` calls it (bilinear, align_corners=False, zero padding),
  forward and its gradients with respect to the grid and the coordinates;
- crad.full / crad.narrow: its `CRAD` module (full width, unpatched; and 2·C wide, patch 3) in eval
  mode (coordinates, the memory read, the reconstruction, the blend, the distance map), and one
  training step (its forward in train mode with its own noise draws, `FeatureMSELoss`, the
  gradients, the BatchNorm running statistics, then clip_grad_norm_ and AdamW with the two learning
  rates as `tools/train_val.py` groups them) and the StepLR factors of `utils/lr_helper.py` stepped
  as `train_val.py` steps them;
- eval: `utils/eval_helper.py`'s map smoothing (`EvalDataMeta`) and image score (`EvalImageMax`).

The inputs come from make-crad-inputs.ts (regenerable from the settings the fixtures carry); the
grid-sample and eval inputs are drawn here and stored in their fixtures (small).

    CRAD_OFFICIAL_DIR=... /usr/bin/python3 crad_fixtures.py <inputs dir> <descriptor out> <memory-bank out> <crad out> <scoring out>
"""
import contextlib
import json
import os
import sys
import types

import numpy as np
import torch
import torch.nn.functional as F

import st_io
from crad_code import load_crad, narrow_bottlenecks, recorded_draws

torch.set_num_threads(1)
# the blend rounds clamp(mse · coef): a position this close to 0.5 could round either way on rounding noise
MIN_ROUND_MARGIN = 1e-3


def nhwc(t):
    return t.detach().permute(0, 2, 3, 1).contiguous().numpy()


def meta(crad, extra):
    return {**extra, "commit": crad.commit, "torch": torch.__version__, "generator": "tools/torch-reference/crad_fixtures.py", "patches": json.dumps(crad.patches)}


def backbone_fixture(crad, inputs_dir, out_dir):
    inputs, m = st_io.read(os.path.join(inputs_dir, "efficientnet_b4.inputs.safetensors"))
    s = json.loads(m["settings"])
    net = crad.config["net"]
    outlayers = net[0]["kwargs"]["outlayers"]
    info = crad.backbones.backbone_info["efficientnet_b4"]
    idx = [info["layers"].index(layer) for layer in outlayers]
    blocks, strides, planes = [info["blocks"][i] for i in idx], [info["strides"][i] for i in idx], [info["planes"][i] for i in idx]
    model = crad.efficientnet.efficientnet_b4(pretrained=False, outblocks=blocks, outstrides=strides)
    state = {k[len("backbone."):]: torch.from_numpy(v) for k, v in inputs.items() if k.startswith("backbone.")}
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected, f"keys the reference model does not have: {unexpected[:5]}"
    unused = ("_conv_head.", "_bn1.", "_fc.") + tuple(f"_blocks.{i}." for i in range(blocks[-1] + 1, 40))
    stray = [k for k in missing if not k.startswith(unused)]
    assert not stray, f"reference parameters our weights lack: {stray[:5]}"
    model.eval()
    neck = crad.mfcn.MFCN(inplanes=planes, outplanes=[sum(planes)], instrides=strides, outstrides=net[1]["kwargs"]["outstrides"])
    x = torch.from_numpy(inputs["images"]).permute(0, 3, 1, 2).contiguous()
    with torch.no_grad():
        features = model({"image": x})["features"]
        aligned = neck({"features": features})["feature_align"]
    out = {f"features.{i}": nhwc(f) for i, f in enumerate(features)}
    out["mfcn"] = nhwc(aligned)
    target = os.path.join(out_dir, "efficientnet_b4.crad.safetensors")
    st_io.write(target, out, meta(crad, {"settings": json.dumps({**s, "outblocks": blocks, "outstrides": strides}), "inputsSha256": m["inputsSha256"]}))
    print(f"wrote {target}: " + ", ".join(f"{k} {list(v.shape)}" for k, v in sorted(out.items())))


def grid_sample_fixture(crad, out_dir):
    rng = np.random.default_rng(7)
    depth, r, n = 6, 5, 40
    grid = torch.tensor(rng.normal(size=(1, depth, r, r)).astype(np.float32), requires_grad=True)
    # some coordinates beyond [-1, 1]: zero padding, partly and wholly outside
    coords = torch.tensor(rng.uniform(-1.3, 1.3, size=(1, n, 1, 2)).astype(np.float32), requires_grad=True)
    upstream = torch.tensor(rng.normal(size=(n, depth)).astype(np.float32))
    sample = F.grid_sample(grid, coords, align_corners=False)  # [1, depth, n, 1], crad.py's call
    rows = sample[0, :, :, 0].t()
    (rows * upstream).sum().backward()
    out = {
        "grid": grid.detach().numpy(),
        "coords": coords.detach().reshape(n, 2).numpy(),
        "upstream": upstream.numpy(),
        "sample": rows.detach().numpy(),
        "grad.grid": grid.grad.numpy(),
        "grad.coords": coords.grad.reshape(n, 2).numpy(),
    }
    target = os.path.join(out_dir, "grid-sample.torch.safetensors")
    st_io.write(target, out, meta(crad, {}))
    print(f"wrote {target}")


def crad_module(crad, inputs, s):
    kwargs = dict(crad.config["net"][2]["kwargs"])
    kwargs.update(layers=s["layers"], ch_exp=s["expansion"], local_resol=s["localResolution"], global_resol=s["globalResolution"])
    layers = kwargs.pop("layers")
    model = crad.reconstruction.CRAD(layers, frozen_layers=[], initializer=None, inplanes=[s["channels"]], feature_size=[s["height"], s["width"]], save_recon=None, **kwargs)
    state = {k[len("crad."):]: torch.from_numpy(v) for k, v in inputs.items() if k.startswith("crad.")}
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected, f"keys CRAD does not have: {unexpected[:5]}"
    assert all(k.endswith("num_batches_tracked") for k in missing), f"CRAD parameters the inputs lack: {missing[:5]}"
    return model, kwargs


class Hooks:
    """The module's intermediate values: coordinates, the memory read (input of `layer`), R (output of `recover`), the distance map before upsampling."""

    def __init__(self, model):
        self.values = {}
        self.handles = [
            model.coord_.register_forward_hook(lambda m, i, o: self.values.__setitem__("globalCoords", o.detach().clone())),
            model.coord.register_forward_hook(lambda m, i, o: self.values.__setitem__("localCoords", o.detach().clone())),
            model.layer.register_forward_pre_hook(lambda m, i: self.values.__setitem__("memory", i[0].detach().clone())),
            model.recover.register_forward_hook(lambda m, i, o: self.values.__setitem__("reconstruction", o.detach().clone())),
            model.upsample.register_forward_pre_hook(lambda m, i: self.values.__setitem__("distances", i[0].detach().clone())),
        ]

    def close(self):
        for h in self.handles:
            h.remove()


def round_margin(reconstruction, features, coef):
    mse = torch.mean((reconstruction - features) ** 2, dim=1) * coef
    return float((mse.clamp(0, 1) - 0.5).abs().min())


def crad_fixture(crad, inputs_dir, out_dir, name):
    inputs, m = st_io.read(os.path.join(inputs_dir, f"crad.{name}.inputs.safetensors"))
    s = json.loads(m["settings"])
    narrow = s["channels"] != 216
    ctx = narrow_bottlenecks(crad, s["channels"]) if narrow else contextlib.nullcontext()
    with ctx:
        model, kwargs = crad_module(crad, inputs, s)
    features = torch.from_numpy(inputs["features"]).permute(0, 3, 1, 2).contiguous()
    out = {}
    margins = []

    # eval mode: running statistics, no noise
    model.eval()
    hooks = Hooks(model)
    with torch.no_grad():
        result = model({"feature_align": features})
    v = hooks.values
    out["eval.globalCoords"] = v["globalCoords"].numpy()
    for key in ("localCoords", "memory", "reconstruction", "distances"):
        out[f"eval.{key}"] = nhwc(v[key])
    out["eval.blended"] = nhwc(result["feature_rec"])
    out["eval.pred"] = result["pred"][:, 0].detach().numpy()
    margins.append(round_margin(v["reconstruction"], features, kwargs["mse_coef"]))

    # one training step, with the module's own draws (a seed whose coin adds the noise)
    model.train()
    criterion = crad.criterion.build_criterion(crad.config["criterion"])
    for draw_seed in range(100):
        torch.manual_seed(draw_seed)
        if torch.rand(1).item() < 0.5:
            break
    torch.manual_seed(draw_seed)
    with recorded_draws(crad) as draws:
        result = model({"feature_align": features})
    assert [d[0] for d in draws] == ["rand", "randn"], [d[0] for d in draws]
    v = hooks.values
    margins.append(round_margin(v["reconstruction"], features, kwargs["mse_coef"]))
    loss = sum(c.weight * c(result) for c in criterion.values())
    model.zero_grad()
    loss.backward()
    # the noise as crad.py adds it: the draw times the module's noise_std
    out["train.noise"] = nhwc(draws[1][1] * model.noise_std)
    out["train.loss"] = np.array([loss.item()], dtype=np.float32)
    out["train.blended"] = nhwc(result["feature_rec"])
    out["train.distances"] = nhwc(v["distances"])
    hooks.close()
    named = dict(model.named_parameters())
    norms = {k: float(p.grad.norm()) for k, p in named.items()}
    for k, p in named.items():
        # the full-width model's big gradients are checked by their norms (too large to commit)
        if narrow or p.numel() <= 4096:
            out[f"grad.{k}"] = p.grad.numpy().copy()
    for k, t in model.state_dict().items():
        if "running_" in k:
            out[f"train.state.{k}"] = t.numpy().copy()

    # the optimiser step: tools/train_val.py's two groups (parameters named `query` at grid_lr), clipping, AdamW
    t = s["training"]
    query = [p for k, p in named.items() if k.split(".")[0] == "query"]
    net = [p for k, p in named.items() if k.split(".")[0] != "query"]
    optimizer = torch.optim.AdamW([{"params": net, "lr": t["netLr"]}, {"params": query, "lr": t["gridLr"]}], weight_decay=t["weightDecay"])
    total = torch.nn.utils.clip_grad_norm_(model.parameters(), t["clipMaxNorm"])
    optimizer.step()
    out["step.gradNorm"] = np.array([float(total)], dtype=np.float32)
    if narrow:
        for k, p in named.items():
            out[f"step.{k}"] = p.detach().numpy().copy()

    # StepLR as utils/lr_helper.py builds it and train_val.py steps it: scheduler.step(epoch) after each epoch
    scheduler = crad.lr.get_scheduler(optimizer, types.SimpleNamespace(type="StepLR", kwargs={"step_size": 2, "gamma": 0.1}))
    lrs = []
    for epoch in range(7):
        lrs.append([g["lr"] for g in optimizer.param_groups])
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scheduler.step(epoch)
    out["schedule.lrs"] = np.array(lrs, dtype=np.float32)

    out["roundMargin"] = np.array([min(margins)], dtype=np.float32)
    if min(margins) < MIN_ROUND_MARGIN:
        print(f"crad.{name}: a position's clamp(mse·coef) is {min(margins):.2e} from 0.5 (< {MIN_ROUND_MARGIN}): try another seed", file=sys.stderr)
        sys.exit(3)
    settings = {**s, "blend": {k: kwargs[k] for k in ("mse_lamb", "cos_lamb", "mse_coef", "noise_std")}, "drawSeed": draw_seed, "gradNorms": norms}
    target = os.path.join(out_dir, f"crad.{name}.safetensors")
    st_io.write(target, out, meta(crad, {"settings": json.dumps(settings), "inputsSha256": m["inputsSha256"]}))
    print(f"wrote {target}: loss {loss.item():.6f}, round margin {min(margins):.3g}, {len(out)} tensors")


def eval_fixture(crad, out_dir):
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(11)
    n, size = 3, 64
    preds = np.stack([gaussian_filter(rng.normal(size=(size, size)), 3) for _ in range(n)]).astype(np.float32)
    preds[1, 40:50, 10:30] += 1.0
    masks = np.zeros((n, size, size), dtype=np.float32)
    masks[1, 40:50, 10:30] = 1
    meta_ = crad.eval.EvalDataMeta(preds.copy(), masks)
    image = crad.eval.EvalImageMax(meta_, avgpool_size=[32, 32])
    out = {"preds": preds, "smoothed": meta_.preds.astype(np.float32), "imageScores": np.asarray(image.preds, dtype=np.float32)}
    target = os.path.join(out_dir, "crad-eval.official.safetensors")
    st_io.write(target, out, meta(crad, {}))
    print(f"wrote {target}")


def main(inputs_dir, descriptor_dir, memory_dir, crad_dir, scoring_dir):
    crad = load_crad()
    for d in (descriptor_dir, memory_dir, crad_dir, scoring_dir):
        os.makedirs(d, exist_ok=True)
    backbone_fixture(crad, inputs_dir, descriptor_dir)
    grid_sample_fixture(crad, memory_dir)
    for name in ("full", "narrow"):
        crad_fixture(crad, inputs_dir, crad_dir, name)
    eval_fixture(crad, scoring_dir)


if __name__ == "__main__":
    main(*sys.argv[1:6])
