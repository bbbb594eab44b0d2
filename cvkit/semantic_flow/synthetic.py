"""Synthetic training/validation pairs (the paper's first training stage, S Sec. 1): an image and its random
global affine (translation ~ N(0, 0.15) clipped to +-0.15 of the image, rotation +-10 deg, scale [0.8, 1.2])
plus local TPS warp (3 x 3 regular control grid jittered +-0.1), with exact dense ground-truth flow.

The warped image is the *source* and the original the *target*: source pixel p shows the image at B(p), so the
true source -> target flow is B(p) - p everywhere (no inversion needed).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def package_images(min_side: int = 200) -> list[Path]:
    """Colour images bundled with scikit-image and scikit-learn (offline training/validation pool)."""
    import skimage
    import sklearn

    roots = [Path(skimage.__file__).parent / "data", Path(sklearn.__file__).parent / "datasets" / "images"]
    out = []
    for root in roots:
        for p in sorted(root.glob("*")):
            if p.suffix.lower() not in (".png", ".jpg", ".jpeg"):
                continue
            img = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
            if img is not None and img.ndim == 3 and min(img.shape[:2]) >= min_side and img.std() > 10:
                out.append(p)
    return out


def split_images(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """Deterministic train/validation split by file name (every 4th name, sorted, goes to validation)."""
    paths = sorted(paths, key=lambda p: p.name)
    val = paths[1::4]
    return [p for p in paths if p not in val], val


def _tps_solve(ctrl: np.ndarray, values: np.ndarray) -> np.ndarray:
    n = len(ctrl)
    d = np.linalg.norm(ctrl[:, None] - ctrl[None], axis=2)
    k = np.where(d > 0, d * d * np.log(d + 1e-12), 0.0)
    p = np.c_[np.ones(n), ctrl]
    a = np.zeros((n + 3, n + 3))
    a[:n, :n], a[:n, n:], a[n:, :n] = k, p, p.T
    return np.linalg.solve(a, np.r_[values, np.zeros((3, values.shape[1]))])


def _tps_eval(ctrl: np.ndarray, coef: np.ndarray, pts: np.ndarray) -> np.ndarray:
    d = np.linalg.norm(pts[:, None] - ctrl[None], axis=2)
    k = np.where(d > 0, d * d * np.log(d + 1e-12), 0.0)
    return k @ coef[:len(ctrl)] + np.c_[np.ones(len(pts)), pts] @ coef[len(ctrl):]


def random_warp(rng: np.random.Generator, size: int, translation: float = 0.15, rotation: float = 10.0,
                scale: tuple[float, float] = (0.8, 1.2), tps: float = 0.1) -> np.ndarray:
    """Backward map B (size, size, 2) in pixels: source pixel -> image (target) pixel."""
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    pts = np.stack([xs.ravel(), ys.ravel()], 1) / (size - 1) * 2 - 1           # [-1, 1]
    ang = np.deg2rad(rng.uniform(-rotation, rotation))
    s = rng.uniform(*scale)
    t = np.clip(rng.normal(0, translation, 2), -translation, translation) * 2  # normalised size 1 -> 2 units
    rot = s * np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    mapped = pts @ rot.T + t
    g = np.linspace(-1, 1, 3)
    ctrl = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    jitter = rng.uniform(-tps, tps, ctrl.shape) * 2
    mapped = mapped + _tps_eval(ctrl, _tps_solve(ctrl, jitter), pts)
    return ((mapped + 1) / 2 * (size - 1)).reshape(size, size, 2)


def synthetic_pair(image: np.ndarray, rng: np.random.Generator, size: int = 320) -> tuple[np.ndarray, np.ndarray,
                                                                                          np.ndarray]:
    """(source, target, flow): target = a random square crop of `image` resized to size; source = its warp;
    flow (size, size, 2) the exact source -> target displacement in pixels."""
    h, w = image.shape[:2]
    side = int(min(h, w) * rng.uniform(0.7, 1.0))
    y0, x0 = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
    tgt = cv2.resize(image[y0:y0 + side, x0:x0 + side], (size, size), interpolation=cv2.INTER_AREA)
    bmap = random_warp(rng, size).astype(np.float32)
    src = cv2.remap(tgt, bmap[..., 0], bmap[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    flow = bmap - np.stack([xs, ys], -1)
    return src, tgt, flow
