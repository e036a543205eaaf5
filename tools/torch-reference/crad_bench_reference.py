"""PyTorch side of `nx run experiments:bench -- --method crad --reference`: the CRAD reference module
(crad_code.py imports it from the snapshot at CRAD_OFFICIAL_DIR) on the MFCN features the
TypeScript bench wrote, with its settings. Prints one JSON object of timings.

    CRAD_OFFICIAL_DIR=... /usr/bin/python3 crad_bench_reference.py <bench-dir> [--threads N]

Rows:
  epoch_s            the second of two training epochs: batches of `batchSize` in a shuffled order,
                     the module's forward in train mode (its own coordinate noise), FeatureMSELoss,
                     backward, clip_grad_norm_, AdamW with the two learning-rate groups of
                     tools/train_val.py (the backbone is not in it: features are given, as on our side)
  cached_throughput  images/s in eval mode from the features: the module's forward (reconstruction,
                     distances, x8 upsampling), the evaluator's 21 x 21 smoothing and the 32 x 32
                     window maximum (utils/eval_helper.py EvalDataMeta / EvalImageMax), batch `batchSize`
"""
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

import st_io
from crad_code import load_crad


def main(bench_dir, threads=None):
    if threads:
        torch.set_num_threads(threads)
    crad = load_crad()
    tensors, _ = st_io.read(os.path.join(bench_dir, "crad.features.safetensors"))
    with open(os.path.join(bench_dir, "crad.settings.json")) as f:
        s = json.load(f)
    features = torch.from_numpy(tensors["features"]).permute(0, 3, 1, 2).contiguous()
    n, c, h, w = features.shape
    kwargs = dict(crad.config["net"][2]["kwargs"])
    kwargs.update(ch_exp=s["decoder"]["expansion"], local_resol=s["memory"]["localResolution"], global_resol=s["memory"]["globalResolution"])
    kwargs.pop("layers", None)
    model = crad.reconstruction.CRAD(s["decoder"]["layers"], frozen_layers=[], initializer=None, inplanes=[c], feature_size=[h, w], save_recon=None, **kwargs)
    criterion = crad.criterion.build_criterion(crad.config["criterion"])
    t = s["training"]
    named = dict(model.named_parameters())
    query = [p for k, p in named.items() if k.split(".")[0] == "query"]
    net = [p for k, p in named.items() if k.split(".")[0] != "query"]
    optimizer = torch.optim.AdamW([{"params": net, "lr": t["netLr"]}, {"params": query, "lr": t["gridLr"]}], weight_decay=t["weightDecay"])
    batch = t["batchSize"]

    def epoch():
        model.train()
        order = torch.randperm(n)
        for i in range(0, n, batch):
            result = model({"feature_align": features[order[i : i + batch]]})
            loss = sum(cr.weight * cr(result) for cr in criterion.values())
            optimizer.zero_grad()
            loss.backward()
            if t["clipMaxNorm"]:
                torch.nn.utils.clip_grad_norm_(model.parameters(), t["clipMaxNorm"])
            optimizer.step()

    def infer():
        model.eval()
        with torch.no_grad():
            for i in range(0, n, batch):
                pred = model({"feature_align": features[i : i + batch]})["pred"]
                smooth = F.avg_pool2d(pred, s["scoring"]["smoothing"], 1, s["scoring"]["smoothing"] // 2)
                F.avg_pool2d(smooth, s["scoring"]["imagePool"], stride=1).reshape(pred.shape[0], -1).max(dim=1)

    epoch()
    start = time.perf_counter()
    epoch()
    epoch_s = time.perf_counter() - start
    infer()
    start = time.perf_counter()
    infer()
    throughput = n / (time.perf_counter() - start)
    print(json.dumps({"epoch_s": epoch_s, "cached_throughput": throughput, "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    args = sys.argv[1:]
    threads = None
    if "--threads" in args:
        i = args.index("--threads")
        threads = int(args[i + 1])
        del args[i : i + 2]
    main(args[0], threads)
