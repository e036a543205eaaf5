"""PaDiM side of `nx run experiments:bench -- --reference`: the PaDiM reference code's main() itself
(padim_code.py: the pinned snapshot of xiahaifeng1995/PaDiM-Anomaly-Detection-Localization-master
with its run-time patches; needs PADIM_REFERENCE_DIR) on the images and the torchvision-named
weights the TypeScript bench wrote, the same images as train and as test set, timed by spies.
Prints one JSON object.

    PADIM_REFERENCE_DIR=... /usr/bin/python3 padim_bench_reference.py <bench-dir> <backbone> [--threads N]

Rows: its train phase (backbone,
  embedding_concat, the per-position np.cov loop) as padim_fit_s, without the backbone as
  padim_fit_cached_s, its np.linalg.inv calls (at test time, one per position) as
  padim_inverse_s, its test phase (backbone, inverses, scipy mahalanobis per patch,
  interpolate, gaussian_filter) as padim_throughput, without the backbone as
  padim_cached_throughput
"""
import json
import os
import sys

import numpy as np
import torch
import torchvision

import st_io


def padim_rows(bench_dir, backbone, images):
    """The PaDiM reference's rows, or why there are none."""
    weights_file = f"{bench_dir}/{backbone}-torchvision.safetensors"
    if not os.environ.get("PADIM_REFERENCE_DIR"):
        return {"padim_skipped": "PADIM_REFERENCE_DIR is not set"}
    if not os.path.exists(weights_file):
        return {"padim_skipped": f"no PaDiM rows for {backbone}"}
    from padim_code import load_padim, run_padim_main, tensor_dataset

    padim = load_padim()
    model = getattr(torchvision.models, backbone)()
    state = {k: torch.from_numpy(v) for k, v in st_io.read(weights_file)[0].items()}
    model.load_state_dict(state, strict=False)
    model.eval()
    x = images.numpy()
    n = len(x)
    labels = {"train": np.zeros(n, dtype=np.int64), "test": np.array([0] * (n // 2) + [1] * (n - n // 2))}
    dataset = tensor_dataset({"train": x, "test": x}, labels, x.shape[2])
    t = run_padim_main(padim, arch=backbone, model=model, data_path="unused", category="bench", dataset=dataset, capture=False)["timings"]
    return {
        "padim_fit_s": t["train_s"],
        "padim_fit_cached_s": t["train_s"] - t["backbone_train_s"],
        "padim_inverse_s": t["inverse_s"],
        "padim_throughput": n / t["test_s"],
        "padim_cached_throughput": n / (t["test_s"] - t["backbone_test_s"]),
    }


def main(bench_dir, backbone, threads=None):
    if threads:
        torch.set_num_threads(threads)
    images = torch.from_numpy(st_io.read(f"{bench_dir}/images.safetensors")[0]["images"]).permute(0, 3, 1, 2).contiguous()
    out = {"threads": torch.get_num_threads(), "torch": torch.__version__}
    out.update(padim_rows(bench_dir, backbone, images))
    print(json.dumps(out))


if __name__ == "__main__":
    args = sys.argv[1:]
    threads = int(args[args.index("--threads") + 1]) if "--threads" in args else None
    main(args[0], args[1], threads)
