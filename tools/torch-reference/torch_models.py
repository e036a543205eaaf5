"""torchvision backbones cut after the tapped stages (taps 'torchvision': the parity fixtures of
backbone_reference.py), and the CFA operations as bench_reference.py times them.

`narrow_resnet` keeps torchvision's own blocks and `_make_layer` (so parameter names and the
computation are torchvision's) and only divides the channel counts, to keep fixtures small.
"""
from functools import partial

import torch
import torch.nn as nn
from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet
from torchvision.models.vgg import VGG, cfgs, make_layers


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


class TappedVGG(nn.Module):
    """torchvision VGG-19(-BN) `features`, returning the CFA reference taps (25/38/52 with BN)."""

    def __init__(self, batch_norm, width_divisor=1):
        super().__init__()
        cfg = [v if v == "M" else v // width_divisor for v in cfgs["E"]]
        self.features = make_layers(cfg, batch_norm=batch_norm)
        self.taps = [25, 38, 52] if batch_norm else [17, 26, 36]

    def forward(self, x):
        out = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in self.taps:
                out.append(x)
            if len(out) == len(self.taps):
                break
        return out


class TappedEfficientNet(nn.Module):
    """torchvision EfficientNet-B5 with the CFA reference `extract_endpoints` maps: last 5 blocks of
    stage 2, last 3 of stage 3, last block of stage 5, each group concatenated on channels; or
    EfficientNet-B4 (torchvision's default BatchNorm, ε 1e-5) with UniAD's / CRAD's out-layers 3 and
    4: the last block of stages 3 and 5."""

    VARIANTS = {
        "efficientnet_b5": ([(2, 5), (3, 3), (5, 1)], 2.2, partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)),
        "efficientnet_b4": ([(3, 1), (5, 1)], 1.8, None),
    }

    def __init__(self, width_mult=1.6, variant="efficientnet_b5"):
        super().__init__()
        self.TAPS, depth_mult, norm = self.VARIANTS[variant]
        setting, last = _efficientnet_conf(variant, width_mult=width_mult, depth_mult=depth_mult)
        full = EfficientNet(setting, 0.4, last_channel=last, norm_layer=norm)
        self.features = full.features[:6]  # stages after the last tap are never used

    def forward(self, x):
        x = self.features[0](x)
        out = []
        for s in range(1, 6):
            outputs = []
            for block in self.features[s]:
                x = block(x)
                outputs.append(x)
            for stage, last in self.TAPS:
                if stage == s:
                    out.append(torch.cat(outputs[-last:], dim=1))
        return out


def tapped_backbone(name, shrink):
    """`shrink`: width divisor (ResNet, VGG) or width multiplier (EfficientNet)."""
    if name in ("resnet18", "wide_resnet50_2"):
        return narrow_resnet(name, shrink)
    if name in ("vgg19", "vgg19_bn"):
        return TappedVGG(name == "vgg19_bn", shrink)
    if name in ("efficientnet_b5", "efficientnet_b4"):
        return TappedEfficientNet(width_mult=shrink, variant=name)
    raise ValueError(f"unknown backbone {name}")


def add_coords(x):
    """The reference `AddCoords` channels: row index, then column index, each scaled to [-1, 1]."""
    b, _, rows, cols = x.size()
    yy = (torch.arange(rows, dtype=x.dtype) / (rows - 1) * 2 - 1).view(1, 1, rows, 1).expand(b, 1, rows, cols)
    xx = (torch.arange(cols, dtype=x.dtype) / (cols - 1) * 2 - 1).view(1, 1, 1, cols).expand(b, 1, rows, cols)
    return torch.cat([x, yy, xx], dim=1)


def embed(maps):
    """3×3 average pooling, bilinear upsampling to the first map's size, concatenation."""
    sample = None
    for o in maps:
        o = torch.nn.functional.avg_pool2d(o, 3, 1, 1)
        if sample is None:
            sample = o
        else:
            up = torch.nn.functional.interpolate(o, sample.size(2), mode="bilinear", align_corners=False)
            sample = torch.cat((sample, up), dim=1)
    return sample
