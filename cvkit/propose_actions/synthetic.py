"""Procedural feature sequences with known action segments (spec section 5): training data for the shipped small
BC-GNN and the held-out test set on which it is compared with the prior and sliding-window baselines.

A video of L native snippets (24-400) is a slow random walk in a D-dimensional feature space (D in 32-256)
with 1-6 action segments, each with its own mean direction (sometimes shared by two segments: repeated actions),
soft ramps at the boundaries, a drift inside the action, per-snippet noise and short distractor bursts in the
background; half the videos are made non-negative (like pooled ReLU CNN features). Segment lengths mix long
(30-95 % of the video) and short (2-30 %) actions, roughly as in ActivityNet. The sequence is then rescaled to
100 positions as BSN does, so the generated inputs go through the same path as real ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .features import rescale


@dataclass
class SyntheticVideo:
    """Rescaled features [T, D], GT segments normalised to [0, 1], native snippet count and duration (s)."""

    features: np.ndarray
    segments: np.ndarray
    native_len: int
    duration: float


def _segment_layout(rng: np.random.Generator, length: int) -> list[tuple[int, int]]:
    n = int(rng.choice([1, 1, 1, 2, 2, 3, 4, 5, 6]))
    if rng.random() < 0.35 and n <= 2:
        fracs = rng.uniform(0.3, 0.95, size=n)
    else:
        fracs = rng.uniform(0.02, 0.3, size=n)
    fracs = fracs * min(1.0, 0.95 / fracs.sum())
    lens = np.maximum(2, np.round(fracs * length)).astype(int)
    free = max(0, length - int(lens.sum()))
    gaps = rng.dirichlet(np.ones(n + 1)) * free
    segs, t = [], 0.0
    for k in range(n):
        t += gaps[k]
        s = int(round(t))
        e = min(length, s + int(lens[k]))
        if e - s >= 2:
            segs.append((s, e))
        t = e
    return segs


def generate_video(rng: np.random.Generator, length: int | None = None, dim: int | None = None,
                   tscale: int = 100) -> SyntheticVideo:
    """One procedural video (rescaled to `tscale` positions)."""
    length = int(length or rng.integers(24, 401))
    dim = int(dim or rng.choice([32, 64, 128, 256]))
    walk = rng.uniform(0.02, 0.15)
    x = np.cumsum(rng.normal(0, walk, (length, dim)), axis=0) + rng.normal(0, 1, dim)
    segs = _segment_layout(rng, length)
    means: list[np.ndarray] = []
    strength = rng.uniform(0.8, 2.5)
    for s, e in segs:
        if means and rng.random() < 0.2:
            mu = means[int(rng.integers(len(means)))]
        else:
            mu = rng.normal(0, strength, dim)
        means.append(mu)
        n = e - s
        ramp = int(rng.integers(0, max(1, min(4, n // 3)) + 1))
        w = np.ones(n)
        if ramp:
            r = (np.arange(ramp) + 1) / (ramp + 1)
            w[:ramp] = r
            w[n - ramp:] = np.minimum(w[n - ramp:], r[::-1])
        drift = np.cumsum(rng.normal(0, walk * 0.5, (n, dim)), axis=0)
        x[s:e] = (1 - w[:, None]) * x[s:e] + w[:, None] * (x[s] + mu + drift)
    for _ in range(int(rng.poisson(1.5))):  # distractor bursts (1-3 snippets)
        b = int(rng.integers(0, length))
        x[b:b + int(rng.integers(1, 4))] += rng.normal(0, strength, dim)
    x += rng.normal(0, rng.uniform(0.05, 0.8), x.shape)
    if rng.random() < 0.5:
        x = np.maximum(x, 0)
    gt = np.array(segs, dtype=np.float64).reshape(-1, 2) / length
    duration = length * 16 / 30.0
    return SyntheticVideo(rescale(x, tscale).astype(np.float32), gt, length, duration)


def generate_set(seed: int, n: int, tscale: int = 100) -> list[SyntheticVideo]:
    """`n` videos from seed `seed` (training, validation and test sets use different seeds)."""
    rng = np.random.default_rng(seed)
    return [generate_video(rng, tscale=tscale) for _ in range(n)]
