"""Table detection on whole pages (training-free): column-aligned text rows plus ruling-line evidence.

Used by default whenever no region is given (a PDF without a regions file, a page image, a scanned PDF). Input:
the page's words (PDF text layer or OCR lines, pixels) and its horizontal ruling segments. Steps:

1. Words become segments: runs on one text line whose gaps stay under `SEG_GAP` x the text height, so column
   gaps (wide) split a line and word spaces (narrow) do not.
2. Prose segments (many words and wide) are set aside: running text, also in multi-column layouts, is not a table.
3. A *row* is a text line with two or more remaining segments; rows in vertical sequence (line pitch gaps, at
   most one non-row line between) form a block. A block becomes a table when it has `MIN_ROWS` rows and at
   least two column intervals that most of its rows fill (a chart's tick labels and a figure's callouts do not).
4. A table grows by the short non-prose lines just above it (column headers) and by horizontal rules that close it
   (booktabs top/bottom rules, ruled frames), and blocks that touch vertically merge.

Boxes are (x1, y1, x2, y2) pixels of the page. The design is fixed from layout conventions (no threshold is
fitted to an evaluation set); synthetic pages (`synthetic_page`) check it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .words import Word

SEG_GAP = 1.0  # split a line where the horizontal gap exceeds this many text heights
MIN_ROWS = 3  # rows (lines with >= 2 segments) a table needs
PROSE_WORDS = 6  # a segment with this many words ...
PROSE_WIDTH = 18.0  # ... and wider than this many text heights is running text
MAX_ROW_GAP = 3.0  # text heights between consecutive lines of one table
PROSE_FILL = 0.6  # ... and, within a layout column, at least this share of its width
HEADER_LINES = 3  # short lines above a table taken in as its header
GRAPHICS_SHARE = 0.1  # a block this much covered by graphics (plots, pictures) is a figure, not a table
MAX_SINGLES = 5  # one-segment lines (wrapped cells, group labels) a table may hold in a row
Box = tuple[float, float, float, float]


@dataclass
class Segment:
    """A run of words on one line: its box, word count and text."""

    x1: float
    y1: float
    x2: float
    y2: float
    n_words: int
    text: str


def _lines(words: list[Word]) -> list[list[Word]]:
    """Words grouped into text lines (vertical overlap > 50 % of the smaller height), each sorted by x."""
    order = sorted(words, key=lambda w: ((w.y1 + w.y2) / 2, w.x1))
    lines: list[list[Word]] = []
    for w in order:
        for line in reversed(lines[-6:]):
            ly1, ly2 = min(v.y1 for v in line), max(v.y2 for v in line)
            ov = min(w.y2, ly2) - max(w.y1, ly1)
            if ov > 0.5 * min(w.y2 - w.y1, ly2 - ly1):
                line.append(w)
                break
        else:
            lines.append([w])
    for line in lines:
        line.sort(key=lambda w: w.x1)
    lines.sort(key=lambda ln: min(w.y1 for w in ln))
    return lines


def _segments(line: list[Word], h: float) -> list[Segment]:
    """Split a line at gaps wider than SEG_GAP x h."""
    segs: list[Segment] = []
    cur: list[Word] = []
    for w in line:
        if cur and w.x1 - max(c.x2 for c in cur) > SEG_GAP * h:
            segs.append(_seg(cur, h))
            cur = []
        cur.append(w)
    if cur:
        segs.append(_seg(cur, h))
    return segs


def _seg(ws: list[Word], h: float) -> Segment:
    """A segment of words; without text (detector line boxes) its word count is estimated from its width (a word
    and its space take about three text heights)."""
    text = " ".join(w.text for w in ws if w.text)
    x1, x2 = min(w.x1 for w in ws), max(w.x2 for w in ws)
    n_words = max(len(text.split()), len(ws)) if text else max(len(ws), int((x2 - x1) / (3.0 * h)))
    return Segment(x1, min(w.y1 for w in ws), x2, max(w.y2 for w in ws), n_words, text)


def _is_prose(s: Segment, h: float, column_width: float = 0.0) -> bool:
    """Running text: many words, wide, and (given the layout column's width) filling most of the column."""
    w = s.x2 - s.x1
    return s.n_words >= PROSE_WORDS and w > PROSE_WIDTH * h and (w >= PROSE_FILL * column_width
                                                                 or s.n_words >= 2 * PROSE_WORDS)


def _columns(rows: list[list[Segment]], h: float) -> int:
    """Columns of a block: x-stretches that at least a quarter of its rows cover, split by stretches that fewer
    cover and that are at least half a text height wide (whitespace rivers through the rows)."""
    x0 = min(s.x1 for row in rows for s in row)
    x1 = max(s.x2 for row in rows for s in row)
    cover = np.zeros(int(x1 - x0) + 2, np.int32)
    for row in rows:
        hit = np.zeros_like(cover, bool)
        for s in row:
            hit[int(s.x1 - x0): int(s.x2 - x0) + 1] = True
        cover += hit
    occupied = np.concatenate([[False], cover >= max(1.0, 0.25 * len(rows)), [False]])
    edges = np.flatnonzero(np.diff(occupied.astype(np.int8)))
    starts, ends = edges[0::2], edges[1::2]  # occupied runs [start, end)
    return 1 + int(np.sum(starts[1:] - ends[:-1] >= 0.5 * h)) if len(starts) else 0


def rule_segments(img: np.ndarray, min_frac: float = 0.08) -> list[Box]:
    """Horizontal ruling segments (x1, y1, x2, y2) of a page image: long thin dark runs (morphological opening)."""
    from .rules import binarize

    bw = binarize(img)
    h, w = bw.shape
    length = max(25, int(min_frac * w))
    hm = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1)))
    n, _, stats, _ = cv2.connectedComponentsWithStats(hm, 8)
    return [(float(x), float(y), float(x + bw_), float(y + bh)) for x, y, bw_, bh, _ in stats[1:] if bh <= 6]


def rule_frames(img: np.ndarray, min_frac: float = 0.08) -> list[Box]:
    """Boxes of connected horizontal + vertical ruling lines (table grids, frames; also chart frames) of a page."""
    from .rules import binarize

    bw = binarize(img)
    h, w = bw.shape
    rect = cv2.MORPH_RECT
    hm = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(rect, (max(25, int(min_frac * w)), 1)))
    vm = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(rect, (1, max(15, h // 60))))
    lines = cv2.dilate(hm | vm, np.ones((5, 5), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(lines, 8)
    return [(float(x), float(y), float(x + bw_), float(y + bh)) for x, y, bw_, bh, _ in stats[1:]
            if bw_ > 0.1 * w and bh > 0.02 * h and vm[y:y + bh, x:x + bw_].any() and hm[y:y + bh, x:x + bw_].any()]


def graphics_boxes(img: np.ndarray, text_h: float) -> list[Box]:
    """Boxes of graphics on a page image: ink components (ruling lines removed) more than 2.5 text heights tall
    and wide, i.e. not glyphs: chart plots, diagrams, pictures. Their presence marks a text block as a figure's."""
    from .rules import binarize

    bw = binarize(img)
    h, w = bw.shape
    rect = cv2.MORPH_RECT
    lines = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(rect, (max(25, w // 40), 1)))
    lines |= cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(rect, (1, max(25, h // 40))))
    ink = cv2.subtract(bw, cv2.dilate(lines, np.ones((3, 3), np.uint8)))
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink, 8)
    big = 2.5 * text_h
    return [(float(x), float(y), float(x + bw_), float(y + bh)) for x, y, bw_, bh, _ in stats[1:]
            if bh > big and bw_ > big]


def _graphics_share(box: Box, graphics: list[Box]) -> float:
    """Share of the box's area covered by graphics boxes (sum of intersections, capped at 1)."""
    x1, y1, x2, y2 = box
    area = max((x2 - x1) * (y2 - y1), 1.0)
    inter = 0.0
    for g in graphics:
        iw, ih = min(x2, g[2]) - max(x1, g[0]), min(y2, g[3]) - max(y1, g[1])
        if iw > 0 and ih > 0:
            inter += iw * ih
    return min(1.0, inter / area)


def _text_height(words: list[Word]) -> float:
    hs = np.array([w.y2 - w.y1 for w in words if w.y2 > w.y1])
    return float(np.median(hs)) if len(hs) else 10.0


CAPTION = ("table", "tab.", "tabel", "tableau", "tabelle", "figure", "fig.", "chart", "graph", "source", "note",
           "abbildung", "grafik", "graphique", "quelle")


def _kind(segs: list[Segment], prose: bool) -> str:
    """'prose', 'caption', 'row' (two or more segments) or 'single' (one short segment)."""
    if prose:
        return "prose"
    text = " ".join(s.text for s in segs).strip().lower()
    if text.startswith(CAPTION) and (len(text) < 8 or not text[:8].replace(" ", "").isalpha() or ":" in text[:14]
                                     or any(ch.isdigit() for ch in text[:12])):
        return "caption"
    return "row" if len(segs) >= 2 else "single"


def _gutters(words: list[Word], h: float, width: float) -> list[float]:
    """x of layout-column gutters: vertical whitespace between running-text segments on both sides."""
    prose = [s for line in _lines(words) for s in _segments(line, h) if _is_prose(s, h)]
    if len(prose) < 10:
        return []
    lo, hi = min(s.x1 for s in prose), max(s.x2 for s in prose)
    cover = np.zeros(int(hi - lo) + 2, np.int32)
    for s in prose:
        cover[int(s.x1 - lo): int(s.x2 - lo) + 1] += 1
    out, k = [], 0
    while k < len(cover):
        if cover[k] == 0:
            j = k
            while j < len(cover) and cover[j] == 0:
                j += 1
            x = lo + (k + j) / 2
            left = sum(s.x2 <= x for s in prose)
            right = sum(s.x1 >= x for s in prose)
            if j - k > 1.2 * h and min(left, right) >= 5 and 0.2 * width < x - lo < 0.8 * width:
                out.append(float(x))
            k = j
        k += 1
    return out


def detect_tables(words: list[Word], rules: list[Box] | None = None, frames: list[Box] | None = None,
                  graphics: list[Box] | None = None) -> list[Box]:
    """Table boxes (pixels) of a page from its words, horizontal ruling segments, ruled frames and graphics (a block
    that graphics cover by more than GRAPHICS_SHARE is a figure's labels); [] when none."""
    words = [w for w in words if w.x2 > w.x1 and w.y2 > w.y1]
    if not words:
        return []
    h = _text_height(words)
    width = max(w.x2 for w in words) - min(w.x1 for w in words)
    cuts = [-np.inf, *_gutters(words, h, width), np.inf]
    boxes: list[Box] = []
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        part = [w for w in words if a <= (w.x1 + w.x2) / 2 < b]
        boxes += _detect_column(part, rules or [], h)
    boxes = [_grow_frames(b, frames or [], h) for b in boxes]
    boxes = [b for b in boxes if _graphics_share(b, graphics or []) <= GRAPHICS_SHARE]
    boxes = _merge(boxes, h, words)
    return _split_frames(boxes, _table_frames(frames or [], words, graphics or [], h), words, h)


def _detect_column(words: list[Word], rules: list[Box], h: float) -> list[Box]:
    """Tables among the words of one layout column."""
    if not words:
        return []
    colw = max(w.x2 for w in words) - min(w.x1 for w in words)
    lines = []
    for line in _lines(words):
        allsegs = _segments(line, h)
        segs = [s for s in allsegs if not _is_prose(s, h, colw)]
        lines.append((segs, _kind(segs, len(segs) < len(allsegs))))
    blocks: list[list[int]] = []
    cur: list[int] = []
    singles = 0
    for i, (segs, kind) in enumerate(lines):
        if cur:
            prev = lines[cur[-1]][0]
            gap = min(s.y1 for s in segs) - max(s.y2 for s in prev) if segs else np.inf
            ruled = gap <= 2 * MAX_ROW_GAP * h and _rule_between(prev, segs, rules, h) if segs else False
            tops = [min(s.y1 for s in lines[j][0]) for j in cur]
            pitch = float(np.median(np.diff(tops))) if len(tops) > 1 else 1.3 * h
            title = kind == "single" and gap > 1.8 * pitch - h  # a heading after a visible break
            if kind in ("prose", "caption") or (gap > MAX_ROW_GAP * h and not ruled) or title or \
                    (kind == "single" and singles >= MAX_SINGLES):
                blocks.append(cur)
                cur, singles = [], 0
        if kind == "row":
            cur.append(i)
            singles = 0
        elif kind == "single" and cur:
            cur.append(i)
            singles += 1
    if cur:
        blocks.append(cur)
    boxes = []
    for b in blocks:
        while b and lines[b[-1]][1] == "single":
            b = b[:-1]
        rows = [lines[i][0] for i in b if lines[i][1] == "row"]
        if len(rows) < MIN_ROWS or _columns(rows, h) < 2:
            continue
        segs = [s for i in b for s in lines[i][0]]
        box = [min(s.x1 for s in segs), min(s.y1 for s in segs), max(s.x2 for s in segs), max(s.y2 for s in segs)]
        if _chart_axis_near(box, rules, words, h):
            continue
        box = _grow_header(box, lines, b[0], h)
        boxes.append(_grow_rules(box, rules, h))
    return boxes


def _chart_axis_near(box: list[float], rules: list[Box], words: list[Word], h: float) -> bool:
    """Is the block a chart's labels: a rule inside or just above it carries a numeric tick label at its left end (a
    short word with a digit, ending right before the rule or touching it, and centred on it), as chart axes and
    gridlines do and table rules do not?"""
    x1, y1, x2, y2 = box
    for r in rules:
        if r[3] < y1 - 2 * h or r[1] > y2 or min(r[2], x2) - max(r[0], x1) <= 0:
            continue
        ry = (r[1] + r[3]) / 2
        for w in words:
            if abs((w.y1 + w.y2) / 2 - ry) < 0.35 * h and -h <= r[0] - w.x2 < 1.5 * h and w.x1 < r[0] and \
                    _tick_label(w, h):
                return True
    return False


def _tick_label(w: Word, h: float) -> bool:
    """A chart tick label: a short word holding a digit, or (a detector box without text) a short box."""
    if w.text:
        return len(w.text) <= 8 and any(ch.isdigit() for ch in w.text)
    return (w.x2 - w.x1) <= 4 * h


def _grow_frames(box: Box, frames: list[Box], h: float) -> Box:
    """The union with ruled frames (connected ruling lines) that hold most of the block or that it mostly fills."""
    x1, y1, x2, y2 = box
    for f in frames:
        iw, ih = min(x2, f[2]) - max(x1, f[0]), min(y2, f[3]) - max(y1, f[1])
        if iw <= 0 or ih <= 0:
            continue
        inter = iw * ih
        if inter > 0.5 * (x2 - x1) * (y2 - y1) or inter > 0.5 * (f[2] - f[0]) * (f[3] - f[1]):
            x1, y1, x2, y2 = min(x1, f[0]), min(y1, f[1]), max(x2, f[2]), max(y2, f[3])
    return (x1, y1, x2, y2)


def _table_frames(frames: list[Box], words: list[Word], graphics: list[Box], h: float) -> list[Box]:
    """The ruled frames that each enclose a table of their own (rows and columns of words inside, no chart), less
    those that enclose another such frame (a page or section box around several tables)."""
    found = []
    for f in frames:
        inside = [w for w in words if _centre_in_box(w, f)]
        if _graphics_share(f, graphics) <= GRAPHICS_SHARE and _detect_column(inside, [], h):
            found.append(f)
    return [f for f in found if not any(g is not f and _within(g, f) for g in found)]


def _within(inner: Box, outer: Box, slack: float = 2.0) -> bool:
    """Does `outer` hold `inner` (up to `slack` pixels)?"""
    return inner[0] >= outer[0] - slack and inner[1] >= outer[1] - slack and \
        inner[2] <= outer[2] + slack and inner[3] <= outer[3] + slack


def _split_frames(boxes: list[Box], table_frames: list[Box], words: list[Word], h: float) -> list[Box]:
    """A ruled frame delimits one table: a box that holds two or more table frames becomes those frames, and a box
    that holds one, with no table row outside it (only titles, notes, a section box's rules), becomes that frame."""
    out: list[Box] = []
    for b in boxes:
        inner = [f for f in table_frames if _within(f, b)]
        if len(inner) == 1:
            rest = [w for w in words if _centre_in_box(w, b) and not _centre_in_box(w, inner[0])]
            if any(len(_segments(line, h)) >= 2 for line in _lines(rest)):
                inner = []
        out += inner or [b]
    return sorted(out, key=lambda b: (b[1], b[0]))


def _centre_in_box(w: Word, b: Box) -> bool:
    """Is the word's centre inside the box?"""
    return b[0] <= (w.x1 + w.x2) / 2 <= b[2] and b[1] <= (w.y1 + w.y2) / 2 <= b[3]


def _rule_between(above: list[Segment], below: list[Segment], rules: list[Box], h: float) -> bool:
    """Does a horizontal rule run between two lines, across most of their x-range (a ruled row gap)?"""
    y1, y2 = max(s.y2 for s in above), min(s.y1 for s in below)
    x1 = min(min(s.x1 for s in above), min(s.x1 for s in below))
    x2 = max(max(s.x2 for s in above), max(s.x2 for s in below))
    return any(y1 - 0.5 * h <= (r[1] + r[3]) / 2 <= y2 + 0.5 * h and min(r[2], x2) - max(r[0], x1) > 0.6 * (x2 - x1)
               for r in rules)


def _grow_header(box: list[float], lines, first: int, h: float) -> list[float]:
    """Take in up to HEADER_LINES short lines right above the block that lie within its x-range."""
    top = box[1]
    for i in range(first - 1, max(-1, first - 1 - HEADER_LINES), -1):
        segs, kind = lines[i]
        if kind in ("prose", "caption") or not segs:
            break
        y2 = max(s.y2 for s in segs)
        x1, x2 = min(s.x1 for s in segs), max(s.x2 for s in segs)
        if top - y2 > 1.2 * h or x1 < box[0] - 2 * h or x2 > box[2] + 2 * h:
            break
        top = min(s.y1 for s in segs)
        box = [min(box[0], x1), top, max(box[2], x2), box[3]]
    return box


def _grow_rules(box: list[float], rules: list[Box], h: float) -> Box:
    """Extend to horizontal rules that span most of the table's width and lie inside it or within 1.5 text heights
    above/below it (repeated: stacked header rules), and to the full width of those rules."""
    x1, y1, x2, y2 = box
    for _ in range(4):
        grown = False
        for r in rules:
            width = x2 - x1
            ov = min(r[2], x2) - max(r[0], x1)
            if ov < 0.6 * width or (r[2] - r[0]) > 1.6 * width + 4 * h:
                continue
            if y1 - 1.5 * h <= r[3] and r[1] <= y2 + 1.5 * h:
                n = (min(x1, r[0]), min(y1, r[1]), max(x2, r[2]), max(y2, r[3]))
                grown |= n != (x1, y1, x2, y2)
                x1, y1, x2, y2 = n
        if not grown:
            break
    return (x1, y1, x2, y2)


def _merge(boxes: list[Box], h: float, words: list[Word]) -> list[Box]:
    """Merge boxes that overlap, that touch vertically (gap < 1 text height, x-ranges overlapping, no caption or
    running text between), or that sit side by side on the same rows (a wide table cut at a layout gutter)."""
    out = [list(b) for b in boxes]
    changed = True
    while changed:
        changed = False
        for i in range(len(out)):
            for j in range(i + 1, len(out)):
                a, b = out[i], out[j]
                xo = min(a[2], b[2]) - max(a[0], b[0])
                yo = min(a[3], b[3]) - max(a[1], b[1])
                yg, xg = -yo, -xo
                vertical = xo > 0.5 * min(a[2] - a[0], b[2] - b[0]) and yg < h and not _separated(a, b, h, words)
                side = yo > 0.7 * min(a[3] - a[1], b[3] - b[1]) and xg < 4 * h
                if (xo > 0 and yo > 0) or vertical or side:
                    out[i] = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]
                    del out[j]
                    changed = True
                    break
            if changed:
                break
    return [tuple(b) for b in sorted(out, key=lambda b: (b[1], b[0]))]


def _separated(a: list[float], b: list[float], h: float, words: list[Word]) -> bool:
    """Is there a caption or running-text line between two vertically stacked boxes?"""
    colw = max(a[2], b[2]) - min(a[0], b[0])
    top, bot = (a, b) if a[1] < b[1] else (b, a)
    x1, x2 = max(a[0], b[0]), min(a[2], b[2])
    between = [w for w in words if w.y1 >= top[3] - 1 and w.y2 <= bot[1] + 1 and w.x2 > x1 and w.x1 < x2]
    if not between:
        return False
    for line in _lines(between):
        allsegs = _segments(line, h)
        segs = [s for s in allsegs if not _is_prose(s, h, colw)]
        if _kind(segs, len(segs) < len(allsegs)) in ("prose", "caption"):
            return True
    return False
