"""Fixtures for the legacy (pre-1.6, non-zip) torch checkpoint reader: files written by PyTorch's own
`torch.save(..., _use_new_zipfile_serialization=False)`, the layout of torchvision's
`wide_resnet50_2-95faca4d.pth` and `vgg19_bn-c79401a0.pth` (the weights the CFA paper used), each
beside the same tensors as float32 safetensors so the TypeScript reader is checked value by value.

- `wide_resnet50_2.legacy.pth`, `vgg19_bn.legacy.pth`: narrow torchvision models (channels divided so
  the files stay small, classifier heads shrunk) with every key a torchvision file has, float32
  storages as in the published files;
- `mixed.legacy.pth` and `mixed.zip.pth` (the same dict in the zip format): every storage dtype the
  reader supports, a transposed (non-contiguous) tensor, a slice with a storage offset sharing its
  storage with another tensor, an empty tensor, a 0-d tensor and an nn.Parameter;
- `code.legacy.pth`: a legacy pickle that would call os.system when unpickled by Python;
- `manifest.json`: the narrowing and the torch version that wrote the files.

Dev tool, not run by the unit suite (which never needs Python):

    /usr/bin/python3 tools/torch-reference/legacy_checkpoints.py packages/backbone/src/__fixtures__/legacy-torch
"""
import collections
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
from torchvision.models.resnet import Bottleneck, ResNet
from torchvision.models.vgg import VGG, cfgs, make_layers

import st_io

WIDTH_DIVISOR = 64


class NarrowWideResNet50(ResNet):
    """torchvision's ResNet with Bottleneck blocks [3, 4, 6, 3] and width_per_group 128 (wide_resnet50_2),
    every channel count divided by `width_divisor`; all four stages and the fc head, as in the real file."""

    def __init__(self, width_divisor, num_classes):
        nn.Module.__init__(self)
        base = 64 // width_divisor
        self._norm_layer = nn.BatchNorm2d
        self.inplanes = base
        self.dilation = 1
        self.groups = 1
        self.base_width = 128
        self.conv1 = nn.Conv2d(3, base, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(base)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(Bottleneck, base, 3)
        self.layer2 = self._make_layer(Bottleneck, base * 2, 4, stride=2)
        self.layer3 = self._make_layer(Bottleneck, base * 4, 6, stride=2)
        self.layer4 = self._make_layer(Bottleneck, base * 8, 3, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(base * 8 * Bottleneck.expansion, num_classes)


def narrow_vgg19_bn(width_divisor, num_classes):
    cfg = [v if v == "M" else v // width_divisor for v in cfgs["E"]]
    model = VGG(make_layers(cfg, batch_norm=True), num_classes=num_classes)
    # the same three Linear layers (classifier.0/3/6) with a small hidden size
    last = cfg[-2]
    hidden = 4096 // (width_divisor * 16)
    model.classifier = nn.Sequential(
        nn.Linear(last * 7 * 7, hidden), nn.ReLU(True), nn.Dropout(),
        nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(),
        nn.Linear(hidden, num_classes),
    )
    return model


def randomize(model, gen):
    """Non-trivial values everywhere, BatchNorm statistics included."""
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if not t.is_floating_point():
                t.fill_(int(torch.randint(1, 1000, (1,), generator=gen)))
            elif name.endswith("running_var"):
                t.copy_(0.5 + torch.rand(t.shape, generator=gen))
            else:
                t.copy_(torch.randn(t.shape, generator=gen) * 0.1)


def write_float32(path, tensors):
    """The tensors as float32 safetensors, 0-d shapes kept (st_io.write would make them [1])."""
    entries = {}
    for name, tensor in tensors.items():
        t = tensor.detach().to(torch.float32).contiguous()
        entries[name] = ("F32", list(t.shape), t.numpy().tobytes())
    st_io.write_entries(path, entries)


def mixed_dict(gen):
    base = torch.randn(10, generator=gen)
    d = collections.OrderedDict()
    d["f32"] = torch.randn(3, 4, generator=gen)
    d["f16"] = torch.randn(5, generator=gen).half()
    d["bf16"] = torch.randn(3, generator=gen).bfloat16()
    d["f64"] = torch.randn(2, 2, generator=gen).double()
    d["i64"] = torch.tensor(7, dtype=torch.int64)
    d["i32"] = torch.arange(-3, 3, dtype=torch.int32).reshape(2, 3)
    d["i16"] = torch.tensor([-2, 300], dtype=torch.int16)
    d["i8"] = torch.tensor([-5, 5], dtype=torch.int8)
    d["u8"] = torch.tensor([0, 200, 255], dtype=torch.uint8)
    d["bool"] = torch.tensor([True, False, True])
    d["transposed"] = torch.randn(3, 5, generator=gen).t()
    d["base"] = base
    d["slice"] = base[2:8:2]
    d["empty"] = torch.zeros(0, 3)
    d["param"] = nn.Parameter(torch.randn(2, generator=gen))
    assert not d["transposed"].is_contiguous() and d["slice"].storage_offset() == 2
    return d


class _Payload:
    """Unpickling this would call os.system: a loader that executes pickles would run it."""

    def __reduce__(self):
        return (os.system, ("echo this-must-never-run",))


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    gen = torch.Generator().manual_seed(95)
    models = {
        "wide_resnet50_2": NarrowWideResNet50(WIDTH_DIVISOR, num_classes=10),
        "vgg19_bn": narrow_vgg19_bn(WIDTH_DIVISOR, num_classes=10),
    }
    for name, model in models.items():
        randomize(model, gen)
        state = model.state_dict()
        torch.save(state, os.path.join(out_dir, f"{name}.legacy.pth"), _use_new_zipfile_serialization=False)
        write_float32(os.path.join(out_dir, f"{name}.expected.safetensors"), state)
        print(name, len(state), "tensors")
    mixed = mixed_dict(gen)
    torch.save(mixed, os.path.join(out_dir, "mixed.legacy.pth"), _use_new_zipfile_serialization=False)
    torch.save(mixed, os.path.join(out_dir, "mixed.zip.pth"))
    write_float32(os.path.join(out_dir, "mixed.expected.safetensors"), mixed)
    torch.save({"conv1.weight": _Payload()}, os.path.join(out_dir, "code.legacy.pth"),
               _use_new_zipfile_serialization=False)
    manifest = {"widthDivisor": WIDTH_DIVISOR, "numClasses": 10, "torch": torch.__version__}
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    # the files must load back in PyTorch itself
    for name in ["wide_resnet50_2", "vgg19_bn", "mixed"]:
        back = torch.load(os.path.join(out_dir, f"{name}.legacy.pth"))
        expected, _ = st_io.read(os.path.join(out_dir, f"{name}.expected.safetensors"))
        for k, v in back.items():
            assert np.array_equal(v.detach().to(torch.float32).numpy().ravel(), expected[k].ravel()), k


if __name__ == "__main__":
    main(sys.argv[1])
