"""Table detection by the rules, the learned table-heat detector, their combination and the table-rcnn Mask R-CNN
(`--detector rcnn`), detection scores only.

  synthetic: rendered synthetic validation pages (seeds 2000+, not the training or threshold pages): where the
             combination settings (veto, adding learned boxes) are chosen;
  pdf:       ICDAR-2013 EU PDFs, text-layer words at 150 dpi (what `cvkit evaluate parse-table --detection` uses);
  image:     every EU page rendered at 150 dpi, rapidocr's text-line detector for the words (slow: cached in --cache).

  PYTHONPATH=. .venv/bin/python experiments/parse_table/learned_detection.py synthetic|pdf|image [--cache FILE]
      [--weights DIR ...] [--rcnn DIR]

The cache holds what no detector weights change (words, rule boxes, the page at network scale); each --weights
asset folder (default: the shipped table-heat) is scored on it at its own card threshold, and the table-rcnn asset
(--rcnn, default: the shipped one) at its card threshold: `rcnn` (snapped to the words, with rows: what the
pipeline returns) and `rcnn-raw` (its boxes above the threshold).
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from cvkit.parse_table.metrics import detection_scores  # noqa: E402
from cvkit.parse_table.registry import table_detector, table_rcnn  # noqa: E402
from cvkit.parse_table.table_detector import (  # noqa: E402
    combine,
    has_rows,
    heat_boxes,
    refine_boxes,
    to_gray_input,
)

EU = ROOT.parent / "shared" / "data" / "parse-table" / "icdar2013-eu"
VETOES = (0.0, 0.1, 0.3)


def variants(rules, prob, scale, words, threshold):
    """Box lists of every variant on one page."""
    raw = [b for b, _ in heat_boxes(prob, scale, threshold)]
    snapped = refine_boxes(raw, words) if words else raw
    out = {"rules": rules, "learned-raw": raw, "learned": snapped,
           "learned-rows": [b for b in snapped if has_rows(b, words)]}
    for v in VETOES:
        out[f"combined-veto{v}"] = combine(rules, snapped, prob, scale, v)
        out[f"rules-veto{v}"] = combine(rules, [], prob, scale, v)
        out[f"union-veto{v}"] = combine(rules, snapped, prob, scale, v, union=True)
        out[f"rows-veto{v}"] = combine(rules, snapped, prob, scale, v, words=words)
    return out


def synthetic(n: int = 100) -> list[dict]:
    """Rendered synthetic pages at their own pixel size, rules as the pipeline runs them (`page_tables`)."""
    import cv2

    from cvkit.parse_table.pipeline import page_tables
    from cvkit.parse_table.table_detector import _sample

    recs = []
    for i in range(n):
        page, gray = _sample(2000 + i)
        img = cv2.cvtColor(cv2.resize(gray, page.size, interpolation=cv2.INTER_LINEAR), cv2.COLOR_GRAY2BGR)
        net_gray, scale = to_gray_input(img)
        recs.append({"rules": page_tables(page.words, img), "gray": net_gray, "scale": scale, "words": page.words,
                     "gt": page.tables, "wb": [(w.x1, w.y1, w.x2, w.y2) for w in page.words]})
    return recs


def eu(mode: str) -> list[dict]:
    from cvkit.parse_table.evaluate import _text_layer_boxes, icdar2013_documents
    from cvkit.parse_table.pdf import open_pdf, page_geometry, page_words, render_page
    from cvkit.parse_table.pipeline import layout_words, page_tables, read_regions

    recs = []
    for pdf, regs, _ in icdar2013_documents(EU):
        gt = read_regions(regs, pdf)
        doc = open_pdf(pdf)
        wb = _text_layer_boxes(pdf, set(range(1, len(doc) + 1)))
        for pno in range(1, len(doc) + 1):
            geom = page_geometry(doc[pno - 1], 150.0)
            img = render_page(doc[pno - 1], 150.0)
            words = page_words(doc[pno - 1], geom) if mode == "pdf" else layout_words(img)
            net_gray, scale = to_gray_input(img)
            recs.append({"rules": page_tables(words, img), "gray": net_gray, "scale": scale, "words": words,
                         "gt": [r.bbox for r in gt if r.page == pno], "wb": wb[pno], "geom": geom})
        doc.close()
        print(pdf.stem, file=sys.stderr, flush=True)
    return recs


def load(weights: Path | None):
    """The detector of an asset folder, or the shipped one."""
    if weights is None:
        return table_detector()
    from cvkit.assets import asset_from_path
    from cvkit.parse_table.table_detector import load_detector

    return load_detector(asset_from_path(weights))


def load_rcnn(weights: Path | None):
    """The table-rcnn detector of an asset folder, or the shipped one."""
    if weights is None:
        return table_rcnn()
    from cvkit.assets import asset_from_path
    from cvkit.parse_table.table_rcnn import load_table_rcnn

    return load_table_rcnn(asset_from_path(weights))


def score(recs: list[dict], det, threshold: float, rcnn=None) -> dict:
    from cvkit.parse_table.table_rcnn import postprocess

    pages: dict[str, list] = {}
    for r in recs:
        geom = r.get("geom")
        prob = det.heat_of_input(r["gray"])
        found = variants(r["rules"], prob, r["scale"], r["words"], threshold)
        if rcnn is not None:
            scored = rcnn.scored_of_input(r["gray"], r["scale"])
            found["rcnn"] = postprocess(scored, r["words"], rcnn.threshold)
            found["rcnn-raw"] = postprocess(scored, None, rcnn.threshold)
        for k, boxes in found.items():
            boxes = [geom.box_to_pdf(b) for b in boxes] if geom is not None else boxes
            pages.setdefault(k, []).append((boxes, r["gt"], r["wb"]))
    return {k: {m: round(float(v), 3) for m, v in detection_scores(p).items()} for k, p in pages.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("synthetic", "pdf", "image"))
    ap.add_argument("--cache", type=Path)
    ap.add_argument("--threshold", type=float)
    ap.add_argument("--weights", type=Path, action="append", help="table-heat asset folder (repeatable)")
    ap.add_argument("--rcnn", type=Path, help="table-rcnn asset folder (default: the shipped one)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    t0 = time.time()
    if a.cache and a.cache.exists():
        recs = pickle.loads(a.cache.read_bytes())
    else:
        recs = synthetic() if a.mode == "synthetic" else eu(a.mode)
        if a.cache:
            a.cache.write_bytes(pickle.dumps(recs))
    rcnn = load_rcnn(a.rcnn)
    for w in a.weights or [None]:
        det = load(w)
        thr = a.threshold if a.threshold is not None else det.threshold
        out = score(recs, det, thr, rcnn)
        print(json.dumps({"mode": a.mode, "weights": str(w or "shipped"), "threshold": thr,
                          "rcnn": str(a.rcnn or "shipped"), "rcnn_threshold": rcnn.threshold, "pages": len(recs),
                          "seconds": round(time.time() - t0), "scores": out}, indent=1), flush=True)


if __name__ == "__main__":
    main()
