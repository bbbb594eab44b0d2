"""Redundancy suppression of scored proposals: BSN/BMN-style Soft-NMS, Gaussian Soft-NMS and hard NMS.

All work on [n, 2] segments (normalised [0, 1] for the width-adaptive variant, any unit otherwise) with scores,
and return the kept segments and their (decayed) scores in the order they were selected.
"""

from __future__ import annotations

import numpy as np


def _tiou_one(seg: np.ndarray, segs: np.ndarray) -> np.ndarray:
    inter = np.clip(np.minimum(seg[1], segs[:, 1]) - np.maximum(seg[0], segs[:, 0]), 0, None)
    union = (seg[1] - seg[0]) + (segs[:, 1] - segs[:, 0]) - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.nan_to_num(inter / union, nan=0.0)


def soft_nms(segs: np.ndarray, scores: np.ndarray, top_k: int = 100, alpha: float = 0.4, low: float = 0.5,
             high: float = 0.9, adaptive: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Soft-NMS as in BSN/BMN post-processing (mmaction2 defaults alpha 0.4, low 0.5, high 0.9).

    adaptive: decay k by exp(-u^2/alpha) only when u > low + (high - low) * width(m) (normalised times);
    otherwise plain Gaussian Soft-NMS (every k decays by exp(-u^2/alpha)).
    """
    segs = np.asarray(segs, dtype=np.float64).reshape(-1, 2).copy()
    sc = np.asarray(scores, dtype=np.float64).copy()
    alive = np.ones(len(sc), dtype=bool)
    kept_s, kept_v = [], []
    while alive.any() and len(kept_v) < top_k:
        idx = np.flatnonzero(alive)
        m = idx[np.argmax(sc[idx])]
        alive[m] = False
        kept_s.append(segs[m])
        kept_v.append(sc[m])
        rest = np.flatnonzero(alive)
        if len(rest) == 0:
            break
        u = _tiou_one(segs[m], segs[rest])
        decay = np.exp(-(u * u) / alpha)
        if adaptive:
            w = segs[m, 1] - segs[m, 0]
            decay = np.where(u > low + (high - low) * w, decay, 1.0)
        sc[rest] *= decay
    return np.asarray(kept_s).reshape(-1, 2), np.asarray(kept_v)


def hard_nms(segs: np.ndarray, scores: np.ndarray, top_k: int = 100, thr: float = 0.65
             ) -> tuple[np.ndarray, np.ndarray]:
    """Greedy NMS: drop every proposal with tIoU > thr to a better one; keep the top_k."""
    segs = np.asarray(segs, dtype=np.float64).reshape(-1, 2)
    sc = np.asarray(scores, dtype=np.float64)
    order = np.argsort(-sc, kind="stable")
    keep: list[int] = []
    alive = np.ones(len(sc), dtype=bool)
    for i in order:
        if not alive[i]:
            continue
        keep.append(i)
        if len(keep) >= top_k:
            break
        u = _tiou_one(segs[i], segs)
        alive &= ~(u > thr)
    keep_a = np.asarray(keep, dtype=np.int64)
    return segs[keep_a].reshape(-1, 2), sc[keep_a]


def suppress(segs: np.ndarray, scores: np.ndarray, method: str = "soft", top_k: int = 100, alpha: float = 0.4,
             low: float = 0.5, high: float = 0.9, nms_thr: float = 0.65, adaptive: bool = True
             ) -> tuple[np.ndarray, np.ndarray]:
    """Dispatch: 'soft' (Soft-NMS), 'hard' (NMS) or 'none' (top_k by score)."""
    if method == "soft":
        return soft_nms(segs, scores, top_k, alpha, low, high, adaptive)
    if method == "hard":
        return hard_nms(segs, scores, top_k, nms_thr)
    if method == "none":
        order = np.argsort(-np.asarray(scores), kind="stable")[:top_k]
        return np.asarray(segs).reshape(-1, 2)[order], np.asarray(scores)[order]
    raise ValueError(f"unknown suppression {method!r}: use soft, hard or none")
