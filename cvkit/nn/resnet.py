"""ResNet-50 (He et al. 2016) in plain torch, with torchvision's parameter names so that a user's ImageNet
state dict (torchvision layout) loads as is. No weights ship: torchvision/timm are not used and no package
carries them offline. `last_stride=1` is the re-ID "bag of tricks" option (keeps a 16x8 map at 256x128).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (stride here, as torchvision v1.5), 1x1 expand x4, identity or projected shortcut."""

    expansion = 4

    def __init__(self, cin: int, width: int, stride: int = 1, *, padding: int = 1, dilation: int = 1,
                 downsample: nn.Module | None = None) -> None:
        """`padding`, `dilation` of the 3x3 conv and a given `downsample` serve other layouts (pysot/SOTS dilated
        ResNets); by default the shortcut is a strided 1x1 projection where the shape changes, else identity."""
        super().__init__()
        cout = width * self.expansion
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=padding, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        if downsample is None and (stride != 1 or cin != cout):
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + (x if self.downsample is None else self.downsample(x)))


def add_trunk(module: nn.Module, depths: Sequence[int], strides: Sequence[int] = (1, 2, 2, 2)) -> int:
    """Register a ResNet stem (`conv1`, `bn1`, `relu`, `maxpool`) and `layer1`.. of Bottleneck stacks (`depths`
    blocks each, first block strided by `strides`) on `module`, with torchvision's names; returns the channels out.
    ResNet-50/101 use four layers; a detector trunk may stop after three (conv4)."""
    module.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
    module.bn1 = nn.BatchNorm2d(64)
    module.relu = nn.ReLU(inplace=True)
    module.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
    cin = 64
    for k, (blocks, stride) in enumerate(zip(depths, strides, strict=False)):
        width = 64 * 2**k
        layer = [Bottleneck(cin, width, stride)] + [Bottleneck(width * 4, width) for _ in range(blocks - 1)]
        setattr(module, f"layer{k + 1}", nn.Sequential(*layer))
        cin = width * 4
    return cin


class ResNet50(nn.Module):
    """ResNet-50 trunk (no classifier): `stem_to(x, 'layer3')` and `from_layer(x, 'layer4')` split it."""

    LAYERS = ("layer1", "layer2", "layer3", "layer4")
    out_channels = 2048

    def __init__(self, last_stride: int = 2, depths: tuple[int, int, int, int] = (3, 4, 6, 3)) -> None:
        """`depths`: bottlenecks per layer, (3, 4, 6, 3) is ResNet-50, (3, 4, 23, 3) ResNet-101 (see `ResNet101`)."""
        super().__init__()
        add_trunk(self, depths, (1, 2, 2, last_stride))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised image (N,3,H,W) -> last conv map (N,2048,H/32,W/32) (H/16 with last_stride=1)."""
        return self.from_layer(self.stem_to(x, "layer4"), "layer4")

    def stem_to(self, x: torch.Tensor, before: str) -> torch.Tensor:
        """Run the stem and the layers before `before` (e.g. 'layer4': stem + layer1..3)."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for name in self.LAYERS[: self.LAYERS.index(before)]:
            x = getattr(self, name)(x)
        return x

    def from_layer(self, x: torch.Tensor, start: str) -> torch.Tensor:
        """Run the layers from `start` to the end."""
        for name in self.LAYERS[self.LAYERS.index(start):]:
            x = getattr(self, name)(x)
        return x


class ResNet101(ResNet50):
    """ResNet-101 trunk (torchvision parameter names): layer3 has 23 bottlenecks (conv4_1..conv4_23)."""

    def __init__(self, last_stride: int = 2) -> None:
        super().__init__(last_stride, depths=(3, 4, 23, 3))
