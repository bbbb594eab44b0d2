"""Vertex and pair features of the content-box structure graph (the shipped default's inputs).

Vertex: normalised geometry (x1, y1, x2, y2, cx, cy, w, h in table units; w, h in text-height units),
ruling-line evidence around the box (horizontal rule just above/below, vertical rule just left/right): a
cheap stand-in for the paper's P2 + LSTM visual feature; and four cues of the chunk's text (`text_features`)
that tell a wrapped line from the next row when journals set rows at the line pitch. Pair: box differences
(the paper's box_i - box_j, in text-height units), overlap ratios, gaps, and whether a ruling line runs between
the two centres.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

N_TEXT = 4
N_VERTEX = 19 + N_TEXT
N_PAIR = 14


@dataclass
class RuleMasks:
    """Horizontal and vertical ruling-line masks (bool, H x W) of the table image and the px -> mask mapping."""

    h: np.ndarray
    v: np.ndarray
    scale: float = 1.0
    origin: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        # column-wise cumulative counts of horizontal-rule pixels, row-wise of vertical-rule pixels
        self._hc = np.concatenate([np.zeros((1, self.h.shape[1]), np.int32), np.cumsum(self.h, 0, dtype=np.int32)])
        self._vc = np.concatenate([np.zeros((self.v.shape[0], 1), np.int32), np.cumsum(self.v, 1, dtype=np.int32)],
                                  1)

    @classmethod
    def empty(cls) -> RuleMasks:
        """No ruling lines at all."""
        z = np.zeros((1, 1), bool)
        return cls(z, z, 1.0)

    def _mx(self, x: np.ndarray) -> np.ndarray:
        return np.round((x - self.origin[0]) * self.scale).astype(np.int64)

    def _my(self, y: np.ndarray) -> np.ndarray:
        return np.round((y - self.origin[1]) * self.scale).astype(np.int64)

    def h_between(self, x: np.ndarray, ya: np.ndarray, yb: np.ndarray) -> np.ndarray:
        """1 where a horizontal-rule pixel lies in column x between rows ya and yb (pixels), else 0."""
        hh, ww = self.h.shape
        xs = self._mx(x)
        lo = np.clip(self._my(np.minimum(ya, yb)), 0, hh)
        hi = np.clip(self._my(np.maximum(ya, yb)) + 1, 0, hh)
        ok = (xs >= 0) & (xs < ww)
        xs = np.clip(xs, 0, ww - 1)
        return ((self._hc[hi, xs] - self._hc[lo, xs] > 0) & ok).astype(np.float32)

    def v_between(self, y: np.ndarray, xa: np.ndarray, xb: np.ndarray) -> np.ndarray:
        """1 where a vertical-rule pixel lies in row y between columns xa and xb (pixels), else 0."""
        hh, ww = self.v.shape
        ys = self._my(y)
        lo = np.clip(self._mx(np.minimum(xa, xb)), 0, ww)
        hi = np.clip(self._mx(np.maximum(xa, xb)) + 1, 0, ww)
        ok = (ys >= 0) & (ys < hh)
        ys = np.clip(ys, 0, hh - 1)
        return ((self._vc[ys, hi] - self._vc[ys, lo] > 0) & ok).astype(np.float32)


def text_height(boxes: np.ndarray) -> float:
    """Median box height: the length unit of the features (scale invariance)."""
    return float(np.median(boxes[:, 3] - boxes[:, 1])) if len(boxes) else 1.0


def text_features(texts: Sequence[str] | None, n: int) -> np.ndarray:
    """N x N_TEXT: share of digits among the visible characters (numbers do not wrap), starts with an upper-case
    letter (a cell's first line), starts lower-case or with an opening bracket (a wrapped continuation), ends
    with a colon (a section label). All zero without text (`--ocr none`)."""
    out = np.zeros((n, N_TEXT), np.float32)
    for i, t in enumerate(texts or []):
        t = t.strip()
        if not t:
            continue
        visible = [ch for ch in t if not ch.isspace()]
        out[i, 0] = sum(ch.isdigit() for ch in visible) / len(visible)
        out[i, 1] = float(t[0].isupper())
        out[i, 2] = float(t[0].islower() or t[0] in "([{")
        out[i, 3] = float(t.endswith(":"))
    return out


def vertex_features(boxes: np.ndarray, masks: RuleMasks, texts: Sequence[str] | None = None) -> np.ndarray:
    """N x N_VERTEX features of the content boxes (table frame = the boxes' extent) and their texts."""
    b = boxes.astype(np.float32)
    x0, y0 = b[:, 0].min(), b[:, 1].min()
    tw = max(float(b[:, 2].max() - x0), 1.0)
    th = max(float(b[:, 3].max() - y0), 1.0)
    mh = max(text_height(b), 1.0)
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    geo = np.stack([(b[:, 0] - x0) / tw, (b[:, 1] - y0) / th, (b[:, 2] - x0) / tw, (b[:, 3] - y0) / th,
                    (cx - x0) / tw, (cy - y0) / th, w / tw, h / th, np.log1p(w / mh), np.log1p(h / mh)], 1)
    d = 1.2 * mh  # rules just above/below/left/right of the box (within ~one text height)
    qx = np.stack([b[:, 0] + 0.25 * w, cx, b[:, 0] + 0.75 * w], 1)
    qy = np.stack([b[:, 1] + 0.25 * h, cy, b[:, 1] + 0.75 * h], 1)
    y1, y2 = b[:, 1:2].repeat(3, 1), b[:, 3:4].repeat(3, 1)
    x1, x2 = b[:, 0:1].repeat(3, 1), b[:, 2:3].repeat(3, 1)
    above = masks.h_between(qx, y1 - d, y1 - 1).mean(1)
    below = masks.h_between(qx, y2 + 1, y2 + d).mean(1)
    left = masks.v_between(qy, x1 - d, x1 - 1).mean(1)
    right = masks.v_between(qy, x2 + 1, x2 + d).mean(1)
    return np.concatenate([geo, np.stack([above, below, left, right], 1), layout_context(b, mh),
                           text_features(texts, len(b))], 1).astype(np.float32)


def layout_context(b: np.ndarray, mh: float) -> np.ndarray:
    """N x 5: how many boxes share my text line, gaps to my nearest line-mates left/right and to the nearest
    boxes above/below in my column band (text-height units, squashed) - the cues that tell a wrapped line of
    one cell from the next row of a dense table."""
    h = b[:, 3] - b[:, 1]
    oy = np.minimum(b[:, None, 3], b[None, :, 3]) - np.maximum(b[:, None, 1], b[None, :, 1])
    same_line = oy > 0.5 * np.minimum(h[:, None], h[None])
    ox = np.minimum(b[:, None, 2], b[None, :, 2]) - np.maximum(b[:, None, 0], b[None, :, 0])
    np.fill_diagonal(same_line, False)
    inf = np.float32(1e6)
    gap_r = np.where(same_line & (b[None, :, 0] >= b[:, None, 2] - 1), b[None, :, 0] - b[:, None, 2], inf).min(1)
    gap_l = np.where(same_line & (b[None, :, 2] <= b[:, None, 0] + 1), b[:, None, 0] - b[None, :, 2], inf).min(1)
    col = ox > 0
    np.fill_diagonal(col, False)
    gap_d = np.where(col & (b[None, :, 1] >= b[:, None, 3] - 1), b[None, :, 1] - b[:, None, 3], inf).min(1)
    gap_u = np.where(col & (b[None, :, 3] <= b[:, None, 1] + 1), b[:, None, 1] - b[None, :, 3], inf).min(1)
    squash = lambda g: np.tanh(np.maximum(g, 0) / (4 * mh))  # noqa: E731 - 1 = far or none
    return np.stack([np.tanh(same_line.sum(1) / 5.0), squash(gap_l), squash(gap_r), squash(gap_u), squash(gap_d)], 1)


def pair_features(boxes: np.ndarray, i: np.ndarray, j: np.ndarray, masks: RuleMasks) -> np.ndarray:
    """P x N_PAIR features of the pairs (i, j): differences, overlaps, gaps and rules between the centres."""
    b = boxes.astype(np.float32)
    mh = max(text_height(b), 1.0)
    bi, bj = b[i], b[j]
    d = (bi - bj) / mh
    ci = np.stack([(bi[:, 0] + bi[:, 2]) / 2, (bi[:, 1] + bi[:, 3]) / 2], 1)
    cj = np.stack([(bj[:, 0] + bj[:, 2]) / 2, (bj[:, 1] + bj[:, 3]) / 2], 1)
    dc = (ci - cj) / mh
    wi, wj = bi[:, 2] - bi[:, 0], bj[:, 2] - bj[:, 0]
    hi, hj = bi[:, 3] - bi[:, 1], bj[:, 3] - bj[:, 1]
    ox = np.minimum(bi[:, 2], bj[:, 2]) - np.maximum(bi[:, 0], bj[:, 0])
    oy = np.minimum(bi[:, 3], bj[:, 3]) - np.maximum(bi[:, 1], bj[:, 1])
    ovx = ox / np.maximum(np.minimum(wi, wj), 1e-3)
    ovy = oy / np.maximum(np.minimum(hi, hj), 1e-3)
    # a horizontal rule crossing the vertical segment between the two (at the middle of their x-overlap, or
    # half-way between the centres), a vertical rule crossing the horizontal segment likewise
    xm = np.where(ox > 0, (np.maximum(bi[:, 0], bj[:, 0]) + np.minimum(bi[:, 2], bj[:, 2])) / 2,
                  (ci[:, 0] + cj[:, 0]) / 2)
    ym = np.where(oy > 0, (np.maximum(bi[:, 1], bj[:, 1]) + np.minimum(bi[:, 3], bj[:, 3])) / 2,
                  (ci[:, 1] + cj[:, 1]) / 2)
    top_gap_a = np.where(ci[:, 1] < cj[:, 1], bi[:, 3], bj[:, 3])
    top_gap_b = np.where(ci[:, 1] < cj[:, 1], bj[:, 1], bi[:, 1])
    left_gap_a = np.where(ci[:, 0] < cj[:, 0], bi[:, 2], bj[:, 2])
    left_gap_b = np.where(ci[:, 0] < cj[:, 0], bj[:, 0], bi[:, 0])
    h_between = np.where(oy > 0, 0.0, masks.h_between(xm, top_gap_a, top_gap_b))
    v_between = np.where(ox > 0, 0.0, masks.v_between(ym, left_gap_a, left_gap_b))
    feats = np.concatenate([np.tanh(d / 8), np.tanh(dc / 8), np.tanh(d / 40), np.clip(ovx, -3, 1)[:, None],
                            np.clip(ovy, -3, 1)[:, None], h_between[:, None], v_between[:, None]], 1)
    return feats.astype(np.float32)
