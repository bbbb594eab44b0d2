"""RoIAlign (He et al., Mask R-CNN 2017) in plain torch, torchvision's `ops.roi_align` semantics, no torchvision.

torchvision does not import beside the torch 2.13.0 CPU wheel, so AutoMatch's template
and box-classification pooling uses this. Each RoI `(batch_index, x1, y1, x2, y2)` (input-image pixels) is
scaled by `spatial_scale`; with `aligned=False` (torchvision's default and what SOTS calls) its width and
height are clamped to at least 1 feature cell, with `aligned=True` the box is shifted by -0.5 cell first
(pixel-centre model) and not clamped. The RoI is cut into `output_size` bins; each bin averages
`sampling_ratio` x `sampling_ratio` bilinear samples at the sub-bin centres. A sample more than one cell
outside the map (y < -1 or y > H) reads 0; otherwise coordinates are clamped into the map, exactly as
torchvision does. We fix `sampling_ratio` (default 2) instead of torchvision's adaptive `-1`, so every
RoI has the same number of samples and all RoIs of one image are read by a single `grid_sample` call.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def roi_align(
    features: torch.Tensor,
    rois: torch.Tensor,
    output_size: int | tuple[int, int],
    spatial_scale: float = 1.0,
    sampling_ratio: int = 2,
    aligned: bool = False,
) -> torch.Tensor:
    """Pool (K, 5) RoIs [batch_index, x1, y1, x2, y2] from features (N, C, H, W) into (K, C, ph, pw)."""
    ph, pw = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)
    sr = max(int(sampling_ratio), 1)
    n, c, h, w = features.shape
    k = rois.shape[0]
    if k == 0:
        return features.new_zeros(0, c, ph, pw)
    rois = rois.to(features.dtype)
    offset = 0.5 if aligned else 0.0
    x1 = rois[:, 1] * spatial_scale - offset
    y1 = rois[:, 2] * spatial_scale - offset
    rw = rois[:, 3] * spatial_scale - offset - x1
    rh = rois[:, 4] * spatial_scale - offset - y1
    if not aligned:
        rw, rh = rw.clamp_min(1.0), rh.clamp_min(1.0)
    # sample positions: bin b, sub-sample s -> start + (b + (s + 0.5) / sr) * size / bins
    fx = (torch.arange(pw * sr, dtype=features.dtype, device=features.device) + 0.5) / (pw * sr)
    fy = (torch.arange(ph * sr, dtype=features.dtype, device=features.device) + 0.5) / (ph * sr)
    xs = x1[:, None] + fx[None, :] * rw[:, None]  # (K, pw*sr)
    ys = y1[:, None] + fy[None, :] * rh[:, None]  # (K, ph*sr)
    valid = ((ys >= -1.0) & (ys <= h))[:, :, None] & ((xs >= -1.0) & (xs <= w))[:, None, :]
    # clamp into the map (torchvision: y<0 -> 0, y>=H-1 -> H-1), then align_corners=True normalisation
    gx = xs.clamp(0, w - 1) * (2.0 / max(w - 1, 1)) - 1.0
    gy = ys.clamp(0, h - 1) * (2.0 / max(h - 1, 1)) - 1.0
    grid = torch.stack(torch.broadcast_tensors(gx[:, None, :], gy[:, :, None]), dim=-1)  # (K, ph*sr, pw*sr, 2)
    out = features.new_zeros(k, c, ph * sr, pw * sr)
    index = rois[:, 0].long()
    for b in index.unique().tolist():
        sel = (index == b).nonzero(as_tuple=True)[0]
        g = grid[sel].reshape(1, -1, pw * sr, 2)  # all RoIs of image b stacked along the grid's height
        s = F.grid_sample(features[b: b + 1], g, mode="bilinear", padding_mode="border", align_corners=True)
        out[sel] = s.reshape(c, len(sel), ph * sr, pw * sr).transpose(0, 1)
    out = out * valid[:, None].to(out.dtype)
    return F.avg_pool2d(out, sr) if sr > 1 else out
