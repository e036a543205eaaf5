"""torchvision backbones as the CFA reference code uses them, cut after the tapped stages.

`narrow_resnet` keeps torchvision's own blocks and `_make_layer` (so parameter names and the
computation are torchvision's) and only divides the channel counts, to keep fixtures small.
"""
import torch.nn as nn
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet


class NarrowResNet(ResNet):
    def __init__(self, block, layers, base=64, width_per_group=64):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes = base
        self.dilation = 1
        self.groups = 1
        self.base_width = width_per_group
        self.conv1 = nn.Conv2d(3, base, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(base)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, base, layers[0])
        self.layer2 = self._make_layer(block, base * 2, layers[1], stride=2)
        self.layer3 = self._make_layer(block, base * 4, layers[2], stride=2)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        f1 = self.layer1(x)
        f2 = self.layer2(f1)
        f3 = self.layer3(f2)
        return [f1, f2, f3]


def narrow_resnet(name, width_divisor):
    base = 64 // width_divisor
    if name == "resnet18":
        return NarrowResNet(BasicBlock, [2, 2, 2], base=base)
    if name == "wide_resnet50_2":
        return NarrowResNet(Bottleneck, [3, 4, 6], base=base, width_per_group=128)
    raise ValueError(f"unknown backbone {name}")
