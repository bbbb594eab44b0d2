"""`siam-lite`: training-free SiamFC on the frozen stride-16 EfficientNet-Lite0 ImageNet trunk.

No learned tracking weights: the template's ImageNet features, mean-subtracted per channel (so the response
measures structure rather than overall activation), are correlated with every search window and divided by
the window's norm: the response is a cosine similarity in [-1, 1], which also makes the score a usable
confidence for the `lost` flag.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ...nn.ops import xcorr
from ..trunk import TRUNK_BLOCKS, FrozenTrunk
from .siamfc import SiamNet


class SiamLiteNet(SiamNet):
    """Frozen trunk + parameter-free normalised cross-correlation head."""

    def __init__(self, pretrained: bool = True) -> None:
        super().__init__()
        self.trunk = FrozenTrunk(TRUNK_BLOCKS, pretrained)

    def embed(self, crops: torch.Tensor) -> torch.Tensor:
        return self.trunk(crops)

    def respond(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        zc = z - z.mean(dim=(2, 3), keepdim=True)
        zc = zc / (zc.flatten(1).norm(dim=1).view(-1, 1, 1, 1) + 1e-6)
        ones = torch.ones(1, x.shape[1], z.shape[2], z.shape[3], dtype=x.dtype, device=x.device)
        window_norm = F.conv2d(x * x, ones)[:, 0].clamp_min(1e-12).sqrt()
        return xcorr(x, zc)[:, 0] / window_norm
