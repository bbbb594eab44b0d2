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
from .metrics import adjacency_prf, adjacency_scores, box_iou, ctdar_scores, detection_scores, match_boxes, teds
from .pipeline import DEFAULT_DETECTOR, IMAGE_SUFFIXES, ParseOptions, parse_path, read_regions
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


def _dedupe(tables: list[Table], min_iou: float = 0.9) -> list[Table]:
    """Tables of one document without repeats (NAMEa/NAMEb parts outlining one table on the same page)."""
    out: list[Table] = []
    for t in tables:
        if not any(q.page == t.page and q.bbox and t.bbox and box_iou(q.bbox, t.bbox) > min_iou for q in out):
            out.append(t)
    return out


def parse_document(pdf: Path, parser, mode: str = "pdf", dpi: float = 150.0, ocr: str = "rapidocr",
                   detector: str = DEFAULT_DETECTOR) -> list[Table]:
    """Tables of a whole PDF without regions: `pdf` = its text layer; `image` = every page rendered at `dpi` and
    parsed as a page image (OCR `ocr`). Tables found by `detector`; boxes in PDF points either way."""
    if mode == "pdf":
        return parse_path(pdf, parser, ParseOptions(ocr="pdf", dpi=dpi, detector=detector))
    from .pdf import open_pdf, page_geometry, render_page
    from .pipeline import parse_image_array

    doc = open_pdf(pdf)
    out = []
    for pno in range(1, len(doc) + 1):
        page = doc[pno - 1]
        geom = page_geometry(page, dpi)
        for t in parse_image_array(render_page(page, dpi), parser, ParseOptions(ocr=ocr, dpi=dpi, detector=detector)):
            t.page, t.coord_space = pno, "pdf"
            t.bbox = geom.box_to_pdf(t.bbox) if t.bbox is not None else None
            for c in t.cells:
                c.bbox = geom.box_to_pdf(c.bbox) if c.bbox is not None else None
            out.append(t)
    doc.close()
    return out


def _text_layer_boxes(pdf: Path, pages: set[int], dpi: float = 72.0) -> dict[int, list]:
    """Word boxes of the PDF text layer in PDF points, per page (the sub-objects of completeness and purity)."""
    from .pdf import open_pdf, page_geometry, page_words

    doc = open_pdf(pdf)
    out = {}
    for pno in pages:
        geom = page_geometry(doc[pno - 1], dpi)
        out[pno] = [geom.box_to_pdf((w.x1, w.y1, w.x2, w.y2)) for w in page_words(doc[pno - 1], geom)]
    doc.close()
    return out


def evaluate_detection(root: str | Path, parser, mode: str = "pdf", dpi: float = 150.0, ocr: str = "rapidocr",
                       progress: Callable[[str], None] | None = None, limit: int | None = None,
                       detector: str = DEFAULT_DETECTOR) -> dict:
    """Whole documents without regions (`parse_document`), scored by `score_documents`."""
    items, seconds = [], 0.0
    for pdf, regs, strs in icdar2013_documents(Path(root))[:limit]:
        t0 = time.perf_counter()
        preds = parse_document(pdf, parser, mode, dpi, ocr, detector)
        seconds += time.perf_counter() - t0
        items.append((pdf, regs, strs, preds))
        if progress:
            progress(f"{pdf.stem}: {len(preds)} detected")
    out = score_documents(items)
    out["mode"] = mode
    out["seconds_per_document"] = seconds / max(len(items), 1)
    return out


def score_documents(items: list[tuple[Path, list[Path], list[Path], list[Table]]]) -> dict:
    """Scores of predicted tables (page, bbox in PDF points, cells) of whole ICDAR-2013 documents (pdf, region files,
    structure files, predictions): table detection (P/R/F1 at IoU 0.5, completeness, purity) and end-to-end
    adjacency P/R/F1 (each GT table paired with the detected table overlapping it most, IoU >= 0.2; a GT table
    without one scores zero recall, a detected table without a GT table zero precision)."""
    det_pages, pairs, per_doc = [], [], []
    for pdf, regs, strs, preds in items:
        gt_regions = read_regions(regs, pdf)
        gt_tables = _dedupe([t for s in strs for t in read_icdar2013_str(s)])
        pages = {t.page for t in gt_regions} | {t.page for t in preds} | {t.page for t in gt_tables}
        words = _text_layer_boxes(pdf, pages)
        for pno in sorted(pages):
            pp = [t for t in preds if t.page == pno and t.bbox is not None]
            det_pages.append(([t.bbox for t in pp], [r.bbox for r in gt_regions if r.page == pno], words[pno]))
            gg = [t for t in gt_tables if t.page == pno]
            m = match_boxes([t.bbox for t in pp], [t.bbox or (0, 0, 0, 0) for t in gg], 0.2)
            pairs += [(pp[i], gg[j]) for i, j, _ in m]
            pairs += [(Table([]), g) for j, g in enumerate(gg) if j not in {b for _, b, _ in m}]
            pairs += [(p, Table([])) for i, p in enumerate(pp) if i not in {a for a, _, _ in m}]
        per_doc.append({"document": pdf.stem, "n_pred": len(preds), "n_gt": len(gt_regions),
                        "pred_pages": [t.page for t in preds]})
    adj = adjacency_scores(pairs)
    return {"detection": detection_scores(det_pages), "end_to_end": {"micro": adj["micro"], "macro": adj["macro"]},
            "n_tables": sum(d["n_gt"] for d in per_doc), "per_document": per_doc}


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


def run_evaluation(dataset: str, root: str | Path, parser, *, model: str, ocr: str | None = None,
                   dpi: float = 150.0, limit: int | None = None, detection: bool = False,
                   progress: Callable[[str], None] | None = None, detector: str = DEFAULT_DETECTOR
                   ) -> tuple[dict, list]:
    """`cvkit evaluate parse-table`: the summary (scores, which regions, dataset, model, ocr) and the per-table
    (per-document with `detection`) scores. ArgumentError for an unknown dataset or --detection off icdar2013."""
    from ..errors import ArgumentError

    if dataset not in DATASETS:
        raise ArgumentError(f"--dataset {dataset!r}: use one of {', '.join(DATASETS)}")
    if detection and dataset != "icdar2013":
        raise ArgumentError("--detection scores ICDAR-2013 documents (--dataset icdar2013)")
    ocr = ocr or ("pdf" if dataset == "icdar2013" else "auto")
    if detection:
        mode = "pdf" if ocr == "pdf" else "image"
        scores = evaluate_detection(root, parser, mode=mode, dpi=dpi, ocr=ocr if mode == "image" else "rapidocr",
                                    progress=progress, limit=limit, detector=detector)
        scores["detector"] = detector
        scores["per_table"] = scores.pop("per_document")
    else:
        kw = {"ocr": ocr, "dpi": dpi} if dataset == "icdar2013" else {"ocr": ocr}
        scores = evaluate(dataset, root, parser, limit=limit, progress=progress, **kw)
    summary = {k: v for k, v in scores.items() if k != "per_table"}
    summary["regions"] = "detected" if detection else "ground truth"
    summary.update({"dataset": dataset, "model": model, "ocr": ocr})
    return summary, scores.get("per_table", [])


def score_model(dataset: str, root: str | Path, model: str, device: object = None, *,
                per_table: Path | None = None, **options) -> dict:
    """`cvkit evaluate parse-table`: build `model` on `device` and `run_evaluation` with `options` (the dataset
    checked first, before any model loads); the per-table scores go to `per_table` (JSON) when given."""
    from ..errors import ArgumentError
    from ..io.atomic import write_text_atomic
    from . import registry

    if dataset not in DATASETS:
        raise ArgumentError(f"--dataset {dataset!r}: use one of {', '.join(DATASETS)}")
    summary, per = run_evaluation(dataset, root, registry.build_parser(model, device), model=model, **options)
    if per_table is not None:
        write_text_atomic(per_table, json.dumps(per, indent=1) + "\n")
    return summary


def metric_rows(summary: dict, prefix: str = "") -> list[tuple[str, float]]:
    """(name, value) of every number in a summary, nested dicts flattened to 'key subkey ...' (for a table)."""
    rows: list[tuple[str, float]] = []
    for k, v in summary.items():
        if isinstance(v, dict):
            rows += metric_rows(v, f"{prefix}{k} ")
        elif isinstance(v, float):
            rows.append((f"{prefix}{k}", v))
    return rows


__all__ = ["DATASETS", "adjacency_prf", "evaluate", "evaluate_ctdar", "evaluate_icdar2013", "evaluate_pubtabnet",
           "metric_rows", "run_evaluation", "score_model"]
