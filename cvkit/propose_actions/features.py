"""Feature sequences: BSN-style rescaling to a fixed number of positions and the feature-agnostic
self-similarity profile (spec section 5, option 3) that the shipped small BC-GNN reads."""

from __future__ import annotations

import numpy as np

PROFILE_OFFSETS = (1, 2, 4, 8, 16)
PROFILE_WINDOWS = (2, 4, 8)
PROFILE_DIM = 2 * len(PROFILE_OFFSETS) + len(PROFILE_WINDOWS) + 3


def rescale(feats: np.ndarray, n: int = 100, samples: int = 3) -> np.ndarray:
    """[L, D] snippet features -> [n, D]: bin b covers [b/n, (b+1)/n] of the sequence; its value is the mean of
    `samples` linear interpolations inside the bin (BSN `csv_mean_100`); snippet k sits at (k + 0.5) / L."""
    feats = np.asarray(feats, dtype=np.float64)
    length = len(feats)
    if length == 1:
        return np.repeat(feats, n, axis=0)
    src = (np.arange(length) + 0.5) / length
    offs = (np.arange(samples) + 0.5) / samples
    t = ((np.arange(n)[:, None] + offs[None, :]) / n).reshape(-1)
    out = np.empty((n * samples, feats.shape[1]))
    for d in range(feats.shape[1]):
        out[:, d] = np.interp(t, src, feats[:, d])
    return out.reshape(n, samples, -1).mean(axis=1)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / (np.linalg.norm(x, axis=-1, keepdims=True) + 1e-8)


def self_similarity_profile(feats: np.ndarray) -> np.ndarray:
    """[T, D] -> [T, PROFILE_DIM]: cosine similarity of each position to t +- k (k in 1, 2, 4, 8, 16), contrast
    of the means before/after t (windows 2, 4, 8), z-scored step size, z-scored distance from the video mean,
    and the normalised position. Independent of D and of the feature type (after centring over time)."""
    x = np.asarray(feats, dtype=np.float64)
    t = len(x)
    c = x - x.mean(axis=0, keepdims=True)
    scale = np.sqrt((c ** 2).sum(axis=1).mean()) + 1e-8
    u = _unit(c)
    idx = np.arange(t)
    cols = []
    for k in PROFILE_OFFSETS:
        for sgn in (-1, 1):
            j = np.clip(idx + sgn * k, 0, t - 1)
            cols.append((u * u[j]).sum(axis=1))
    cs = np.concatenate([np.zeros((1, x.shape[1])), np.cumsum(c, axis=0)])
    for w in PROFILE_WINDOWS:
        lo = np.clip(idx - w, 0, t)
        hi = np.clip(idx + w, 0, t)
        before = (cs[idx] - cs[lo]) / np.maximum(idx - lo, 1)[:, None]
        after = (cs[hi] - cs[idx]) / np.maximum(hi - idx, 1)[:, None]
        cols.append((_unit(before) * _unit(after)).sum(axis=1))
    step = np.r_[0.0, np.linalg.norm(np.diff(x, axis=0), axis=1)] / scale
    cols.append((step - step.mean()) / (step.std() + 1e-6))
    dist = np.linalg.norm(c, axis=1) / scale
    cols.append((dist - dist.mean()) / (dist.std() + 1e-6))
    cols.append((idx + 0.5) / t)
    return np.stack(cols, axis=1).astype(np.float32)
