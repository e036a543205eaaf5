"""PyTorch side of `nx run experiments:bench -- --reference`: the same images, weights and settings,
timed the way the CFA reference code computes them (CPU, torch's default intra-op threads unless
--threads). Reads what the TypeScript bench wrote, prints one JSON object of timings.

    /usr/bin/python3 bench_reference.py <bench-dir> <backbone> [--threads N]

Rows (all per image unless the name says otherwise):
  backbone_ms          frozen backbone forward, batch 4, no_grad
  descriptor_ms        CoordConv forward + backward of sum(phi), batch 4
  distance_ms_g<k>     ||f||^2 + ||c||^2 - 2 f.c and top-6 against HW/k centres, batch 4
  epoch_s              the second training epoch of the reference trainer (backbone recomputed each batch,
                       autograd through the full distance matrix, AdamW amsgrad)
  throughput_g<k>      images/s, backbone + descriptor + distance + top-3 + softmin + upsample +
                       gaussian_filter, with gamma_d = gamma_c = k
  fyd_image_step_ms    FYD's image-level step (our statement, fyd_reference.py), batch 8: forward + backward
  fyd_fine_step_ms     FYD's feature-level + fine step, batch 4 on the backbone's maps: forward + backward
"""
import json
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from scipy.ndimage import gaussian_filter

import st_io
from fyd_reference import fine_alignment_loss, image_alignment_loss
from torch_models import add_coords, embed, tapped_backbone


def timed(fn, repeat=3):
    fn()
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return float(np.median(samples))


def main(bench_dir, backbone, threads=None):
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    weights, _ = st_io.read(f"{bench_dir}/{backbone}.safetensors")
    images = torch.from_numpy(st_io.read(f"{bench_dir}/images.safetensors")[0]["images"]).permute(0, 3, 1, 2).contiguous()
    model = tapped_backbone(backbone, 1).eval()
    model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()}, strict=False)
    n = images.shape[0]
    batch = images[:4]
    out = {"threads": torch.get_num_threads(), "torch": torch.__version__}
    with torch.no_grad():
        out["backbone_ms"] = timed(lambda: model(batch)) / 4 * 1000
        sample = embed(model(batch))
    d = sample.shape[1]
    h = sample.shape[2]
    hw = h * h
    conv_w = (torch.randn(d, d + 2, 1, 1) * (2 / (d + 2)) ** 0.5).requires_grad_(True)
    conv_b = torch.zeros(d, requires_grad=True)

    def descriptor_step():
        phi = F.conv2d(add_coords(sample), conv_w, conv_b)
        phi.sum().backward()

    out["descriptor_ms"] = timed(descriptor_step) / 4 * 1000
    with torch.no_grad():
        phi = F.conv2d(add_coords(sample), conv_w, conv_b).permute(0, 2, 3, 1).reshape(4, hw, d)
    for g in (1, 2, 4, 8):
        C = torch.randn(d, hw // g)

        def distance():
            with torch.no_grad():
                dist = (phi ** 2).sum(2, keepdim=True) + (C ** 2).sum(0, keepdim=True) - 2 * phi @ C
                dist.topk(6, largest=False)

        out[f"distance_ms_g{g}"] = timed(distance) / 4 * 1000

    # one epoch of the reference trainer, batch 4, bank from the untrained descriptor's mean
    C = phi.mean(0).t().contiguous()
    r = torch.tensor([1e-5], requires_grad=True)
    opt = torch.optim.AdamW([conv_w, conv_b, r], lr=1e-3, weight_decay=5e-4, amsgrad=True)

    def epoch():
        for i in range(0, n - n % 4, 4):
            opt.zero_grad()
            with torch.no_grad():
                s = embed(model(images[i:i + 4]))
            p = F.conv2d(add_coords(s), conv_w, conv_b).permute(0, 2, 3, 1).reshape(4, hw, d)
            dist = (p ** 2).sum(2, keepdim=True) + (C ** 2).sum(0, keepdim=True) - 2 * p @ C
            dist = dist.topk(6, largest=False).values
            att = torch.relu(dist[:, :, :3] - r ** 2).mean() / 1e-3
            rep = torch.relu(r ** 2 - dist[:, :, 3:] - 0.1).mean() / 1e-3
            (att + rep).backward()
            opt.step()

    epoch()  # warm-up epoch, as ours: the second one is timed
    t = time.perf_counter()
    epoch()
    out["epoch_s"] = time.perf_counter() - t

    size = images.shape[2]
    for g in (1, 2, 4, 8):
        dg = d // g
        w_g = torch.randn(dg, d + 2, 1, 1) * (2 / (d + 2)) ** 0.5
        b_g = torch.zeros(dg)
        C_g = torch.randn(dg, hw // g)

        def infer():
            with torch.no_grad():
                for i in range(0, n - n % 4, 4):
                    s = embed(model(images[i:i + 4]))
                    p = F.conv2d(add_coords(s), w_g, b_g).permute(0, 2, 3, 1).reshape(4, hw, dg)
                    dist = torch.sqrt(torch.clamp((p ** 2).sum(2, keepdim=True) + (C_g ** 2).sum(0, keepdim=True) - 2 * p @ C_g, min=0))
                    dist = dist.topk(3, largest=False).values
                    score = (F.softmin(dist, dim=-1)[:, :, 0] * dist[:, :, 0]).reshape(4, 1, h, h)
                    up = F.interpolate(score, size=size, mode="bilinear", align_corners=False)[:, 0].numpy()
                    for m in up:
                        gaussian_filter(m, sigma=4)

        seconds = timed(infer, repeat=1)
        out[f"throughput_g{g}"] = (n - n % 4) / seconds
    fyd_rows(out, images, [m.detach() for m in model(batch)])
    print(json.dumps(out))


def fyd_rows(out, images, maps):
    """FYD's two training steps as fyd-rows.ts times them (default transformers and adaptor)."""
    torch.manual_seed(0)

    def stn(inputs):
        return [torch.zeros(s).uniform_(-0.1, 0.1).requires_grad_(True) for s in [(inputs, 32), (32,), (32, 4), (4,)]]

    b = min(8, images.shape[0])
    image_stn = stn(16 * 16 * 3)

    def image_step():
        loss, _, _ = image_alignment_loss(images[:b], image_stn, 16, 32)
        loss.backward()

    out["fyd_image_step_ms"] = timed(image_step) / b * 1000
    stns = [stn(4 * 4 * m.shape[1]) for m in maps]
    total = sum(m.shape[1] for m in maps)
    shapes = {"A": (total, 100), "a": (100,), "P1": (100, 25), "p1": (25,), "P2": (25, 100), "p2": (100,)}
    head = {k: torch.zeros(s).uniform_(-0.1, 0.1).requires_grad_(True) for k, s in shapes.items()}

    def fine_step():
        loss, _, _ = fine_alignment_loss(maps, stns, [4] * len(maps), head)
        loss.backward()

    out["fyd_fine_step_ms"] = timed(fine_step) / maps[0].shape[0] * 1000


if __name__ == "__main__":
    args = sys.argv[1:]
    threads = int(args[args.index("--threads") + 1]) if "--threads" in args else None
    main(args[0], args[1], threads)
