"""Ruling-line evidence from an image (no learning): horizontal/vertical masks by morphological opening.

Dark pixels (Otsu) opened with a 1 x L (resp. L x 1) kernel keep only long straight strokes: table rules,
not text. L = max(min_len, side / 40); the masks feed the graph features and the classical grid fallback.
"""

from __future__ import annotations

import cv2
import numpy as np

from .features import RuleMasks


def binarize(img: np.ndarray) -> np.ndarray:
    """Dark-on-light ink mask (uint8 0/255) of a BGR or gray image."""
    gray = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    _, bw = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    if bw.mean() > 127:  # light on dark: invert
        bw = 255 - bw
    return bw


def rule_masks(img: np.ndarray, min_len: int = 25, origin: tuple[float, float] = (0.0, 0.0),
               max_side: int = 1024) -> RuleMasks:
    """Horizontal and vertical rule masks of an image, downscaled so the longer side is <= `max_side`."""
    bw = binarize(img)
    h, w = bw.shape
    lh = max(min_len, w // 40)
    lv = max(min_len, h // 40)
    hm = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (lh, 1)))
    vm = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, lv)))
    scale = min(1.0, max_side / max(h, w))
    if scale < 1.0:
        size = (max(1, int(w * scale)), max(1, int(h * scale)))
        hm = cv2.resize(cv2.dilate(hm, np.ones((3, 1), np.uint8)), size, interpolation=cv2.INTER_AREA)
        vm = cv2.resize(cv2.dilate(vm, np.ones((1, 3), np.uint8)), size, interpolation=cv2.INTER_AREA)
    return RuleMasks(hm > 0, vm > 0, scale, origin)


def text_blocks(img: np.ndarray, min_size: int = 3) -> list[tuple[float, float, float, float]]:
    """Boxes of text blocks without OCR: ink minus rules, dilated along lines, connected components."""
    bw = binarize(img)
    h, w = bw.shape
    lines = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(25, w // 40), 1)))
    lines |= cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(25, h // 40))))
    ink = cv2.subtract(bw, lines)
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink, 8)
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    heights = heights[heights >= min_size]
    xh = float(np.median(heights)) if len(heights) else 10.0
    k = max(2, int(round(0.45 * xh)))
    joined = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_RECT, (k, 1)))
    n, _, stats, _ = cv2.connectedComponentsWithStats(joined, 8)
    boxes = []
    for x, y, bw_, bh, area in stats[1:]:
        if bh >= min_size and bw_ >= 2 and area >= 4:
            boxes.append((float(x) + k / 2, float(y), float(x + bw_) - k / 2, float(y + bh)))
    return boxes
