"""Range-aware kNN post-processing of back-projected labels (RangeNet++ `postproc/KNN.py`, used by SqueezeSegV3 `*`).

For every point: take the S x S window of projected ranges around its pixel (empty pixels and padding -> inf, the
centre replaced by the point's own range), distance |r_nbr - r_pt| times (1 - normalised Gaussian(S, sigma)), keep the
k nearest, drop those farther than `cutoff` metres, and vote their predicted classes (class 0 never wins).
SqueezeSegV3's values: k = 7, S = 7, sigma = 1, cutoff = 1.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .projection import Projection


def gaussian_kernel(size: int, sigma: float) -> torch.Tensor:
    """Normalised 2-D Gaussian (size x size) as in RangeNet++."""
    ax = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    g = torch.exp(-(ax[None, :] ** 2 + ax[:, None] ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def knn_vote(proj: Projection, pixel_pred: np.ndarray | torch.Tensor, n_classes: int, k: int = 7, search: int = 7,
             sigma: float = 1.0, cutoff: float = 1.0, chunk: int = 65536) -> np.ndarray:
    """Per-point labels (N,) voted from the (H, W) pixel predictions by range-image neighbours."""
    rng_img = torch.from_numpy(np.where(proj.mask, proj.image[0], np.inf).astype(np.float32))
    pred = torch.as_tensor(np.asarray(pixel_pred), dtype=torch.float32)
    H, W = rng_img.shape
    pad = search // 2
    # pad with inf range (no neighbour) and class 0; unfold gives (S*S, H*W)
    r_pad = F.pad(rng_img[None, None], (pad, pad, pad, pad), value=float("inf"))
    p_pad = F.pad(pred[None, None], (pad, pad, pad, pad), value=0.0)
    r_unf = F.unfold(r_pad, search)[0].T.contiguous()  # (H*W, S*S)
    p_unf = F.unfold(p_pad, search)[0].T.contiguous()
    inv_g = (1 - gaussian_kernel(search, sigma)).view(1, -1)
    centre = (search * search - 1) // 2
    n = len(proj.u)
    out = np.zeros(n, dtype=np.int64)
    pix_all = torch.from_numpy(proj.v * W + proj.u)
    r_all = torch.from_numpy(proj.range)
    for s in range(0, n, chunk):
        pix = pix_all[s:s + chunk]
        r_pt = r_all[s:s + chunk, None]
        rn = r_unf[pix]
        rn[:, centre] = r_pt[:, 0]
        d = torch.nan_to_num((rn - r_pt).abs() * inv_g, nan=float("inf"))
        dk, idx = d.topk(k, dim=1, largest=False, sorted=False)
        votes = torch.gather(p_unf[pix], 1, idx).long()
        votes[dk > cutoff] = n_classes  # an extra bin that never wins
        hist = torch.zeros(len(pix), n_classes + 1)
        hist.scatter_add_(1, votes, torch.ones_like(votes, dtype=torch.float32))
        out[s:s + chunk] = (hist[:, 1:-1].argmax(1) + 1).numpy()
    out[~proj.valid] = 0
    return out
