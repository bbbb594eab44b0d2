"""Procedural street-scene benchmark (spec section 5): clear source, foggy target with the Foggy Cityscapes model.

Each scene is a perspective street with a per-pixel metric depth map: sky (infinitely far), buildings 50-150 m
away, a ground plane whose depth is f * h_cam / (y - y_horizon), and objects of K = 4 classes (car, person,
traffic sign, truck) at 4-25 m drawn at physically consistent pixel size, far to near so nearer objects occlude
(each box is the tight box of the object's visible pixels; mostly hidden objects are dropped). The target domain
renders the same scenes through fog: t = exp(-beta d), I = J t + A (1 - t) (Sakaridis et al. 2018), beta in
[0.02, 0.05] 1/m, atmospheric light A in [0.75, 0.9], plus sensor noise in both domains. Scene `i` of a split is
a pure function of (split seed, i), so train / target-train / target-test never share scenes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CLASSES = ("car", "person", "sign", "truck")
# (width m, height m) of each class
SIZES = {"car": (1.8, 1.5), "person": (0.6, 1.75), "sign": (0.7, 2.6), "truck": (2.5, 3.3)}
SPLIT_SEEDS = {"source-train": 11, "source-test": 12, "target-train": 21, "target-test": 22}


@dataclass
class Scene:
    """One rendered image (H x W x 3 float in [0, 1]), its depth (m), boxes (x1, y1, x2, y2) and labels."""

    image: np.ndarray
    depth: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray


def _rect(canvas: np.ndarray, ids: np.ndarray, depth: np.ndarray, x1: float, y1: float, x2: float, y2: float,
          colour, oid: int, d: float) -> None:
    h, w = ids.shape
    a, b = int(np.clip(np.floor(y1), 0, h)), int(np.clip(np.ceil(y2), 0, h))
    c, e = int(np.clip(np.floor(x1), 0, w)), int(np.clip(np.ceil(x2), 0, w))
    if a < b and c < e:
        canvas[a:b, c:e] = colour
        ids[a:b, c:e] = oid
        depth[a:b, c:e] = d


def _disc(canvas: np.ndarray, ids: np.ndarray, depth: np.ndarray, cx: float, cy: float, r: float,
          colour, oid: int, d: float) -> None:
    h, w = ids.shape
    yy, xx = np.ogrid[:h, :w]
    m = (yy + 0.5 - cy) ** 2 + (xx + 0.5 - cx) ** 2 <= max(r, 0.5) ** 2
    canvas[m] = colour
    ids[m] = oid
    depth[m] = d


def _draw(kind: str, rng: np.random.Generator, canvas, ids, depth, cx: float, base: float, f: float, d: float,
          oid: int) -> None:
    """Draw one object standing on the ground at (cx, base) pixels, depth d."""
    wm, hm = SIZES[kind]
    wm *= rng.uniform(0.9, 1.15)
    hm *= rng.uniform(0.9, 1.1)
    w, h = f * wm / d, f * hm / d
    x1, x2, top = cx - w / 2, cx + w / 2, base - h
    args = (canvas, ids, depth)
    if kind == "car":
        body = rng.uniform(0.1, 0.9, 3)
        _rect(*args, x1, top + 0.35 * h, x2, base - 0.12 * h, body, oid, d)
        _rect(*args, x1 + 0.18 * w, top, x2 - 0.18 * w, top + 0.38 * h, body * 0.8, oid, d)
        _rect(*args, x1 + 0.25 * w, top + 0.06 * h, x2 - 0.25 * w, top + 0.33 * h, (0.55, 0.7, 0.85), oid, d)
        for wx in (x1 + 0.22 * w, x2 - 0.22 * w):
            _disc(*args, wx, base - 0.13 * h, 0.14 * h, (0.05, 0.05, 0.05), oid, d)
    elif kind == "truck":
        cab = rng.uniform(0.2, 0.9, 3)
        box = rng.uniform(0.5, 0.95, 3)
        _rect(*args, x1, top, x1 + 0.68 * w, base - 0.15 * h, box, oid, d)
        _rect(*args, x1 + 0.68 * w, top + 0.35 * h, x2, base - 0.15 * h, cab, oid, d)
        _rect(*args, x1 + 0.74 * w, top + 0.4 * h, x2 - 0.04 * w, top + 0.55 * h, (0.5, 0.65, 0.8), oid, d)
        for wx in (x1 + 0.18 * w, x1 + 0.5 * w, x2 - 0.15 * w):
            _disc(*args, wx, base - 0.12 * h, 0.12 * h, (0.05, 0.05, 0.05), oid, d)
    elif kind == "person":
        shirt, trousers = rng.uniform(0.05, 0.95, 3), rng.uniform(0.05, 0.5, 3)
        _rect(*args, x1 + 0.1 * w, top + 0.52 * h, cx - 0.04 * w, base, trousers, oid, d)
        _rect(*args, cx + 0.04 * w, top + 0.52 * h, x2 - 0.1 * w, base, trousers, oid, d)
        _rect(*args, x1, top + 0.16 * h, x2, top + 0.54 * h, shirt, oid, d)
        _disc(*args, cx, top + 0.08 * h, 0.085 * h, (0.85, 0.65, 0.5), oid, d)
    else:  # sign: pole + coloured panel (round red or square blue)
        _rect(*args, cx - 0.06 * w, top + 0.3 * h, cx + 0.06 * w, base, (0.45, 0.45, 0.45), oid, d)
        if rng.random() < 0.5:
            _disc(*args, cx, top + w / 2, w / 2, (0.85, 0.1, 0.1), oid, d)
            _disc(*args, cx, top + w / 2, w * 0.35, (0.95, 0.95, 0.95), oid, d)
        else:
            _rect(*args, x1, top, x2, top + w, (0.1, 0.3, 0.8), oid, d)


def render_scene(rng: np.random.Generator, size: int = 128, max_objects: int = 6) -> Scene:
    """A clear street scene with its depth map and the visible boxes of its objects."""
    h = w = size
    f = size * rng.uniform(0.85, 1.05)
    h_cam = rng.uniform(1.3, 1.7)
    yh = size * rng.uniform(0.38, 0.48)
    img = np.zeros((h, w, 3))
    depth = np.full((h, w), 1e4)
    ids = np.zeros((h, w), np.int32)
    top = rng.uniform(0.45, 0.75, 3)
    ramp = np.linspace(0, 1, h)[:, None, None]
    img[:] = top * (1 - 0.3 * ramp) + 0.2 * ramp
    ys = np.arange(h) + 0.5
    ground = ys > yh
    g_depth = f * h_cam / np.maximum(ys - yh, 1e-3)
    depth[ground] = g_depth[ground][:, None]
    road = rng.uniform(0.2, 0.45) * np.ones(3) + rng.normal(0, 0.02, 3)
    img[ground] = road
    img[ground] += rng.normal(0, 0.015, (int(ground.sum()), w, 3))
    cx0 = w / 2 + rng.uniform(-0.15, 0.15) * w
    for i, y in enumerate(ys):  # lane markings, curbs
        if y > yh:
            span = (y - yh) * rng.uniform(1.2, 1.25) if i == 0 else (y - yh) * 1.2
            for side in (-1, 1):
                xe = int(cx0 + side * span)
                if 0 <= xe < w:
                    img[i, max(xe - 1, 0):xe + 1] = 0.8
            if (int(g_depth[i] / 2) % 2) == 0:
                xm = int(cx0)
                img[i, max(xm - 1, 0):xm + 1] = (0.9, 0.85, 0.4)
    for _ in range(rng.integers(3, 8)):  # buildings 50-150 m
        d = rng.uniform(50, 150)
        bw, bh = f * rng.uniform(8, 30) / d, f * rng.uniform(8, 40) / d
        bx = rng.uniform(-0.1, 1.0) * w
        base = yh + f * h_cam / d
        col = rng.uniform(0.25, 0.8, 3)
        a, b = int(max(base - bh, 0)), int(min(base, h))
        c, e = int(max(bx, 0)), int(min(bx + bw, w))
        if a < b and c < e:
            far = depth[a:b, c:e] > d
            img[a:b, c:e][far] = col
            depth[a:b, c:e][far] = d
            for wy in range(a + 2, b - 1, 4):
                row = img[wy, c:e]
                row[::3] = col * 0.5
    n = int(rng.integers(1, max_objects + 1))
    objs = []
    for _ in range(n):
        kind = CLASSES[int(rng.choice(4, p=[0.4, 0.3, 0.15, 0.15]))]
        d = float(np.exp(rng.uniform(np.log(4), np.log(25))))  # more near objects than uniform
        base = yh + f * h_cam / d
        cx = rng.uniform(0.05, 0.95) * w
        objs.append((d, kind, cx, base))
    objs.sort(key=lambda o: -o[0])
    full_area = {}
    for k, (d, kind, cx, base) in enumerate(objs, 1):
        before = ids.copy()
        _draw(kind, rng, img, ids, depth, cx, base, f, d, k)
        full_area[k] = int(((ids == k) & (before != k)).sum())
    boxes, labels = [], []
    for k, (_d, kind, _cx, _base) in enumerate(objs, 1):
        m = ids == k
        if m.sum() < 12 or m.sum() < 0.35 * max(full_area[k], 1):
            continue
        yy, xx = np.nonzero(m)
        boxes.append([xx.min(), yy.min(), xx.max() + 1, yy.max() + 1])
        labels.append(CLASSES.index(kind))
    img = np.clip(img, 0, 1)
    return Scene(img.astype(np.float32), depth.astype(np.float32), np.asarray(boxes, np.float32).reshape(-1, 4),
                 np.asarray(labels, np.int64))


def add_fog(image: np.ndarray, depth: np.ndarray, beta: float, airlight: float) -> np.ndarray:
    """Foggy Cityscapes optical model: I = J t + A (1 - t), t = exp(-beta * depth)."""
    t = np.exp(-beta * depth)[..., None]
    return (image * t + airlight * (1 - t)).astype(np.float32)


def sample(split: str, index: int, size: int = 128) -> Scene:
    """Scene `index` of a split: source-* are clear, target-* are foggy (beta 0.02-0.05, A 0.75-0.9)."""
    rng = np.random.default_rng([SPLIT_SEEDS[split], index])
    scene = render_scene(rng, size)
    if split.startswith("target"):
        scene.image = add_fog(scene.image, scene.depth, rng.uniform(0.02, 0.05), rng.uniform(0.75, 0.9))
    scene.image = np.clip(scene.image + rng.normal(0, 0.01, scene.image.shape), 0, 1).astype(np.float32)
    return scene


def batch(split: str, indices, size: int = 128) -> list[Scene]:
    """Several scenes of one split."""
    return [sample(split, int(i), size) for i in indices]
