"""Content boxes: words and the line chunks built from them (the vertices of the structure graph).

A chunk is a run of words on one text line whose gaps are below `gap_factor` x the line height: the unit
that PDF text layers (Tabby/SciTSR "chunks") and OCR text-line detectors both give.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Word:
    """A word (or OCR text line) box in pixels (x1, y1, x2, y2), y down, with its text."""

    x1: float
    y1: float
    x2: float
    y2: float
    text: str = ""
    label: int = -1  # training only: the cell the word belongs to


def merge_words(words: list[Word], gap_factor: float = 0.5) -> list[Word]:
    """Merge words into line chunks: same line (vertical overlap > 50 %) and horizontal gap < gap_factor x height."""
    if not words:
        return []
    order = sorted(range(len(words)), key=lambda i: (words[i].y1 + words[i].y2, words[i].x1))
    heights = np.array([w.y2 - w.y1 for w in words])
    med_h = float(np.median(heights)) if len(heights) else 1.0
    lines: list[list[Word]] = []
    for i in order:
        w = words[i]
        placed = False
        for line in lines[-8:]:
            last = line[-1]
            ov = min(w.y2, last.y2) - max(w.y1, last.y1)
            if ov > 0.5 * min(w.y2 - w.y1, last.y2 - last.y1):
                line.append(w)
                placed = True
                break
        if not placed:
            lines.append([w])
    chunks: list[Word] = []
    for line in lines:
        line.sort(key=lambda w: w.x1)
        cur: list[Word] = [line[0]]
        for w in line[1:]:
            h = max(min(w.y2 - w.y1, cur[-1].y2 - cur[-1].y1), 0.5 * med_h)
            if w.x1 - max(c.x2 for c in cur) < gap_factor * h:
                cur.append(w)
            else:
                chunks.append(_join(cur))
                cur = [w]
        chunks.append(_join(cur))
    return chunks


def _join(ws: list[Word]) -> Word:
    labels = [w.label for w in ws]
    weights = [max(len(w.text), 1) * (w.x2 - w.x1) for w in ws]
    best = max(set(labels), key=lambda lab: sum(wt for la, wt in zip(labels, weights, strict=False) if la == lab))
    return Word(min(w.x1 for w in ws), min(w.y1 for w in ws), max(w.x2 for w in ws), max(w.y2 for w in ws),
                " ".join(w.text for w in ws if w.text), best)


def boxes_array(words: list[Word]) -> np.ndarray:
    """N x 4 float32 array of (x1, y1, x2, y2)."""
    return np.array([[w.x1, w.y1, w.x2, w.y2] for w in words], dtype=np.float32).reshape(-1, 4)
