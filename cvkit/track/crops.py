"""SiamFC crop geometry: context-padded square windows around the target, filled with the mean colour."""

from __future__ import annotations

import math

import cv2
import numpy as np

CONTEXT = 0.5


def template_side(w: float, h: float, context: float = CONTEXT) -> float:
    """Side of the square template window: sqrt((w+p)(h+p)), p = context*(w+h)."""
    p = context * (w + h)
    return math.sqrt((w + p) * (h + p))


def crop_square(
    frame: np.ndarray, cx: float, cy: float, side: float, out: int, fill: tuple[float, float, float]
) -> np.ndarray:
    """Square window of `side` pixels centred on (cx, cy), resized to `out` x `out`; outside -> fill."""
    scale = out / side
    # map source pixel centre u -> (u - c) * scale + (out - 1) / 2
    m = np.array(
        [[scale, 0.0, (out - 1) / 2 - cx * scale], [0.0, scale, (out - 1) / 2 - cy * scale]], dtype=np.float64
    )
    return cv2.warpAffine(
        frame, m, (out, out), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=fill
    )


def crop_pyramid(
    frame: np.ndarray, cx: float, cy: float, sides: list[float], out: int, fill: tuple[float, float, float]
) -> np.ndarray:
    """Stack of square crops (S, out, out, 3), one per side length."""
    return np.stack([crop_square(frame, cx, cy, s, out, fill) for s in sides])


def mean_colour(frame: np.ndarray) -> tuple[float, float, float]:
    """Per-channel mean of a frame (SiamFC's padding colour)."""
    m = frame.reshape(-1, frame.shape[-1]).mean(0)
    return tuple(float(v) for v in m)


def hann_window(n: int) -> np.ndarray:
    """Normalised 2-D cosine (Hann) window of size n x n."""
    h = np.hanning(n)
    w = np.outer(h, h)
    return w / w.sum()


def clamp_box(cx: float, cy: float, w: float, h: float, width: int, height: int,
              min_side: float = 10.0) -> tuple[float, ...]:
    """Keep the centre inside the frame and the size within [min_side (10 px), frame size]."""
    cx = min(max(cx, 0.0), width - 1.0)
    cy = min(max(cy, 0.0), height - 1.0)
    w = min(max(w, min(min_side, width)), float(width))
    h = min(max(h, min(min_side, height)), float(height))
    if not all(math.isfinite(v) for v in (cx, cy, w, h)):
        raise FloatingPointError("non-finite box")
    return cx, cy, w, h
