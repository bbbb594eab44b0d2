"""From files to tables: images, pages of PDFs, regions, content boxes (text layer or OCR), rule evidence.

`parse_path(path, options)` returns the tables of one input file. Table regions come from `--region`
(x,y,w,h pixels of the image / of the page rendered at `dpi`), from ICDAR-2013 `-reg.xml` files, or, when
neither is given, from table detection on each page (`detect.py`: text-layer or OCR lines + ruling lines);
`detect=False` takes the whole image/page as one table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ArgumentError, InputError
from .features import text_height
from .rules import rule_masks
from .table import Table
from .words import Word, boxes_array, merge_words

DEFAULT_DETECTOR = "auto"
DETECTORS = ("auto", "rules", "learned", "combined", "rcnn")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}
INPUT_SUFFIXES = IMAGE_SUFFIXES | {".pdf"}
NUMERIC = re.compile(r"^[\s\d.,%()+\-–−$€£*/:<>=]+$")


@dataclass
class ParseOptions:
    """What to parse and how."""

    ocr: str = "auto"
    dpi: float = 150.0
    pages: str | None = None
    region: tuple[float, float, float, float] | None = None  # x, y, w, h pixels
    regions_xml: Path | list[Path] | None = None  # ICDAR-2013 -reg.xml file(s) of the PDF
    merge_gap: float = 0.5
    detect: bool = True  # no region given: find the tables (detect.py); False: the whole image/page is one table
    detector: str = DEFAULT_DETECTOR  # auto, rules (detect.py), learned (table-heat), combined, rcnn (table-rcnn)

    def __post_init__(self) -> None:
        if self.detector not in DETECTORS:
            raise ArgumentError(f"--detector {self.detector!r}: use one of {', '.join(DETECTORS)}")


def parse_region_arg(text: str | None) -> tuple[float, float, float, float] | None:
    """'x,y,w,h' -> tuple (ArgumentError when malformed or empty)."""
    if text is None:
        return None
    try:
        x, y, w, h = (float(v) for v in text.split(","))
    except ValueError:
        raise ArgumentError(f"--region {text!r}: expected X,Y,W,H in pixels") from None
    if not all(np.isfinite((x, y, w, h))) or w <= 0 or h <= 0:
        raise ArgumentError(f"--region {text!r}: expected finite numbers, width and height positive")
    return x, y, w, h


def read_image_checked(path: Path) -> np.ndarray:
    """BGR image (InputError, exit 3, when unreadable, empty or declaring a huge size)."""
    from ..io.images import read_image

    return read_image(path)


def _numeric_row(table: Table, r: int) -> bool:
    """Are most non-empty cells that start in row r numbers?"""
    texts = [c.text for c in table.cells if c.sr == r and c.text.strip()]
    return bool(texts) and sum(bool(NUMERIC.match(t)) for t in texts) >= 0.5 * len(texts)


def header_rows(table: Table) -> int:
    """Column-header rows: the first row, extended while a header cell spans down into the next row or a
    column-spanning header cell has two or more cells of the next row under it (multi-level headers); a mostly
    numeric row ends the header, and a table whose first row is mostly numeric (or that has one row) has none."""
    n = table.n_rows
    if n < 2 or _numeric_row(table, 0):
        return 0
    h = 1
    while h < n - 1 and not _numeric_row(table, h):
        above = [c for c in table.cells if c.sr < h]
        below = [c for c in table.cells if c.sr == h and c.text.strip()]
        groups = any(c.er == h - 1 and c.colspan > 1 and sum(c.sc <= b.sc and b.ec <= c.ec for b in below) >= 2
                     for c in above)
        if groups or any(c.er >= h for c in above):
            h += 1
        else:
            break
    return h


def _inside(words: list[Word], box: tuple[float, float, float, float], pad: float = 2.0) -> list[Word]:
    x1, y1, x2, y2 = box
    return [w for w in words if x1 - pad <= (w.x1 + w.x2) / 2 <= x2 + pad and y1 - pad <= (w.y1 + w.y2) / 2 <= y2 + pad]


def parse_words(parser, words: list[Word], img: np.ndarray | None, box: tuple[float, float, float, float] | None,
                merge_gap: float = 0.5) -> Table:
    """One table from the words inside `box` (pixels) and the rule evidence of the image around it."""
    from .features import RuleMasks

    if box is not None:
        words = _inside(words, box)
    if getattr(parser, "needs_image", False) and img is not None:
        return _parse_with_detector(parser, words, img, box)
    chunks = merge_words(words, merge_gap)
    if not chunks:
        return Table([], box)
    if img is not None:
        b = boxes_array(chunks)
        m = 1.5 * text_height(b)
        x1, y1 = max(0, int(b[:, 0].min() - m)), max(0, int(b[:, 1].min() - m))
        x2, y2 = min(img.shape[1], int(b[:, 2].max() + m) + 1), min(img.shape[0], int(b[:, 3].max() + m) + 1)
        if box is not None:
            x1, y1 = max(0, min(x1, int(box[0]) - 2)), max(0, min(y1, int(box[1]) - 2))
            x2, y2 = min(img.shape[1], max(x2, int(box[2]) + 3)), min(img.shape[0], max(y2, int(box[3]) + 3))
        masks = rule_masks(img[y1:y2, x1:x2], origin=(float(x1), float(y1)))
    else:
        masks = RuleMasks.empty()
    table = parser.parse(chunks, masks)
    table.bbox = box if box is not None else tuple(float(v) for v in (
        min(c.x1 for c in chunks), min(c.y1 for c in chunks), max(c.x2 for c in chunks), max(c.y2 for c in chunks)))
    table.header_rows = header_rows(table)
    return table


def _parse_with_detector(parser, words: list[Word], img: np.ndarray,
                         box: tuple[float, float, float, float] | None) -> Table:
    """Image models (TabStruct-Net): detect cells in the crop, words fill their text; boxes back in page pixels."""
    x1, y1 = (max(0, int(box[0])), max(0, int(box[1]))) if box is not None else (0, 0)
    x2, y2 = (int(box[2]) + 1, int(box[3]) + 1) if box is not None else (img.shape[1], img.shape[0])
    shifted = [Word(w.x1 - x1, w.y1 - y1, w.x2 - x1, w.y2 - y1, w.text) for w in words]
    table = parser.parse_image(img[y1:y2, x1:x2], shifted)
    for c in table.cells:
        if c.bbox is not None:
            c.bbox = (c.bbox[0] + x1, c.bbox[1] + y1, c.bbox[2] + x1, c.bbox[3] + y1)
    table.bbox = (float(x1), float(y1), float(x2), float(y2))
    table.header_rows = header_rows(table)
    return table


def _region_boxes(options: ParseOptions, img: np.ndarray) -> list[tuple[float, float, float, float]]:
    if options.region is not None:
        x, y, w, h = options.region
        if x >= img.shape[1] or y >= img.shape[0] or x + w <= 0 or y + h <= 0:
            raise ArgumentError(f"--region {x:g},{y:g},{w:g},{h:g} lies outside the "
                                f"{img.shape[1]}x{img.shape[0]} image")
        return [(x, y, x + w, y + h)]
    return []


# The learned detector saw whole pages only: text lines 14-22 px high on a 1754 px long side (synthetic_page.py).
# Text lines more than twice that tall relative to the image (a table crop, a zoomed photo) are outside its range.
PAGE_TEXT_RATIO_MAX = 2 * 22 / 1754


def looks_like_page(words: list[Word], img: np.ndarray) -> bool:
    """Whether the text lines are page-sized relative to the image (median line height / long side within the
    learned detector's training range); False without words."""
    if not words:
        return False
    heights = np.array([w.y2 - w.y1 for w in words], dtype=float)
    return float(np.median(heights)) / max(img.shape[:2]) <= PAGE_TEXT_RATIO_MAX


def resolve_detector(detector: str, text_layer: bool, words: list[Word] | None = None,
                     img: np.ndarray | None = None) -> str:
    """`auto` -> the detector that measures best for where the words come from (docs/parse-table.md, ICDAR-2013
    EU): `rules` on a PDF's text layer, `combined` on the OCR text lines of a page image or scanned page, `rules`
    again on an image that is not a page (a table crop: `looks_like_page`)."""
    if detector not in DETECTORS:
        raise ArgumentError(f"--detector {detector!r}: use one of {', '.join(DETECTORS)}")
    if detector != "auto":
        return detector
    if text_layer:
        return "rules"
    return "combined" if img is not None and looks_like_page(words or [], img) else "rules"


def page_tables(words: list[Word], img: np.ndarray, detector: str = "rules", *,
                text_layer: bool = False) -> list[tuple[float, float, float, float]]:
    """Detected table boxes (pixels) of a page image and its words (`text_layer`: a PDF's text layer, else OCR
    lines): `rules` = the training-free detector (detect.py), `learned` = the table-heat heatmap's boxes snapped to
    the words (those with table rows, `has_rows`), `combined` = the rule boxes the heatmap supports plus learned
    boxes with rows that overlap none of them (`table_detector.combine`; settings chosen on rendered synthetic
    pages), `rcnn` = the table-rcnn Mask R-CNN's boxes, post-processed as `learned` (`table_rcnn.postprocess`),
    `auto` = `resolve_detector`."""
    from .detect import _text_height, detect_tables, graphics_boxes, rule_frames, rule_segments

    detector = resolve_detector(detector, text_layer, words, img)
    if detector == "rcnn":
        from .registry import table_rcnn

        return table_rcnn().boxes(img, words or None)
    rules = [] if detector == "learned" else detect_tables(
        words, rule_segments(img), rule_frames(img), graphics_boxes(img, _text_height(words)))
    if detector == "rules":
        return rules
    from .registry import table_detector
    from .table_detector import combine, has_rows, heat_boxes, refine_boxes

    det = table_detector()
    prob, scale = det.heatmap(img)
    learned = [b for b, _ in heat_boxes(prob, scale, det.threshold)]
    if not words:
        return learned if detector == "learned" else combine(rules, learned, prob, scale, det.veto)
    learned = refine_boxes(learned, words)
    if detector == "learned":
        return [b for b in learned if has_rows(b, words)]
    return combine(rules, learned, prob, scale, det.veto, words=words)


def layout_words(img: np.ndarray, engine: str = "auto") -> list[Word]:
    """Text-line boxes of a page image without reading them (rapidocr's text detector only; with --ocr none or
    tesseract, ink components joined along lines): what table detection needs on images and scans, so that
    text recognition runs only on the tables found."""
    from .ocr import text_lines

    return text_lines(img, engine)


def parse_image(path: Path, parser, options: ParseOptions) -> list[Table]:
    """Tables of an image: the given region; else the tables detected on it; with detect=False the whole image."""
    return parse_image_array(read_image_checked(path), parser, options)


def parse_image_array(img: np.ndarray, parser, options: ParseOptions) -> list[Table]:
    """`parse_image` of an image already in memory (BGR): tables in its pixels."""
    from .ocr import ocr_words

    engine = "auto" if options.ocr == "pdf" else options.ocr
    boxes: list = _region_boxes(options, img)
    if not boxes and options.detect:
        boxes = page_tables(layout_words(img, engine), img, options.detector)
        if not boxes:
            return []
    tables = []
    for box in boxes or [None]:
        crop, off = img, (0.0, 0.0)
        if box is not None:
            x1, y1 = max(0, int(box[0])), max(0, int(box[1]))
            crop, off = img[y1:int(box[3]) + 1, x1:int(box[2]) + 1], (float(x1), float(y1))
        words = ocr_words(crop, engine)
        for w in words:
            w.x1, w.x2, w.y1, w.y2 = w.x1 + off[0], w.x2 + off[0], w.y1 + off[1], w.y2 + off[1]
        tables.append(parse_words(parser, words, img, box, options.merge_gap))
    return tables


def read_regions(paths: Path | list[Path], pdf: Path | None = None) -> list[Table]:
    """Table regions of one or more ICDAR-2013 -reg.xml files of one PDF (NAMEa/NAMEb parts); a region that
    repeats another on the same page (IoU > 0.9) is kept once, the larger box. Boxes are as the files give them;
    with `pdf`, in the upright frame of structure files and of cvkit's output (they differ on rotated pages)."""
    from .formats import read_icdar2013_reg
    from .metrics import box_iou

    out: list[Table] = []
    for p in [paths] if isinstance(paths, (str, Path)) else paths:
        for r in read_icdar2013_reg(p):
            dup = next((k for k, q in enumerate(out) if q.page == r.page and box_iou(q.bbox, r.bbox) > 0.9), None)
            if dup is None:
                out.append(r)
            elif _area(r.bbox) > _area(out[dup].bbox):
                out[dup] = r
    if pdf is not None:
        from .pdf import open_pdf, page_geometry

        doc = open_pdf(pdf)
        for r in out:
            if r.bbox is not None and 1 <= r.page <= len(doc):
                r.bbox = page_geometry(doc[r.page - 1], 72.0).region_to_upright(r.bbox)
        doc.close()
    return out


def _area(b: tuple[float, float, float, float]) -> float:
    return abs(b[2] - b[0]) * abs(b[3] - b[1])


def parse_pdf(path: Path, parser, options: ParseOptions) -> list[Table]:
    """Tables of a PDF's pages in PDF coordinates (text layer words, or OCR of the rendered page)."""
    from .ocr import ocr_words
    from .pdf import open_pdf, page_geometry, page_words, parse_pages, render_page

    doc = open_pdf(path)
    regions = read_regions(options.regions_xml, path) if options.regions_xml else None
    pages = parse_pages(options.pages, len(doc))
    if regions is not None and not options.pages:
        pages = sorted({r.page for r in regions})
    tables: list[Table] = []
    for pno in pages:
        if pno > len(doc):
            src = options.regions_xml if isinstance(options.regions_xml, Path) else options.regions_xml[0]
            raise InputError(src, f"region on page {pno} but {path.name} has {len(doc)} pages")
        page = doc[pno - 1]
        geom = page_geometry(page, options.dpi)
        img = render_page(page, options.dpi)
        words = page_words(page, geom) if options.ocr in ("auto", "pdf") else []
        use_ocr = not words and options.ocr != "pdf"
        if regions is not None:
            boxes = [geom.box_to_px(r.bbox) for r in regions if r.page == pno]
        else:
            boxes = _region_boxes(options, img)
            if not boxes and options.detect:  # a scanned page: find the tables without reading the text first
                engine = "auto" if options.ocr in ("auto", "pdf") else options.ocr
                boxes = page_tables(layout_words(img, engine) if use_ocr else words, img, options.detector,
                                    text_layer=not use_ocr)
            elif not boxes:
                boxes = [None]
        for box in boxes:
            if use_ocr:
                x1, y1 = (max(0, int(box[0]) - 4), max(0, int(box[1]) - 4)) if box else (0, 0)
                crop = img[y1:int(box[3]) + 5, x1:int(box[2]) + 5] if box else img
                words_b = ocr_words(crop, "auto" if options.ocr in ("auto", "pdf") else options.ocr)
                for w in words_b:
                    w.x1, w.x2, w.y1, w.y2 = w.x1 + x1, w.x2 + x1, w.y1 + y1, w.y2 + y1
            else:
                words_b = words
            t = parse_words(parser, words_b, img, box, options.merge_gap)
            t.page = pno
            t.coord_space = "pdf"
            t.bbox = geom.box_to_pdf(t.bbox) if t.bbox is not None else None
            for c in t.cells:
                if c.bbox is not None:
                    c.bbox = geom.box_to_pdf(c.bbox)
            tables.append(t)
    doc.close()
    return tables


def parse_path(path: str | Path, parser, options: ParseOptions | None = None) -> list[Table]:
    """Tables of one input file (image or PDF); InputError for unreadable or unsupported files."""
    path = Path(path)
    options = options or ParseOptions()
    if not path.is_file():
        raise InputError(path, "no such file")
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return parse_pdf(path, parser, options)
    if suffix in IMAGE_SUFFIXES:
        if options.regions_xml is not None:
            raise ArgumentError(f"{options.regions_xml}: -reg.xml regions are in PDF points; use them with a PDF")
        return parse_image(path, parser, options)
    raise InputError(path, f"unsupported input type {suffix!r} (use an image or a PDF)")
