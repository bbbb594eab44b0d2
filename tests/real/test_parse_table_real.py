"""Real-data checks on ../shared/data/parse-table (skipped when absent): official TEDS values and quality floors.

The issue's acceptance thresholds are asserted as they stand; floors just under the measured values guard the
level reached.
OCR of all 76 ICDAR-2013 tables takes 10+ minutes on a shared 2-core machine, so the suite scores the first
IMAGE_DOCS documents and the full-set image acceptance test runs only with CVKIT_FULL_EVAL=1.
"""

from __future__ import annotations

import json
import os

import pytest

from cvkit.parse_table.metrics import teds
from tests.conftest import shared_path


def _official_pairs():
    root = shared_path("parse-table", "pubtabnet-mini")
    gt = json.loads((root / "sample_gt.json").read_text())
    pred = json.loads((root / "sample_pred.json").read_text())
    return [(pred[k]["html"] if isinstance(pred[k], dict) else pred[k], gt[k]["html"], k) for k in gt]


@pytest.mark.slow
def test_teds_reproduces_the_official_pubtabnet_values() -> None:
    pairs = _official_pairs()
    scores = {k: teds(p, g) for p, g, k in pairs}
    struct = [teds(p, g, structure_only=True) for p, g, _ in pairs]
    assert len(scores) == 20
    assert sum(scores.values()) / 20 == pytest.approx(0.89968, abs=1e-4)
    assert sum(struct) / 20 == pytest.approx(0.93610, abs=1e-4)
    assert scores["PMC2915972_003_00.png"] == pytest.approx(0.9298, abs=1e-4)
    assert scores["PMC4219599_004_00.png"] == pytest.approx(0.6030, abs=1e-4)
    assert scores["PMC5303243_003_00.png"] == pytest.approx(0.6494, abs=1e-4)


def _parser(model: str = "graph-lite"):
    from cvkit.parse_table.registry import build_parser

    return build_parser(model)  # the shipped graph-lite asset is tracked: missing, this fails (ModelError)


@pytest.fixture(scope="module")
def icdar_pdf_scores() -> dict:
    from cvkit.parse_table.evaluate import evaluate_icdar2013

    return evaluate_icdar2013(shared_path("parse-table", "icdar2013-eu"), _parser(), ocr="pdf")


@pytest.mark.slow
def test_icdar2013_eu_from_pdf_text_layer(icdar_pdf_scores: dict) -> None:
    assert icdar_pdf_scores["n_tables"] == 77  # 76 + eu-009b, whose structure file shares eu-009a.pdf
    assert icdar_pdf_scores["micro"]["f1"] >= FLOOR_PDF
    assert icdar_pdf_scores["seconds_per_table"] <= 1.0


@pytest.mark.slow
def test_icdar2013_eu_classical_fallback_floor() -> None:
    from cvkit.parse_table.evaluate import evaluate_icdar2013

    s = evaluate_icdar2013(shared_path("parse-table", "icdar2013-eu"), _parser("line-grid"), ocr="pdf")
    assert s["micro"]["f1"] >= 0.65


@pytest.mark.slow
def test_acceptance_icdar2013_eu_pdf_f1_085(icdar_pdf_scores: dict) -> None:
    assert icdar_pdf_scores["micro"]["f1"] >= 0.85
    assert icdar_pdf_scores["macro"]["f1"] >= 0.85


@pytest.fixture(scope="module")
def icdar_detection_scores() -> dict:
    from cvkit.parse_table.evaluate import evaluate_detection

    return evaluate_detection(shared_path("parse-table", "icdar2013-eu"), _parser(), mode="pdf")


@pytest.mark.slow
def test_acceptance_icdar2013_eu_pdfs_without_regions(icdar_detection_scores: dict) -> None:
    s = icdar_detection_scores
    assert s["n_tables"] == 76  # eu-009a/eu-009b outline one table: counted once
    assert s["detection"]["precision"] >= 0.85  # measured 0.973
    assert s["detection"]["recall"] >= 0.85  # measured 0.947
    assert s["end_to_end"]["micro"]["f1"] >= 0.80  # measured 0.954


@pytest.fixture(scope="module")
def icdar_image_scores() -> dict:
    """The first IMAGE_DOCS documents only (OCR of all 76 tables takes minutes on 2 cores; the full-set number
    is measured by `cvkit evaluate parse-table --dataset icdar2013 --ocr rapidocr` and reported)."""
    pytest.importorskip("rapidocr_onnxruntime")
    from cvkit.parse_table.evaluate import evaluate_icdar2013

    return evaluate_icdar2013(shared_path("parse-table", "icdar2013-eu"), _parser(), ocr="rapidocr", dpi=150,
                              limit=IMAGE_DOCS)


@pytest.mark.slow
def test_icdar2013_eu_from_150dpi_images_with_ocr(icdar_image_scores: dict) -> None:
    assert icdar_image_scores["micro"]["f1"] >= FLOOR_IMAGE


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("CVKIT_FULL_EVAL"), reason="full-set OCR evaluation: set CVKIT_FULL_EVAL=1")
def test_acceptance_icdar2013_eu_image_f1_075() -> None:
    pytest.importorskip("rapidocr_onnxruntime")
    from cvkit.parse_table.evaluate import evaluate_icdar2013

    s = evaluate_icdar2013(shared_path("parse-table", "icdar2013-eu"), _parser(), ocr="rapidocr", dpi=150)
    assert s["n_tables"] == 76
    assert s["micro"]["f1"] >= 0.75  # measured 0.856 (macro 0.863)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("CVKIT_FULL_EVAL"), reason="full-set OCR evaluation: set CVKIT_FULL_EVAL=1")
def test_acceptance_icdar2013_eu_page_images_detected_by_default() -> None:
    """Every EU page at 150 dpi, no regions, the default detector (`combined` on page images): detection P and R
    of at least 0.80, end-to-end adjacency F1 of at least 0.70."""
    pytest.importorskip("rapidocr_onnxruntime")
    from cvkit.parse_table.evaluate import evaluate_detection

    s = evaluate_detection(shared_path("parse-table", "icdar2013-eu"), _parser(), mode="image", ocr="rapidocr")
    assert s["detection"]["precision"] >= 0.80 and s["detection"]["recall"] >= 0.80  # measured 0.910 / 0.934
    assert s["end_to_end"]["micro"]["f1"] >= 0.70  # measured 0.823


@pytest.fixture(scope="module")
def pubtabnet_scores() -> dict:
    pytest.importorskip("rapidocr_onnxruntime")
    from cvkit.parse_table.evaluate import evaluate_pubtabnet

    return evaluate_pubtabnet(shared_path("parse-table", "pubtabnet-mini"), _parser(), ocr="rapidocr")


@pytest.mark.slow
def test_pubtabnet_mini_teds_struct(pubtabnet_scores: dict) -> None:
    assert pubtabnet_scores["n_tables"] == 20
    assert pubtabnet_scores["teds_struct"] >= FLOOR_TEDS_STRUCT


@pytest.mark.slow
def test_acceptance_pubtabnet_teds_struct_080(pubtabnet_scores: dict) -> None:
    assert pubtabnet_scores["teds_struct"] >= 0.80


# floors just under the measured values of the shipped asset (measured: PDF micro F1 0.962; images + OCR on the
# first 2 documents (8 tables) 0.680; PubTabNet mini TEDS-Struct 0.830; see the card)
FLOOR_PDF = 0.93
FLOOR_IMAGE = 0.65
FLOOR_TEDS_STRUCT = 0.82
IMAGE_DOCS = 2


def test_pagearea_regions_file_parses_as_its_page_twin(tmp_path) -> None:
    from cvkit.parse_table.pipeline import ParseOptions, parse_path

    root = shared_path("parse-table", "icdar2013-eu")
    reg = root / "eu-011-reg.xml"  # its table is on page 3: a fallback to page 1 would show
    twin = tmp_path / "eu-011-reg.xml"
    twin.write_text(reg.read_text().replace(" page=", " pageArea="))
    parser = _parser()
    a = parse_path(root / "eu-011.pdf", parser, ParseOptions(regions_xml=reg))
    b = parse_path(root / "eu-011.pdf", parser, ParseOptions(regions_xml=twin))
    assert [t.page for t in a] == [t.page for t in b] == [3]
    assert [[(c.sr, c.er, c.sc, c.ec, c.text) for c in t.cells] for t in a] == \
        [[(c.sr, c.er, c.sc, c.ec, c.text) for c in t.cells] for t in b]


@pytest.mark.slow
def test_xml_from_pdfs_with_control_characters_in_their_text_layer_parses(tmp_path) -> None:
    from lxml import etree

    from cvkit.parse_table.formats import render
    from cvkit.parse_table.pipeline import ParseOptions, parse_path

    root = shared_path("parse-table", "icdar2013-eu")
    parser = _parser()
    for name in ("eu-026", "eu-007"):  # their text layers hold U+0002 (pdfium's line-end hyphen) and other C0 codes
        tables = parse_path(root / f"{name}.pdf", parser, ParseOptions(ocr="pdf"))
        for fmt in ("icdar2013", "ctdar"):
            out = tmp_path / f"{name}-{fmt}.xml"
            out.write_text(render(tables, fmt, name), encoding="utf-8")
            assert etree.parse(str(out)).getroot().tag == "document"
