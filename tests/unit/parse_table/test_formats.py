"""Round trips of every table format through our own readers, and their error paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from cvkit.errors import ArgumentError, InputError
from cvkit.parse_table.formats import (
    FORMATS,
    format_for,
    read_csv,
    read_ctdar,
    read_html,
    read_icdar2013_reg,
    read_icdar2013_str,
    read_json,
    read_tables,
    render,
)
from cvkit.parse_table.metrics import adjacency_prf, teds
from cvkit.parse_table.table import Cell, Table, fill_holes


def _table() -> Table:
    cells = [
        Cell(0, 1, 0, 0, (10, 10, 40, 30), "Region & <name>"),
        Cell(0, 0, 1, 2, (50, 10, 120, 18), "Sales 2019"),
        Cell(1, 1, 1, 1, (50, 22, 80, 30), "Q1"),
        Cell(1, 1, 2, 2, (90, 22, 120, 30), "Q2"),
        Cell(2, 2, 0, 0, (10, 34, 40, 42), "North"),
        Cell(2, 2, 1, 1, (50, 34, 80, 42), "1,200"),
        Cell(3, 3, 0, 0, (10, 46, 40, 54), "South"),
        Cell(3, 3, 2, 2, (90, 46, 120, 54), "7"),
    ]
    return Table(cells, (5, 5, 125, 60), header_rows=2)


def _key(t: Table) -> list[tuple]:
    return sorted((c.sr, c.er, c.sc, c.ec, c.text) for c in t.cells if c.text)


@pytest.mark.parametrize("fmt,reader", [("icdar2013", read_icdar2013_str), ("ctdar", read_ctdar),
                                        ("html", read_html), ("json", read_json)])
def test_structured_formats_round_trip(fmt: str, reader) -> None:
    t = _table()
    back = reader("mem", render([t, t], fmt))
    assert len(back) == 2
    assert _key(back[0]) == _key(t)
    if fmt in ("icdar2013", "ctdar", "json"):
        got = {(c.sr, c.sc): c.bbox for c in back[0].cells}
        for c in t.cells:
            assert got[(c.sr, c.sc)] == pytest.approx(c.bbox)


def test_html_round_trip_keeps_header_and_empty_slots() -> None:
    t = _table()
    back = read_html("mem", render([t], "html"))[0]
    assert back.header_rows == 2
    assert len(back.cells) == len(fill_holes(t).cells)  # the hole at (3, 1) became an empty td
    assert teds(render([back], "html"), render([t], "html")) == 1.0


def test_csv_round_trip_keeps_grid_text() -> None:
    t = _table()
    back = read_csv("mem", render([t, t], "csv"))
    assert len(back) == 2
    assert {(c.sr, c.sc, c.text) for c in back[0].cells} == {(c.sr, c.sc, c.text) for c in t.cells}
    no_span = Table([c for c in t.cells if c.rowspan == 1 and c.colspan == 1])
    assert adjacency_prf(read_csv("mem", render([no_span], "csv"))[0], no_span).f1 == 1.0


def test_read_tables_dispatches_on_suffix(tmp_path: Path) -> None:
    t = _table()
    for fmt, name in (("icdar2013", "a-str.xml"), ("ctdar", "b.xml"), ("html", "c.html"), ("csv", "d.csv"),
                      ("json", "e.json")):
        p = tmp_path / name
        p.write_text(render([t], fmt))
        back = read_tables(p)[0]
        if fmt == "csv":  # CSV keeps the grid's text, not the spans
            assert {(c.sr, c.sc, c.text) for c in back.cells} == {(c.sr, c.sc, c.text) for c in t.cells}
        else:
            assert _key(back) == _key(t), fmt


def test_icdar2013_region_file_and_increments(tmp_path: Path) -> None:
    reg = tmp_path / "x-reg.xml"
    reg.write_text("<?xml version='1.0'?><document filename='x.pdf'><table id='1'><region id='1' page='2'>"
                   "<bounding-box x1='10' y1='20' x2='110' y2='220'/></region></table></document>")
    (r,) = read_icdar2013_reg(reg)
    assert r.page == 2 and r.bbox == (10, 20, 110, 220)
    s = ("<document><table id='1'><region id='1' page='1' row-increment='0' col-increment='0'>"
         "<cell id='1' start-row='0' start-col='0'><content>a</content></cell></region>"
         "<region id='2' page='2' row-increment='5' col-increment='0'>"
         "<cell id='1' start-row='0' start-col='1' end-col='2'><content>b</content></cell></region></table></document>")
    (t,) = read_icdar2013_str("mem", s)
    assert [(c.sr, c.sc, c.ec) for c in t.cells] == [(0, 0, 0), (5, 1, 2)]


@pytest.mark.parametrize("text,problem", [("<document><table", "not a readable XML"),
                                          ("<doc/>", "expected <document>"),
                                          ("<document><table><region><cell start-col='0'/></region></table>"
                                           "</document>", "start-row"),
                                          ("<document><table><region><cell start-row='x' start-col='0'/>"
                                           "</region></table></document>", "not an integer")])
def test_bad_icdar_xml_raises_input_error(tmp_path: Path, text: str, problem: str) -> None:
    p = tmp_path / "bad-str.xml"
    p.write_text(text)
    with pytest.raises(InputError, match=problem) as e:
        read_tables(p)
    assert e.value.exit_code == 3 and str(p) in str(e.value)


def test_other_error_paths(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(InputError):
        read_tables(tmp_path / "x.json")
    (tmp_path / "x.html").write_text("<p>no table</p>")
    with pytest.raises(InputError, match="no <table>"):
        read_tables(tmp_path / "x.html")
    with pytest.raises(InputError, match="no such file"):
        read_tables(tmp_path / "missing.csv")
    (tmp_path / "x.txt").write_text("a")
    with pytest.raises(InputError, match="unknown table file type"):
        read_tables(tmp_path / "x.txt")


def test_format_for() -> None:
    assert format_for("out/t-str.xml") == "icdar2013"
    assert format_for("t.HTML") == "html"
    assert format_for("t.xml", "ctdar") == "ctdar"
    assert set(FORMATS) == {"icdar2013", "ctdar", "html", "csv", "json"}
    with pytest.raises(ArgumentError):
        format_for("t.txt")
    with pytest.raises(ArgumentError):
        format_for("t.xml", "latex")
