"""Table detection on every page of the ICDAR-2013 EU PDFs rendered at 150 dpi (detection only, no text reading).

Text lines come from rapidocr's detector (`pipeline.layout_words`), tables from `pipeline.page_tables`; scored with
`metrics.detection_scores` against the regions files (words of the text layer for completeness/purity).

  PYTHONPATH=. .venv/bin/python experiments/parse_table/image_detection.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from cvkit.parse_table.evaluate import _text_layer_boxes, icdar2013_documents  # noqa: E402
from cvkit.parse_table.metrics import detection_scores  # noqa: E402
from cvkit.parse_table.pdf import open_pdf, page_geometry, render_page  # noqa: E402
from cvkit.parse_table.pipeline import layout_words, page_tables, read_regions  # noqa: E402


def main(root: Path = ROOT.parent / "shared" / "data" / "parse-table" / "icdar2013-eu", dpi: float = 150.0) -> None:
    """Print the detection scores of page images as JSON."""
    pages, t0 = [], time.time()
    for pdf, regs, _ in icdar2013_documents(root):
        gt = read_regions(regs, pdf)
        doc = open_pdf(pdf)
        words = _text_layer_boxes(pdf, set(range(1, len(doc) + 1)))
        for pno in range(1, len(doc) + 1):
            geom = page_geometry(doc[pno - 1], dpi)
            img = render_page(doc[pno - 1], dpi)
            boxes = [geom.box_to_pdf(b) for b in page_tables(layout_words(img), img)]
            pages.append((boxes, [r.bbox for r in gt if r.page == pno], words[pno]))
        doc.close()
        print(pdf.stem, file=sys.stderr, flush=True)
    print(json.dumps({**detection_scores(pages), "seconds": round(time.time() - t0, 1)}, indent=1))


if __name__ == "__main__":
    main()
