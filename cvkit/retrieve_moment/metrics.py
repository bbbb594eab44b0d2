"""Charades-STA metrics: temporal IoU, R@n at IoU m (any of the top-n windows hits) and mIoU of the top-1."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

RECALLS = (1, 5)
IOUS = (0.3, 0.5, 0.7)


def tiou(a: Sequence[float], b: Sequence[float]) -> float:
    """Temporal IoU |a ∩ b| / |a ∪ b| of two (start, end) intervals in seconds; 0 for empty unions."""
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0


def tiou_matrix(windows: np.ndarray, gt: Sequence[float]) -> np.ndarray:
    """IoU of each (start, end) row of `windows` with one ground-truth interval."""
    w = np.asarray(windows, dtype=np.float64).reshape(-1, 2)
    inter = np.clip(np.minimum(w[:, 1], gt[1]) - np.maximum(w[:, 0], gt[0]), 0, None)
    union = np.maximum(w[:, 1], gt[1]) - np.minimum(w[:, 0], gt[0])
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def recall_table(predictions: Sequence[Sequence[Sequence[float]]], truths: Sequence[Sequence[float]],
                 recalls: Sequence[int] = RECALLS, ious: Sequence[float] = IOUS) -> dict[str, float]:
    """R@n,IoU=m (percent) for ranked windows per query, plus mIoU (percent) of the top-1 window.

    A query with no predicted window counts as a miss (IoU 0)."""
    if len(predictions) != len(truths):
        raise ValueError(f"{len(predictions)} predictions for {len(truths)} ground truths")
    out: dict[str, float] = {}
    n = max(len(truths), 1)
    ious_top = [tiou_matrix(np.asarray(p, dtype=np.float64).reshape(-1, 2), g) if len(p) else np.zeros(0)
                for p, g in zip(predictions, truths, strict=True)]
    for r in recalls:
        for m in ious:
            hits = sum(1 for v in ious_top if len(v) and v[:r].max() >= m - 1e-9)
            out[f"R@{r},IoU={m}"] = 100.0 * hits / n
    out["mIoU"] = 100.0 * sum(float(v[0]) if len(v) else 0.0 for v in ious_top) / n
    return out
