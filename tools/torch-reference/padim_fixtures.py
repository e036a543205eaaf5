"""Parity fixtures computed by the PaDiM reference code's `main()` itself (padim_code.py imports
and runs it from a snapshot outside this repository) on seeded random-init torchvision ResNet-18
weights and normal-distributed input tensors from make-padim-inputs.ts: the channel draw `idx`,
one test image's concatenated embedding (its `embedding_concat`: layer1..3 on layer1's grid), the
per-position mean, the covariance + 0.01·I and its `np.linalg.inv` at a few positions, the
Mahalanobis distances of every test patch, and the σ = 4 maps before its min-max normalisation.

    PADIM_REFERENCE_DIR=... /usr/bin/python3 padim_fixtures.py <inputs dir> <out dir>
"""
import json
import os
import sys

import numpy as np
import torch
import torchvision

import st_io
from padim_code import load_padim, run_padim_main, tensor_dataset

torch.set_num_threads(1)


def main(inputs_dir, out_dir):
    padim = load_padim()
    inputs, meta = st_io.read(os.path.join(inputs_dir, "padim.inputs.safetensors"))
    s = json.loads(meta["settings"])
    model = torchvision.models.resnet18()
    state = {k[len("backbone."):]: torch.from_numpy(v) for k, v in inputs.items() if k.startswith("backbone.")}
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected, unexpected[:5]
    assert all(k.startswith(("layer4.", "fc.")) for k in missing), [k for k in missing if not k.startswith(("layer4.", "fc."))][:5]
    model.eval()
    nchw = np.ascontiguousarray(inputs["images"].transpose(0, 3, 1, 2))
    images = {"train": nchw[: s["train"]], "test": nchw[s["train"] :]}
    labels = {"train": np.zeros(s["train"], dtype=np.int64), "test": np.array([0] * (s["test"] // 2) + [1] * (s["test"] - s["test"] // 2))}
    got = run_padim_main(padim, arch="resnet18", model=model, data_path="unused", category="fixture", dataset=tensor_dataset(images, labels, s["inputSize"]))
    positions = s["positions"]
    out = {
        "idx": got["idx"],
        "embedding": got["test_embedding"][0].transpose(1, 2, 0).astype(np.float32),  # [H, W, 448] of test image 0
        "mean": got["mean"].T.astype(np.float32),  # [H·W, d]
        "covariance": np.stack([got["cov"][:, :, p] for p in positions]).astype(np.float32),  # [k, d, d]
        "inverse": np.stack([got["inverses"][p] for p in positions]).astype(np.float32),
        "distances": got["distances"].astype(np.float32),  # [N, H, W]
        "maps": got["maps"].astype(np.float32),  # [N, S, S]
    }
    os.makedirs(out_dir, exist_ok=True)
    target = os.path.join(out_dir, "padim-reference.safetensors")
    extra = {"imageAuroc": got["image_auroc"], "pixelAuroc": got["pixel_auroc"], "inverseDtype": str(got["inverses"][0].dtype), "covDtype": str(got["cov"].dtype)}
    st_io.write(target, out, {"settings": json.dumps(s), "inputsSha256": meta["inputsSha256"], "commit": padim.commit, "torch": torch.__version__, "numpy": np.__version__, "reference": json.dumps(extra), "generator": "tools/torch-reference/padim_fixtures.py"})
    print(f"wrote {target} ({os.path.getsize(target)} bytes): " + ", ".join(f"{k} {list(v.shape)}" for k, v in sorted(out.items())) + f"; {extra}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
