"""Doc-test set-ups of the `parse-table` examples in README.md and its --help."""

# ruff: noqa: F403, F405
from __future__ import annotations

import json  # noqa: F401

from tests.docs.setups import *  # the shared generated inputs (Ex, F, SCAN, ...)

EXAMPLES: dict[str, Ex] = {
    "cvkit parse-table report.pdf -o table.xml                 # tables detected on every page, ICDAR-2013 -str.xml":
        Ex({"report.pdf": F.pdf()}),
    "cvkit parse-table page.png -o table.html --overlay check.png  # tables found on the page, OCR (rapidocr), HTML":
        Ex({"page.png": F.table_png()}, slow=True),
    "cvkit parse-table scans/ -o out/ --format csv --skip-existing":
        Ex({"scans/a.pdf": F.pdf(), "scans/b/c.png": F.table_png()}, slow=True),
    "cvkit evaluate parse-table --dataset icdar2013 --root ../shared/data/parse-table/icdar2013-eu":
        Ex(ICDAR, subs=[("../shared/data/parse-table/icdar2013-eu", "icdar")]),
    "cvkit evaluate parse-table --dataset icdar2013 --root ../shared/data/parse-table/icdar2013-eu --detection":
        Ex(ICDAR, subs=[("../shared/data/parse-table/icdar2013-eu", "icdar")]),
    "cvkit evaluate parse-table --dataset icdar2013 --root eu/ --detection --detector learned":
        Ex(ICDAR, subs=[("eu/", "icdar")]),
    "cvkit parse-table report.pdf --detector combined -o tables.json": Ex({"report.pdf": F.pdf()}),
    "cvkit parse-table table.png -o table.html": Ex({"table.png": F.table_png()}, slow=True),
    "cvkit parse-table eu-001.pdf --regions eu-001-reg.xml -o eu-001-str.xml --overlay check.png":
        Ex({"eu-001.pdf": F.pdf(), "eu-001-reg.xml": F.reg_xml()}),
    "cvkit parse-table scans/ -o out/ --format icdar2013 --skip-existing --json | jq .n_cells":
        Ex({"scans/a.pdf": F.pdf(), "scans/more/b.pdf": F.pdf(pages=2)}),
    "cvkit train parse-table --data synthetic --steps 4000 --out assets/parse-table/graph-lite":
        Ex(subs=[("--steps 4000", "--steps 2")], slow=True),
    "cvkit evaluate parse-table --dataset pubtabnet --root ../shared/data/parse-table/pubtabnet-mini --json":
        Ex({"ptn/mini_val/t1.png": F.table_png(),
            "ptn/sample_gt.json": F.text(json.dumps({"t1.png": {"html": "<html><body><table><tr><td>00</td>"
                                                                         "<td>01</td></tr></table></body></html>"}}))},
           subs=[("../shared/data/parse-table/pubtabnet-mini", "ptn")], slow=True),
}

NOT_RUNNABLE: dict[str, str] = {
    "cvkit train parse-table --model tabstructnet --data scitsr:/data/SciTSR --epochs 20 --device cuda":
        "needs a CUDA device and SciTSR (paper-size TabStruct-Net, ResNet-101 Mask R-CNN)",
}
