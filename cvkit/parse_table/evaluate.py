"""Run a structure parser over a dataset layout and score it with the official metrics.

- icdar2013: `NAME.pdf` + `NAME-reg.xml` + `NAME-str.xml`; regions from `-reg.xml`; content boxes from the
  text layer (`ocr="pdf"`) or from OCR of the page rendered at `dpi`; adjacency P/R/F1 (content-matched).
- pubtabnet: `sample_gt.json` ({file: {"html"}}) + images in `mini_val/` (or beside it), or
  `PubTabNet_2.0.0.jsonl` + `val/`; TEDS and TEDS-Struct.
- ctdar: `*.jpg|png` + same-stem `.xml`; cTDaR micro F1 at IoU 0.6-0.9 and WAvg.F1 (GT regions given).
"""

from __future__ import annotations

import glob
import json
import re
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import InputError
from .formats import html_text, read_ctdar, read_icdar2013_str
from .metrics import adjacency_prf, adjacency_scores, ctdar_scores, teds
from .pipeline import IMAGE_SUFFIXES, ParseOptions, parse_path
from .table import Table

DATASETS = ("icdar2013", "pubtabnet", "ctdar")


_PART = re.compile(r"^(.*\d)([a-z])$")  # eu-009a / eu-009b: two structure files of one document


def pdf_for_stem(folder: Path, stem: str) -> Path | None:
    """The PDF of an ICDAR-2013 file stem: STEM.pdf, or for a NAMEa/NAMEb part NAME.pdf or a sibling part's PDF."""
    pdf = folder / f"{stem}.pdf"
    if pdf.exists():
        return pdf
    m = _PART.match(stem)
    if m is None:
        return None
    base = folder / f"{m.group(1)}.pdf"
    if base.exists():
        return base
    return next(iter(sorted(folder.glob(f"{glob.escape(m.group(1))}[a-z].pdf"))), None)


def regions_beside(pdf: Path) -> list[Path]:
    """ICDAR-2013 region files that belong to `pdf`: NAME-reg.xml, plus NAMEx-reg.xml parts sharing the PDF."""
    out = []
    for reg in sorted(pdf.parent.glob("*-reg.xml")):
        stem = reg.name[: -len("-reg.xml")]
        if pdf_for_stem(pdf.parent, stem) == pdf:
            out.append(reg)
    return out


def icdar2013_items(root: Path) -> list[tuple[Path, Path, Path]]:
    """(pdf, reg, str) triples of an ICDAR-2013 folder; NAMEa/NAMEb structure files share one PDF (GT without a PDF
    is skipped)."""
    items = []
    for s in sorted(Path(root).rglob("*-str.xml")):
        stem = s.name[: -len("-str.xml")]
        pdf, reg = pdf_for_stem(s.parent, stem), s.with_name(stem + "-reg.xml")
        if pdf is not None and reg.exists():
            items.append((pdf, reg, s))
    if not items:
        raise InputError(root, "no NAME.pdf + NAME-reg.xml + NAME-str.xml triples (ICDAR-2013 layout)")
    return items


def icdar2013_documents(root: Path) -> list[tuple[Path, list[Path], list[Path]]]:
    """(pdf, its region files, its structure files) per document: the unit of whole-document detection scoring."""
    docs: dict[Path, tuple[list[Path], list[Path]]] = {}
    for pdf, reg, gt in icdar2013_items(root):
        regs, gts = docs.setdefault(pdf, ([], []))
        regs.append(reg)
        gts.append(gt)
    return [(pdf, regs, gts) for pdf, (regs, gts) in docs.items()]


def evaluate_icdar2013(root: str | Path, parser, ocr: str = "pdf", dpi: float = 150.0,
                       progress: Callable[[str], None] | None = None, limit: int | None = None) -> dict:
    """Adjacency P/R/F1 on an ICDAR-2013 folder; per table, micro (summed) and macro (mean)."""
    pairs: list[tuple[Table, Table]] = []
    names: list[str] = []
    seconds = 0.0
    for pdf, reg, gt_path in icdar2013_items(Path(root))[:limit]:
        gt = read_icdar2013_str(gt_path)
        t0 = time.perf_counter()
        pred = parse_path(pdf, parser, ParseOptions(ocr=ocr, dpi=dpi, regions_xml=reg))
        seconds += time.perf_counter() - t0
        for k, g in enumerate(gt):
            pairs.append((pred[k] if k < len(pred) else Table([]), g))
            names.append(f"{pdf.stem}#{k + 1}")
        if progress:
            progress(pdf.stem)
    scores = adjacency_scores(pairs)
    for name, row in zip(names, scores["per_table"], strict=False):
        row["table"] = name
    scores["n_tables"] = len(pairs)
    scores["seconds_per_table"] = seconds / max(len(pairs), 1)
    return scores


def pubtabnet_items(root: Path) -> list[tuple[Path, str]]:
    """(image, GT html) pairs of a PubTabNet folder (sample_gt.json or PubTabNet_2.0.0.jsonl layouts)."""
    root = Path(root)
    gt_json = root / "sample_gt.json"
    items = []
    if gt_json.exists():
        gt = json.loads(gt_json.read_text())
        for name, v in gt.items():
            img = next((p for p in (root / "mini_val" / name, root / name, root / "val" / name) if p.exists()), None)
            if img is not None:
                items.append((img, v["html"] if isinstance(v, dict) else v))
    else:
        jsonl = next(iter(sorted(root.glob("*.jsonl"))), None)
        if jsonl is None:
            raise InputError(root, "no sample_gt.json or PubTabNet .jsonl annotation file")
        for line in jsonl.read_text().splitlines():
            d = json.loads(line)
            img = root / d.get("split", "val") / d["filename"]
            if img.exists():
                items.append((img, pubtabnet_html(d["html"])))
    if not items:
        raise InputError(root, "no annotated images found (PubTabNet layout)")
    return items


def pubtabnet_html(h: dict) -> str:
    """GT HTML of a PubTabNet annotation (structure tokens with cell tokens filled in)."""
    import html as _html

    tokens = list(h["structure"]["tokens"])
    cells = h["cells"]
    out, k = [], 0
    for tok in tokens:
        out.append(tok)
        if tok in ("<td>", ">") and k < len(cells):
            out.append("".join(cells[k]["tokens"]) if "tokens" in cells[k] else _html.escape(cells[k].get("text", "")))
            k += 1
    return "<html><body><table>" + "".join(out) + "</table></body></html>"


def evaluate_pubtabnet(root: str | Path, parser, ocr: str = "auto", progress: Callable[[str], None] | None = None,
                       limit: int | None = None) -> dict:
    """Mean TEDS and TEDS-Struct of the parser's HTML on PubTabNet images."""
    rows = []
    seconds = 0.0
    for img, gt_html in pubtabnet_items(Path(root))[:limit]:
        t0 = time.perf_counter()
        tables = parse_path(img, parser, ParseOptions(ocr=ocr, detect=False))
        seconds += time.perf_counter() - t0
        pred_html = html_text(tables[:1])
        rows.append({"image": img.name, "teds": teds(pred_html, gt_html),
                     "teds_struct": teds(pred_html, gt_html, True)})
        if progress:
            progress(img.name)
    n = max(len(rows), 1)
    return {"per_table": rows, "teds": sum(r["teds"] for r in rows) / n,
            "teds_struct": sum(r["teds_struct"] for r in rows) / n, "n_tables": len(rows),
            "seconds_per_table": seconds / n}


def evaluate_ctdar(root: str | Path, parser, ocr: str = "auto", progress: Callable[[str], None] | None = None,
                   limit: int | None = None) -> dict:
    """cTDaR-2019 track B1 style: GT table regions given, cells matched by IoU; micro F1s and WAvg.F1."""
    docs = []
    seconds = 0.0
    images = [p for p in sorted(Path(root).rglob("*")) if p.suffix.lower() in IMAGE_SUFFIXES
              and p.with_suffix(".xml").exists()][:limit]
    if not images:
        raise InputError(root, "no image + same-stem .xml pairs (cTDaR layout)")
    for img in images:
        gt = read_ctdar(img.with_suffix(".xml"))
        preds = []
        t0 = time.perf_counter()
        for g in gt:
            region = None
            if g.bbox is not None:
                x1, y1, x2, y2 = g.bbox
                region = (x1, y1, x2 - x1, y2 - y1)
            preds.extend(parse_path(img, parser, ParseOptions(ocr=ocr, region=region, detect=False)))
        seconds += time.perf_counter() - t0
        docs.append((preds, gt))
        if progress:
            progress(img.name)
    out = ctdar_scores(docs)
    out["n_tables"] = sum(len(g) for _, g in docs)
    out["seconds_per_table"] = seconds / max(out["n_tables"], 1)
    return out


def evaluate(dataset: str, root: str | Path, parser, **kw) -> dict:
    """Dispatch to the evaluator of `dataset` (one of DATASETS)."""
    fn = {"icdar2013": evaluate_icdar2013, "pubtabnet": evaluate_pubtabnet, "ctdar": evaluate_ctdar}[dataset]
    return fn(root, parser, **kw)


__all__ = ["DATASETS", "adjacency_prf", "evaluate", "evaluate_ctdar", "evaluate_icdar2013", "evaluate_pubtabnet"]
