"""Dataset layouts for training and evaluation: PubTabNet, ICDAR-2013, SciTSR (and the synthetic generator).

Each reader yields `TableImage`s: a table-crop image (BGR) and its cells (pixel boxes of that image, start/end
row/column, text). Boxes are content boxes where the dataset gives content boxes (all three do); cells
without a box (empty PubTabNet cells, unmatched SciTSR cells) are kept with bbox None for the structure.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ArgumentError, InputError
from .synthetic import SynthSample, synth_table  # noqa: F401  (re-exported: the synthetic generator)
from .table import Cell, Table

LAYOUTS = ("synthetic", "pubtabnet", "icdar2013", "scitsr")


@dataclass
class TableImage:
    """A table crop and its ground-truth cells in the crop's pixels."""

    image: np.ndarray
    table: Table
    name: str = ""


def parse_data_spec(spec: str) -> tuple[str, Path | None]:
    """'synthetic' or 'LAYOUT:DIR' -> (layout, folder)."""
    if spec == "synthetic":
        return "synthetic", None
    layout, _, folder = spec.partition(":")
    if layout not in LAYOUTS or not folder:
        raise ArgumentError(f"--data {spec!r}: use synthetic, scitsr:DIR, pubtabnet:DIR or icdar2013:DIR")
    if not Path(folder).is_dir():
        raise ArgumentError(f"--data {spec!r}: {folder} is not a folder")
    return layout, Path(folder)


# ------------------------------------------------------------------------------------------- PubTabNet

_SPAN = re.compile(r'(rowspan|colspan)="?(\d+)"?')


def pubtabnet_cells(structure_tokens: list[str], cells: list[dict]) -> list[Cell]:
    """Grid cells of a PubTabNet annotation: structure tokens give rows/spans, cell i fills the i-th td."""
    out: list[Cell] = []
    taken: set[tuple[int, int]] = set()
    r, c, k = -1, 0, 0
    pending: dict | None = None
    for tok in structure_tokens:
        if tok == "<tr>":
            r, c = r + 1, 0
        elif tok in ("<td>", "<td"):
            pending = {"rowspan": 1, "colspan": 1}
            if tok == "<td>":
                tok = ">"
        if pending is not None and tok.strip().startswith(("rowspan", "colspan")):
            m = _SPAN.search(tok)
            if m:
                pending[m.group(1)] = int(m.group(2))
        if pending is not None and tok == ">":
            while (r, c) in taken:
                c += 1
            rs, cs = pending["rowspan"], pending["colspan"]
            info = cells[k] if k < len(cells) else {}
            bbox = tuple(float(v) for v in info["bbox"]) if "bbox" in info else None
            text = "".join(t for t in info.get("tokens", []) if not (t.startswith("<") and t.endswith(">")))
            out.append(Cell(r, r + rs - 1, c, c + cs - 1, bbox, text))
            taken.update((r + i, c + j) for i in range(rs) for j in range(cs))
            c += cs
            k += 1
            pending = None
    return out


def read_pubtabnet(root: Path, split: str = "train") -> Iterator[TableImage]:
    """PubTabNet 2.0 (`PubTabNet_2.0.0.jsonl` + `train/`, `val/`): table crops with cell content boxes."""
    from .pipeline import read_image_checked

    jsonl = next(iter(sorted(Path(root).glob("*.jsonl"))), None)
    if jsonl is None:
        raise InputError(root, "no PubTabNet .jsonl annotation file")
    with open(jsonl) as f:
        for line in f:
            d = json.loads(line)
            if d.get("split", split) != split:
                continue
            img_path = Path(root) / d.get("split", split) / d["filename"]
            if not img_path.exists():
                continue
            cells = pubtabnet_cells(d["html"]["structure"]["tokens"], d["html"]["cells"])
            yield TableImage(read_image_checked(img_path), Table(cells), d["filename"])


# ------------------------------------------------------------------------------------------ ICDAR-2013


def read_icdar2013(root: Path, dpi: float = 150.0, margin_pt: float = 6.0) -> Iterator[TableImage]:
    """ICDAR-2013 PDFs rendered at `dpi`, cropped to each `-reg.xml` region (+ margin), GT cells in crop pixels."""
    from .evaluate import icdar2013_items
    from .formats import read_icdar2013_reg, read_icdar2013_str
    from .pdf import open_pdf, page_geometry, render_page

    for pdf, reg, gt_path in icdar2013_items(Path(root)):
        doc = open_pdf(pdf)
        regions, gts = read_icdar2013_reg(reg), read_icdar2013_str(gt_path)
        for k, (region, gt) in enumerate(zip(regions, gts, strict=False)):
            page = doc[region.page - 1]
            geom = page_geometry(page, dpi)
            img = render_page(page, dpi)
            x1, y1, x2, y2 = geom.box_to_px(region.bbox)
            m = margin_pt * geom.scale
            x1, y1 = max(0, int(x1 - m)), max(0, int(y1 - m))
            x2, y2 = min(img.shape[1], int(x2 + m)), min(img.shape[0], int(y2 + m))
            cells = []
            for c in gt.cells:
                b = None
                if c.bbox is not None:
                    bx = geom.box_to_px(c.bbox)
                    b = (bx[0] - x1, bx[1] - y1, bx[2] - x1, bx[3] - y1)
                cells.append(Cell(c.sr, c.er, c.sc, c.ec, b, c.text))
            yield TableImage(img[y1:y2, x1:x2], Table(cells), f"{pdf.stem}#{k + 1}")
        doc.close()


# ---------------------------------------------------------------------------------------------- SciTSR


def read_scitsr(root: Path, split: str = "train") -> Iterator[TableImage]:
    """SciTSR (`{split}/img`, `structure`, `chunk`, `pdf`): cell boxes = union of the chunks matched by text.

    SciTSR has no cell coordinates; chunks (PDF points, y up) are matched to cells whose whitespace-free
    content contains the chunk text (first unmatched cell in reading order). Noisy, as the spec warns.
    """
    from .pdf import open_pdf
    from .pipeline import read_image_checked

    base = Path(root) / split if (Path(root) / split).is_dir() else Path(root)
    for sfile in sorted((base / "structure").glob("*.json")):
        sid = sfile.stem
        img_path = next((p for p in (base / "img").glob(f"{sid}.*")), None)
        chunk_path, pdf_path = base / "chunk" / f"{sid}.chunk", base / "pdf" / f"{sid}.pdf"
        if img_path is None or not chunk_path.exists() or not pdf_path.exists():
            continue
        img = read_image_checked(img_path)
        doc = open_pdf(pdf_path)
        pw, ph = doc[0].get_size()
        doc.close()
        s = img.shape[1] / pw
        structure = json.loads(sfile.read_text())["cells"]
        chunks = json.loads(chunk_path.read_text())["chunks"]
        texts = ["".join("".join(c.get("content", [])).split()) for c in structure]
        boxes: list[list[float] | None] = [None] * len(structure)
        for ch in chunks:
            t = "".join(str(ch.get("text", "")).split())
            x1, x2, y1, y2 = ch["pos"]
            b = [x1 * s, (ph - max(y1, y2)) * s, x2 * s, (ph - min(y1, y2)) * s]
            for k, ct in enumerate(texts):
                if t and t in ct:
                    cur = boxes[k]
                    boxes[k] = b if cur is None else [min(cur[0], b[0]), min(cur[1], b[1]), max(cur[2], b[2]),
                                                      max(cur[3], b[3])]
                    break
        cells = [Cell(c["start_row"], c["end_row"], c["start_col"], c["end_col"],
                      None if boxes[k] is None else tuple(boxes[k]), " ".join(c.get("content", [])))
                 for k, c in enumerate(structure)]
        yield TableImage(img, Table(cells), sid)


def read_layout(layout: str, root: Path) -> Iterator[TableImage]:
    """Table images of a dataset layout (not 'synthetic', which yields content-box graphs)."""
    if layout == "pubtabnet":
        return read_pubtabnet(root)
    if layout == "icdar2013":
        return read_icdar2013(root)
    if layout == "scitsr":
        return read_scitsr(root)
    raise ArgumentError(f"layout {layout!r} has no image reader; use one of pubtabnet, icdar2013, scitsr")
