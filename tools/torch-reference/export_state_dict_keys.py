"""Writes the state_dict keys and shapes of each backbone we define, so a unit test can check that
our definitions ask for exactly these parameters (without shipping the weights):

- torchvision's modules (taps 'torchvision'), and
- with CFA_OFFICIAL_DIR set, the CFA reference code's own modules (taps 'reference': its ResNets and
  VGG-19-BN use torchvision's names, its EfficientNet-B5 is EfficientNet-PyTorch's), and with
  CRAD_OFFICIAL_DIR set too, the CRAD reference code's EfficientNet-B4 (UniAD's EfficientNet-PyTorch).

    /usr/bin/python3 export_state_dict_keys.py <torchvision.json> [<reference.json>]
"""
import json
import os
import sys

import torchvision

NAMES = ["resnet18", "wide_resnet50_2", "vgg19", "vgg19_bn", "efficientnet_b5", "efficientnet_b4"]


def keys(model):
    return [[k, list(v.shape)] for k, v in model.state_dict().items()]


json.dump({n: keys(getattr(torchvision.models, n)()) for n in NAMES}, open(sys.argv[1], "w"))
print(f"wrote {sys.argv[1]}")
if len(sys.argv) > 2:
    from official_code import load_official

    official = load_official(os.environ.get("CFA_OFFICIAL_DIR"))
    reference = {
        "resnet18": official.resnet.resnet18(pretrained=False),
        "wide_resnet50_2": official.resnet.wide_resnet50_2(pretrained=False),
        "vgg19_bn": official.vgg.vgg19_bn(pretrained=False),
        "efficientnet_b5": official.efficientnet.EfficientNet.from_name("efficientnet-b5"),
    }
    if os.environ.get("CRAD_OFFICIAL_DIR"):
        from crad_code import load_crad

        # both snapshots have top-level `utils` and `datasets` packages: the CRAD one's must win now
        for name in [m for m in sys.modules if m.split(".")[0] in ("utils", "datasets", "models")]:
            del sys.modules[name]
        crad = load_crad()
        reference["efficientnet_b4"] = crad.efficientnet.efficientnet_b4(pretrained=False, outblocks=[9, 21], outstrides=[8, 16])
    json.dump({n: keys(m) for n, m in reference.items()}, open(sys.argv[2], "w"))
    print(f"wrote {sys.argv[2]}")
