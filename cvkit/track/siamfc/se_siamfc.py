"""SE-SiamFC (Sosnovik, Moskalev, Smeulders, WACV 2021): SiamFC+ with scale-equivariant convolutions.

Backbone SE-ResNet-22: the SiamDW CIResNet-22 with every convolution replaced by a SESN scale convolution
over 3 scales σ = 0.9·1.4^s. Conv1 is a 9×9 (E=7) lifting conv, stride 2, then a 2 px centre crop and a
(1,2,2) max-pool; stage 2 has 3 CIR bottlenecks (the first one's 1×1 also mixes 2 neighbouring scales);
stage 3 has 4, entered through scale max-pooling, a plain 1×1 conv2d and a 5×5 re-lift, with a spatial
max-pool after its first block and no ReLU after its last. Head: `0.1·xcorr` of the scale-max-projected
features ("corr", the released configuration) or the supplement's non-parametric scale convolution
("scaleconv"). 1,449,024 parameters; template 127 -> [512, 3, 5, 5], search 255 -> [512, 3, 21, 21],
response 17×17, total stride 8.

Module and buffer names follow the official release ISosnovik/SiamSE (lib/models/models.py,
feature_extractors.py, se_resnet.py, connectors.py, sesn/ses_conv.py) so its checkpoints load with
`cvkit.assets.load_into` (see `load_official`). The architecture is re-implemented here, not copied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ...assets import load_into, read_state_dict
from ...nn.efficientnet_lite import IMAGENET_MEAN, IMAGENET_STD
from ...nn.ops import xcorr
from ...nn.sesn import (
    SESConv_H_H,
    SESConv_H_H_1x1,
    SESConv_Z2_H,
    default_scales,
    scale_xcorr,
    ses_max_projection,
    set_padding_mode,
)
from .siamfc import SiamFCParams, SiamNet

HEAD_SCALES = (1 / 1.2, 1.0, 1.2)
EXPANSION = 4


def center_crop(x: torch.Tensor, crop: int) -> torch.Tensor:
    """Drop `crop` pixels on every spatial border (CIR units: removes padding-affected features)."""
    return x[..., crop:-crop, crop:-crop] if crop > 0 else x


class SEBottleneck(nn.Module):
    """CIR bottleneck on scale features: 1×1 -> k×k -> 1×1 (×4), residual add, 1 px centre crop, ReLU.

    `pool=True` enters from scale max-pooling: 1×1 conv2d, then a k×k Z2->H re-lift (residual keeps scales).
    """

    def __init__(
        self,
        inplanes: int,
        planes: int,
        last_relu: bool = True,
        downsample: nn.Module | None = None,
        scales: Sequence[float] | None = None,
        kernel_size: int = 5,
        pool: bool = False,
        interscale: bool = False,
        padding_mode: str = "constant",
    ) -> None:
        super().__init__()
        scales = list(scales) if scales is not None else default_scales()
        pad = kernel_size // 2
        self.pool = pool
        self.last_relu = last_relu
        if pool:
            self.conv1: nn.Module = nn.Conv2d(inplanes, planes, kernel_size=1, bias=False)
            self.bn1: nn.Module = nn.BatchNorm2d(planes)
            self.conv2: nn.Module = SESConv_Z2_H(planes, planes, kernel_size, 3, scales, padding=pad,
                                                 padding_mode=padding_mode)
        else:
            self.conv1 = SESConv_H_H_1x1(inplanes, planes, 2 if interscale else 1, num_scales=len(scales))
            self.bn1 = nn.BatchNorm3d(planes)
            self.conv2 = SESConv_H_H(planes, planes, 1, kernel_size, 3, scales, padding=pad,
                                     padding_mode=padding_mode)
        self.bn2 = nn.BatchNorm3d(planes)
        self.conv3 = SESConv_H_H_1x1(planes, planes * EXPANSION, num_scales=len(scales))
        self.bn3 = nn.BatchNorm3d(planes * EXPANSION)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = ses_max_projection(x) if self.pool else x
        out = F.relu(self.bn1(self.conv1(out)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        residual = self.downsample(x) if self.downsample is not None else x
        out = center_crop(out + residual, 1)
        return F.relu(out) if self.last_relu else out


class SEResNet22(nn.Module):
    """SE-ResNet-22 trunk: conv1 (Z2->H) + layer1 (3 bottlenecks) + layer2 (4 bottlenecks, stride-2 pool)."""

    def __init__(
        self,
        scales: Sequence[float] | None = None,
        kernel_sizes: Sequence[int] = (9, 5, 5),
        first_channels: int = 64,
        channels: Sequence[int] = (64, 128),
        layers: Sequence[int] = (3, 4),
        padding_mode: str = "constant",
    ) -> None:
        super().__init__()
        self.scales = list(scales) if scales is not None else default_scales()
        self.padding_mode = padding_mode
        self.inplanes = first_channels
        self.conv1 = SESConv_Z2_H(3, first_channels, kernel_sizes[0], 7, self.scales, stride=2,
                                  padding=kernel_sizes[0] // 2, padding_mode=padding_mode)
        self.bn1 = nn.BatchNorm3d(first_channels)
        self.maxpool = nn.MaxPool3d(kernel_size=(1, 2, 2), stride=(1, 2, 2))
        self.layer1 = self._make_layer(channels[0], layers[0], kernel_sizes[1], pool=False, interscale=True,
                                       last_relu=True, stride_pool=False)
        self.layer2 = self._make_layer(channels[1], layers[1], kernel_sizes[2], pool=True, interscale=False,
                                       last_relu=False, stride_pool=True)
        for m in self.modules():
            if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm3d)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def _make_layer(
        self, planes: int, blocks: int, kernel_size: int, pool: bool, interscale: bool, last_relu: bool,
        stride_pool: bool,
    ) -> nn.Sequential:
        outplanes = planes * EXPANSION
        downsample = None
        if self.inplanes != outplanes:
            downsample = nn.Sequential(
                SESConv_H_H_1x1(self.inplanes, outplanes, num_scales=len(self.scales)),
                nn.BatchNorm3d(outplanes),
            )
        common = dict(scales=self.scales, kernel_size=kernel_size, padding_mode=self.padding_mode)
        mods: list[nn.Module] = [SEBottleneck(self.inplanes, planes, True, downsample, pool=pool,
                                              interscale=interscale, **common)]
        if stride_pool:  # index 1 of the Sequential, as in the release (keeps its key numbering)
            mods.append(self.maxpool)
        self.inplanes = outplanes
        for i in range(1, blocks):
            mods.append(SEBottleneck(outplanes, planes, last_relu if i == blocks - 1 else True, **common))
        return nn.Sequential(*mods)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.maxpool(center_crop(x, 2))
        return self.layer2(self.layer1(x))


class SEResNet22Features(nn.Module):
    """RGB 0..255 NCHW -> SE-ResNet-22 features; ImageNet normalisation inside (buffers `mean`, `std`)."""

    def __init__(self, scales: Sequence[float] | None = None, padding_mode: str = "constant") -> None:
        super().__init__()
        self.features = SEResNet22(scales, padding_mode=padding_mode)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN))
        self.register_buffer("std", torch.tensor(IMAGENET_STD))
        self.feature_size = 512

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x / 255.0 - self.mean.view(1, -1, 1, 1)) / self.std.view(1, -1, 1, 1)
        return self.features(x)


class SEScaleHead(nn.Module):
    """Parameter-free connection: max-project both features over scales, then xcorr or scale conv, ×0.1."""

    def __init__(
        self, head: str = "corr", out_scale: float = 0.1, scales: Sequence[float] = HEAD_SCALES
    ) -> None:
        super().__init__()
        if head not in ("corr", "scaleconv"):
            raise ValueError(f"head must be 'corr' or 'scaleconv', got {head!r}")
        self.head = head
        self.out_scale = out_scale
        self.scales = tuple(scales)

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Template (1 or N, C, S, h, w) and search (N, C, S, H, W) features -> (N, 1, H-h+1, W-w+1)."""
        zp, xp = ses_max_projection(z), ses_max_projection(x)
        out = xcorr(xp, zp) if self.head == "corr" else scale_xcorr(xp, zp, self.scales)
        return out * self.out_scale


class SESiamFCNet(SiamNet):
    """SE-SiamFC network (paper size, 1.45 M parameters): uint8 BGR crops in, 17×17 responses out."""

    def __init__(self, head: str = "corr", padding_mode: str = "constant",
                 scales: Sequence[float] | None = None) -> None:
        super().__init__()
        self.features = SEResNet22Features(scales, padding_mode)
        self.connect_model = SEScaleHead(head)

    def set_padding_mode(self, mode: str) -> SESiamFCNet:
        """'circular' (how the release trains) or 'constant' (how it tests); weights are unaffected."""
        set_padding_mode(self, mode)
        return self

    def embed(self, crops: torch.Tensor) -> torch.Tensor:
        """uint8 BGR crops (N, H, W, 3) -> scale features (N, 512, 3, h, w); RGB + ImageNet norm inside."""
        x = crops.flip(-1).permute(0, 3, 1, 2).float()
        return self.features(x)

    def respond(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Template features (1 or N, ...) and search features (N, ...) -> responses (N, h, w)."""
        return self.connect_model(z, x)[:, 0]

    def forward(self, z_crops: torch.Tensor, x_crops: torch.Tensor) -> torch.Tensor:
        """Paired uint8 crops (N templates, N searches, or 1 template) -> response logits (N, h, w)."""
        return self.respond(self.embed(z_crops), self.embed(x_crops))

    def load_official(self, path: str | Path) -> SESiamFCNet:
        """Load a checkpoint of the official release (`state_dict` wrapper and `module.` prefix handled)."""
        load_into(self, official_state_dict(read_state_dict(Path(path))), path)
        return self


def official_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Strip the DataParallel `module.` prefix the release's training script leaves on its keys."""
    return {k.removeprefix("module."): v for k, v in state.items()}


@dataclass
class SESiamFCParams(SiamFCParams):
    """SE-SiamFC inference hyper-parameters (configs/test.yaml of the release); default = the OTB2015 row."""

    total_stride: int = 8
    scale_step: float = 1.1633
    scale_lr: float = 0.171
    scale_penalty: float = 0.9995
    window_influence: float = 0.251
    response_up: int = 16
    context: float = 0.5

    @classmethod
    def preset(cls, name: str = "OTB2015") -> SESiamFCParams:
        """Parameters tuned by the authors for one benchmark (OTB2013, OTB2015, VOT2016, VOT2017, default)."""
        key = name.upper()
        if key not in SE_SIAMFC_PRESETS:
            raise ValueError(f"unknown SE-SiamFC preset {name!r}; choose from {sorted(SE_SIAMFC_PRESETS)}")
        return replace(cls(), **SE_SIAMFC_PRESETS[key])


# scale_step, scale_lr, scale_penalty, window_influence per benchmark; DEFAULT = the class defaults (untuned)
SE_SIAMFC_PRESETS: dict[str, dict[str, float]] = {
    "OTB2013": dict(scale_step=1.145, scale_lr=0.08, scale_penalty=1.0, window_influence=0.3),
    "OTB2015": dict(scale_step=1.1633, scale_lr=0.171, scale_penalty=0.9995, window_influence=0.251),
    "VOT2016": dict(scale_step=1.105, scale_lr=0.43, scale_penalty=1.0, window_influence=0.3),
    "VOT2017": dict(scale_step=1.0633, scale_lr=0.349, scale_penalty=0.9725, window_influence=0.224),
    "DEFAULT": dict(scale_step=1.0375, scale_lr=0.59, scale_penalty=0.9745, window_influence=0.35),
}
