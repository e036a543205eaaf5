"""PatchCore side of `nx run experiments:bench -- --reference`: the authors' code itself
(patchcore_code.py: the pinned snapshot with its run-time patches) on the images and the
torchvision-named weights the TypeScript bench wrote, with the authors' settings (layer2 + layer3,
1024 > 1024, patch size 3, 1 neighbour, ApproximateGreedyCoresetSampler), timed the way our rows
are (apps/experiments/src/bench/patchcore-rows.ts). Prints one JSON object.

    PATCHCORE_OFFICIAL_DIR=... /usr/bin/python3 patchcore_bench_reference.py <bench-dir> <backbone> [--threads N]

Rows:
  patchcore_embed_ms            PatchCore._embed (backbone to layer3 + aggregation), batch 4, per image
  patchcore_fit_s_p10 / _p1     PatchCore.fit on the images in batches of 4 (features, then the 10 % / 1 % coreset)
  patchcore_coreset_s_p10 / _p1 of which ApproximateGreedyCoresetSampler.run
  patchcore_throughput          images/s of PatchCore._predict (features, faiss stand-in search, maps
                                with RescaleSegmentor's interpolation and gaussian_filter) on the 10 % bank
"""
import json
import sys
import time

import numpy as np
import torch
import torchvision

import st_io
from patchcore_code import load_patchcore

BATCH = 4


def timed(fn):
    """Seconds of one call of `fn` after one untimed call (our `median(fn, 1)`)."""
    fn()
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main(bench_dir, backbone, threads=None):
    if threads:
        torch.set_num_threads(threads)
    ref = load_patchcore()
    ref.utils.fix_seeds(0, with_cuda=False)
    weights, _ = st_io.read(f"{bench_dir}/{backbone}-torchvision.safetensors")
    model = {"resnet18": torchvision.models.resnet18, "wide_resnet50_2": torchvision.models.wide_resnet50_2}[backbone](weights=None)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()}, strict=False)
    model.eval()
    images = torch.from_numpy(st_io.read(f"{bench_dir}/images.safetensors")[0]["images"]).permute(0, 3, 1, 2).contiguous()
    n = images.shape[0] - images.shape[0] % BATCH
    batches = [images[i:i + BATCH] for i in range(0, n, BATCH)]
    device = torch.device("cpu")
    out = {"threads": torch.get_num_threads(), "torch": torch.__version__, "commit": ref.commit}

    def instance(fraction):
        sampler = ref.sampler.ApproximateGreedyCoresetSampler(fraction, device)
        pc = ref.patchcore.PatchCore(device)
        pc.load(backbone=model, layers_to_extract_from=["layer2", "layer3"], device=device, input_shape=tuple(images.shape[1:]),
                pretrain_embed_dimension=1024, target_embed_dimension=1024, patchsize=3, featuresampler=sampler,
                anomaly_scorer_num_nn=1, nn_method=ref.common.FaissNN(False, max(1, torch.get_num_threads())))
        seconds = []
        run = sampler.run

        def timed_run(features):
            t = time.perf_counter()
            result = run(features)
            seconds.append(time.perf_counter() - t)
            return result

        sampler.run = timed_run
        return pc, seconds

    pc, _ = instance(0.1)
    with torch.no_grad():
        out["patchcore_embed_ms"] = timed(lambda: [pc._embed(b) for b in batches]) / n * 1000
    for fraction, suffix in ((0.1, "p10"), (0.01, "p1")):
        pc, coreset = instance(fraction)
        t = time.perf_counter()
        pc.fit(batches)
        out[f"patchcore_fit_s_{suffix}"] = time.perf_counter() - t
        out[f"patchcore_coreset_s_{suffix}"] = coreset[-1]
        if fraction == 0.1:
            # before the next instance: each PatchCore.load re-hooks the shared backbone for itself only
            out["patchcore_throughput"] = n / timed(lambda: [pc._predict(b) for b in batches])
    print(json.dumps(out))


if __name__ == "__main__":
    args = sys.argv[1:]
    threads = int(args[args.index("--threads") + 1]) if "--threads" in args else None
    main(args[0], args[1], threads)
