"""Backbones of the detector: EfficientNet-Lite0 ImageNet trunk (default), VGG-16 conv5_3 and ResNet-101 conv4
(the paper's, stride 16; weights only from the user), and a tiny from-scratch CNN for tests."""

from __future__ import annotations

import torch
from torch import nn

from ..nn.efficientnet_lite import EfficientNetLite0, load_efficientnet_lite0, trunk_channels, trunk_stride
from ..nn.resnet import add_trunk

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def freeze_bn(module: nn.Module) -> None:
    """Put every BatchNorm in eval mode with frozen affine parameters (detection's frozen-BN convention)."""
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()
            for p in m.parameters():
                p.requires_grad_(False)


class Backbone(nn.Module):
    """RGB in [0, 1] (N, 3, H, W) -> one feature map; `channels` and `stride` describe it."""

    channels: int
    stride: int

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def train(self, mode: bool = True) -> Backbone:
        """Train mode, but BatchNorm layers stay frozen (batches of 1-4 images)."""
        super().train(mode)
        freeze_bn(self)
        return self


class EffLiteBackbone(Backbone):
    """EfficientNet-Lite0 up to block `upto` (7: 80 ch, stride 16) with the packaged ImageNet weights; the stem
    and the first `frozen` blocks are not trained (as Faster R-CNN freezes conv1-2 of VGG/ResNet)."""

    def __init__(self, upto: int = 7, frozen: int = 3, pretrained: bool = True) -> None:
        super().__init__()
        net = load_efficientnet_lite0(pretrained) if pretrained else EfficientNetLite0()
        net._blocks = net._blocks[: upto + 1]
        del net._conv_head, net._bn1, net._fc
        self.net, self.upto = net, upto
        self.channels, self.stride = trunk_channels(upto), trunk_stride(upto)
        for p in list(net._conv_stem.parameters()) + [p for b in net._blocks[:frozen] for p in b.parameters()]:
            p.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.features((x - self.mean) / self.std, self.upto)


class VGG16Backbone(Backbone):
    """VGG-16 conv1_1 ... conv5_3 (no pool5): 512 ch, stride 16 (the paper's Cityscapes -> Foggy backbone)."""

    CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512)

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 3
        for v in self.CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2, ceil_mode=True))
            else:
                layers += [nn.Conv2d(cin, int(v), 3, padding=1), nn.ReLU(inplace=True)]
                cin = int(v)
        self.features = nn.Sequential(*layers)  # torchvision's `features.N` names: a user's state dict loads
        self.channels, self.stride = 512, 16

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features((x - self.mean) / self.std)


class ResNet101Backbone(Backbone):
    """ResNet-101 stem + layer1..layer3 (conv4): 1024 ch, stride 16 (the paper's VOC -> Watercolor backbone)."""

    def __init__(self) -> None:
        super().__init__()
        self.channels, self.stride = add_trunk(self, (3, 4, 23)), 16

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1((x - self.mean) / self.std))))
        return self.layer3(self.layer2(self.layer1(x)))


class TinyBackbone(Backbone):
    """A small from-scratch CNN (stride 8, 64 ch) for tests and quick experiments."""

    def __init__(self, channels: int = 64) -> None:
        super().__init__()
        c = channels
        self.body = nn.Sequential(
            nn.Conv2d(3, c // 2, 3, 2, 1), nn.ReLU(inplace=True), nn.Conv2d(c // 2, c, 3, 2, 1), nn.ReLU(inplace=True),
            nn.Conv2d(c, c, 3, 2, 1), nn.ReLU(inplace=True), nn.Conv2d(c, c, 3, 1, 2, dilation=2),
            nn.ReLU(inplace=True))
        self.channels, self.stride = c, 8

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body((x - self.mean) / self.std)


def build_backbone(name: str, pretrained: bool = True, **kw) -> Backbone:
    """Backbone by name: efflite0 (default, ImageNet), vgg16, resnet101 (random init), tiny."""
    if name == "efflite0":
        return EffLiteBackbone(pretrained=pretrained, **kw)
    if name == "vgg16":
        return VGG16Backbone()
    if name == "resnet101":
        return ResNet101Backbone()
    if name == "tiny":
        return TinyBackbone(**kw)
    raise ValueError(f"unknown backbone {name!r} (efflite0, vgg16, resnet101, tiny)")
