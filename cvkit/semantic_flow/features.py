"""Multi-level ("hyperpixel") dense features from the packaged ImageNet EfficientNet-Lite0 trunk.

The paper samples ResNet-101 at conv4_23 (stride 16) and conv5_3 (stride 32, upsampled) and concatenates them;
here the stand-in taps several Lite0 blocks, resamples each to the working grid, L2-normalises each block and
concatenates (then L2-normalises the whole vector), so the cosine correlation weighs every level alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..nn.efficientnet_lite import load_efficientnet_lite0

# block index -> stride: 4 (s8, 40 ch), 7 (s16, 80), 10 (s16, 112), 14 (s32, 192)
COARSE_TAPS = (7, 10, 14)
FINE_TAPS = (4, 7, 10)


@dataclass
class Prepared:
    """An image resized for the trunk: `tensor` (1,3,h,w) normalised, `orig_hw`, `work_hw` (multiples of 16)."""

    tensor: torch.Tensor
    orig_hw: tuple[int, int]
    work_hw: tuple[int, int]


def working_size(h: int, w: int, size: int, multiple: int = 16) -> tuple[int, int]:
    """(h, w) scaled so the longer side is `size`, each rounded to a multiple of `multiple` (>= one multiple)."""
    s = size / max(h, w)
    return (max(multiple, int(round(h * s / multiple)) * multiple),
            max(multiple, int(round(w * s / multiple)) * multiple))


def prepare(bgr: np.ndarray, size: int, device: torch.device | str = "cpu") -> Prepared:
    """BGR uint8 image -> ImageNet-normalised RGB tensor at the working size."""
    h, w = bgr.shape[:2]
    wh, ww = working_size(h, w, size)
    rgb = cv2.cvtColor(cv2.resize(bgr, (ww, wh), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
    t = torch.from_numpy(rgb).permute(2, 0, 1).float().div(255.0)[None]
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    return Prepared(((t - mean) / std).to(device), (h, w), (wh, ww))


def hyper_features(taps: list[torch.Tensor], grid_hw: tuple[int, int]) -> torch.Tensor:
    """Resample each tap (N,C_k,h_k,w_k) to `grid_hw` (area for finer maps, bilinear for coarser), L2-normalise
    per block, concatenate and L2-normalise -> (N, sum C_k, h, w)."""
    out = []
    for t in taps:
        if t.shape[-2] > grid_hw[0]:
            t = F.adaptive_avg_pool2d(t, grid_hw)
        elif t.shape[-2:] != grid_hw:
            t = F.interpolate(t, size=grid_hw, mode="bilinear", align_corners=False)
        out.append(F.normalize(t, dim=1))
    return F.normalize(torch.cat(out, 1), dim=1)


class LiteFeatures(nn.Module):
    """EfficientNet-Lite0 trunk (frozen ImageNet weights) -> coarse (stride 16) and fine (stride 8) features."""

    def __init__(self, coarse_taps: tuple[int, ...] = COARSE_TAPS, fine_taps: tuple[int, ...] = FINE_TAPS,
                 pretrained: bool = True) -> None:
        super().__init__()
        self.trunk = load_efficientnet_lite0(pretrained)
        self.coarse_taps, self.fine_taps = tuple(coarse_taps), tuple(fine_taps)
        self.levels = tuple(sorted(set(self.coarse_taps) | set(self.fine_taps)))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalised image (N,3,h,w), h and w multiples of 16 -> (coarse (N,D1,h/16,w/16), fine (N,D2,h/8,w/8))."""
        got = dict(zip(self.levels, self.trunk.taps(x, self.levels), strict=True))
        h, w = x.shape[-2:]
        coarse = hyper_features([got[k] for k in self.coarse_taps], (h // 16, w // 16))
        fine = hyper_features([got[k] for k in self.fine_taps], (h // 8, w // 8))
        return coarse, fine
