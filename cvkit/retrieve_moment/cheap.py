"""Cheap per-frame features (no learned weights): a 4x4 grid of mean RGB, a saturation-weighted hue histogram
and the share of vivid pixels, each with its change over the last second. They carry colour, position, size and
motion direction, which is what the Synth-STA events are made of; the shipped small VLANet reads them."""

from __future__ import annotations

import cv2
import numpy as np

CHEAP_DIM = 110
HUE_BINS = 6


def frame_descriptor(frames_bgr: np.ndarray) -> np.ndarray:
    """(T, H, W, 3) uint8 BGR -> (T, 55) static descriptors."""
    out = np.empty((len(frames_bgr), 55), np.float32)
    for i, f in enumerate(frames_bgr):
        small = cv2.resize(f, (32, 32), interpolation=cv2.INTER_AREA)
        rgb = small[..., ::-1].astype(np.float32) / 255.0
        out[i, :48] = rgb.reshape(4, 8, 4, 8, 3).mean((1, 3)).reshape(-1)
        hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
        vivid = ((hsv[..., 1] > 100) & (hsv[..., 2] > 80)).astype(np.float32)
        hist = np.bincount((hsv[..., 0].astype(np.int64) * HUE_BINS // 180).reshape(-1),
                           weights=vivid.reshape(-1), minlength=HUE_BINS)[:HUE_BINS]
        out[i, 48:54] = hist / vivid.size * 8.0
        out[i, 54] = vivid.mean() * 8.0
    return out


def cheap_features(frames_bgr: np.ndarray, rate: float) -> np.ndarray:
    """(T, H, W, 3) frames sampled at `rate` per second -> (T, 110): descriptor and its 1-second change (x3)."""
    d = frame_descriptor(frames_bgr)
    lag = max(int(round(rate)), 1)
    prev = np.concatenate([np.repeat(d[:1], lag, 0), d[:-lag]])[: len(d)]
    return np.concatenate([d, 3.0 * (d - prev)], 1).astype(np.float32)
