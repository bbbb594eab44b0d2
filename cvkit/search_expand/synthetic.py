"""Synthetic descriptor worlds for training the descriptor-agnostic LAttQE-gram (spec 5.4) and for tests and
benchmarks: class centres on the unit sphere, class sizes log-uniform (few to many relevant items per
query), per-class spread, a shared anisotropic component (descriptors are never isotropic), near-duplicate
groups and singleton distractors.
"""

from __future__ import annotations

import numpy as np

from .index import l2n


def synthetic_world(n_items: int, dim: int, rng: np.random.Generator, max_class: int = 300,
                    distractor_share: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """(descriptors (N, dim) L2-normalised float32, labels (N,)); label -1 marks a singleton distractor."""
    labels: list[np.ndarray] = []
    vecs: list[np.ndarray] = []
    n_classed = int(n_items * (1 - distractor_share))
    common = rng.standard_normal(dim) * rng.uniform(0.0, 0.6)  # shared direction: descriptors crowd a cone
    scale = np.exp(rng.uniform(-1.0, 0.0, dim))  # anisotropy: some dimensions carry more variance
    c, used = 0, 0
    while used < n_classed:
        size = int(min(n_classed - used, max(2, round(np.exp(rng.uniform(np.log(2), np.log(max_class)))))))
        centre = l2n(rng.standard_normal(dim) * scale + common)
        spread = rng.uniform(0.5, 1.6)
        noise = rng.standard_normal((size, dim)) * scale / np.sqrt(dim) * spread * np.sqrt(dim) / np.linalg.norm(scale)
        pts = centre + noise
        if rng.random() < 0.2:  # a near-duplicate burst inside the class
            m = max(1, size // 4)
            pts[:m] = pts[0] + rng.standard_normal((m, dim)) * 0.05 / np.sqrt(dim)
        vecs.append(pts)
        labels.append(np.full(size, c))
        c += 1
        used += size
    n_distr = n_items - used
    if n_distr > 0:
        # distractors: some near the classes (confusers), the rest anywhere in the cone
        centres = np.concatenate([v[:1] for v in vecs])
        pick = centres[rng.integers(0, len(centres), n_distr)]
        mix = rng.uniform(0.0, 1.0, (n_distr, 1))
        free = rng.standard_normal((n_distr, dim)) * scale + common
        vecs.append(mix * pick * 2.0 + l2n(free))
        labels.append(np.full(n_distr, -1))
    x = l2n(np.concatenate(vecs))
    y = np.concatenate(labels).astype(np.int64)
    order = rng.permutation(len(y))
    return x[order], y[order]


def clustered_database(n: int, dim: int, seed: int = 0, n_clusters: int = 1000) -> np.ndarray:
    """A large clustered database for speed benchmarks (float32, L2-normalised), generated in chunks."""
    rng = np.random.default_rng(seed)
    centres = l2n(rng.standard_normal((n_clusters, dim)))
    out = np.empty((n, dim), dtype=np.float32)
    for s in range(0, n, 100_000):
        m = min(100_000, n - s)
        idx = rng.integers(0, n_clusters, m)
        out[s:s + m] = l2n(centres[idx] + rng.standard_normal((m, dim)).astype(np.float32) * (0.8 / np.sqrt(dim)))
    return out
