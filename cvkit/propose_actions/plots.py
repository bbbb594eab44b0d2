"""PNG figures drawn with OpenCV (no plotting dependency): the proposal timeline and the AR-AN curve."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..errors import ArgumentError
from ..io.atomic import atomic_path

COLORS = [(180, 119, 31), (14, 127, 255), (44, 160, 44), (40, 39, 214), (189, 103, 148)]  # BGR tab10


def _write(img: np.ndarray, target: Path) -> None:
    with atomic_path(target, suffix=".png") as tmp:
        if not cv2.imwrite(str(tmp), img):
            raise ArgumentError(f"{target}: cannot write PNG")


def _text(img: np.ndarray, s: str, org: tuple[int, int], scale: float = 0.4, color=(0, 0, 0)) -> None:
    cv2.putText(img, s, org, cv2.FONT_HERSHEY_SIMPLEX, scale, color, 1, cv2.LINE_AA)


def timeline_png(segments: np.ndarray, scores: np.ndarray, duration: float, target: Path, title: str = "",
                 top: int = 10, gt: np.ndarray | None = None) -> None:
    """Top proposals as bars over the time axis (brighter = higher score), GT in red below when given."""
    k = min(top, len(scores))
    rows = k + (1 if gt is not None else 0)
    w, left, right, row_h = 900, 50, 20, 18
    h = 40 + rows * row_h + 40
    img = np.full((h, w, 3), 255, np.uint8)
    span = w - left - right
    x = lambda t: int(left + span * min(max(t / max(duration, 1e-9), 0), 1))  # noqa: E731
    _text(img, title or "proposals", (left, 20), 0.5)
    smax = float(np.max(scores[:k])) if k else 1.0
    for r in range(k):
        s, e = segments[r]
        v = 0.25 + 0.75 * float(scores[r]) / (smax + 1e-12)
        y = 35 + r * row_h
        cv2.rectangle(img, (x(s), y), (max(x(e), x(s) + 1), y + row_h - 4), (int(200 * (1 - v)), int(150 * v),
                                                                               int(60 + 100 * v)), -1)
        _text(img, f"#{r + 1}", (5, y + 11), 0.35)
    if gt is not None:
        y = 35 + k * row_h
        for s, e in np.asarray(gt).reshape(-1, 2):
            cv2.rectangle(img, (x(s), y), (max(x(e), x(s) + 1), y + row_h - 4), (40, 39, 214), -1)
        _text(img, "GT", (5, y + 11), 0.35)
    ya = h - 30
    cv2.line(img, (left, ya), (w - right, ya), (0, 0, 0), 1)
    for i in range(11):
        t = duration * i / 10
        cv2.line(img, (x(t), ya), (x(t), ya + 4), (0, 0, 0), 1)
        _text(img, f"{t:.0f}", (x(t) - 8, ya + 16), 0.35)
    _text(img, "s", (w - right + 4, ya + 4), 0.35)
    _write(img, target)


def curve_png(curves: dict[str, tuple[np.ndarray, np.ndarray, float]], target: Path, title: str = "AR-AN") -> None:
    """Average recall (%) against average number of proposals; curves: name -> (AN, AR in [0, 1], AUC)."""
    w, h, left, bottom, top, right = 640, 480, 60, 50, 40, 20
    img = np.full((h, w, 3), 255, np.uint8)
    an_max = max(float(np.max(c[0])) for c in curves.values()) or 1.0
    px = lambda a: int(left + (w - left - right) * a / an_max)  # noqa: E731
    py = lambda r: int(h - bottom - (h - bottom - top) * r)  # noqa: E731
    for i in range(11):
        cv2.line(img, (left, py(i / 10)), (w - right, py(i / 10)), (230, 230, 230), 1)
        _text(img, f"{10 * i}", (left - 28, py(i / 10) + 4), 0.35)
        a = an_max * i / 10
        cv2.line(img, (px(a), h - bottom), (px(a), h - bottom + 4), (0, 0, 0), 1)
        _text(img, f"{a:.0f}", (px(a) - 8, h - bottom + 18), 0.35)
    cv2.rectangle(img, (left, top), (w - right, h - bottom), (0, 0, 0), 1)
    _text(img, title, (left, 25), 0.55)
    _text(img, "average number of proposals per video (AN)", (left + 120, h - 12), 0.4)
    _text(img, "AR %", (8, top - 8), 0.4)
    for k, (name, (an, ar, auc)) in enumerate(curves.items()):
        col = COLORS[k % len(COLORS)]
        pts = np.stack([[px(a) for a in an], [py(r) for r in ar]], axis=1).astype(np.int32)
        cv2.polylines(img, [pts], False, col, 2, cv2.LINE_AA)
        _text(img, f"{name} (AUC {auc:.2f})", (w - right - 260, h - bottom - 15 - 18 * k), 0.45, col)
    _write(img, target)
