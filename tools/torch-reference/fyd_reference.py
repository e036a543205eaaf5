"""FYD's training maths stated in PyTorch, our own re-statement of the method as docs/methods/fyd.md
describes it (no code of the FYD authors is public; this file is not theirs): one step of the
image-level coarse alignment and one step of the feature-level coarse + fine alignment, on seeded
tiny inputs, with every gradient by torch autograd. packages/fyd/src/gradient-parity.spec.ts
checks our closed-form gradients (typed arrays + the alignment head on ONNX Runtime and on
TensorFlow.js) against these to 1e-4.

The statement, per image batch (B images):

  spatial transformer  pooled = adaptive_avg_pool2d(x, g) in NHWC order, flattened
                       r = relu(pooled @ w1 + b1) @ w2 + b2 = (a, u, v, s)
                       k = exp(max_log_scale * tanh s), t = max_shift * tanh(u, v), phi = a
                       theta = [[k cos phi, -k sin phi, tx], [k sin phi, k cos phi, ty]]
                       warp(m) = grid_sample(m, affine_grid(theta), bilinear, zeros, align_corners=False)
  image level          small = adaptive_avg_pool2d(image, L); loss = mean over pairs a<b and pixels of
                       sqrt(|warp(small_a) - warp(small_b)|^2 + 1e-6)
  feature level + fine Y_l = warp_l(X_l) per backbone level; E = concat(Y_0, bilinear upsample of the others)
                       z = E @ A + a; p = relu(z @ P1 + p1) @ P2 + p2
                       loss = -mean over positions q and ordered pairs a != b of
                              normalize(p_aq) . normalize(z_bq).detach()

Usage: python3 fyd_reference.py OUT.safetensors
"""
import sys

import numpy as np
import torch
import torch.nn.functional as F

import st_io

BOUNDS = {"max_shift": 0.3, "max_log_scale": 0.2}
EPS = 1e-6


def nhwc(t):
    return t.detach().permute(0, 2, 3, 1).contiguous().numpy()


def localise(x, w1, b1, w2, b2, pool):
    pooled = F.adaptive_avg_pool2d(x, pool).permute(0, 2, 3, 1).reshape(x.shape[0], -1)
    raw = torch.relu(pooled @ w1 + b1) @ w2 + b2
    a, u, v, s = raw.unbind(1)
    k = torch.exp(BOUNDS["max_log_scale"] * torch.tanh(s))
    tx, ty = BOUNDS["max_shift"] * torch.tanh(u), BOUNDS["max_shift"] * torch.tanh(v)
    theta = torch.stack([k * torch.cos(a), -k * torch.sin(a), tx, k * torch.sin(a), k * torch.cos(a), ty], 1)
    return theta.reshape(-1, 2, 3)


def warp(m, theta):
    grid = F.affine_grid(theta, list(m.shape), align_corners=False)
    return F.grid_sample(m, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def stn_params(rng, inputs, hidden, prefix, out):
    # random w2, b2 (not the identity init) so that every gradient path is exercised
    shapes = {"w1": (inputs, hidden), "b1": (hidden,), "w2": (hidden, 4), "b2": (4,)}
    params = []
    for name, shape in shapes.items():
        t = torch.tensor((0.3 * rng.standard_normal(shape)).astype(np.float32), requires_grad=True)
        out[f"{prefix}.{name}"] = t.detach().numpy().copy()
        params.append(t)
    return params


def image_alignment_loss(images, stn, pool, loss_size):
    """The image-level loss of a batch (NCHW images, stn = [w1, b1, w2, b2]); also theta and the aligned copies."""
    theta = localise(images, *stn, pool)
    aligned = warp(F.adaptive_avg_pool2d(images, loss_size), theta)
    b = images.shape[0]
    pairs = [(i, j) for i in range(b) for j in range(i + 1, b)]
    dist = torch.stack([torch.sqrt(((aligned[i] - aligned[j]) ** 2).sum(0) + EPS) for i, j in pairs])
    return dist.mean(), theta, aligned


def image_step(rng, out):
    b, size, pool, hidden, loss_size = 3, 12, 4, 5, 8
    images = torch.tensor(rng.standard_normal((b, 3, size, size)).astype(np.float32))
    out["image.images"] = nhwc(images)
    stn = stn_params(rng, pool * pool * 3, hidden, "image.stn", out)
    loss, theta, aligned = image_alignment_loss(images, stn, pool, loss_size)
    loss.backward()
    out["image.theta"] = theta.detach().numpy()
    out["image.aligned"] = nhwc(aligned)
    out["image.loss"] = np.array([loss.item()], dtype=np.float32)
    for name, t in zip(["w1", "b1", "w2", "b2"], stn):
        out[f"image.grad.{name}"] = t.grad.numpy()


def fine_alignment_loss(maps, stns, pools, head):
    """The feature-level + fine loss of a batch (NCHW maps per level, the first on the patch grid); also z and p."""
    b = maps[0].shape[0]
    warped = [warp(m, localise(m, *stn, pool)) for m, stn, pool in zip(maps, stns, pools)]
    hh, ww = maps[0].shape[2:]
    up = [warped[0]] + [F.interpolate(y, size=(hh, ww), mode="bilinear", align_corners=False) for y in warped[1:]]
    total = sum(m.shape[1] for m in maps)
    e = torch.cat(up, 1).permute(0, 2, 3, 1).reshape(b, hh * ww, total)
    z = e @ head["A"] + head["a"]
    p = torch.relu(z @ head["P1"] + head["p1"]) @ head["P2"] + head["p2"]
    pn, zn = F.normalize(p, dim=2), F.normalize(z, dim=2).detach()
    sims = [(pn[i] * zn[j]).sum(1) for i in range(b) for j in range(b) if i != j]
    return -torch.stack(sims).mean(), z, p


def fine_step(rng, out):
    b, dim, hidden = 3, 4, 3
    shapes = [(4, 6, 6), (5, 3, 3)]  # (C, h, w) per level, the first on the patch grid
    pools = [2, 2]
    maps = [torch.tensor(rng.standard_normal((b, *s)).astype(np.float32)) for s in shapes]
    stns = []
    for lv, ((c, h, w), pool) in enumerate(zip(shapes, pools)):
        out[f"fine.maps.{lv}"] = nhwc(maps[lv])
        stns.append(stn_params(rng, pool * pool * c, 3, f"fine.stn.{lv}", out))
    total = sum(s[0] for s in shapes)
    head = {}
    for name, shape in {"A": (total, dim), "a": (dim,), "P1": (dim, hidden), "p1": (hidden,), "P2": (hidden, dim), "p2": (dim,)}.items():
        head[name] = torch.tensor((0.5 * rng.standard_normal(shape)).astype(np.float32), requires_grad=True)
        out[f"fine.head.{name}"] = head[name].detach().numpy().copy()
    loss, z, p = fine_alignment_loss(maps, stns, pools, head)
    loss.backward()
    out["fine.z"] = z.detach().numpy()
    out["fine.p"] = p.detach().numpy()
    out["fine.loss"] = np.array([loss.item()], dtype=np.float32)
    for lv, stn in enumerate(stns):
        for name, t in zip(["w1", "b1", "w2", "b2"], stn):
            out[f"fine.grad.stn.{lv}.{name}"] = t.grad.numpy()
    for name, t in head.items():
        out[f"fine.grad.head.{name}"] = t.grad.numpy()


def main(path):
    torch.manual_seed(0)
    rng = np.random.default_rng(2110_04538)
    out = {}
    image_step(rng, out)
    fine_step(rng, out)
    st_io.write(path, {k: np.asarray(v, dtype=np.float32) for k, v in out.items()}, {"torch": torch.__version__, **BOUNDS})


if __name__ == "__main__":
    main(sys.argv[1])
