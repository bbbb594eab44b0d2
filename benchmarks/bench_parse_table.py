"""Benchmark: cvkit parse-table beside img2table and camelot on the same inputs, in one run; JSON out.

ICDAR-2013 EU (../shared/data/parse-table/icdar2013-eu): every table region of the `-reg.xml` files, scored
with the ICDAR-2013 content-matched adjacency F1 (micro over all tables, and macro), plus seconds per table.
  - cvkit graph-lite on the PDF text layer, and (with --ocr-images) on pages rendered at 150 dpi + rapidocr
  - cvkit line-grid (the classical fallback) on the PDF text layer
  - img2table 2.0.0 (PDF mode, its own text extraction; table chosen by IoU with the GT region)
  - camelot-py 2.0.0 stream and lattice (PDF only; table_areas = the GT region)
PubTabNet mini (with --pubtabnet): cvkit TEDS / TEDS-Struct on the 20 images (rapidocr).

Whole documents without regions (section "detection", same run): cvkit with its table detection on the PDF text
layer (and with --ocr-images on every page rendered at 150 dpi, rapidocr), camelot stream with its own table
detection (no table_areas) and img2table on every page; ICDAR-2013 table detection (precision/recall/F1 at region
IoU 0.5, completeness, purity) and end-to-end adjacency F1, scored by `evaluate.score_documents`.

img2table and camelot pull `opencv-contrib-python`/`opencv-python-headless`, which the project excludes, so
they run in a separate virtual environment given by --peer-python (e.g. `python -m venv /tmp/peers &&
/tmp/peers/bin/pip install img2table==2.0.0 camelot-py==2.0.0`); without it only cvkit is measured.

  .venv/bin/python benchmarks/bench_parse_table.py --peer-python /tmp/peers/bin/python -o bench.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cvkit.parse_table.evaluate import (  # noqa: E402
    evaluate_detection,
    evaluate_icdar2013,
    evaluate_pubtabnet,
    icdar2013_documents,
    icdar2013_items,
    score_documents,
)
from cvkit.parse_table.formats import read_icdar2013_reg, read_icdar2013_str  # noqa: E402
from cvkit.parse_table.metrics import adjacency_scores  # noqa: E402
from cvkit.parse_table.registry import build_parser  # noqa: E402
from cvkit.parse_table.table import Cell, Table  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "parse-table"

PEER_SCRIPT = r'''
import json, sys, time
def _img2table_cells(table):
    """An img2table table's non-empty cells as [row0, row1, col0, col1, text] (a spanning cell repeats its bbox)."""
    cells = {}
    for r, row in enumerate(table.content.values()):
        for c, cell in enumerate(row):
            if cell.value is None or not str(cell.value).strip():
                continue
            k = (cell.bbox.x1, cell.bbox.y1, cell.bbox.x2, cell.bbox.y2)
            if k in cells:
                e = cells[k]
                e[0], e[1], e[2], e[3] = min(e[0], r), max(e[1], r), min(e[2], c), max(e[3], c)
            else:
                cells[k] = [r, r, c, c, str(cell.value)]
    return list(cells.values())

jobs = json.load(open(sys.argv[1]))
out = []

def iou(a, b):
    iw = min(a[2], b[2]) - max(a[0], b[0]); ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)

def grid_cells(rows):
    return [[r, r, c, c, v] for r, row in enumerate(rows) for c, v in enumerate(row) if str(v).strip()]

img2table_cache = {}
if jobs and jobs[0].get("mode") == "detect":  # whole pages, each tool's own table detection
    for job in jobs:
        pdf, page, page_h = job["pdf"], job["page"], job["page_h"]
        res = {"pdf": pdf, "page": page}
        try:
            import camelot
            t0 = time.perf_counter()
            try:
                tabs = camelot.read_pdf(pdf, pages=str(page), flavor="stream")
                found = [{"bbox": list(t._bbox), "cells": grid_cells(t.df.values.tolist())} for t in tabs]
            except Exception:
                found = []
            res["camelot-stream"] = {"tables": found, "seconds": time.perf_counter() - t0}
        except ImportError:
            pass
        try:
            from img2table.document import PDF
            t0 = time.perf_counter()
            try:
                doc = PDF(pdf, pages=[page - 1])
                tabs = doc.extract_tables(ocr=None, implicit_rows=True, borderless_tables=True, min_confidence=50)
            except Exception:
                tabs = {}
            s = 200 / 72.0
            found = []
            for tb in tabs.get(page - 1, []):
                cells = _img2table_cells(tb)
                b = (tb.bbox.x1 / s, page_h - tb.bbox.y2 / s, tb.bbox.x2 / s, page_h - tb.bbox.y1 / s)
                found.append({"bbox": list(b), "cells": cells})
            res["img2table"] = {"tables": found, "seconds": time.perf_counter() - t0}
        except ImportError:
            pass
        out.append(res)
    json.dump(out, sys.stdout)
    sys.exit(0)
for job in jobs:
    pdf, page, (x1, y1, x2, y2), page_h = job["pdf"], job["page"], job["region"], job["page_h"]
    res = {"table": job["table"]}
    try:
        import camelot
        for flavor in ("stream", "lattice"):
            t0 = time.perf_counter()
            try:
                if flavor == "stream":  # text-based: the GT region is the table area
                    tabs = camelot.read_pdf(pdf, pages=str(page), flavor=flavor,
                                            table_areas=[f"{x1},{y2},{x2},{y1}"])
                    rows = tabs[0].df.values.tolist() if len(tabs) else []
                else:  # ruling-based: its areas must enclose the rules, so take the table overlapping the region
                    tabs = camelot.read_pdf(pdf, pages=str(page), flavor=flavor)
                    best = max(tabs, key=lambda t: iou(t._bbox, (x1, y1, x2, y2)), default=None)
                    ok = best is not None and iou(best._bbox, (x1, y1, x2, y2)) > 0.3
                    rows = best.df.values.tolist() if ok else []
            except Exception:
                rows = []
            res[f"camelot-{flavor}"] = {"cells": grid_cells(rows), "seconds": time.perf_counter() - t0}
    except ImportError:
        pass
    try:
        from img2table.document import PDF
        key = (pdf, page)
        t0 = time.perf_counter()
        if key not in img2table_cache:
            doc = PDF(pdf, pages=[page - 1])
            img2table_cache[key] = (doc.extract_tables(ocr=None, implicit_rows=True, borderless_tables=True,
                                                       min_confidence=50), time.perf_counter() - t0)
        tabs, seconds = img2table_cache[key]
        s = 200 / 72.0
        reg = (x1 * s, (page_h - y2) * s, x2 * s, (page_h - y1) * s)
        best, best_iou = None, 0.0
        for tb in tabs.get(page - 1, []):
            b = (tb.bbox.x1, tb.bbox.y1, tb.bbox.x2, tb.bbox.y2)
            if iou(b, reg) > best_iou:
                best, best_iou = tb, iou(b, reg)
        res["img2table"] = {"cells": _img2table_cells(best) if best is not None else [],
                            "seconds": seconds / job["tables_on_page"]}
    except ImportError:
        pass
    out.append(res)
json.dump(out, sys.stdout)
'''


def _table(cells: list) -> Table:
    return Table([Cell(int(a), int(b), int(c), int(d), None, str(t)) for a, b, c, d, t in cells])


def run_peers(peer_python: str, root: Path, limit: int | None) -> dict:
    """Run img2table and camelot on every GT region in the peer environment; adjacency scores per system."""
    import pypdfium2 as pdfium

    jobs, gts = [], []
    for pdf, reg, gt_path in icdar2013_items(root)[:limit]:
        regions, gt = read_icdar2013_reg(reg), read_icdar2013_str(gt_path)
        doc = pdfium.PdfDocument(str(pdf))
        for k, (r, g) in enumerate(zip(regions, gt, strict=False)):
            page_h = doc[r.page - 1].get_size()[1]
            same_page = sum(1 for q in regions if q.page == r.page)
            jobs.append({"pdf": str(pdf), "page": r.page, "region": list(r.bbox), "page_h": page_h,
                         "table": f"{pdf.stem}#{k + 1}", "tables_on_page": same_page})
            gts.append(g)
        doc.close()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(jobs, f)
    try:
        proc = subprocess.run([peer_python, "-c", PEER_SCRIPT, f.name], capture_output=True, text=True, check=True,
                              timeout=3600)
    finally:
        os.unlink(f.name)
    results = json.loads(proc.stdout)
    systems = sorted({k for r in results for k in r if k != "table"})
    out = {}
    for name in systems:
        pairs = [(_table(r[name]["cells"]) if name in r else Table([]), g) for r, g in zip(results, gts, strict=True)]
        s = adjacency_scores(pairs)
        out[name] = {"input": "pdf", "micro": s["micro"], "macro": s["macro"], "n_tables": len(pairs),
                     "seconds_per_table": sum(r[name]["seconds"] for r in results if name in r) / max(len(pairs), 1)}
    return out


def run_peers_detection(peer_python: str, root: Path, limit: int | None) -> dict:
    """camelot stream and img2table with their own table detection on every page of every PDF; scored as cvkit."""
    import pypdfium2 as pdfium

    from cvkit.parse_table.pdf import page_geometry

    docs = icdar2013_documents(root)[:limit]
    jobs, geoms = [], {}
    for pdf, _, _ in docs:
        doc = pdfium.PdfDocument(str(pdf))
        jobs += [{"mode": "detect", "pdf": str(pdf), "page": k + 1, "page_h": doc[k].get_size()[1]}
                 for k in range(len(doc))]
        geoms |= {(str(pdf), k + 1): page_geometry(doc[k], 72.0) for k in range(len(doc))}
        doc.close()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(jobs, f)
    try:
        proc = subprocess.run([peer_python, "-c", PEER_SCRIPT, f.name], capture_output=True, text=True, check=True,
                              timeout=7200)
    finally:
        os.unlink(f.name)
    results = json.loads(proc.stdout)
    systems = sorted({k for r in results for k in r if k not in ("pdf", "page")})
    out = {}
    for name in systems:
        items = []
        for pdf, regs, strs in docs:
            preds = []
            for r in results:
                if r["pdf"] == str(pdf) and name in r:
                    for t in r[name]["tables"]:
                        tab = _table(t["cells"])
                        tab.page, tab.coord_space = r["page"], "pdf"
                        x1, y1, x2, y2 = t["bbox"]  # y up from the displayed page's bottom, as -reg.xml
                        tab.bbox = geoms[(r["pdf"], r["page"])].region_to_upright(
                            (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)))
                        preds.append(tab)
            items.append((pdf, regs, strs, preds))
        s = score_documents(items)
        n_docs = max(len(docs), 1)
        out[name] = {"input": "pdf", "regions": "detected", "detection": s["detection"],
                     "end_to_end": s["end_to_end"]["micro"],
                     "seconds_per_document": sum(r[name]["seconds"] for r in results if name in r) / n_docs}
    return out


def main() -> None:
    """Run every system on the same inputs and write one JSON report."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--icdar-root", type=Path, default=SHARED / "icdar2013-eu")
    ap.add_argument("--pubtabnet-root", type=Path, default=SHARED / "pubtabnet-mini")
    ap.add_argument("--peer-python", default=os.environ.get("CVKIT_PEER_PYTHON"))
    ap.add_argument("--ocr-images", action="store_true", help="also cvkit on 150-dpi page images with rapidocr")
    ap.add_argument("--pubtabnet", action="store_true", help="also cvkit TEDS on PubTabNet mini (rapidocr)")
    ap.add_argument("--limit", type=int, default=None, help="first N documents only")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("-o", "--output", type=Path, default=None)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    if not args.icdar_root.exists():
        sys.exit(f"skip: {args.icdar_root} not found (../shared/data is absent)")
    report: dict = {"machine": platform.platform(), "python": platform.python_version(), "threads": args.threads,
                    "date": time.strftime("%Y-%m-%d %H:%M:%S"), "dataset": str(args.icdar_root),
                    "metric": "ICDAR-2013 adjacency relations, content-matched", "systems": {}}
    for model, ocr in (("graph-lite", "pdf"), ("line-grid", "pdf")) + ((("graph-lite", "rapidocr"),)
                                                                         if args.ocr_images else ()):
        parser = build_parser(model)
        evaluate_icdar2013(args.icdar_root, parser, ocr=ocr, limit=1)  # warm-up (imports, OCR models)
        s = evaluate_icdar2013(args.icdar_root, parser, ocr=ocr, limit=args.limit)
        name = f"cvkit {model}" + (" (150 dpi images + rapidocr)" if ocr != "pdf" else " (PDF text layer)")
        report["systems"][name] = {"input": "pdf" if ocr == "pdf" else "image", "regions": "ground truth",
                                   "micro": s["micro"],
                                   "macro": s["macro"], "n_tables": s["n_tables"],
                                   "seconds_per_table": s["seconds_per_table"],
                                   "note": "seconds include OCR" if ocr != "pdf" else "seconds include PDF parsing"}
        print(f"{name}: F1 {s['micro']['f1']:.4f} ({s['seconds_per_table']:.3f} s/table)", file=sys.stderr)
    if args.peer_python:
        for name, s in run_peers(args.peer_python, args.icdar_root, args.limit).items():
            report["systems"][name] = {**s, "regions": "ground truth"}
            print(f"{name}: F1 {s['micro']['f1']:.4f} ({s['seconds_per_table']:.3f} s/table)", file=sys.stderr)
    report["detection"] = {"metric": "ICDAR-2013 table detection at region IoU 0.5 (completeness, purity) and "
                           "end-to-end adjacency (micro), whole documents, no regions given", "systems": {}}
    for mode in ("pdf", "image") if args.ocr_images else ("pdf",):
        s = evaluate_detection(args.icdar_root, build_parser("graph-lite"), mode=mode, limit=args.limit)
        name = "cvkit graph-lite + detection" + (" (PDF text layer)" if mode == "pdf" else
                                                 " (150 dpi images + rapidocr)")
        report["detection"]["systems"][name] = {"input": mode, "regions": "detected", "detection": s["detection"],
                                                "end_to_end": s["end_to_end"]["micro"],
                                                "seconds_per_document": s["seconds_per_document"]}
        print(f"{name}: detection P {s['detection']['precision']:.3f} R {s['detection']['recall']:.3f}, "
              f"end-to-end F1 {s['end_to_end']['micro']['f1']:.3f}", file=sys.stderr)
    if args.peer_python:
        for name, s in run_peers_detection(args.peer_python, args.icdar_root, args.limit).items():
            report["detection"]["systems"][name] = s
            print(f"{name}: detection P {s['detection']['precision']:.3f} R {s['detection']['recall']:.3f}, "
                  f"end-to-end F1 {s['end_to_end']['f1']:.3f}", file=sys.stderr)
    if args.pubtabnet and args.pubtabnet_root.exists():
        s = evaluate_pubtabnet(args.pubtabnet_root, build_parser("graph-lite"), ocr="rapidocr")
        report["pubtabnet"] = {"cvkit graph-lite (rapidocr)": {k: s[k] for k in ("teds", "teds_struct", "n_tables",
                                                                                 "seconds_per_table")}}
    text = json.dumps(report, indent=1)
    if args.output:
        args.output.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
