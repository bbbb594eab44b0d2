"""Synthetic tracking clips with exact boxes (training pairs drawn from them: `pairs.py`).

Everything here is generated from data bundled inside installed packages (scikit-image's `skimage.data`
images that ship in its wheel, scikit-learn's `load_digits`); nothing is downloaded. Clips are a pure
function of `(kind, seed, n_frames, size)`: all motion/photometric parameters are drawn up front from
`np.random.default_rng(seed)`, and frame t is rendered on demand (`SyntheticClip.render(t)`), so a pair
sampler renders only the two frames it needs.

Kinds (our choices, written down because the SE-SiamFC main paper's generator
was not available):
* `digits-t` / `digits-s` (T-MNIST / S-MNIST analogue): 5 sklearn digits (8x8, 0..16) upsampled to a
  28-56 px side on a black canvas (default 255x255), white ink, max-composited; digit 0 is the target.
  Linear motion at 1-4 px/frame, reflected at the canvas borders. `digits-s` adds scaling: each digit gets
  one per-frame factor f ~ U(0.95, 1.05) for the clip (size_t = size_0 * f^t), inverted (f -> 1/f) when the
  side would leave [24, 100] px. 32 frames by default. The box is the bounding box of the target's ink
  (rendered intensity > 0.3 of full scale), so it is exact for the pixels that are drawn.
* `sprites`: an object cut from a bundled image (shape-masked crop, horse silhouette filled with a texture,
  or an upscaled LFW face) pasted with a hard mask on a background made of another bundled image (slowly
  panning) or a procedural texture; smooth trajectories (drift + sinusoid, folded into the frame), scale
  change up to x1.5 per 50 frames, aspect jitter, in-plane rotation up to 15 degrees, brightness/contrast,
  blur and sensor noise per frame, occluders drawn above the target and 1-3 same-looking distractors
  (copies of the target sprite, colour/scale jittered) drawn below it; all counts and ranges live in
  `SpriteConfig`. The box is the bounding box of the target's warped mask (occluded parts included, as in
  benchmark ground truth), x,y,w,h in 0-based pixels (a box covers pixels x..x+w-1).

`size` is (width, height) everywhere (OpenCV convention), frames are BGR uint8.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import cv2
import numpy as np

KINDS = ("digits-t", "digits-s", "sprites", "distractors")
DEFAULT_FRAMES = {"digits-t": 32, "digits-s": 32, "sprites": 100, "distractors": 80}
DEFAULT_SIZE = {"digits-t": (255, 255), "digits-s": (255, 255), "sprites": (320, 240), "distractors": (320, 240)}
# Training clips use seeds below HELDOUT_SEED_BASE; held-out evaluation clips use seeds from it upwards.
HELDOUT_SEED_BASE = 1_000_000_000

_COLOUR_IMAGES = (
    "astronaut", "chelsea", "coffee", "rocket", "cat", "immunohistochemistry", "hubble_deep_field",
    "colorwheel", "retina", "stereo_motorcycle",
)
_SPRITE_IMAGES = ("astronaut", "chelsea", "coffee", "rocket", "cat", "immunohistochemistry", "stereo_motorcycle")
_GREY_IMAGES = ("camera", "coins", "moon", "clock", "page", "text", "brick", "grass", "gravel", "cell")


def canonical_kind(kind: str) -> str:
    """Normalise a clip kind name (`digits` means `digits-s`); ValueError for unknown kinds."""
    k = kind.lower().strip()
    k = {"digits": "digits-s", "t-mnist": "digits-t", "s-mnist": "digits-s", "sprite": "sprites",
         "distractor": "distractors"}.get(k, k)
    if k not in KINDS:
        raise ValueError(f"unknown synthetic clip kind {kind!r}; one of {', '.join(KINDS)}")
    return k


# --------------------------------------------------------------------------------------------------------
# bundled sources


@cache
def _digits() -> np.ndarray:
    """sklearn's 1797 bundled 8x8 digits as float32 in [0, 1]."""
    from sklearn.datasets import load_digits

    return (load_digits().images / 16.0).astype(np.float32)


@cache
def _digit_hires(index: int) -> np.ndarray:
    """Digit `index` upsampled to 64x64 (bicubic, clipped to [0, 1]); the source of every pasted digit."""
    return np.clip(cv2.resize(_digits()[index], (64, 64), interpolation=cv2.INTER_CUBIC), 0.0, 1.0)


@cache
def _bundled_image(name: str) -> np.ndarray:
    """A skimage.data image shipped inside the wheel, as BGR uint8 with its longer side at most 512 px."""
    from skimage import data as skdata

    img = getattr(skdata, name)()
    if isinstance(img, tuple):  # stereo_motorcycle -> (left, right, disparity)
        img = img[0]
    img = np.asarray(img)
    if img.dtype != np.uint8:
        img = (np.clip(img, 0, 1) * 255).astype(np.uint8) if img.dtype.kind == "f" else img.astype(np.uint8)
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    else:
        img = cv2.cvtColor(img[..., :3], cv2.COLOR_RGB2BGR)
    s = 512 / max(img.shape[:2])
    if s < 1:
        img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(img)


@cache
def _horse_mask() -> np.ndarray:
    """scikit-image's horse silhouette (True = horse), cropped to its bounding box."""
    from skimage import data as skdata

    m = ~np.asarray(skdata.horse(), dtype=bool)
    ys, xs = np.nonzero(m)
    return m[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


@cache
def _faces() -> np.ndarray:
    """The 200 bundled 25x25 LFW faces as uint8."""
    from skimage import data as skdata

    return (np.asarray(skdata.lfw_subset()) * 255).astype(np.uint8)


# --------------------------------------------------------------------------------------------------------
# clips


class SyntheticClip:
    """A synthetic clip: exact target boxes for every frame and on-demand rendering of frame t."""

    kind: str
    seed: int
    n_frames: int
    size: tuple[int, int]

    def box(self, t: int) -> np.ndarray:  # pragma: no cover - interface
        """Exact x,y,w,h of the target in frame t (the bounding box of `target_mask(t)`)."""
        raise NotImplementedError

    def visible_fraction(self, t: int) -> float:
        """Fraction of the target's pixels not covered by occluders in frame t."""
        return 1.0

    @property
    def boxes(self) -> np.ndarray:
        """(N, 4) x,y,w,h boxes of all frames (computed on first use, then cached)."""
        if getattr(self, "_all_boxes", None) is None:
            self._all_boxes = np.stack([self.box(t) for t in range(self.n_frames)])
        return self._all_boxes

    @property
    def visible(self) -> np.ndarray:
        """(N,) visible fraction of the target in every frame."""
        return np.array([self.visible_fraction(t) for t in range(self.n_frames)])

    def render(self, t: int) -> np.ndarray:  # pragma: no cover - interface
        """Frame t as BGR uint8 (H, W, 3)."""
        raise NotImplementedError

    def target_mask(self, t: int) -> np.ndarray:  # pragma: no cover - interface
        """Boolean (H, W) mask of the target's pixels in frame t (before occluders); its bbox is the box."""
        raise NotImplementedError

    def frames(self) -> list[np.ndarray]:
        """All frames, rendered in order."""
        return [self.render(t) for t in range(self.n_frames)]


def _mask_box(mask: np.ndarray, x0: int = 0, y0: int = 0) -> np.ndarray:
    """x,y,w,h of the True pixels of `mask` (offset by x0, y0); NaN when empty."""
    ys = np.flatnonzero(mask.any(1))
    xs = np.flatnonzero(mask.any(0))
    if ys.size == 0:
        return np.full(4, np.nan)
    return np.array([x0 + xs[0], y0 + ys[0], xs[-1] - xs[0] + 1, ys[-1] - ys[0] + 1], dtype=np.float64)


@dataclass(frozen=True)
class DigitsConfig:
    """Parameters of the T/S-MNIST-like generator (see the module docstring)."""

    n_digits: int = 5
    side: tuple[float, float] = (28.0, 56.0)
    speed: tuple[float, float] = (1.0, 4.0)
    scale_factor: tuple[float, float] = (0.95, 1.05)
    side_limits: tuple[float, float] = (24.0, 100.0)
    ink_threshold: float = 0.3


class DigitsClip(SyntheticClip):
    """Moving (and, for `digits-s`, scaling) sklearn digits on a black canvas; digit 0 is the target."""

    def __init__(
        self, seed: int, n_frames: int = 32, size: tuple[int, int] = (255, 255), scaling: bool = True,
        config: DigitsConfig | None = None,
    ) -> None:
        cfg = config or DigitsConfig()
        self.kind = "digits-s" if scaling else "digits-t"
        self.seed, self.n_frames, self.size, self.cfg = int(seed), int(n_frames), (int(size[0]), int(size[1])), cfg
        rng = np.random.default_rng([0xD161, self.seed])
        W, H = self.size
        n = cfg.n_digits
        self.index = rng.integers(0, len(_digits()), n)
        sides = np.empty((n_frames, n))
        centres = np.empty((n_frames, n, 2))
        s = rng.uniform(*cfg.side, n)
        f = rng.uniform(*cfg.scale_factor, n) if scaling else np.ones(n)
        ang = rng.uniform(0, 2 * math.pi, n)
        v = rng.uniform(*cfg.speed, n)[:, None] * np.stack([np.cos(ang), np.sin(ang)], 1)
        lo_s, hi_s = cfg.side_limits
        # keep the (maximal) digit inside the canvas
        hi_s = min(hi_s, 0.8 * min(W, H))
        s = np.minimum(s, hi_s)
        c = np.stack([rng.uniform(s / 2 + 1, W - 2 - s / 2), rng.uniform(s / 2 + 1, H - 2 - s / 2)], 1)
        for t in range(n_frames):
            if t > 0:
                nxt = s * f
                flip = (nxt > hi_s) | (nxt < lo_s)
                f = np.where(flip, 1.0 / f, f)
                s = np.clip(s * f, lo_s, hi_s)
                c = c + v
                for axis, lim in ((0, W), (1, H)):
                    lo, hi = s / 2 + 1, lim - 2 - s / 2
                    below, above = c[:, axis] < lo, c[:, axis] > hi
                    c[:, axis] = np.where(below, 2 * lo - c[:, axis], np.where(above, 2 * hi - c[:, axis], c[:, axis]))
                    v[:, axis] = np.where(below | above, -v[:, axis], v[:, axis])
                    c[:, axis] = np.clip(c[:, axis], lo, hi)
            sides[t], centres[t] = s, c
        self.sides, self.centres = sides, centres

    def box(self, t: int) -> np.ndarray:
        """Bounding box of the target digit's ink in frame t."""
        return _mask_box(*self._layer(t, 0, mask=True))

    def _layer(self, t: int, d: int, mask: bool = False) -> tuple[np.ndarray, int, int]:
        """Digit d of frame t rendered into its own ROI: (intensity or ink mask, x0, y0)."""
        W, H = self.size
        s, (cx, cy) = self.sides[t, d], self.centres[t, d]
        k = s / 64.0
        x0, y0 = max(int(math.floor(cx - s / 2)) - 2, 0), max(int(math.floor(cy - s / 2)) - 2, 0)
        x1, y1 = min(int(math.ceil(cx + s / 2)) + 3, W), min(int(math.ceil(cy + s / 2)) + 3, H)
        m = np.array([[k, 0, cx - 31.5 * k - x0], [0, k, cy - 31.5 * k - y0]])
        layer = cv2.warpAffine(_digit_hires(int(self.index[d])), m, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR)
        return (layer > self.cfg.ink_threshold if mask else layer), x0, y0

    def render(self, t: int) -> np.ndarray:
        """Frame t: white digits (max-composited) on black, BGR uint8."""
        W, H = self.size
        canvas = np.zeros((H, W), np.float32)
        for d in range(self.cfg.n_digits):
            layer, x0, y0 = self._layer(t, d)
            roi = canvas[y0 : y0 + layer.shape[0], x0 : x0 + layer.shape[1]]
            np.maximum(roi, layer, out=roi)
        return cv2.cvtColor((canvas * 255 + 0.5).astype(np.uint8), cv2.COLOR_GRAY2BGR)

    def target_mask(self, t: int) -> np.ndarray:
        """Ink mask of the target digit in frame t."""
        W, H = self.size
        m, x0, y0 = self._layer(t, 0, mask=True)
        out = np.zeros((H, W), bool)
        out[y0 : y0 + m.shape[0], x0 : x0 + m.shape[1]] = m
        return out


@dataclass(frozen=True)
class SpriteConfig:
    """Parameters of the sprites generator; ranges are (low, high), counts inclusive."""

    n_distractors: tuple[int, int] = (1, 3)
    n_occluders: tuple[int, int] = (0, 2)
    target_side: tuple[float, float] = (0.15, 0.35)  # longest side, as a fraction of min(W, H)
    speed: tuple[float, float] = (0.5, 3.0)  # px/frame at a 320 px wide frame (scaled with the frame)
    wobble: tuple[float, float] = (0.0, 20.0)  # sinusoid amplitude in px at 320 px
    scale_per_50: float = 1.5  # maximal drift of the scale over 50 frames
    scale_limits: tuple[float, float] = (0.6, 1.8)
    aspect_jitter: float = 0.15  # max |log aspect change|
    rotation_deg: float = 15.0
    brightness: float = 0.15  # max |log gain|
    bias: float = 12.0  # max |brightness offset| in grey levels
    blur_prob: float = 0.3
    noise_sigma: tuple[float, float] = (0.0, 4.0)
    occluder_side: tuple[float, float] = (0.3, 0.8)  # relative to the target's longest side
    distractor_scale: tuple[float, float] = (0.85, 1.15)
    distractor_colour: float = 0.1  # max relative per-channel colour change of a distractor
    distractors_above: bool = False
    background_pan: float = 0.3  # maximal pan over the clip, as a fraction of the frame width


def _star_polygon(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A random star-shaped polygon filling most of a w x h box."""
    n = int(rng.integers(5, 10))
    ang = np.sort(rng.uniform(0, 2 * math.pi, n))
    rad = rng.uniform(0.6, 1.0, n)
    pts = np.stack([(w - 1) / 2 * (1 + rad * np.cos(ang)), (h - 1) / 2 * (1 + rad * np.sin(ang))], 1)
    return np.round(pts).astype(np.int32)


def _shape_mask(rng: np.random.Generator, w: int, h: int, shapes: Sequence[str]) -> np.ndarray:
    """A random filled shape (rect, ellipse, rounded rect or star polygon) in a w x h box."""
    shape = shapes[int(rng.integers(len(shapes)))]
    m = np.zeros((h, w), np.uint8)
    if shape == "rect":
        m[:] = 1
    elif shape == "ellipse":
        cv2.ellipse(m, (((w - 1) / 2, (h - 1) / 2), (w, h), 0), 1, -1)
    elif shape == "rounded":
        r = int(min(w, h) * rng.uniform(0.15, 0.35))
        cv2.rectangle(m, (r, 0), (w - 1 - r, h - 1), 1, -1)
        cv2.rectangle(m, (0, r), (w - 1, h - 1 - r), 1, -1)
        for cx, cy in ((r, r), (w - 1 - r, r), (r, h - 1 - r), (w - 1 - r, h - 1 - r)):
            cv2.circle(m, (cx, cy), r, 1, -1)
    else:
        cv2.fillPoly(m, [_star_polygon(rng, w, h)], 1)
    return m.astype(bool)


def _random_crop(rng: np.random.Generator, img: np.ndarray, w: int, h: int) -> np.ndarray:
    """A w x h crop of `img` at a random place (the image is upscaled first when too small)."""
    ih, iw = img.shape[:2]
    s = max(w / iw, h / ih, 1.0)
    if s > 1:
        img = cv2.resize(img, (int(math.ceil(iw * s)) + 1, int(math.ceil(ih * s)) + 1), interpolation=cv2.INTER_LINEAR)
        ih, iw = img.shape[:2]
    x = int(rng.integers(0, iw - w + 1))
    y = int(rng.integers(0, ih - h + 1))
    return img[y : y + h, x : x + w].copy()


def _tight(patch: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Crop a sprite and its mask to the mask's bounding box."""
    ys, xs = np.nonzero(mask)
    sl = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
    return np.ascontiguousarray(patch[sl]), np.ascontiguousarray(mask[sl])


def _texture_score(img: np.ndarray) -> float:
    """Mean gradient magnitude plus colour spread: how much structure a patch has."""
    g = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32)
    gx, gy = cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1)
    return float(np.sqrt(gx * gx + gy * gy).mean() + img.reshape(-1, 3).std(0).mean())


def _make_sprite(rng: np.random.Generator, side: float) -> tuple[np.ndarray, np.ndarray]:
    """A target sprite (BGR patch, boolean mask) whose longest side is about `side` px."""
    kind = rng.choice(["cutout", "horse", "face"], p=[0.7, 0.15, 0.15])
    aspect = math.exp(rng.uniform(-0.5, 0.5))
    if kind == "horse":
        m = _horse_mask()
        k = side / max(m.shape)
        m = cv2.resize(m.astype(np.uint8), (max(int(m.shape[1] * k), 8), max(int(m.shape[0] * k), 8)),
                       interpolation=cv2.INTER_NEAREST).astype(bool)
        src = _bundled_image(_SPRITE_IMAGES[int(rng.integers(len(_SPRITE_IMAGES)))])
        patch = max((_random_crop(rng, src, m.shape[1], m.shape[0]) for _ in range(4)), key=_texture_score)
    elif kind == "face":
        face = _faces()[int(rng.integers(len(_faces())))]
        h = int(side)
        w = max(int(side * rng.uniform(0.75, 0.9)), 8)
        grey = cv2.resize(face, (w, h), interpolation=cv2.INTER_CUBIC)
        tint = rng.uniform(0.6, 1.0, 3)
        patch = np.clip(grey[..., None].astype(np.float32) * tint, 0, 255).astype(np.uint8)
        m = _shape_mask(rng, w, h, ("ellipse",))
    else:
        w, h = (side, side / aspect) if aspect > 1 else (side * aspect, side)
        w, h = max(int(w), 8), max(int(h), 8)
        names = _SPRITE_IMAGES if rng.random() < 0.8 else _GREY_IMAGES
        src = _bundled_image(names[int(rng.integers(len(names)))])
        # a region of the source at 0.7-2.5x the sprite size: the most textured of 6 candidates, so that
        # targets have structure to match (flat patches are not trackable objects)
        k = rng.uniform(0.7, 2.5)
        rw, rh = min(max(int(w * k), 8), src.shape[1]), min(max(int(h * k), 8), src.shape[0])
        cands = [_random_crop(rng, src, rw, rh) for _ in range(6)]
        region = max(cands, key=_texture_score)
        patch = cv2.resize(region, (w, h), interpolation=cv2.INTER_AREA)
        m = _shape_mask(rng, w, h, ("rect", "ellipse", "rounded", "star"))
    return _tight(patch, m)


def _smooth_noise(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """Multi-octave coloured value noise, BGR uint8."""
    acc = np.zeros((h, w, 3), np.float32)
    amp = 1.0
    for cells in (3, 7, 15, 31):
        small = rng.normal(0, 1, (cells, cells, 3)).astype(np.float32)
        acc += amp * cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
        amp *= 0.55
    acc -= acc.min()
    acc /= acc.max() + 1e-6
    base = rng.uniform(40, 200, 3)
    span = rng.uniform(40, 120, 3)
    return np.clip(base + (acc - 0.5) * 2 * span, 0, 255).astype(np.uint8)


def _stripes(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """Rotated stripes or checks in two random colours with a little noise, BGR uint8."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    th = rng.uniform(0, math.pi)
    period = rng.uniform(8, 48)
    u = np.cos(th) * xx + np.sin(th) * yy
    pat = (np.sin(2 * math.pi * u / period) > 0).astype(np.float32)
    if rng.random() < 0.5:
        v = -np.sin(th) * xx + np.cos(th) * yy
        pat = np.abs(pat - (np.sin(2 * math.pi * v / period) > 0))
    c0, c1 = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    img = c0 + pat[..., None] * (c1 - c0) + rng.normal(0, 6, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def _background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A background canvas of w x h: a bundled image, a procedural texture, or a blend of both."""
    r = rng.random()
    if r < 0.6:
        names = _COLOUR_IMAGES + _GREY_IMAGES
        src = _bundled_image(names[int(rng.integers(len(names)))])
        k = max(w / src.shape[1], h / src.shape[0]) * rng.uniform(1.0, 1.6)
        src = cv2.resize(src, (int(math.ceil(src.shape[1] * k)) + 1, int(math.ceil(src.shape[0] * k)) + 1))
        img = _random_crop(rng, src, w, h)
    elif r < 0.8:
        img = _smooth_noise(rng, w, h)
    else:
        img = _stripes(rng, w, h)
    if rng.random() < 0.3:
        other = _smooth_noise(rng, w, h) if r < 0.6 else _random_crop(rng, _bundled_image("grass"), w, h)
        img = cv2.addWeighted(img, 0.7, other, 0.3, 0)
    return img


def _smooth_path(rng: np.random.Generator, t: np.ndarray, amp: float) -> np.ndarray:
    """amp * (a smooth random function of t in [-1, 1]): a sinusoid with a random period (20-120 frames)."""
    period = rng.uniform(20, 120)
    return amp * np.sin(2 * math.pi * t / period + rng.uniform(0, 2 * math.pi))


def _fold(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Reflect a trajectory into [lo, hi] (triangle-wave folding: continuous, exact)."""
    if hi <= lo:
        return np.full_like(x, (lo + hi) / 2)
    span = hi - lo
    y = np.mod(x - lo, 2 * span)
    return lo + np.where(y > span, 2 * span - y, y)


@dataclass
class _Mover:
    """A sprite (patch + mask) and its per-frame pose: centre, scale, log-aspect, rotation (degrees)."""

    patch: np.ndarray
    mask: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    scale: np.ndarray
    log_aspect: np.ndarray
    angle: np.ndarray

    def matrix(self, t: int) -> np.ndarray:
        """2x3 affine map from patch pixels to frame pixels at frame t."""
        h, w = self.mask.shape
        a = math.exp(self.log_aspect[t] / 2)
        sx, sy = self.scale[t] * a, self.scale[t] / a
        th = math.radians(self.angle[t])
        c, s = math.cos(th), math.sin(th)
        lin = np.array([[c * sx, -s * sy], [s * sx, c * sy]])
        off = np.array([self.cx[t], self.cy[t]]) - lin @ np.array([(w - 1) / 2, (h - 1) / 2])
        return np.hstack([lin, off[:, None]])

    def warp(self, t: int, size: tuple[int, int], with_patch: bool = True):
        """The sprite warped into its ROI of the frame: (patch or None, mask, x0, y0); None if off-frame."""
        W, H = size
        m = self.matrix(t)
        h, w = self.mask.shape
        corners = np.array([[0, 0, 1], [w - 1, 0, 1], [0, h - 1, 1], [w - 1, h - 1, 1]], np.float64) @ m.T
        x0 = max(int(math.floor(corners[:, 0].min())) - 1, 0)
        y0 = max(int(math.floor(corners[:, 1].min())) - 1, 0)
        x1 = min(int(math.ceil(corners[:, 0].max())) + 2, W)
        y1 = min(int(math.ceil(corners[:, 1].max())) + 2, H)
        if x1 <= x0 or y1 <= y0:
            return None
        m = m.copy()
        m[:, 2] -= (x0, y0)
        dsize = (x1 - x0, y1 - y0)
        alpha = cv2.warpAffine(self.mask.astype(np.float32), m, dsize, flags=cv2.INTER_LINEAR) > 0.5
        patch = cv2.warpAffine(self.patch, m, dsize, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE) \
            if with_patch else None
        return patch, alpha, x0, y0


class SpritesClip(SyntheticClip):
    """A target sprite with distractors and occluders on a panning background (see the module docstring)."""

    def __init__(
        self, seed: int, n_frames: int = 100, size: tuple[int, int] = (320, 240), config: SpriteConfig | None = None
    ) -> None:
        cfg = config or SpriteConfig()
        self.kind = "sprites"
        self.seed, self.n_frames, self.size, self.cfg = int(seed), int(n_frames), (int(size[0]), int(size[1])), cfg
        rng = np.random.default_rng([0x5B17E, self.seed])
        W, H = self.size
        t = np.arange(n_frames, dtype=np.float64)
        unit = W / 320.0
        pan = cfg.background_pan * W * rng.uniform(0, 1)
        pan_dir = rng.uniform(0, 2 * math.pi)
        self.pan = np.stack([math.cos(pan_dir) * pan * t / max(n_frames - 1, 1),
                             math.sin(pan_dir) * pan * t / max(n_frames - 1, 1)], 1)
        pad = int(math.ceil(pan)) + 1
        self.background = _background(rng, W + 2 * pad, H + 2 * pad)
        self.bg_pad = pad

        side = rng.uniform(*cfg.target_side) * min(W, H)
        patch, mask = _make_sprite(rng, side)
        self.target = self._fold_into(self._mover(rng, patch, mask, t, unit, cfg))
        self.distractors = []
        for _ in range(int(rng.integers(cfg.n_distractors[0], cfg.n_distractors[1] + 1))):
            gain = 1 + rng.uniform(-cfg.distractor_colour, cfg.distractor_colour, 3)
            p = np.clip(patch.astype(np.float32) * gain, 0, 255).astype(np.uint8)
            k = rng.uniform(*cfg.distractor_scale)
            p2 = cv2.resize(p, (max(int(p.shape[1] * k), 4), max(int(p.shape[0] * k), 4)), interpolation=cv2.INTER_AREA)
            m2 = cv2.resize(mask.astype(np.uint8), (p2.shape[1], p2.shape[0]), interpolation=cv2.INTER_NEAREST) > 0
            if m2.any():
                p2, m2 = _tight(p2, m2)
                self.distractors.append(self._fold_into(self._mover(rng, p2, m2, t, unit, cfg)))
        self.occluders = []
        for _ in range(int(rng.integers(cfg.n_occluders[0], cfg.n_occluders[1] + 1))):
            s = max(patch.shape) * rng.uniform(*cfg.occluder_side)
            asp = math.exp(rng.uniform(-0.7, 0.7))
            w, h = max(int(s * min(asp, 1)), 6), max(int(s / max(asp, 1)), 6)
            names = _COLOUR_IMAGES + _GREY_IMAGES
            op = _random_crop(rng, _bundled_image(names[int(rng.integers(len(names)))]), w, h)
            om = _shape_mask(rng, w, h, ("rect", "ellipse", "star"))
            op, om = _tight(op, om)
            self.occluders.append(self._occluder(rng, op, om, t))

        # photometry per frame
        self.gain = np.exp(_smooth_path(rng, t, rng.uniform(0, cfg.brightness)))
        self.bias = _smooth_path(rng, t, rng.uniform(0, cfg.bias))
        blur_amp = rng.uniform(0.5, 1.8) if rng.random() < cfg.blur_prob else 0.0
        self.blur = np.maximum(blur_amp * (0.5 + 0.5 * np.sin(2 * math.pi * t / rng.uniform(15, 60)
                                                               + rng.uniform(0, 6.3))), 0)
        self.noise = rng.uniform(*cfg.noise_sigma)


    def box(self, t: int) -> np.ndarray:
        """Bounding box of the target's warped mask in frame t."""
        _, alpha, x0, y0 = self.target.warp(t, self.size, with_patch=False)
        return _mask_box(alpha, x0, y0)

    def visible_fraction(self, t: int) -> float:
        """Fraction of the target's mask not covered by occluders in frame t."""
        _, alpha, x0, y0 = self.target.warp(t, self.size, with_patch=False)
        covered = np.zeros_like(alpha)
        for occ in self.occluders:
            w_ = occ.warp(t, self.size, with_patch=False)
            if w_ is not None:
                _paste_mask(covered, w_[1], w_[2] - x0, w_[3] - y0)
        n_px = int(alpha.sum())
        return float((alpha & ~covered).sum() / n_px) if n_px else 0.0

    @staticmethod
    def _mover(rng, patch, mask, t, unit, cfg: SpriteConfig) -> _Mover:
        """A sprite on a smooth random path (drift + sinusoid; folded into the frame by `_fold_into`)."""
        n = len(t)
        drift = rng.uniform(-1, 1) * math.log(cfg.scale_per_50) / 50
        log_s = drift * (t - t[n // 2]) + _smooth_path(rng, t, rng.uniform(0, 0.15))
        log_s = np.clip(log_s, math.log(cfg.scale_limits[0]), math.log(cfg.scale_limits[1]))
        log_a = _smooth_path(rng, t, rng.uniform(0, cfg.aspect_jitter))
        angle = _smooth_path(rng, t, rng.uniform(0, cfg.rotation_deg))
        speed = rng.uniform(*cfg.speed) * unit
        d = rng.uniform(0, 2 * math.pi)
        cx = speed * math.cos(d) * t + _smooth_path(rng, t, rng.uniform(*cfg.wobble) * unit)
        cy = speed * math.sin(d) * t + _smooth_path(rng, t, rng.uniform(*cfg.wobble) * unit)
        return _Mover(patch, mask, cx + rng.uniform(-1e4, 1e4), cy + rng.uniform(-1e4, 1e4),
                      np.exp(log_s), log_a, angle)

    def _fold_into(self, mv: _Mover) -> _Mover:
        """Fold a mover's centre path so its whole (rotated, scaled) sprite stays inside the frame."""
        W, H = self.size
        h, w = mv.mask.shape
        a = np.exp(mv.log_aspect / 2)
        r = 0.5 * np.hypot(w * mv.scale * a, h * mv.scale / a).max() + 1
        mv.cx = _fold(mv.cx, r, W - 1 - r)
        mv.cy = _fold(mv.cy, r, H - 1 - r)
        return mv

    def _occluder(self, rng, patch, mask, t) -> _Mover:
        """An occluder crossing the frame along a straight line (it may leave the frame)."""
        W, H = self.size
        n = len(t)
        start = np.array([rng.uniform(0, W), rng.uniform(0, H)])
        end = np.array([rng.uniform(0, W), rng.uniform(0, H)])
        u = t / max(n - 1, 1)
        c = start[None] + (end - start)[None] * u[:, None]
        zeros = np.zeros(n)
        return _Mover(patch, mask, c[:, 0], c[:, 1], np.ones(n), zeros, _smooth_path(rng, t, 20.0))

    def render(self, t: int) -> np.ndarray:
        """Frame t: background, distractors, target, occluders, then photometry, blur and noise."""
        W, H = self.size
        ox = int(round(self.bg_pad + self.pan[t, 0]))
        oy = int(round(self.bg_pad + self.pan[t, 1]))
        frame = self.background[oy : oy + H, ox : ox + W].copy()
        order = ([self.target] + self.distractors) if self.cfg.distractors_above else (self.distractors + [self.target])
        if not self.target_present(t):
            order.remove(self.target)
        for mv in order + self.occluders:
            w_ = mv.warp(t, self.size)
            if w_ is None:
                continue
            patch, alpha, x0, y0 = w_
            roi = frame[y0 : y0 + alpha.shape[0], x0 : x0 + alpha.shape[1]]
            roi[alpha] = patch[alpha]
        img = frame.astype(np.float32) * self.gain[t] + self.bias[t]
        if self.blur[t] > 0.3:
            img = cv2.GaussianBlur(img, (0, 0), float(self.blur[t]))
        if self.noise > 0:
            img += np.random.default_rng([0x401E, self.seed, t]).normal(0, self.noise, img.shape).astype(np.float32)
        return np.clip(img + 0.5, 0, 255).astype(np.uint8)

    def target_present(self, t: int) -> bool:
        """Whether the target is drawn in frame t (always, except in `AbsenceClip`)."""
        return True

    def target_mask(self, t: int) -> np.ndarray:
        """The target's warped mask in frame t (occluded pixels included)."""
        W, H = self.size
        out = np.zeros((H, W), bool)
        if not self.target_present(t):
            return out
        _, alpha, x0, y0 = self.target.warp(t, self.size, with_patch=False)
        _paste_mask(out, alpha, x0, y0)
        return out


# `distractors` kind (DMTrack's robustness benchmark): 2-3 look-alike copies of the target (colour +-10 %, scale
# 0.85-1.15, the sprites defaults) whose paths oscillate *through* the target's path, and 1-2 occluders drawn above.
DISTRACTORS_CONFIG = SpriteConfig(n_distractors=(2, 3), n_occluders=(1, 2))
CROSS_AMPLITUDE = (1.2, 2.5)  # distractor excursion from the target centre, in target sides
CROSS_PERIOD = (30.0, 70.0)  # frames per back-and-forth crossing


class DistractorsClip(SpritesClip):
    """Sprites clip whose distractors repeatedly cross the target (drawn below it), plus occluders above."""

    def __init__(
        self, seed: int, n_frames: int = 80, size: tuple[int, int] = (320, 240), config: SpriteConfig | None = None
    ) -> None:
        super().__init__(seed, n_frames, size, config or DISTRACTORS_CONFIG)
        self.kind = "distractors"
        rng = np.random.default_rng([0xD157, self.seed])
        t = np.arange(self.n_frames, dtype=np.float64)
        side = float(max(self.target.mask.shape)) * float(np.median(self.target.scale))
        for mv in self.distractors:
            amp = rng.uniform(*CROSS_AMPLITUDE) * side
            period = rng.uniform(*CROSS_PERIOD)
            th = rng.uniform(0, 2 * math.pi)
            along = amp * np.cos(2 * math.pi * t / period + rng.uniform(0, 2 * math.pi))
            across = rng.uniform(-0.3, 0.3) * side
            mv.cx = self.target.cx + along * math.cos(th) - across * math.sin(th)
            mv.cy = self.target.cy + along * math.sin(th) + across * math.cos(th)
            self._fold_into(mv)


# VOT-LT-style absence: the target is not drawn for a stretch of frames (box NaN there) and reappears where its
# path has taken it meanwhile, so a tracker must say it lost the target and find it again.
ABSENCE_CONFIG = SpriteConfig(n_distractors=(0, 0), n_occluders=(0, 0))


class AbsenceClip(SpritesClip):
    """Sprites clip whose target vanishes for frames [absent[0], absent[1]) (given as fractions of the clip)."""

    def __init__(self, seed: int, n_frames: int = 90, size: tuple[int, int] = (320, 240),
                 config: SpriteConfig | None = None, absent: tuple[float, float] = (0.4, 0.6)) -> None:
        super().__init__(seed, n_frames, size, config or ABSENCE_CONFIG)
        self.kind = "absence"
        self.absent_range = (int(round(absent[0] * n_frames)), int(round(absent[1] * n_frames)))

    def target_present(self, t: int) -> bool:
        """False on the absence frames."""
        return not self.absent_range[0] <= t < self.absent_range[1]

    def box(self, t: int) -> np.ndarray:
        """The target's box, NaN while it is absent (VOT-LT / LaSOT convention)."""
        return super().box(t) if self.target_present(t) else np.full(4, np.nan)

    def visible_fraction(self, t: int) -> float:
        """0 while absent."""
        return super().visible_fraction(t) if self.target_present(t) else 0.0


def _paste_mask(dst: np.ndarray, src: np.ndarray, x0: int, y0: int) -> None:
    """OR `src` into `dst` at offset (x0, y0), clipping at dst's borders."""
    H, W = dst.shape
    h, w = src.shape
    xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + w, W), min(y0 + h, H)
    if xb > xa and yb > ya:
        dst[ya:yb, xa:xb] |= src[ya - y0 : yb - y0, xa - x0 : xb - x0]


def synthetic_clip(
    kind: str, seed: int, n_frames: int | None = None, size: tuple[int, int] | None = None, **config: object
) -> SyntheticClip:
    """Build a lazily rendered synthetic clip; `config` overrides DigitsConfig / SpriteConfig fields."""
    k = canonical_kind(kind)
    n = int(n_frames or DEFAULT_FRAMES[k])
    sz = tuple(size or DEFAULT_SIZE[k])
    if k == "sprites":
        return SpritesClip(seed, n, sz, replace(SpriteConfig(), **config))
    if k == "distractors":
        return DistractorsClip(seed, n, sz, replace(DISTRACTORS_CONFIG, **config))
    return DigitsClip(seed, n, sz, scaling=k == "digits-s", config=replace(DigitsConfig(), **config))


def make_clip(
    kind: str, seed: int, n_frames: int | None = None, size: tuple[int, int] | None = None
) -> tuple[list[np.ndarray], np.ndarray]:
    """Render a whole synthetic clip: (BGR uint8 frames, (N, 4) exact x,y,w,h boxes); size is (width, height)."""
    clip = synthetic_clip(kind, seed, n_frames, size)
    return clip.frames(), clip.boxes.copy()


# --------------------------------------------------------------------------------------------------------
# demo clip

DEMO_SEED = 3
DEMO_CONFIG = {"n_distractors": (1, 1), "n_occluders": (1, 1), "noise_sigma": (0.0, 0.0), "blur_prob": 0.0}


def make_demo_clip(
    path: str | Path, seed: int = DEMO_SEED, n_frames: int = 100, size: tuple[int, int] = (480, 360),
    fps: float = 25.0,
) -> np.ndarray:
    """Write the deterministic sprites demo video (mp4v) and return its exact (N, 4) x,y,w,h boxes.

    One distractor and one occluder, no sensor noise or blur (keeps the file small); frame 1's box
    (`boxes[0]`) is the init box shipped beside it.
    """
    from ..io.video import VideoWriter

    clip = synthetic_clip("sprites", seed, n_frames, size, **DEMO_CONFIG)
    writer = VideoWriter(path, fps, clip.size)
    try:
        for t in range(clip.n_frames):
            writer.write(clip.render(t))
    except BaseException:
        writer.close(ok=False)
        raise
    writer.close(ok=True)
    return clip.boxes.copy()
