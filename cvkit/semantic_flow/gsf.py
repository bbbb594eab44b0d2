"""The training-free guided-semantic-flow pipeline on one level of dense features (paper Sec. 4.1):

full cosine correlation C (Eq. 1-2) -> confident matches (mutual nearest neighbours, i.e. Q = 1 in Eq. 4, the
training-free stand-in for the pruning net) -> Gaussian-weighted MLS propagation to a dense guidance G' (Eq. 7)
-> Gaussian modulation of C around i + G' (Eq. 8) -> soft-argmax (the training-free stand-in for the matching
net's residual, Eq. 9). Positions are target-grid cell coordinates (x, y); a source cell's "identity" position is
its centre mapped into the target grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .mls import mls_propagate


def grid_coords(h: int, w: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """(h*w, 2) float (x, y) coordinates of the cells of an h x w grid, row-major."""
    ys, xs = torch.meshgrid(torch.arange(h, device=device, dtype=torch.float32),
                            torch.arange(w, device=device, dtype=torch.float32), indexing="ij")
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], 1)


def map_cells(coords: torch.Tensor, src_hw: tuple[int, int], tgt_hw: tuple[int, int]) -> torch.Tensor:
    """Cell centres of a source grid expressed in target-grid cell coordinates (same normalised position)."""
    sx = tgt_hw[1] / src_hw[1]
    sy = tgt_hw[0] / src_hw[0]
    return torch.stack([(coords[:, 0] + 0.5) * sx - 0.5, (coords[:, 1] + 0.5) * sy - 0.5], 1)


def correlation(fs: torch.Tensor, ft: torch.Tensor) -> torch.Tensor:
    """Cosine correlation (Eq. 1) of L2-normalised features (D,hs,ws), (D,ht,wt) -> (hs*ws, ht*wt)."""
    return fs.flatten(1).t() @ ft.flatten(1)


def mutual_consistency(c: torch.Tensor) -> torch.Tensor:
    """Q_ij = relu(C_ij)^2 / (max_i' C_i'j * max_j' C_ij') (Eq. 4); Q = 1 iff (i, j) are mutual nearest neighbours."""
    c = c.clamp_min(0)
    return c * c / (c.amax(0, keepdim=True) * c.amax(1, keepdim=True)).clamp_min(1e-12)


def mutual_nn(c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Confident matches: (source indices, target indices) of the mutual nearest neighbours with C > 0."""
    j = c.argmax(1)
    i_back = c.argmax(0)
    src = torch.arange(c.shape[0], device=c.device)
    keep = (i_back[j] == src) & (c[src, j] > 0)
    return src[keep], j[keep]


def gaussian_to_grid(centres: torch.Tensor, grid_hw: tuple[int, int], sigma: float) -> torch.Tensor:
    """exp(-|j - centre|^2 / (2 sigma^2)) for every centre (N,2) and cell j of a grid -> (N, h*w); separable, so
    built as an outer product of the x and y factors (no N x h*w distance matrix)."""
    h, w = grid_hw
    xs = torch.arange(w, device=centres.device, dtype=centres.dtype)
    ys = torch.arange(h, device=centres.device, dtype=centres.dtype)
    gx = torch.exp(-(xs[None] - centres[:, :1]).pow(2) / (2 * sigma * sigma))
    gy = torch.exp(-(ys[None] - centres[:, 1:]).pow(2) / (2 * sigma * sigma))
    return (gy[:, :, None] * gx[:, None, :]).reshape(len(centres), -1)


def soft_argmax(c: torch.Tensor, tgt: torch.Tensor, temperature: float, window: float,
                grid_hw: tuple[int, int] | None = None) -> torch.Tensor:
    """Sub-cell positions: softmax(C / T) around each row's argmax (Gaussian window, cells) -> (N, 2)."""
    j = c.argmax(1)
    centre = tgt[j]
    if grid_hw is None:
        logits = c / temperature - torch.cdist(centre, tgt).pow(2) / (2 * window * window)
        return torch.softmax(logits, 1) @ tgt
    # same thing with the separable window: softmax(c/T) * g, renormalised (max-subtracted for stability)
    e = torch.exp((c - c.gather(1, j[:, None])) / temperature) * gaussian_to_grid(centre, grid_hw, window)
    return (e @ tgt) / e.sum(1, keepdim=True).clamp_min(1e-30)


def robust_guidance(src_pts: torch.Tensor, disp: torch.Tensor, query: torch.Tensor, sigma: float, order: int,
                    reject: float, iters: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """MLS guidance at `query` from anchor displacements, dropping anchors whose displacement disagrees with the
    leave-one-out MLS prediction from the others by more than `reject` cells. Returns (guidance, kept mask)."""
    keep = torch.ones(len(src_pts), dtype=torch.bool, device=src_pts.device)
    for _ in range(iters):
        if int(keep.sum()) < 4:
            break
        idx = keep.nonzero()[:, 0]
        pred = _loo_predict(src_pts, src_pts[idx], disp[idx], idx, sigma, order)
        new = (pred - disp).norm(dim=1) <= reject
        if bool((new == keep).all()):
            break
        keep = new
    idx = keep.nonzero()[:, 0]
    return mls_propagate(query, src_pts[idx], disp[idx], sigma, order), keep


def _loo_predict(pts: torch.Tensor, anchors: torch.Tensor, disp: torch.Tensor, anchor_idx: torch.Tensor,
                 sigma: float, order: int) -> torch.Tensor:
    """MLS prediction at each point of `pts` with the anchor at the same index (if kept) excluded."""
    n = len(pts)
    weight = torch.ones(n, len(anchors), device=pts.device)
    pos = torch.full((n,), -1, dtype=torch.long, device=pts.device)
    pos[anchor_idx] = torch.arange(len(anchor_idx), device=pts.device)
    has = pos >= 0
    weight[has.nonzero()[:, 0], pos[has]] = 0.0
    return mls_propagate(pts, anchors, disp, sigma, order, pair_weight=weight)


@dataclass
class LevelResult:
    """One level's outputs (target-grid coordinates): final positions, guidance positions, confidence (peak of the
    modulated correlation, 0-1), confident matches (source / target cell indices) and which survived rejection."""

    positions: torch.Tensor
    guidance: torch.Tensor
    confidence: torch.Tensor
    anchors_src: torch.Tensor
    anchors_tgt: torch.Tensor
    kept: torch.Tensor


def gsf_level(fs: torch.Tensor, ft: torch.Tensor, *, prior: torch.Tensor | None = None, prior_sigma: float = 2.0,
              c_p: float = 7.0, c_m: float = 5.0, order: int = 1, reject: float = 2.0,
              temperature: float = 0.02, window: float = 1.0) -> LevelResult:
    """Training-free GSF on one feature level. `prior` (hs*ws, 2) target positions from a coarser level restrict C
    to a Gaussian around them first (coarse-to-fine); c_p, c_m, reject in this level's cells."""
    hs, ws = fs.shape[-2:]
    ht, wt = ft.shape[-2:]
    c = correlation(fs, ft)
    src = grid_coords(hs, ws, fs.device)
    tgt = grid_coords(ht, wt, fs.device)
    ident = map_cells(src, (hs, ws), (ht, wt))
    if prior is not None:
        c = c * gaussian_to_grid(prior, (ht, wt), prior_sigma)
    si, tj = mutual_nn(c)
    disp = tgt[tj] - ident[si]
    guide_disp, kept = robust_guidance(src[si], disp, src, c_p, order, reject)
    guide = ident + guide_disp
    cm = c * gaussian_to_grid(guide, (ht, wt), c_m)
    pos = soft_argmax(cm, tgt, temperature, window, (ht, wt))
    return LevelResult(pos, guide, cm.amax(1).clamp(0, 1), si, tj, kept)


def nn_argmax(fs: torch.Tensor, ft: torch.Tensor) -> torch.Tensor:
    """Baseline: each source cell's nearest neighbour in the full correlation (target-grid coordinates)."""
    c = correlation(fs, ft)
    return grid_coords(*ft.shape[-2:], device=fs.device)[c.argmax(1)]
