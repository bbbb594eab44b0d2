"""PCK@alpha with each benchmark's own threshold, as their official evaluation code defines it.

A transferred keypoint is correct when its L2 distance to the ground truth is <= alpha * thres (HPF/DHPF
`correct_kps`: `torch.le`). thres per benchmark (HPF `get_pckthres`, SPair-71k devkit):
- PF-PASCAL: max(h, w) of the *target image* (alpha_img),
- PF-WILLOW: max(w, h) of the bounding box of the target keypoints (alpha_bb, keypoint box; padded/invalid
  keypoints excluded, avoiding the DHPF/CATs "-1 padding" bug),
- SPair-71k: max(w, h) of the annotated target object box `trg_bndbox` (x1, y1, x2, y2),
- homography / dense: max(h, w) of the target image.
Per-pair PCK = fraction of correct keypoints; dataset PCK = mean over pairs.
"""

from __future__ import annotations

import numpy as np


def pck_threshold(kind: str, *, image_hw: tuple[int, int] | None = None, keypoints: np.ndarray | None = None,
                  bbox: tuple[float, float, float, float] | None = None) -> float:
    """The PCK normaliser: 'img' (max image side), 'kpbox' (max side of the keypoints' box), 'bbox' (x1,y1,x2,y2)."""
    if kind == "img":
        if image_hw is None:
            raise ValueError("image_hw needed for an image-size threshold")
        return float(max(image_hw))
    if kind == "kpbox":
        k = np.asarray(keypoints, dtype=np.float64).reshape(-1, 2)
        k = k[np.isfinite(k).all(1) & (k >= 0).all(1)]
        if len(k) == 0:
            raise ValueError("no valid keypoints for a keypoint-box threshold")
        span = k.max(0) - k.min(0)
        return float(max(span[0], span[1]))
    if kind == "bbox":
        x1, y1, x2, y2 = (float(v) for v in bbox)
        return max(x2 - x1, y2 - y1)
    raise ValueError(f"unknown PCK threshold kind {kind!r}")


def pck(pred: np.ndarray, gt: np.ndarray, thres: float, alpha: float) -> float:
    """Fraction of keypoints with |pred - gt| <= alpha * thres ((N,2) arrays; NaN/invalid gt rows skipped)."""
    pred = np.asarray(pred, dtype=np.float64).reshape(-1, 2)
    gt = np.asarray(gt, dtype=np.float64).reshape(-1, 2)
    valid = np.isfinite(gt).all(1)
    if not valid.any():
        return float("nan")
    d = np.linalg.norm(pred[valid] - gt[valid], axis=1)
    d = np.where(np.isfinite(d), d, np.inf)
    return float(np.mean(d <= alpha * thres))


def mean_pck(per_pair: list[float]) -> float:
    """Dataset PCK: the mean of per-pair PCKs (NaN pairs skipped)."""
    vals = [v for v in per_pair if np.isfinite(v)]
    return float(np.mean(vals)) if vals else float("nan")


def sample_flow(flow: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Transfer points (N,2, x y pixels) through a dense flow (H,W,2): p + bilinear flow(p), border-clamped."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    h, w = flow.shape[:2]
    x = np.clip(pts[:, 0], 0, w - 1)
    y = np.clip(pts[:, 1], 0, h - 1)
    x0 = np.floor(x).astype(int)
    y0 = np.floor(y).astype(int)
    x1 = np.minimum(x0 + 1, w - 1)
    y1 = np.minimum(y0 + 1, h - 1)
    ax = (x - x0)[:, None]
    ay = (y - y0)[:, None]
    f = (flow[y0, x0] * (1 - ax) * (1 - ay) + flow[y0, x1] * ax * (1 - ay)
         + flow[y1, x0] * (1 - ax) * ay + flow[y1, x1] * ax * ay)
    return pts + f


def homography_points(h: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Apply a 3x3 homography to (N,2) points."""
    p = np.c_[pts, np.ones(len(pts))] @ np.asarray(h, dtype=np.float64).T
    return p[:, :2] / p[:, 2:3]


def homography_grid(h: np.ndarray, src_hw: tuple[int, int], tgt_hw: tuple[int, int], step: int = 16,
                    margin: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Dense grid of source points (every `step` px) whose homography image lies inside the target (overlap),
    and their true target positions."""
    ys, xs = np.mgrid[step // 2:src_hw[0]:step, step // 2:src_hw[1]:step]
    src = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float64)
    tgt = homography_points(h, src)
    inside = ((tgt[:, 0] >= margin) & (tgt[:, 0] <= tgt_hw[1] - 1 - margin)
              & (tgt[:, 1] >= margin) & (tgt[:, 1] <= tgt_hw[0] - 1 - margin))
    return src[inside], tgt[inside]
