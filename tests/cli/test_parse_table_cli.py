"""End to end through the CLI: outputs and their content, batch mode, error exit codes, training."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import typer

from cvkit.parse_table.formats import read_tables
from cvkit_cli import parse_table as cli
from cvkit_cli._options import run_guarded

ROWS = [["Name", "Qty", "Price"], ["apple", "12", "3.50"], ["pear", "7", "1.25"]]


def _run(*args: str) -> int:
    app = typer.Typer()
    train_app, evaluate_app = typer.Typer(), typer.Typer()
    app.add_typer(train_app, name="train")
    app.add_typer(evaluate_app, name="evaluate")

    @app.callback()
    def _root() -> None:
        pass

    cli.register(app, train_app, evaluate_app)
    return run_guarded(lambda: app([str(a) for a in args], standalone_mode=False))


def _table_image(path: Path, ruled: bool = True) -> Path:
    img = np.full((190, 520, 3), 255, np.uint8)
    for r, row in enumerate(ROWS):
        for c, text in enumerate(row):
            cv2.putText(img, text, (30 + 170 * c, 50 + 55 * r), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (0, 0, 0), 2)
    if ruled:
        for y in (15, 70, 125, 180):
            cv2.line(img, (10, y), (510, y), (0, 0, 0), 2)
        for x in (10, 180, 350, 510):
            cv2.line(img, (x, 15), (x, 180), (0, 0, 0), 2)
    cv2.imwrite(str(path), img)
    return path


@pytest.fixture
def table_png(tmp_path: Path) -> Path:
    return _table_image(tmp_path / "table.png")


def _need_default_model() -> None:
    from cvkit.assets import find_asset

    assert find_asset("parse-table", "graph-lite") is not None, "the shipped graph-lite asset is missing"


def test_geometry_only_grid_in_every_format(table_png: Path, tmp_path: Path) -> None:
    _need_default_model()
    for name in ("t-str.xml", "t.html", "t.csv", "t.json"):
        out = tmp_path / name
        assert _run("parse-table", table_png, "-o", out, "--ocr", "none", "-q") == 0
        t = read_tables(out)[0]
        if not name.endswith(".csv"):  # CSV of text-less cells is empty by design
            assert (t.n_rows, t.n_cols) == (3, 3), name
    ctdar = tmp_path / "t-ctdar.xml"
    assert _run("parse-table", table_png, "-o", ctdar, "--format", "ctdar", "--ocr", "none", "-q") == 0
    assert "<Coords" in ctdar.read_text()


@pytest.mark.slow
def test_ocr_text_lands_in_the_right_cells(table_png: Path, tmp_path: Path, capsys) -> None:
    _need_default_model()
    pytest.importorskip("rapidocr_onnxruntime")
    out = tmp_path / "t.csv"
    assert _run("parse-table", table_png, "-o", out, "--ocr", "rapidocr", "--json", "--overlay",
                tmp_path / "check.png") == 0
    rec = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert rec["n_tables"] == 1 and rec["rows"] == [3] and rec["cols"] == [3]
    grid = [row.split(",") for row in out.read_text().strip().splitlines()]
    assert [c.strip().lower() for c in grid[0]] == ["name", "qty", "price"]
    assert grid[2][1].strip() == "7"
    assert cv2.imread(str(tmp_path / "check.png")) is not None


def test_classical_fallback_and_stdout(table_png: Path, capsys) -> None:
    assert _run("parse-table", table_png, "--model", "line-grid", "--ocr", "none", "-q") == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["tables"][0]["n_rows"] == 3 and doc["tables"][0]["n_cols"] == 3


def test_corrupt_inputs_exit_3_and_leave_no_output(tmp_path: Path) -> None:
    bad_png = tmp_path / "bad.png"
    bad_png.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    bad_pdf = tmp_path / "bad.pdf"
    bad_pdf.write_bytes(b"%PDF-1.4\n garbage")
    for src in (bad_png, bad_pdf):
        out = tmp_path / f"{src.stem}-{src.suffix[1:]}.html"
        assert _run("parse-table", src, "-o", out, "--model", "line-grid", "-q") == 3
        assert not out.exists()
        assert not list(tmp_path.glob(".*part*"))


def test_argument_errors_exit_4_or_5(table_png: Path, tmp_path: Path) -> None:
    assert _run("parse-table", table_png, "-o", tmp_path / "x.txt", "--model", "line-grid") == 4
    assert _run("parse-table", table_png, "-o", tmp_path / "x.html", "--region", "900,900,10,10",
                "--model", "line-grid", "--ocr", "none") == 4
    assert _run("parse-table", table_png, "-o", tmp_path / "x.html", "--model", "no-such-model") == 5
    assert _run("parse-table", table_png, "-o", table_png, "--format", "html", "--model", "line-grid") == 4


def test_batch_mirrors_tree_reports_failures_and_skips(tmp_path: Path) -> None:
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    _table_image(src / "sub" / "a.png")
    (src / "broken.jpg").write_bytes(b"not an image")
    out = tmp_path / "out"
    assert _run("parse-table", src, "-o", out, "--model", "line-grid", "--ocr", "none", "-q") == 6
    assert (out / "sub" / "a-str.xml").exists() and not (out / "broken-str.xml").exists()
    mtime = (out / "sub" / "a-str.xml").stat().st_mtime_ns
    _run("parse-table", src, "-o", out, "--model", "line-grid", "--ocr", "none", "-q", "--skip-existing")
    assert (out / "sub" / "a-str.xml").stat().st_mtime_ns == mtime


def test_image_only_pdf_falls_back_to_text_blocks(table_png: Path, tmp_path: Path) -> None:
    from PIL import Image

    pdf = tmp_path / "scan.pdf"
    Image.open(table_png).convert("RGB").save(pdf, resolution=150.0)
    out = tmp_path / "scan.json"
    assert _run("parse-table", pdf, "-o", out, "--model", "line-grid", "--ocr", "none", "--no-detect", "-q") == 0
    t = read_tables(out)[0]
    assert t.coord_space == "pdf" and (t.n_rows, t.n_cols) == (3, 3)


@pytest.mark.slow
def test_train_writes_an_asset_with_a_card(tmp_path: Path) -> None:
    out = tmp_path / "gl"
    assert _run("train", "parse-table", "--data", "synthetic", "--max-steps", "2", "--out", out, "-q") == 0
    card = json.loads((out / "card.json").read_text())
    assert card["architecture"] == "graph-lite" and card["sha256"] and card["training"]["steps"] == 2
    png = _table_image(tmp_path / "t.png")
    assert _run("parse-table", png, "--model", str(out / "weights.safetensors"), "--ocr", "none", "-q",
                "-o", tmp_path / "t.json") == 0
