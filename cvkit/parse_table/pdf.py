"""PDF input via pypdfium2: page rendering, text-layer words, and PDF <-> pixel coordinates.

PDF coordinates are points with the origin at the bottom-left (what ICDAR-2013 files use); pixels are the
rendered page at `dpi` with the origin top-left: x_px = (x - x0) * s, y_px = (y_top - y) * s, s = dpi / 72.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ArgumentError, InputError
from .words import Word


@dataclass
class PageGeometry:
    """Mapping between PDF points and pixels of one rendered (displayed, /Rotate applied) page.

    Structure files (ICDAR-2013 -str.xml, and the files cvkit writes) give boxes in the upright frame,
    px = ((x - x0) s, (y_top - y) s); the text layer gives glyph boxes in the unrotated page space, mapped by
    `unrotated_to_px`. Region files (-reg.xml) measure y up from the bottom of the page as displayed, whose height
    differs from y_top on a page with /Rotate 90 or 270: `region_to_upright` maps them (both checked on ICDAR-2013
    eu-015, whose pages carry /Rotate 90: its -reg.xml and -str.xml boxes of one table differ by 842 - 595 points).
    """

    x0: float
    y_top: float
    scale: float
    rotation: int = 0
    crop: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)

    def unrotated_to_px(self, b: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        """Unrotated page-space box (x1, y1, x2, y2), y up -> displayed pixel box, y down."""
        left, bottom, right, top = self.crop
        s = self.scale
        xs, ys = (b[0], b[2]), (b[1], b[3])
        if self.rotation == 90:
            px, py = [(y - bottom) for y in ys], [(x - left) for x in xs]
        elif self.rotation == 180:
            px, py = [(right - x) for x in xs], [(y - bottom) for y in ys]
        elif self.rotation == 270:
            px, py = [(top - y) for y in ys], [(right - x) for x in xs]
        else:
            px, py = [(x - left) for x in xs], [(top - y) for y in ys]
        return min(px) * s, min(py) * s, max(px) * s, max(py) * s

    def region_to_upright(self, b: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        """A -reg.xml box (y up from the displayed page's bottom) -> the upright frame of `box_to_px`."""
        left, bottom, right, top = self.crop
        displayed_height = (right - left) if self.rotation in (90, 270) else (top - bottom)
        dy = self.y_top - (bottom + displayed_height) if displayed_height > 0 else 0.0
        return (b[0], b[1] + dy, b[2], b[3] + dy)

    def box_to_px(self, b: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        """PDF (x1, y1, x2, y2), y up -> pixel (x1, y1, x2, y2), y down."""
        x1, y1, x2, y2 = b
        s = self.scale
        return ((x1 - self.x0) * s, (self.y_top - max(y1, y2)) * s, (x2 - self.x0) * s, (self.y_top - min(y1, y2)) * s)

    def box_to_pdf(self, b: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        """Inverse of `box_to_px`."""
        x1, y1, x2, y2 = b
        s = self.scale
        return (x1 / s + self.x0, self.y_top - y2 / s, x2 / s + self.x0, self.y_top - y1 / s)


def open_pdf(path: str | Path):
    """Open a PDF (InputError, exit 3, when it is not a readable PDF)."""
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(str(path))
        if len(doc) == 0:
            raise InputError(path, "PDF has no pages")
        return doc
    except InputError:
        raise
    except Exception as e:  # pdfium raises PdfiumError on corrupt files
        raise InputError(path, f"not a readable PDF ({type(e).__name__}: {e})") from None


def parse_pages(spec: str | None, n_pages: int) -> list[int]:
    """1-based page numbers from '1,3-5' (None = all pages); ArgumentError when out of range."""
    if not spec:
        return list(range(1, n_pages + 1))
    pages: list[int] = []
    try:
        for part in spec.split(","):
            if "-" in part:
                a, b = part.split("-", 1)
                if int(b) < int(a):
                    raise ArgumentError(f"--pages {spec!r}: range {part} runs backwards (write {b}-{a})")
                pages.extend(range(int(a), int(b) + 1))
            else:
                pages.append(int(part))
    except ValueError:
        raise ArgumentError(f"--pages {spec!r}: use numbers and ranges like 1,3-5") from None
    bad = [p for p in pages if not 1 <= p <= n_pages]
    if bad:
        raise ArgumentError(f"--pages {spec!r}: page {bad[0]} is outside 1..{n_pages}")
    return pages


def page_geometry(page, dpi: float) -> PageGeometry:
    """The point -> pixel mapping of a page rendered at `dpi` (crop box honoured)."""
    left, bottom, right, top = (float(v) for v in page.get_cropbox())
    return PageGeometry(left, top, dpi / 72.0, int(page.get_rotation()) % 360, (left, bottom, right, top))


def render_page(page, dpi: float) -> np.ndarray:
    """Page as an H x W x 3 uint8 BGR image at `dpi`."""
    bitmap = page.render(scale=dpi / 72.0)
    img = bitmap.to_numpy()
    if img.ndim == 2:
        img = np.stack([img] * 3, -1)
    return np.ascontiguousarray(img[:, :, :3][:, :, ::-1]) if bitmap.mode in ("RGB", "RGBA", "RGBX") else \
        np.ascontiguousarray(img[:, :, :3])


def page_words(page, geom: PageGeometry) -> list[Word]:
    """Words of the text layer in pixels (loose glyph boxes; split at whitespace and at line changes)."""
    import pypdfium2.raw as raw

    tp = page.get_textpage()
    n = tp.count_chars()
    words: list[Word] = []
    cur: list[tuple[str, tuple[float, float, float, float]]] = []

    def flush() -> None:
        if cur:
            xs1 = min(b[0] for _, b in cur)
            ys1 = min(b[1] for _, b in cur)
            xs2 = max(b[2] for _, b in cur)
            ys2 = max(b[3] for _, b in cur)
            words.append(Word(xs1, ys1, xs2, ys2, "".join(ch for ch, _ in cur)))
            cur.clear()

    for i in range(n):
        ch = chr(raw.FPDFText_GetUnicode(tp.raw, i))
        if ch == "\x02":  # pdfium: a line-end hyphen
            ch = "-"
        elif ch < " " and not ch.isspace():
            continue
        if ch.isspace() or ch in "\x00\ufffe\uffff":
            flush()
            continue
        box = geom.unrotated_to_px(tp.get_charbox(i, loose=True))
        if cur:
            pb = cur[-1][1]
            ov = min(box[3], pb[3]) - max(box[1], pb[1])
            if ov < 0.5 * min(box[3] - box[1], pb[3] - pb[1]) or box[0] < pb[0] - 1 or \
                    box[0] - pb[2] > 0.25 * (box[3] - box[1]):
                flush()
        cur.append((ch, box))
    flush()
    tp.close()
    return words
