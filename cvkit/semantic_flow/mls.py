"""Propagation of sparse displacements to a dense field by Gaussian-weighted moving least squares.

`order=0` is the paper's Eq. 7 (a Gaussian-weighted mean of the confident displacements, i.e. zeroth-order MLS /
Shepard interpolation). `order=1` fits, at every query point, a weighted affine map to the confident matches
(first-order MLS, Schaefer et al. 2006), which reproduces any affine field exactly and extrapolates perspective
foreshortening better than a weighted mean; where the local fit is ill-conditioned it falls back to order 0.
Both are differentiable in the displacements (and the weights).
"""

from __future__ import annotations

import torch


def gaussian_weights(points: torch.Tensor, anchors: torch.Tensor, sigma: float) -> torch.Tensor:
    """w(s - i) = exp(-|s - i|^2 / (2 sigma^2)) for every query i (Q,2) and anchor s (S,2) -> (Q,S)."""
    d2 = torch.cdist(points, anchors).pow(2)
    return torch.exp(-d2 / (2.0 * sigma * sigma))


def mls_propagate(points: torch.Tensor, anchors: torch.Tensor, disp: torch.Tensor, sigma: float,
                  order: int = 1, anchor_weight: torch.Tensor | None = None, ridge: float = 1e-6,
                  pair_weight: torch.Tensor | None = None) -> torch.Tensor:
    """Dense displacements at `points` (Q,2) from displacements `disp` (S,2) known at `anchors` (S,2).

    `sigma` is the Gaussian scale c_P in the same units as the coordinates; `anchor_weight` (S,) scales each
    anchor's vote (a confidence), `pair_weight` (Q,S) each query's (e.g. 0 to leave an anchor out).
    Returns (Q,2); zeros when there is no anchor."""
    if anchors.shape[0] == 0:
        return torch.zeros_like(points)
    w = gaussian_weights(points, anchors, sigma)
    if anchor_weight is not None:
        w = w * anchor_weight[None]
    if pair_weight is not None:
        w = w * pair_weight
    # guard far-away queries: the Gaussian underflows, so renormalise with a floor from the nearest anchor
    wsum = w.sum(1, keepdim=True)
    far = wsum[:, 0] < 1e-12
    if bool(far.any()):
        d2 = torch.cdist(points[far], anchors).pow(2)
        wf = torch.exp(-(d2 - d2.min(1, keepdim=True).values) / (2.0 * sigma * sigma))
        if anchor_weight is not None:
            wf = wf * anchor_weight[None]
        if pair_weight is not None:
            wf = wf * pair_weight[far]
        w = w.clone()
        w[far] = wf
        wsum = w.sum(1, keepdim=True)
    shepard = (w @ disp) / wsum.clamp_min(1e-30)
    if order == 0 or anchors.shape[0] < 3:
        return shepard
    # weighted affine fit per query: disp(s) ~ A (s - i) + b, in coordinates centred on the query (b is then
    # the value at the query). Normal equations M [A^T; b^T] = R, M = sum w [x 1][x 1]^T, x = s - i, built from
    # weighted moments of the anchors (matrix products, no (Q, S, 3) tensors).
    wn = w / wsum.clamp_min(1e-30)
    q = points
    m1 = wn @ anchors                                                    # (Q,2) sum w s
    m2 = (wn @ (anchors[:, :, None] * anchors[:, None, :]).reshape(-1, 4)).reshape(-1, 2, 2)   # sum w s s^T
    d1 = wn @ disp                                                       # (Q,2) sum w d
    sd = (wn @ (anchors[:, :, None] * disp[:, None, :]).reshape(-1, 4)).reshape(-1, 2, 2)      # sum w s d^T
    rel = m1 - q
    srr = m2 - m1[:, :, None] * q[:, None, :] - q[:, :, None] * m1[:, None, :] + q[:, :, None] * q[:, None, :]
    m = torch.zeros(len(q), 3, 3, dtype=q.dtype, device=q.device)
    m[:, :2, :2] = srr
    m[:, :2, 2] = rel
    m[:, 2, :2] = rel
    m[:, 2, 2] = 1.0
    r = torch.cat([sd - q[:, :, None] * d1[:, None, :], d1[:, None, :]], 1)   # (Q,3,2)
    cov = m2 - m1[:, :, None] * m1[:, None, :]
    scale = (cov[:, 0, 0] + cov[:, 1, 1]).clamp_min(1e-12)
    reg = torch.zeros_like(m)
    reg[:, 0, 0] = reg[:, 1, 1] = ridge * scale
    affine = torch.linalg.solve(m + reg, r)[:, 2]
    # conditioning: the smallest eigenvalue of the anchors' weighted spatial covariance relative to sigma^2; below
    # a floor the local fit would extrapolate along a line of anchors -> blend towards the weighted mean
    lam = torch.linalg.eigvalsh(cov)[:, 0].clamp_min(0) / (sigma * sigma)
    alpha = (lam / 0.05).clamp(max=1.0)[:, None]
    return alpha * affine + (1 - alpha) * shepard


def mls_dense(h: int, w: int, anchors: torch.Tensor, disp: torch.Tensor, sigma: float, order: int = 1,
              anchor_weight: torch.Tensor | None = None) -> torch.Tensor:
    """mls_propagate over every cell of an h x w grid (x, y cell coordinates) -> (h, w, 2)."""
    ys, xs = torch.meshgrid(torch.arange(h, dtype=disp.dtype), torch.arange(w, dtype=disp.dtype), indexing="ij")
    pts = torch.stack([xs.reshape(-1), ys.reshape(-1)], 1).to(disp.device)
    return mls_propagate(pts, anchors, disp, sigma, order, anchor_weight).reshape(h, w, 2)
