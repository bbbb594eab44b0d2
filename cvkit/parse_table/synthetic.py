"""Procedural tables with exact labels: the training data of the shipped structure model.

Each sample is a table layout (grid with header rows, column-spanning headers, row-spanning stub cells,
multi-line cells, empty cells, alignments, ruling styles), laid out in pixels with a random text height.
Words carry text whose look follows the cell (numbers; capitalised cell starts, lower-case or bracketed
wrapped lines, colon-ended section labels; some tables without text). It yields the words (boxes + the cell
each belongs to), the cells (SR/ER/SC/EC + boxes) and the ruling-line
masks. Words go through the same `merge_words` as real inputs, so training sees real-looking chunks.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .features import RuleMasks
from .table import Cell, Table
from .words import Word, merge_words

RULE_STYLES = ("none", "grid", "rows", "booktabs", "header", "frame_header", "cols", "groups")


@dataclass
class SynthSample:
    """One synthetic table: chunks (vertices) with their cell labels, the cells and the rule masks."""

    chunks: list[Word]
    table: Table
    masks: RuleMasks


def _cell_lines(rng: np.random.Generator, kind: str, max_chars: int) -> list[int]:
    """Character counts of the lines of one cell's text (wrapped at `max_chars`)."""
    if kind == "num":
        return [int(rng.integers(1, 10))]
    n_words = int(rng.integers(1, 7)) if rng.random() < 0.7 else int(rng.integers(6, 16))
    words = rng.integers(2, 11, n_words)
    lines, cur = [], -1
    for w in words:
        if cur >= 0 and cur + 1 + w > max_chars:
            lines.append(cur)
            cur = -1
        cur = w if cur < 0 else cur + 1 + w
    lines.append(cur)
    return [int(v) for v in lines]


def _word_lengths(rng: np.random.Generator, n_chars: int, kind: str) -> list[int]:
    """Split a line of `n_chars` into words (numbers with thousands separators stay one word mostly)."""
    if kind == "num" or n_chars <= 3:
        return [n_chars]
    out, left = [], n_chars
    while left > 0:
        w = int(min(left, rng.integers(2, 11)))
        out.append(w)
        left -= w + 1
    return out


LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyz"))


def _word_text(rng: np.random.Generator, n: int, kind: str, cell_start: bool, line_start: bool) -> str:
    """A word of `n` characters whose look follows the cell's kind and its place in the cell: numbers (with
    points, brackets, percent signs); words that open a cell mostly capitalised, words that open a wrapped
    line mostly lower-case or bracketed, as in real tables."""
    n = max(n, 1)
    if kind == "num":
        if rng.random() < 0.05:
            return str(rng.choice(["-", "NA", "N/A", "ns", "–"]))
        t = list("".join(str(d) for d in rng.integers(0, 10, n)))
        if n >= 3 and rng.random() < 0.5:
            t[int(rng.integers(1, n - 1))] = "."
        if n >= 4 and rng.random() < 0.2:
            t[0], t[-1] = "(", ")"
        elif n >= 2 and rng.random() < 0.1:
            t[-1] = "%"
        return "".join(t)
    t = "".join(rng.choice(LETTERS, n))
    if rng.random() < 0.04:
        return "".join(str(d) for d in rng.integers(0, 10, n))
    if cell_start:
        return t.capitalize() if rng.random() < 0.85 else t
    if line_start:
        u = rng.random()
        return t if u < 0.7 else "(" + t[1:] if u < 0.8 else t.capitalize()
    return t.capitalize() if rng.random() < 0.15 else t


def synth_table(rng: np.random.Generator) -> SynthSample:
    """Generate one random table."""
    h = float(rng.uniform(8, 30))  # text height in px
    cw = h * float(rng.uniform(0.42, 0.62))  # mean character width
    n_cols = int(rng.integers(2, 11))
    n_body = int(rng.integers(2, 26))
    n_head = int(rng.choice([0, 1, 1, 1, 2, 2, 3]))
    n_rows = n_head + n_body
    stub = rng.random() < 0.85
    kinds = ["text" if (c == 0 and stub) or rng.random() < 0.25 else "num" for c in range(n_cols)]
    dense = rng.random() < 0.5  # dense tables: tight rows, cells mostly on one line
    wrap_lo = 25 if dense else 8
    max_chars = [int(rng.integers(wrap_lo, 40 if c == 0 else 60)) for c in range(n_cols)]
    p_empty = float(rng.choice([0.0, 0.05, 0.15, 0.3]))

    # logical cells (sr, er, sc, ec)
    cells: list[tuple[int, int, int, int]] = []
    taken = np.zeros((n_rows, n_cols), bool)
    for r in range(n_head):
        c = 0
        while c < n_cols:
            span = 1
            if r < n_head - 1 and c > 0 and rng.random() < 0.6:
                span = int(min(n_cols - c, rng.integers(2, 5)))
            if r == 0 and c == 0 and n_head > 1 and rng.random() < 0.6:
                cells.append((0, n_head - 1, 0, 0))
                taken[0:n_head, 0] = True
                c += 1
                continue
            if not taken[r, c]:
                cells.append((r, r, c, c + span - 1))
                taken[r, c:c + span] = True
            c += span
    stub_span = stub and n_cols > 2 and rng.random() < 0.2
    for r in range(n_head, n_rows):
        for c in range(n_cols):
            if taken[r, c]:
                continue
            if c == 0 and stub_span and rng.random() < 0.4:
                er = int(min(n_rows - 1, r + rng.integers(1, 4)))
                cells.append((r, er, 0, 0))
                taken[r:er + 1, 0] = True
                continue
            if c == 0 and rng.random() < 0.03:
                cells.append((r, r, 0, n_cols - 1))  # section row spanning the table
                taken[r, :] = True
                break
            cells.append((r, r, c, c))
            taken[r, c] = True

    # text lines of each cell (chars per line); empty cells
    lines: list[list[int]] = []
    for sr, _er, sc, ec in cells:
        is_head = sr < n_head
        kind = "text" if is_head else kinds[sc]
        empty = (not is_head and sc > 0 and rng.random() < p_empty) or (is_head and sc == 0 and rng.random() < 0.3)
        lines.append([] if empty else _cell_lines(rng, kind, max_chars[sc] if ec == sc else 3 * max_chars[sc]))

    # column widths from the single-column cells, row heights from the lines
    col_w = np.full(n_cols, 2 * cw)
    for (_sr, _er, sc, ec), ls in zip(cells, lines, strict=True):
        if sc == ec and ls:
            col_w[sc] = max(col_w[sc], max(ls) * cw)
    gap = h * float(rng.uniform(0.8, 4.0))
    float(rng.uniform(0.2, 1.0)) * h
    col_x = np.concatenate([[0.0], np.cumsum(col_w + gap)])
    for (_sr, _er, sc, ec), ls in zip(cells, lines, strict=True):  # widen columns under wide spanning cells
        if ec > sc and ls:
            need = max(ls) * cw - (col_x[ec + 1] - gap - col_x[sc])
            if need > 0:
                col_w[ec] += need
                col_x = np.concatenate([[0.0], np.cumsum(col_w + gap)])
    line_h = h * float(rng.uniform(1.0, 1.3))  # line pitch inside a cell; rows add 2 * pad_y on top of it
    pad_y = h * float(rng.uniform(0.05, 0.3) if dense else rng.uniform(0.3, 1.2))
    row_lines = np.ones(n_rows)
    for (sr, er, _sc, _ec), ls in zip(cells, lines, strict=True):
        if sr == er:
            row_lines[sr] = max(row_lines[sr], len(ls))
    row_h = row_lines * line_h + 2 * pad_y
    row_y = np.concatenate([[0.0], np.cumsum(row_h)])
    align = [str(rng.choice(["left", "right", "center"])) if kinds[c] == "num" else
             str(rng.choice(["left", "left", "center"])) for c in range(n_cols)]
    valign = str(rng.choice(["top", "middle", "bottom"]))
    margin = 2 * h
    ox, oy = margin, margin

    with_text = rng.random() > 0.15  # some tables come without text (geometry only, as with --ocr none)
    words: list[Word] = []
    out_cells: list[Cell] = []
    for k, ((sr, er, sc, ec), ls) in enumerate(zip(cells, lines, strict=False)):
        x_a, x_b = ox + col_x[sc], ox + col_x[ec + 1] - gap
        y_a, y_b = oy + row_y[sr] + pad_y, oy + row_y[er + 1] - pad_y
        kind = "text" if sr < n_head else kinds[sc]
        al = "center" if (sr < n_head and ec > sc) else align[sc]
        block_h = len(ls) * line_h
        if valign == "top" or sr < n_head and rng.random() < 0.5:
            yt = y_a
        elif valign == "middle":
            yt = (y_a + y_b - block_h) / 2
        else:
            yt = y_b - block_h
        cell_words = []
        for li, n in enumerate(ls):
            width = n * cw * float(rng.uniform(0.85, 1.15))
            xl = x_a if al == "left" else x_b - width if al == "right" else (x_a + x_b - width) / 2
            y1 = yt + li * line_h + float(rng.normal(0, 0.03 * h))
            x = xl
            lengths = _word_lengths(rng, n, kind)
            for wi, wl in enumerate(lengths):
                ww = width * wl / max(n, 1)
                jh = h * float(rng.uniform(0.92, 1.08))
                text = _word_text(rng, wl, kind, li == 0 and wi == 0, wi == 0) if with_text else ""
                if with_text and wi == len(lengths) - 1 and li == len(ls) - 1 and sc == 0 and (
                        ec == n_cols - 1 or rng.random() < 0.03):
                    text += ":" if rng.random() < 0.4 else ""
                cell_words.append(Word(x, y1, x + ww, y1 + jh, text, k))
                x += ww + cw * float(rng.uniform(0.4, 0.75))
        words.extend(cell_words)
        bbox = None
        if cell_words:
            bbox = (min(w.x1 for w in cell_words), min(w.y1 for w in cell_words),
                    max(w.x2 for w in cell_words), max(w.y2 for w in cell_words))
        out_cells.append(Cell(sr, er, sc, ec, bbox, " ".join(w.text for w in cell_words) or (
            "x" if cell_words else "")))

    width = int(ox + col_x[-1] - gap + margin)
    height = int(oy + row_y[-1] + margin)
    masks = _rule_masks(rng, cells, n_rows, n_cols, n_head, ox + col_x - gap / 2, oy + row_y, width, height, h)
    if rng.random() < 0.5:  # OCR-like box noise
        s = 0.08 * h
        for w in words:
            w.x1 += float(rng.normal(0, s))
            w.x2 += float(rng.normal(0, s))
            w.y1 += float(rng.normal(0, s))
            w.y2 += float(rng.normal(0, s))
    chunks = merge_words(words, gap_factor=float(rng.uniform(0.4, 0.7)))
    table = Table(out_cells, (0.0, 0.0, float(width), float(height)), header_rows=n_head)
    return SynthSample(chunks, table, masks)


def _rule_masks(rng: np.random.Generator, cells, n_rows: int, n_cols: int, n_head: int, xs: np.ndarray,
                ys: np.ndarray, width: int, height: int, h: float) -> RuleMasks:
    """Ruling lines of a random style, drawn at a scale that keeps the mask under 1024 px."""
    style = str(rng.choice(RULE_STYLES, p=[0.25, 0.15, 0.1, 0.15, 0.05, 0.1, 0.05, 0.15]))
    scale = min(1.0, 1024.0 / max(width, height))
    hm = np.zeros((int(height * scale) + 1, int(width * scale) + 1), np.uint8)
    vm = np.zeros_like(hm)
    xs = xs.copy()
    xs[0] = xs[0] + 0.0
    x_lo, x_hi = float(xs[0]), float(xs[-1])
    t = max(1, int(round(scale * float(rng.uniform(0.5, 2.5)))))

    def hline(y: float, x1: float = x_lo, x2: float = x_hi) -> None:
        cv2.line(hm, (int(x1 * scale), int(y * scale)), (int(x2 * scale), int(y * scale)), 1, t)

    def vline(x: float, y1: float, y2: float) -> None:
        cv2.line(vm, (int(x * scale), int(y1 * scale)), (int(x * scale), int(y2 * scale)), 1, t)

    y_top, y_bot = float(ys[0]), float(ys[-1])
    if style in ("booktabs", "frame_header", "header", "rows", "groups"):
        hline(y_top)
        hline(y_bot)
        if n_head:
            hline(float(ys[n_head]))
    if style == "rows":
        for r in range(1, n_rows):
            hline(float(ys[r]))
    if style == "groups":  # rules between groups of rows (not between every row)
        spanned = {r for sr, er, _sc, _ec in cells for r in range(sr + 1, er + 1)}
        for r in range(n_head + 1, n_rows):
            if r not in spanned and rng.random() < 0.25:
                hline(float(ys[r]))
        if rng.random() < 0.5:
            vline(x_lo, y_top, y_bot)
            vline(x_hi, y_top, y_bot)
    if style in ("frame_header", "header"):
        vline(x_lo, y_top, y_bot if style == "frame_header" else float(ys[max(n_head, 1)]))
        vline(x_hi, y_top, y_bot if style == "frame_header" else float(ys[max(n_head, 1)]))
    if style in ("grid", "cols"):
        for sr, er, sc, ec in cells:
            x1, x2, y1, y2 = float(xs[sc]), float(xs[ec + 1]), float(ys[sr]), float(ys[er + 1])
            vline(x1, y1, y2)
            vline(x2, y1, y2)
            if style == "grid":
                hline(y1, x1, x2)
                hline(y2, x1, x2)
        if style == "cols":
            hline(y_top)
            hline(y_bot)
    if rng.random() < 0.1:  # stray short strokes (underlines, dashes)
        for _ in range(int(rng.integers(1, 5))):
            x, y = rng.uniform(x_lo, x_hi), rng.uniform(y_top, y_bot)
            hline(y, x, x + rng.uniform(1, 4) * h)
    return RuleMasks(hm.astype(bool), vm.astype(bool), scale)


def chunk_targets(sample: SynthSample) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """N x N same-cell, same-row, same-column targets of the chunks (spans overlap = same row/column)."""
    lab = np.array([c.label for c in sample.chunks])
    cells = sample.table.cells
    sr = np.array([cells[k].sr for k in lab])
    er = np.array([cells[k].er for k in lab])
    sc = np.array([cells[k].sc for k in lab])
    ec = np.array([cells[k].ec for k in lab])
    same_cell = lab[:, None] == lab[None]
    same_row = (np.maximum(sr[:, None], sr[None]) <= np.minimum(er[:, None], er[None]))
    same_col = (np.maximum(sc[:, None], sc[None]) <= np.minimum(ec[:, None], ec[None]))
    return same_cell, same_row, same_col
