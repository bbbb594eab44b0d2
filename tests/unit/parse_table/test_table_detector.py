"""The learned table detector: synthetic page rendering, heatmap targets and boxes (round trip), the shipped
table-heat asset on a synthetic page, and its use by page detection."""

from __future__ import annotations

import numpy as np
import pytest

from cvkit.parse_table.metrics import match_boxes
from cvkit.parse_table.synthetic_page import synth_page
from cvkit.parse_table.table_detector import (
    LONG_SIDE,
    STRIDE,
    combine,
    heat_boxes,
    input_scale,
    page_tensor,
    refine_boxes,
    target_map,
)
from tests.unit.parse_table.pages import page_with_tables


def test_render_is_at_network_scale_with_ink_in_the_tables() -> None:
    page, gray = page_with_tables()
    s = input_scale(*page.size)
    assert max(gray.shape) == LONG_SIDE and gray.dtype == np.uint8
    assert gray.shape == (round(page.size[1] * s), round(page.size[0] * s))
    x1, y1, x2, y2 = (int(v * s) for v in page.tables[0])
    assert gray[y1:y2, x1:x2].min() < 128  # the table's text is drawn
    assert tuple(page_tensor(gray).shape[-2:]) == tuple(-(-d // 32) * 32 for d in gray.shape)


def test_target_map_and_heat_boxes_round_trip_the_table_boxes() -> None:
    matched = total = 0
    for seed in range(30):
        page = synth_page(np.random.default_rng(seed))
        s = input_scale(*page.size)
        shape = page_tensor(np.zeros((round(page.size[1] * s), round(page.size[0] * s)), np.uint8)).shape[-2:]
        m = target_map(page.tables, s, tuple(shape))
        assert m.shape == (shape[0] // STRIDE, shape[1] // STRIDE)
        boxes = [b for b, score in heat_boxes(m, s, 0.5, min_cells=1)]
        matched += len(match_boxes(boxes, page.tables, 0.7))
        total += len(page.tables)
    assert total >= 10 and matched >= 0.9 * total  # tables that touch may merge into one region


def test_refine_snaps_to_the_words_and_combine_adds_only_new_boxes() -> None:
    page, _ = page_with_tables()
    t = page.tables[0]
    h = float(np.median([w.y2 - w.y1 for w in page.words]))
    loose = (t[0] - 0.3 * h, t[1] - 0.3 * h, t[2] + 0.3 * h, t[3] + 0.3 * h)
    snapped = refine_boxes([loose], page.words)
    assert len(snapped) == 1 and len(match_boxes(snapped, [t], 0.8)) == 1
    prob = np.ones((10, 10), np.float32)
    assert combine([t], snapped, prob, 0.01) == [t]  # the learned box repeats the rule box
    other = (t[0], t[3] + 100, t[2], t[3] + 300)
    assert len(combine([t], [other], prob, 0.01)) == 2


def test_the_shipped_detector_finds_the_table_on_a_synthetic_page() -> None:
    import cv2

    from cvkit.parse_table.registry import table_detector  # fails (ModelError) when the asset is missing

    det = table_detector()
    found = total = 0
    for start in (3000, 3300):
        page, gray = page_with_tables(start)
        big = cv2.resize(gray, page.size, interpolation=cv2.INTER_LINEAR)  # the page at its own pixel size
        boxes = det.boxes(cv2.cvtColor(big, cv2.COLOR_GRAY2BGR), page.words)
        found += len(match_boxes(boxes, page.tables, 0.5))
        total += len(page.tables)
    assert found >= 1 and found >= 0.5 * total


@pytest.mark.parametrize("detector", ["learned", "combined"])
def test_page_tables_runs_every_detector(detector: str) -> None:
    import cv2

    from cvkit.parse_table.pipeline import page_tables

    page, gray = page_with_tables(3000)
    big = cv2.cvtColor(cv2.resize(gray, page.size, interpolation=cv2.INTER_LINEAR), cv2.COLOR_GRAY2BGR)
    boxes = page_tables(page.words, big, detector)
    assert len(match_boxes(boxes, page.tables, 0.5)) >= 1


def test_an_unknown_detector_is_an_argument_error() -> None:
    from cvkit.errors import ArgumentError
    from cvkit.parse_table.pipeline import page_tables

    with pytest.raises(ArgumentError):
        page_tables([], np.full((100, 100, 3), 255, np.uint8), "nope")


def test_auto_detector_is_rules_on_a_text_layer_or_a_crop_and_combined_on_page_images() -> None:
    """The default (`auto`) picks by where the words come from and whether the image is a page."""
    from cvkit.parse_table import pipeline
    from cvkit.parse_table.synthetic_page import synth_page
    from cvkit.parse_table.words import Word

    assert pipeline.DEFAULT_DETECTOR == "auto"
    page = synth_page(np.random.default_rng(5))
    img = np.full((page.size[1], page.size[0], 3), 255, np.uint8)
    assert pipeline.resolve_detector("auto", True, page.words, img) == "rules"
    assert pipeline.resolve_detector("auto", False, page.words, img) == "combined"
    assert pipeline.resolve_detector("combined", True, page.words, img) == "combined"
    crop = np.full((190, 520, 3), 255, np.uint8)  # a table crop: 20 px text on a 520 px image
    words = [Word(30 + 170 * c, 30 + 55 * r, 130 + 170 * c, 50 + 55 * r, "x") for r in range(3) for c in range(3)]
    assert pipeline.resolve_detector("auto", False, words, crop) == "rules"
    assert pipeline.resolve_detector("auto", False, [], img) == "rules"  # no text: nothing to snap to
