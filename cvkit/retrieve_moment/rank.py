"""Ranking candidate windows: sort by score, greedy temporal NMS, top-n."""

from __future__ import annotations

import numpy as np

from .metrics import tiou_matrix


def rank_windows(windows: np.ndarray, scores: np.ndarray, top: int = 5, nms: float = 0.5
                 ) -> list[tuple[float, float, float]]:
    """Top `top` (start, end, score) by score; with nms in (0, 1) a window overlapping a kept one at IoU >= nms
    is dropped (0 or >= 1 turns NMS off, keeping exact duplicates out)."""
    w = np.asarray(windows, np.float64).reshape(-1, 2)
    s = np.asarray(scores, np.float64).reshape(-1)
    order = np.argsort(-s, kind="stable")
    kept: list[int] = []
    for i in order:
        if not np.isfinite(s[i]):
            continue
        if kept:
            iou = tiou_matrix(w[kept], w[i])
            if (0 < nms < 1 and iou.max() >= nms) or iou.max() >= 1 - 1e-9:
                continue
        kept.append(int(i))
        if len(kept) >= top:
            break
    return [(float(w[i, 0]), float(w[i, 1]), float(s[i])) for i in kept]
