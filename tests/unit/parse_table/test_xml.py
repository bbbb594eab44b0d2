"""Well-formed XML whatever the text holds; both ICDAR-2013 region dialects; NAMEa/NAMEb structure files."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from cvkit.errors import CvkitError
from cvkit.io.atomic import write_text_atomic
from cvkit.parse_table.evaluate import icdar2013_documents, icdar2013_items, regions_beside
from cvkit.parse_table.formats import (
    check_written,
    read_icdar2013_reg,
    read_icdar2013_str,
    read_tables,
    render,
    xml_safe,
)
from cvkit.parse_table.pipeline import read_regions
from cvkit.parse_table.table import Cell, Table

C0 = "".join(chr(i) for i in range(32))


@pytest.mark.parametrize("fmt", ["icdar2013", "ctdar"])
def test_every_c0_control_character_gives_readable_xml(tmp_path: Path, fmt: str) -> None:
    t = Table([Cell(0, 0, 0, 0, (1, 2, 30, 12), "a" + C0 + "b"), Cell(0, 0, 1, 1, (40, 2, 60, 12), "\ufffeok")],
              (0, 0, 70, 20), 1, "pdf")
    out = tmp_path / "t.xml"
    write_text_atomic(out, render([t], fmt, "in\x01put.pdf"), check=lambda p: check_written(p, fmt, "input.pdf"))
    root = etree.parse(str(out)).getroot()
    texts = [c.text for c in root.iter("content")]
    assert texts[0].startswith("a-") and texts[0].endswith("b")  # U+0002 (pdfium's line-end hyphen) -> '-'
    assert not any(ch < " " and ch not in "\t\n\r" for ch in texts[0])
    assert texts[1] == "ok"
    assert [c.text for c in read_tables(out)[0].sorted_cells()][1] == "ok"


def test_xml_safe_keeps_tab_newline_and_ordinary_text() -> None:
    assert xml_safe("a\tb\nc\x00d\x1fé€") == "a\tb\ncdé€"


def test_broken_output_is_an_internal_error_naming_the_input_and_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "t.xml"
    with pytest.raises(CvkitError, match="scan.pdf.*internal error") as e:
        write_text_atomic(out, "<document><table></document>", check=lambda p: check_written(p, "icdar2013",
                                                                                               "scan.pdf"))
    assert e.value.exit_code == 1
    assert not out.exists() and not list(tmp_path.iterdir())


REG = """<?xml version="1.0" encoding="UTF-8"?>
<document filename="x.pdf"><table id="1"><region id="1" {attr}="2">
<bounding-box x1="70" y1="400" x2="500" y2="560"/></region></table></document>
"""
STR = """<?xml version="1.0" encoding="UTF-8"?>
<document filename="x.pdf"><table id="1"><region id="1" {attr}="3">
<cell id="1" start-row="0" start-col="0"><bounding-box x1="70" y1="500" x2="120" y2="510"/><content>A</content></cell>
<cell id="2" start-row="0" start-col="1"><bounding-box x1="200" y1="500" x2="240" y2="510"/><content>B</content></cell>
</region></table></document>
"""


def test_pagearea_regions_file_reads_as_its_page_twin(tmp_path: Path) -> None:
    for attr in ("page", "pageArea"):
        (tmp_path / f"{attr}-reg.xml").write_text(REG.format(attr=attr))
        (tmp_path / f"{attr}-str.xml").write_text(STR.format(attr=attr))
    a, b = read_icdar2013_reg(tmp_path / "page-reg.xml"), read_icdar2013_reg(tmp_path / "pageArea-reg.xml")
    assert [(t.page, t.bbox) for t in a] == [(t.page, t.bbox) for t in b] == [(2, (70.0, 400.0, 500.0, 560.0))]
    sa, sb = read_icdar2013_str(tmp_path / "page-str.xml"), read_icdar2013_str(tmp_path / "pageArea-str.xml")
    assert sa[0].page == sb[0].page == 3
    assert [(c.sr, c.sc, c.text) for c in sa[0].cells] == [(c.sr, c.sc, c.text) for c in sb[0].cells]


def test_structure_files_of_two_parts_share_one_pdf(tmp_path: Path) -> None:
    (tmp_path / "doc-7a.pdf").write_bytes(b"%PDF-1.4\n")
    for part, y2 in (("a", 560), ("b", 552)):
        (tmp_path / f"doc-7{part}-reg.xml").write_text(REG.format(attr="page").replace('y2="560"', f'y2="{y2}"'))
        (tmp_path / f"doc-7{part}-str.xml").write_text(STR.format(attr="page"))
    items = icdar2013_items(tmp_path)
    assert [(p.name, r.name) for p, r, _ in items] == [("doc-7a.pdf", "doc-7a-reg.xml"),
                                                       ("doc-7a.pdf", "doc-7b-reg.xml")]
    docs = icdar2013_documents(tmp_path)
    assert len(docs) == 1 and len(docs[0][2]) == 2
    regs = regions_beside(tmp_path / "doc-7a.pdf")
    assert [r.name for r in regs] == ["doc-7a-reg.xml", "doc-7b-reg.xml"]
    merged = read_regions(regs)  # the two parts outline the same table: kept once, the larger box
    assert len(merged) == 1 and merged[0].bbox[3] == 560.0
