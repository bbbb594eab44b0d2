"""Plain-torch ops shared by tasks (no torchvision): cross-correlation variants, RoIAlign, NMS."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def xcorr(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Full-channel cross-correlation of search maps x (N,C,H,W) with template(s) z (1 or N, C, h, w).

    Returns (N, 1, H-h+1, W-w+1). One template is shared by all N search maps (the scale pyramid);
    N templates are paired one-to-one (training batches) through a grouped convolution.
    """
    n, c, h, w = x.shape
    if z.shape[0] == 1:
        return F.conv2d(x, z)
    if z.shape[0] != n:
        raise ValueError(f"xcorr: {z.shape[0]} templates for {n} search maps")
    out = F.conv2d(x.reshape(1, n * c, h, w), z, groups=n)
    return out.reshape(n, 1, out.shape[-2], out.shape[-1])


def xcorr_depthwise(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Depth-wise (per-channel) cross-correlation, SiamRPN++ style: (N,C,H,W) x (N,C,h,w) -> (N,C,H',W')."""
    n, c, h, w = x.shape
    if z.shape[0] == 1 and n > 1:
        z = z.expand(n, -1, -1, -1)
    out = F.conv2d(x.reshape(1, n * c, h, w), z.reshape(n * c, 1, z.shape[-2], z.shape[-1]), groups=n * c)
    return out.reshape(n, c, out.shape[-2], out.shape[-1])
