"""Classical colour-histogram descriptor (a stripped-down LOMO): the baseline and the `hist` fallback model.

Not the paper's model: 6 horizontal stripes x HSV histogram (8 x 4 x 4 bins), square-rooted (Hellinger) and
L2-normalised -> 768-D. Training-free; kept as the baseline that the learned pipeline must beat.
"""

from __future__ import annotations

import cv2
import numpy as np

STRIPES = 6
BINS = (8, 4, 4)


def histogram_descriptor(rgb: np.ndarray) -> np.ndarray:
    """One (H, W, 3) RGB uint8 crop -> 768-D L2-normalised stripe HSV histogram."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    h, s, v = (hsv[..., 0].astype(np.int64) * BINS[0] // 180, hsv[..., 1].astype(np.int64) * BINS[1] // 256,
               hsv[..., 2].astype(np.int64) * BINS[2] // 256)
    code = (h * BINS[1] + s) * BINS[2] + v
    n_bins = BINS[0] * BINS[1] * BINS[2]
    rows = np.array_split(np.arange(rgb.shape[0]), STRIPES)
    feats = [np.bincount(code[r].ravel(), minlength=n_bins).astype(np.float64) for r in rows]
    f = np.sqrt(np.concatenate([x / max(x.sum(), 1.0) for x in feats]))
    return (f / max(np.linalg.norm(f), 1e-12)).astype(np.float32)


def histogram_features(images: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) RGB uint8 -> (N, 768) descriptors."""
    return np.stack([histogram_descriptor(im) for im in images]) if len(images) else np.zeros((0, 768), np.float32)
