"""Per-backbone parity fixtures: each backbone we define, built from torchvision's own modules
(narrowed so the committed files stay small), seeded random weights with non-trivial BatchNorm
statistics, rounded to float16 (the weight files are stored in half precision; one in bfloat16),
saved both as `.safetensors` and as a torchvision-style `.pth` (torch.save of the state dict),
plus the tapped feature maps for one fixed input at the smallest valid size.

    /usr/bin/python3 backbone_reference.py <out_dir>
"""
import json
import os
import sys

import numpy as np
import torch

import st_io
from torch_models import tapped_backbone

# name → (shrink, input size, safetensors dtype)
BACKBONES = {
    "resnet18": (4, 32, "F16"),
    "wide_resnet50_2": (16, 32, "F16"),
    "vgg19": (16, 32, "F16"),
    "vgg19_bn": (16, 32, "BF16"),
    "efficientnet_b5": (0.4, 32, "F16"),
    "efficientnet_b4": (0.4, 32, "F16"),
}


def randomize(model, gen):
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if not t.is_floating_point():
                continue
            if name.endswith("running_var"):
                t.copy_(0.5 + torch.rand(t.shape, generator=gen))
            elif name.endswith("running_mean"):
                t.copy_(0.1 * torch.randn(t.shape, generator=gen))
            elif t.dim() == 1 and name.endswith("weight"):
                t.copy_(1 + 0.1 * torch.randn(t.shape, generator=gen))
            elif t.dim() == 1 and name.endswith("bias"):
                t.copy_(0.1 * torch.randn(t.shape, generator=gen))
            else:
                fan_out = t.shape[0] * (t[0, 0].numel() if t.dim() == 4 else 1)
                t.copy_(torch.randn(t.shape, generator=gen) * (2.0 / fan_out) ** 0.5)


def round_to(t, dtype):
    return t.to(torch.float16 if dtype == "F16" else torch.bfloat16)


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    manifest = {}
    for name, (shrink, size, dtype) in BACKBONES.items():
        gen = torch.Generator().manual_seed(1234)
        model = tapped_backbone(name, shrink).eval()
        randomize(model, gen)
        # state_dict() is an OrderedDict carrying `_metadata`, pickled as torchvision's files are
        half = model.state_dict()
        for k, v in half.items():
            if v.is_floating_point():
                half[k] = round_to(v, dtype)
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in half.items()})
        x = torch.randn(1, 3, size, size, generator=gen)
        with torch.no_grad():
            feats = model(x)
        torch.save(half, os.path.join(out_dir, f"{name}.pth"))
        st_tensors = {}
        for k, v in half.items():
            if k.endswith("num_batches_tracked"):
                st_tensors[k] = v.numpy().astype(np.int64)
            elif dtype == "F16":
                st_tensors[k] = v.numpy()
            else:
                st_tensors[k] = v
        write_with_bf16(os.path.join(out_dir, f"{name}.safetensors"), st_tensors)
        st_io.write(os.path.join(out_dir, f"{name}.expected.safetensors"),
                    {"input": x.permute(0, 2, 3, 1).numpy(), **{f"features.{i}": f.permute(0, 2, 3, 1).numpy() for i, f in enumerate(feats)}})
        manifest[name] = {"shrink": shrink, "inputSize": size, "dtype": dtype, "channels": [f.shape[1] for f in feats]}
        print(name, manifest[name])
    json.dump(manifest, open(os.path.join(out_dir, "manifest.json"), "w"), indent=1)
    write_refused_files(out_dir)


class _Payload:
    """Unpickling this would call os.system: a loader that executes pickles would run it."""

    def __reduce__(self):
        return (os.system, ("echo this-must-never-run",))


def write_refused_files(out_dir):
    """Files the loader must refuse: a pickle that calls a function, and the legacy non-zip format."""
    import pickle
    import zipfile

    with zipfile.ZipFile(os.path.join(out_dir, "refused-code.pth"), "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"conv1.weight": _Payload()}, protocol=2))
    torch.save({"w": torch.zeros(2)}, os.path.join(out_dir, "refused-legacy.pth"), _use_new_zipfile_serialization=False)


def write_with_bf16(path, tensors):
    """st_io.write plus bfloat16 tensors (numpy has no bfloat16: write their raw 16-bit patterns)."""
    entries = {}
    for k, v in tensors.items():
        if isinstance(v, torch.Tensor):
            entries[k] = ("BF16", list(v.shape), v.contiguous().view(torch.int16).numpy().tobytes())
        else:
            entries[k] = st_io.numpy_entry(v)
    st_io.write_entries(path, entries)


if __name__ == "__main__":
    main(sys.argv[1])
