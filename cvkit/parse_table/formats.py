"""Readers and writers of table files: ICDAR-2013 `-str.xml`/`-reg.xml`, cTDaR-2019 XML, HTML, CSV and JSON.

A document is a list of `Table`. ICDAR-2013 files keep their own coordinates (`coord_space="pdf"`: PDF
points, origin bottom-left, y1 < y2); cTDaR, HTML, CSV and JSON outputs of image inputs are in pixels.
Unreadable or malformed files raise InputError (exit 3) naming the file.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from xml.etree import ElementTree as ET

from ..errors import ArgumentError, CvkitError, InputError
from .table import Cell, Table, fill_holes

FORMATS = ("icdar2013", "ctdar", "html", "csv", "json")
SUFFIX_FORMATS = {".xml": "icdar2013", ".html": "html", ".htm": "html", ".csv": "csv", ".json": "json"}
FORMAT_SUFFIX = {"icdar2013": "-str.xml", "ctdar": ".xml", "html": ".html", "csv": ".csv", "json": ".json"}


def format_for(path: str | Path, fmt: str | None = None) -> str:
    """Output format named by `fmt` or by the path's suffix (ArgumentError when neither says)."""
    if fmt:
        if fmt not in FORMATS:
            raise ArgumentError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
        return fmt
    suffix = Path(str(path)).suffix.lower()
    if suffix not in SUFFIX_FORMATS:
        raise ArgumentError(f"{path}: cannot tell the output format from the suffix; use --format "
                            f"({', '.join(FORMATS)}) or a .xml/.html/.csv/.json name")
    return SUFFIX_FORMATS[suffix]


def _parse_xml(path: Path | str, text: str | None = None) -> ET.Element:
    try:
        if text is not None:
            return ET.fromstring(text)
        return ET.parse(path).getroot()
    except (ET.ParseError, OSError, UnicodeDecodeError) as e:
        raise InputError(path, f"not a readable XML file ({e})") from None


def _int(el: ET.Element, key: str, default: int | None, path: Path | str) -> int:
    v = el.get(key)
    if v is None:
        if default is None:
            raise InputError(path, f"<{el.tag}> lacks the {key!r} attribute")
        return default
    try:
        return int(v)
    except ValueError:
        raise InputError(path, f"<{el.tag}> {key}={v!r} is not an integer") from None


def _float(el: ET.Element, key: str, path: Path | str) -> float:
    try:
        return float(el.get(key))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(path, f"<{el.tag}> {key}={el.get(key)!r} is not a number") from None


# ------------------------------------------------------------------------------------------- ICDAR-2013


def _bbox_of(el: ET.Element | None, path: Path | str) -> tuple[float, float, float, float] | None:
    if el is None:
        return None
    return tuple(_float(el, k, path) for k in ("x1", "y1", "x2", "y2"))  # type: ignore[return-value]


def region_page(region: ET.Element, path: Path | str) -> int:
    """1-based page of an ICDAR-2013 <region>: `page="N"` or, in the competition's other dialect, `pageArea="N"`."""
    key = "page" if region.get("page") is not None else "pageArea"
    return _int(region, key, 1, path)


def read_icdar2013_str(path: str | Path, text: str | None = None) -> list[Table]:
    """Tables of an ICDAR-2013 structure file (regions merged with their row/col increments)."""
    root = _parse_xml(path, text)
    if root.tag != "document":
        raise InputError(path, f"root element is <{root.tag}>, expected <document>")
    tables = []
    for t in root.iter("table"):
        cells: list[Cell] = []
        page, boxes = None, []
        for region in t.iter("region"):
            page = page if page is not None else region_page(region, path)
            dr, dc = _int(region, "row-increment", 0, path), _int(region, "col-increment", 0, path)
            for c in region.iter("cell"):
                sr, sc = _int(c, "start-row", None, path), _int(c, "start-col", None, path)
                er, ec = _int(c, "end-row", sr, path), _int(c, "end-col", sc, path)
                bbox = _bbox_of(c.find("bounding-box"), path)
                if bbox is not None:
                    boxes.append(bbox)
                content = c.find("content")
                cells.append(Cell(sr + dr, er + dr, sc + dc, ec + dc, bbox,
                                  (content.text or "") if content is not None else ""))
        bbox = None
        if boxes:
            bbox = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
                    max(b[3] for b in boxes))
        tables.append(Table(cells, bbox, page or 1, "pdf"))
    return tables


def read_icdar2013_reg(path: str | Path) -> list[Table]:
    """Table regions of an ICDAR-2013 `-reg.xml` (one Table without cells per table, first region's box)."""
    root = _parse_xml(path)
    if root.tag != "document":
        raise InputError(path, f"root element is <{root.tag}>, expected <document>")
    out = []
    for t in root.iter("table"):
        region = t.find("region")
        if region is None:
            raise InputError(path, "a <table> has no <region>")
        bbox = _bbox_of(region.find("bounding-box"), path)
        if bbox is None:
            raise InputError(path, "a <region> has no <bounding-box>")
        out.append(Table([], bbox, region_page(region, path), "pdf"))
    return out


# Characters XML 1.0 forbids: C0 controls except tab/newline/CR, surrogates, U+FFFE/U+FFFF.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# What PDF text layers put where a glyph was: pdfium's U+0002 is a line-end hyphen.
_XML_MAPPED = {"\x02": "-"}


def xml_safe(text: str) -> str:
    """`text` with the characters XML 1.0 forbids mapped (U+0002 -> '-') or removed, so any XML reader takes it."""
    return _XML_FORBIDDEN.sub(lambda m: _XML_MAPPED.get(m.group(0), ""), text)


def _sanitise(root: ET.Element) -> None:
    for el in root.iter():
        if el.text:
            el.text = xml_safe(el.text)
        for k, v in el.attrib.items():
            el.set(k, xml_safe(v))


def _xml_text(root: ET.Element) -> str:
    _sanitise(root)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def icdar2013_str_text(tables: list[Table], filename: str = "") -> str:
    """ICDAR-2013 structure XML of the tables (boxes written as given, rounded to 0.01)."""
    root = ET.Element("document", {"filename": filename})
    for i, t in enumerate(tables, 1):
        te = ET.SubElement(root, "table", {"id": str(i)})
        re_ = ET.SubElement(te, "region", {"id": "1", "page": str(t.page), "col-increment": "0",
                                           "row-increment": "0"})
        for j, c in enumerate(t.sorted_cells(), 1):
            attrs = {"id": str(j), "start-row": str(c.sr), "start-col": str(c.sc)}
            if c.er != c.sr:
                attrs["end-row"] = str(c.er)
            if c.ec != c.sc:
                attrs["end-col"] = str(c.ec)
            ce = ET.SubElement(re_, "cell", attrs)
            if c.bbox is not None:
                coords = dict(zip(("x1", "y1", "x2", "y2"), c.bbox, strict=True))
                ET.SubElement(ce, "bounding-box", {k: f"{round(v, 2):g}" for k, v in coords.items()})
            ET.SubElement(ce, "content").text = c.text
    return _xml_text(root)


def check_text(text: str, fmt: str, source: str | Path = "") -> None:
    """Re-parse an output's text as its reader would; CvkitError (internal, exit 1) naming the input `source`."""
    try:
        if fmt in ("icdar2013", "ctdar"):
            from lxml import etree

            etree.fromstring(text.encode("utf-8"))
        elif fmt == "json":
            json.loads(text)
    except Exception as e:  # any reader failure means we produced a broken file
        raise CvkitError(f"{source}: internal error: the {fmt} output does not re-parse ({e}); "
                         "nothing was written") from None


def check_written(path: str | Path, fmt: str, source: str | Path = "") -> None:
    """Re-read a just-written output file (call it before the atomic rename) with `check_text`."""
    check_text(Path(path).read_text(encoding="utf-8"), fmt, source)


# ------------------------------------------------------------------------------------------------ cTDaR


def _points(box: tuple[float, float, float, float]) -> str:
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    return f"{x1},{y1} {x2},{y1} {x2},{y2} {x1},{y2}"


def _parse_points(el: ET.Element | None, path: Path | str) -> tuple[float, float, float, float] | None:
    if el is None or not el.get("points"):
        return None
    try:
        pts = [tuple(float(v) for v in p.split(",")) for p in el.get("points", "").split()]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    except (ValueError, IndexError):
        raise InputError(path, f"<Coords points={el.get('points')!r}> is not a list of x,y pairs") from None
    return min(xs), min(ys), max(xs), max(ys)


def ctdar_text(tables: list[Table], filename: str = "") -> str:
    """cTDaR-2019 XML (pixel polygons TL,TR,BR,BL; end-row/end-col always written)."""
    root = ET.Element("document", {"filename": filename})
    for i, t in enumerate(tables, 1):
        te = ET.SubElement(root, "table", {"id": str(i)})
        if t.bbox is not None:
            ET.SubElement(te, "Coords", {"points": _points(t.bbox)})
        for c in t.sorted_cells():
            ce = ET.SubElement(te, "cell", {"start-row": str(c.sr), "end-row": str(c.er), "start-col": str(c.sc),
                                            "end-col": str(c.ec)})
            if c.bbox is not None:
                ET.SubElement(ce, "Coords", {"points": _points(c.bbox)})
            if c.text:
                ET.SubElement(ce, "content").text = c.text
    return _xml_text(root)


def read_ctdar(path: str | Path, text: str | None = None) -> list[Table]:
    """Tables of a cTDaR-2019 XML (boxes = bounding boxes of the polygons)."""
    root = _parse_xml(path, text)
    if root.tag != "document":
        raise InputError(path, f"root element is <{root.tag}>, expected <document>")
    tables = []
    for t in root.iter("table"):
        cells = []
        for c in t.findall("cell"):
            sr, sc = _int(c, "start-row", None, path), _int(c, "start-col", None, path)
            content = c.find("content")
            cells.append(Cell(sr, _int(c, "end-row", sr, path), sc, _int(c, "end-col", sc, path),
                              _parse_points(c.find("Coords"), path),
                              (content.text or "") if content is not None else ""))
        tables.append(Table(cells, _parse_points(t.find("Coords"), path), 1, "px"))
    return tables


def read_table_xml(path: str | Path) -> list[Table]:
    """An ICDAR-2013 or cTDaR XML file, told apart by its elements."""
    root = _parse_xml(path)
    if root.find(".//region") is not None:
        return read_icdar2013_str(path)
    return read_ctdar(path)


# ------------------------------------------------------------------------------------------------- HTML


def _escape(text: str) -> str:
    import html

    return html.escape(text, quote=False)


def html_text(tables: list[Table], full_page: bool = True) -> str:
    """HTML tables with spans (PubTabNet/TEDS compatible); header rows go in <thead>, holes become empty td."""
    parts = []
    for t in tables:
        t = fill_holes(t)
        rows: dict[int, list[Cell]] = {}
        for c in t.sorted_cells():
            rows.setdefault(c.sr, []).append(c)

        def row_html(r: int, rows: dict[int, list[Cell]] = rows) -> str:
            tds = []
            for c in rows.get(r, []):
                attrs = (f' rowspan="{c.rowspan}"' if c.rowspan > 1 else "") + (
                    f' colspan="{c.colspan}"' if c.colspan > 1 else "")
                tds.append(f"<td{attrs}>{_escape(xml_safe(c.text))}</td>")
            return "<tr>" + "".join(tds) + "</tr>"

        head = "".join(row_html(r) for r in range(min(t.header_rows, t.n_rows)))
        body = "".join(row_html(r) for r in range(min(t.header_rows, t.n_rows), t.n_rows))
        parts.append("<table>" + (f"<thead>{head}</thead>" if head else "") + f"<tbody>{body}</tbody></table>")
    inner = "\n".join(parts)
    return f"<html><body>\n{inner}\n</body></html>\n" if full_page else inner


def read_html(path: str | Path, text: str | None = None) -> list[Table]:
    """Tables of an HTML file: grid positions by the HTML table model (rowspan/colspan occupancy)."""
    from lxml import etree, html

    try:
        text = Path(path).read_text(encoding="utf-8") if text is None else text
        root = html.fromstring(text) if text.strip() else None
    except (OSError, UnicodeDecodeError, etree.ParserError) as e:
        raise InputError(path, f"not a readable HTML file ({e})") from None
    if root is None:
        raise InputError(path, "empty HTML file")
    tables = []
    for tab in root.iter("table"):
        cells: list[Cell] = []
        taken: set[tuple[int, int]] = set()
        header_rows = 0
        for r, tr in enumerate(tab.iter("tr")):
            if tr.getparent() is not None and tr.getparent().tag == "thead":
                header_rows = r + 1
            c = 0
            for td in tr:
                if td.tag not in ("td", "th"):
                    continue
                while (r, c) in taken:
                    c += 1
                try:
                    rs, cs = int(td.get("rowspan", "1")), int(td.get("colspan", "1"))
                except ValueError:
                    raise InputError(path, "a cell has a non-integer rowspan/colspan") from None
                cells.append(Cell(r, r + rs - 1, c, c + cs - 1, None, td.text_content()))
                taken.update((r + i, c + j) for i in range(rs) for j in range(cs))
                c += cs
        tables.append(Table(cells, header_rows=header_rows))
    if not tables:
        raise InputError(path, "no <table> element")
    return tables


# -------------------------------------------------------------------------------------------------- CSV


def csv_text(tables: list[Table]) -> str:
    """The n_rows x n_cols grid of each table (spanning text in the top-left slot); tables separated by a blank row."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for k, t in enumerate(tables):
        if k:
            w.writerow([])
        grid = [[""] * t.n_cols for _ in range(t.n_rows)]
        for c in t.cells:
            grid[c.sr][c.sc] = c.text
        w.writerows(grid)
    return buf.getvalue()


def read_csv(path: str | Path, text: str | None = None) -> list[Table]:
    """Tables of a CSV written by `csv_text`: one 1x1 cell per non-empty slot (spans are not kept by CSV)."""
    try:
        text = Path(path).read_text(encoding="utf-8") if text is None else text
        rows = list(csv.reader(io.StringIO(text)))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise InputError(path, f"not a readable CSV file ({e})") from None
    tables, cur = [], []
    for row in [*rows, []]:
        if row:
            cur.append(row)
            continue
        if cur:
            tables.append(Table([Cell(r, r, c, c, None, v) for r, vals in enumerate(cur)
                                 for c, v in enumerate(vals) if v]))
            cur = []
    return tables


# ------------------------------------------------------------------------------------------------- JSON


def json_text(tables: list[Table], source: str = "") -> str:
    """JSON document: {"source", "tables": [Table.to_dict()]}."""
    return json.dumps({"source": source, "tables": [t.to_dict() for t in tables]}, ensure_ascii=False, indent=1) + "\n"


def read_json(path: str | Path, text: str | None = None) -> list[Table]:
    """Tables of a JSON written by `json_text`."""
    try:
        d = json.loads(Path(path).read_text(encoding="utf-8") if text is None else text)
        return [Table.from_dict(t) for t in d["tables"]]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as e:
        raise InputError(path, f"not a cvkit table JSON ({type(e).__name__}: {e})") from None


# --------------------------------------------------------------------------------------------- dispatch


def render(tables: list[Table], fmt: str, source: str = "") -> str:
    """The text of `tables` in one of FORMATS."""
    if fmt == "icdar2013":
        return icdar2013_str_text(tables, source)
    if fmt == "ctdar":
        return ctdar_text(tables, source)
    if fmt == "html":
        return html_text(tables)
    if fmt == "csv":
        return csv_text(tables)
    if fmt == "json":
        return json_text(tables, source)
    raise ArgumentError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def read_tables(path: str | Path, fmt: str | None = None) -> list[Table]:
    """Read any supported table file (format from `fmt` or the suffix; XML flavour sniffed)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file")
    fmt = fmt or SUFFIX_FORMATS.get(path.suffix.lower())
    if fmt in ("icdar2013", "ctdar"):
        return read_table_xml(path)
    if fmt == "html":
        return read_html(path)
    if fmt == "csv":
        return read_csv(path)
    if fmt == "json":
        return read_json(path)
    raise InputError(path, "unknown table file type (expected .xml, .html, .csv or .json)")
