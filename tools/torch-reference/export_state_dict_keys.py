"""Writes torchvision's state_dict keys and shapes for each backbone we define, so a unit test can
check that our definitions ask for exactly these parameters (without shipping the weights)."""
import json
import sys

import torchvision

NAMES = ["resnet18", "wide_resnet50_2", "vgg19", "vgg19_bn", "efficientnet_b5"]
json.dump({n: [[k, list(v.shape)] for k, v in getattr(torchvision.models, n)().state_dict().items()] for n in NAMES}, open(sys.argv[1], "w"))
print(f"wrote {sys.argv[1]}")
