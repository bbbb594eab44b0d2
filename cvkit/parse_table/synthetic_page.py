"""Synthetic whole pages in word space: the validation (and tuning) data of table detection.

A page stacks, in one or two text columns, running-text paragraphs, headings, bullet lists, charts (axes and
gridlines as rules, tick labels, legends, a title) and tables from `synth_table` (with a caption above, a source
note below, sometimes two tables in a row); with `variety` (training pages of the learned detector) also running
heads and page numbers, footnotes under a short rule and number-rich running text (years, percentages, amounts),
which are not tables. It yields the words (pixels, y down), the horizontal ruling segments
and the ground-truth table boxes: what `detect.detect_tables` takes and what it must find. No real document
is used, so detection thresholds can be checked here without touching an evaluation set.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .synthetic import LETTERS, synth_table
from .words import Word

Box = tuple[float, float, float, float]


@dataclass
class SynthPage:
    """One synthetic page: words, horizontal rules and GT table boxes (pixels)."""

    words: list[Word] = field(default_factory=list)
    rules: list[Box] = field(default_factory=list)
    tables: list[Box] = field(default_factory=list)
    vrules: list[Box] = field(default_factory=list)  # vertical ruling segments of tables (for rendering)
    figures: list[Box] = field(default_factory=list)  # chart plot areas (for rendering: bars, lines, pictures)
    size: tuple[int, int] = (1240, 1754)


def _word(rng: np.random.Generator, numeric: float = 0.05) -> str:
    n = int(rng.integers(1, 11))
    if rng.random() < numeric:
        return "".join(str(d) for d in rng.integers(0, 10, n))
    return "".join(rng.choice(LETTERS, n))


def _number(rng: np.random.Generator) -> str:
    """A number as running text writes it: a year, a percentage, an amount with separators, a decimal."""
    u = rng.random()
    if u < 0.25:
        return str(int(rng.integers(1950, 2030)))
    if u < 0.5:
        return f"{rng.uniform(0, 100):.1f}%"
    if u < 0.75:
        return f"{int(rng.integers(1000, 10_000_000)):,}"
    return f"{rng.uniform(0, 1000):.{int(rng.integers(1, 3))}f}"


def _text_line(rng, x1: float, x2: float, y: float, h: float, cw: float, fill: float = 1.0,
               numbers: float = 0.0) -> list[Word]:
    """Words of one running-text line between x1 and x2 (a last line fills `fill` of it); a `numbers` share of
    the words are numbers (`_number`)."""
    out, x = [], x1
    end = x1 + (x2 - x1) * fill
    while True:
        t = _number(rng) if numbers and rng.random() < numbers else _word(rng)
        w = len(t) * cw
        if x + w > end:
            break
        out.append(Word(x, y, x + w, y + h, t))
        x += w + 0.33 * h * float(rng.uniform(0.8, 1.6))
    return out


def _paragraph(rng, page: SynthPage, x1: float, x2: float, y: float, h: float, cw: float,
               numbers: float = 0.0) -> float:
    pitch = h * float(rng.uniform(1.15, 1.45))
    n = int(rng.integers(2, 12))
    indent = h * 2 if rng.random() < 0.3 else 0.0
    for k in range(n):
        fill = float(rng.uniform(0.2, 0.95)) if k == n - 1 else 1.0
        page.words += _text_line(rng, x1 + (indent if k == 0 else 0.0), x2, y, h, cw, fill, numbers)
        y += pitch
    return y + pitch * float(rng.uniform(0.3, 1.0))


def _short_line(rng, page: SynthPage, x: float, y: float, h: float, cw: float, n_words: tuple[int, int],
                prefix: str = "") -> None:
    texts = ([prefix] if prefix else []) + [_word(rng) for _ in range(int(rng.integers(*n_words)))]
    for t in texts:
        w = max(len(t), 1) * cw
        page.words.append(Word(x, y, x + w, y + h, t))
        x += w + 0.33 * h


def _chart(rng, page: SynthPage, x1: float, x2: float, y: float, h: float, cw: float) -> float:
    """A bar/line chart: title, framed or open axes, horizontal gridlines, y tick labels, x labels, a legend."""
    _short_line(rng, page, x1, y, h, cw, (2, 8), prefix=f"Figure {int(rng.integers(1, 20))}:")
    y += 2 * h
    ch = h * float(rng.uniform(10, 25))
    ax1 = x1 + 4 * h
    n_ticks = int(rng.integers(3, 8))
    for k in range(n_ticks):
        ty = y + ch * k / (n_ticks - 1)
        lab = str(int(rng.integers(0, 1000)))
        page.words.append(Word(ax1 - 0.6 * h - len(lab) * cw, ty - h / 2, ax1 - 0.6 * h, ty + h / 2, lab))
        if rng.random() < 0.6 or k == n_ticks - 1:
            page.rules.append((ax1, ty - 1, x2, ty + 1))
    n_x = int(rng.integers(3, 13))
    step = (x2 - ax1) / n_x
    rotated = rng.random() < 0.3
    for k in range(n_x):
        lab = _word(rng, 0.6)[:6]
        cx = ax1 + step * (k + 0.5)
        if rotated:  # vertical labels: tall narrow boxes
            page.words.append(Word(cx - h / 2, y + ch + 0.5 * h, cx + h / 2, y + ch + 0.5 * h + len(lab) * cw, lab))
        else:
            page.words.append(Word(cx - len(lab) * cw / 2, y + ch + 0.4 * h, cx + len(lab) * cw / 2, y + ch + 1.4 * h,
                                   lab))
        if rng.random() < 0.3:  # value labels on the bars
            v = str(int(rng.integers(0, 100)))
            by = y + ch * float(rng.uniform(0.1, 0.9))
            page.words.append(Word(cx - len(v) * cw / 2, by, cx + len(v) * cw / 2, by + h, v))
    page.figures.append((ax1, y, x2, y + ch))
    y += ch + (len("xxxxxx") * cw if rotated else 2 * h) + h
    for _ in range(int(rng.integers(0, 4))):  # legend entries: a marker then a label, sometimes side by side
        lx = ax1
        for _ in range(int(rng.integers(1, 4))):
            _short_line(rng, page, lx + 2 * h, y, h, cw, (1, 4))
            lx += (x2 - ax1) / 3
        y += 1.4 * h
    return y + 1.5 * h


def _table(rng, page: SynthPage, x1: float, x2: float, y: float, h: float, cw: float, k: int) -> float:
    """A caption, a synthetic table scaled to the column and a font near the page's, a source note."""
    if rng.random() < 0.75:
        _short_line(rng, page, x1, y, h, cw, (2, 9), prefix=f"Table {k}:")
        y += 1.8 * h
    for _ in range(20):  # a table that fits the column with a font at least 0.7 x the page's
        s = synth_table(rng)
        th = float(np.median([c.y2 - c.y1 for c in s.chunks])) if s.chunks else h
        scale = h * float(rng.uniform(0.8, 1.0)) / max(th, 1e-3)
        if s.table.bbox[2] * scale * 0.75 <= x2 - x1:
            break
    tw = s.table.bbox[2] * scale
    if tw > x2 - x1:
        scale *= (x2 - x1) / tw
    b = np.array([[c.x1, c.y1, c.x2, c.y2] for c in s.chunks]) * scale if s.chunks else np.zeros((0, 4))
    hm = (s.masks.h.astype(np.uint8) * 255)
    n, _, stats, _ = cv2.connectedComponentsWithStats(hm, 8)
    rules = [((sx / s.masks.scale) * scale, (sy / s.masks.scale) * scale, ((sx + sw) / s.masks.scale) * scale,
              ((sy + sh) / s.masks.scale) * scale) for sx, sy, sw, sh, _ in stats[1:] if sw > 3 * sh]
    vm = (s.masks.v.astype(np.uint8) * 255)
    _, _, vstats, _ = cv2.connectedComponentsWithStats(vm, 8)
    vrules = [((sx / s.masks.scale) * scale, (sy / s.masks.scale) * scale, ((sx + sw) / s.masks.scale) * scale,
               ((sy + sh) / s.masks.scale) * scale) for sx, sy, sw, sh, _ in vstats[1:] if sh > 3 * sw]
    allb = np.concatenate([b, np.array(rules).reshape(-1, 4)]) if len(b) else np.array(rules).reshape(-1, 4)
    if not len(allb):
        return y
    ox, oy = x1 - allb[:, 0].min(), y - allb[:, 1].min()
    for c, bb in zip(s.chunks, b, strict=True):
        page.words.append(Word(bb[0] + ox, bb[1] + oy, bb[2] + ox, bb[3] + oy, c.text or _word(rng, 0.8)))
    page.rules += [(r[0] + ox, r[1] + oy, r[2] + ox, r[3] + oy) for r in rules]
    page.vrules += [(r[0] + ox, r[1] + oy, r[2] + ox, r[3] + oy) for r in vrules]
    box = (float(allb[:, 0].min() + ox), float(allb[:, 1].min() + oy), float(allb[:, 2].max() + ox),
           float(allb[:, 3].max() + oy))
    page.tables.append(box)
    y = box[3] + 1.0 * h
    if rng.random() < 0.4:
        _short_line(rng, page, x1, y, 0.85 * h, 0.85 * cw, (3, 10), prefix="Source:")
        y += 1.6 * h
    return y + h * float(rng.uniform(0.5, 2.0))


def _running_heads(rng, page: SynthPage, margin: float, h: float, cw: float) -> float:
    """A running head (sometimes ruled) above the text and a footer with a page number below it; the bottom
    margin left for the text."""
    W, H = page.size
    sh, scw = 0.85 * h, 0.85 * cw
    if rng.random() < 0.7:
        y = margin - 2.5 * h
        _short_line(rng, page, margin, y, sh, scw, (2, 7))
        if rng.random() < 0.5:  # a second item at the right end: a date, a reference, a page number
            t = _number(rng) if rng.random() < 0.5 else _word(rng)
            page.words.append(Word(W - margin - len(t) * scw, y, W - margin, y + sh, t))
        if rng.random() < 0.4:
            page.rules.append((margin, y + 1.4 * sh, W - margin, y + 1.4 * sh + 1))
    y = H - margin + 1.5 * h
    t = str(int(rng.integers(1, 300)))
    x = (W - len(t) * scw) / 2 if rng.random() < 0.5 else W - margin - len(t) * scw
    page.words.append(Word(x, y, x + len(t) * scw, y + sh, t))
    if rng.random() < 0.4:
        _short_line(rng, page, margin, y, sh, scw, (1, 5))
    if rng.random() < 0.35:  # footnotes under a short rule at the foot of the text
        n = int(rng.integers(1, 4))
        fy = H - margin - n * 1.2 * sh
        page.rules.append((margin, fy - 0.6 * h, margin + (W - 2 * margin) * 0.3, fy - 0.6 * h + 1))
        for i in range(n):
            line = _text_line(rng, margin + 1.2 * scw, W - margin, fy + i * 1.2 * sh, sh * 0.9, scw * 0.9,
                              float(rng.uniform(0.3, 1.0)), 0.15)
            page.words.append(Word(margin, fy + i * 1.2 * sh, margin + scw, fy + i * 1.2 * sh + sh * 0.9, str(i + 1)))
            page.words += line
        return margin + n * 1.2 * sh + h
    return margin


def synth_page(rng: np.random.Generator, variety: bool = False) -> SynthPage:
    """One page of mixed content (see the module docstring); `variety` adds running heads, footnotes and
    number-rich text (the same seed without it gives the same page as before it existed)."""
    page = SynthPage()
    W, H = page.size
    h = float(rng.uniform(14, 22))
    cw = h * float(rng.uniform(0.45, 0.55))
    margin = float(rng.uniform(90, 150))
    n_cols = 2 if rng.random() < 0.3 else 1
    gutter = 2.5 * h
    col_w = (W - 2 * margin - (n_cols - 1) * gutter) / n_cols
    bottom = _running_heads(rng, page, margin, h, cw) if variety else margin
    numbers = float(rng.choice([0.0, 0.1, 0.25])) if variety else 0.0
    k = 1
    for col in range(n_cols):
        x1 = margin + col * (col_w + gutter)
        x2 = x1 + col_w
        y = margin
        while y < H - bottom - 6 * h:
            mark = (len(page.words), len(page.rules), len(page.tables), len(page.vrules), len(page.figures))
            u = rng.random()
            if u < 0.35:
                y = _paragraph(rng, page, x1, x2, y, h, cw, numbers)
            elif u < 0.45:
                _short_line(rng, page, x1, y, 1.2 * h, 1.2 * cw, (1, 6), prefix=f"{int(rng.integers(1, 9))}.")
                y += 2.4 * h
            elif u < 0.55:
                for _ in range(int(rng.integers(2, 6))):
                    _short_line(rng, page, x1 + 1.5 * h, y, h, cw, (2, 12), prefix="•")
                    y += 1.4 * h
                y += h
            elif u < 0.7:
                y = _chart(rng, page, x1, x2, y, h, cw)
            else:
                y = _table(rng, page, x1, x2, y, h, cw, k)
                k += 1
                if rng.random() < 0.25:  # a second table right after the first
                    y = _table(rng, page, x1, x2, y, h, cw, k)
                    k += 1
            if y > H - bottom:  # the block ran off the page: drop it and end the column
                page.words, page.rules, page.tables = (page.words[:mark[0]], page.rules[:mark[1]],
                                                       page.tables[:mark[2]])
                page.vrules, page.figures = page.vrules[:mark[3]], page.figures[:mark[4]]
                break
    return page


def validate_detection(n_pages: int = 200, seed: int = 1000) -> dict:
    """Detection scores of `detect.detect_tables` on `n_pages` synthetic pages (seeds seed..seed+n-1)."""
    from .detect import detect_tables
    from .metrics import detection_scores

    pages = []
    for i in range(n_pages):
        p = synth_page(np.random.default_rng(seed + i))
        pages.append((detect_tables(p.words, p.rules), p.tables, [(w.x1, w.y1, w.x2, w.y2) for w in p.words]))
    return detection_scores(pages)
