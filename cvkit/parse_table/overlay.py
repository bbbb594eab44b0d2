"""Overlay for checking a result: cells (filled by column colour), row bands and column bands on the image."""

from __future__ import annotations

import cv2
import numpy as np

from .table import Table

PALETTE = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240),
           (240, 50, 230), (210, 245, 60), (0, 128, 128), (170, 110, 40)]


def draw_overlay(img: np.ndarray, tables: list[Table]) -> np.ndarray:
    """BGR image with each table's cells (colour = start column, label = SR,SC), row lines and its region."""
    out = img.copy()
    fill = img.copy()
    for t in tables:
        for c in t.cells:
            if c.bbox is None:
                continue
            x1, y1, x2, y2 = (int(round(v)) for v in c.bbox)
            colour = PALETTE[c.sc % len(PALETTE)]
            cv2.rectangle(fill, (x1, y1), (x2, y2), colour, -1)
            cv2.rectangle(out, (x1, y1), (x2, y2), colour, 1)
            cv2.putText(out, f"{c.sr},{c.sc}", (x1, max(8, y1 - 2)), cv2.FONT_HERSHEY_PLAIN, 0.7, (0, 0, 255), 1)
        for r in range(t.n_rows):  # row band: from the top of the row's cells to their bottom
            ys = [c.bbox for c in t.cells if c.bbox is not None and c.sr == r and c.er == r]
            if ys:
                y = int(round(max(b[3] for b in ys))) + 1
                x1 = int(round(min(b[0] for b in ys)))
                x2 = int(round(max(b[2] for b in ys)))
                cv2.line(out, (x1, y), (x2, y), (0, 0, 255), 1)
        if t.bbox is not None:
            x1, y1, x2, y2 = (int(round(v)) for v in t.bbox)
            cv2.rectangle(out, (x1, y1), (x2, y2), (0, 0, 0), 2)
    return cv2.addWeighted(fill, 0.3, out, 0.7, 0)
