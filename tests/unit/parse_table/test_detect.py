"""Table detection on whole pages: constructed pages, synthetic pages, and the detection scores."""

from __future__ import annotations

import numpy as np
import pytest

from cvkit.parse_table.detect import detect_tables
from cvkit.parse_table.metrics import detection_scores, match_boxes
from cvkit.parse_table.synthetic_page import synth_page
from cvkit.parse_table.words import Word


def _prose(y: float, x1: float = 100, x2: float = 1100, h: float = 18) -> list[Word]:
    out, x, k = [], x1, 0
    while x + 60 < x2:
        out.append(Word(x, y, x + 55, y + h, f"word{k}"))
        x += 62
        k += 1
    return out


def _page() -> tuple[list[Word], tuple[float, float, float, float]]:
    words: list[Word] = []
    for i in range(5):
        words += _prose(100 + 24 * i)
    words += [Word(100, 260, 300, 278, "Table 1: Results")]
    for r in range(6):
        y = 300 + 24 * r
        words += [Word(100, y, 220, y + 18, f"Item {r}"), Word(500, y, 560, y + 18, f"{r * 7}"),
                  Word(800, y, 860, y + 18, f"{r * 3}.5")]
    for i in range(5):
        words += _prose(480 + 24 * i)
    return words, (100.0, 300.0, 860.0, 438.0)


def test_a_table_between_paragraphs_is_found_and_the_prose_and_caption_are_not() -> None:
    words, gt = _page()
    boxes = detect_tables(words, [])
    assert len(boxes) == 1
    assert match_boxes(boxes, [gt], 0.8)


def test_running_text_alone_holds_no_table() -> None:
    words = [w for i in range(20) for w in _prose(100 + 24 * i)]
    assert detect_tables(words, []) == []
    assert detect_tables([], []) == []


def test_detection_scores_count_matches_completeness_and_purity() -> None:
    gt = [(0, 0, 100, 100)]
    words = [(10, 10, 20, 20), (80, 80, 90, 90), (150, 150, 160, 160)]
    s = detection_scores([([(0, 0, 100, 95), (140, 140, 170, 170)], gt, words)])
    assert s["matched"] == 1 and s["precision"] == 0.5 and s["recall"] == 1.0
    assert s["completeness"] == 1.0 and s["purity"] == 0.5
    s = detection_scores([([(0, 0, 60, 60)], gt, words)])  # misses a word of the table: incomplete, and IoU < 0.5
    assert s["completeness"] == 0.0 and s["purity"] == 1.0 and s["matched"] == 0


@pytest.mark.slow
def test_synthetic_pages_have_tables_and_detection_finds_most() -> None:
    pages = [synth_page(np.random.default_rng(5000 + i)) for i in range(8)]
    assert sum(len(p.tables) for p in pages) >= 5
    scores = detection_scores([(detect_tables(p.words, p.rules), p.tables, [(w.x1, w.y1, w.x2, w.y2)
                                                                           for w in p.words]) for p in pages])
    assert scores["recall"] >= 0.4 and scores["precision"] >= 0.4


@pytest.mark.parametrize("seed", [0, 1])
def test_synthetic_page_tables_lie_on_the_page(seed: int) -> None:
    p = synth_page(np.random.default_rng(seed))
    w, h = p.size
    assert p.tables and all(0 <= b[0] < b[2] <= w and 0 <= b[1] < b[3] <= h for b in p.tables)


def _framed_table(x: float, y: float, rows: int = 5) -> tuple[list[Word], tuple[float, float, float, float]]:
    """Words of a two-column table at (x, y) and its ruled frame (a grid's bounding box)."""
    words = []
    for r in range(rows):
        yy = y + 8 + 24 * r
        words += [Word(x + 10, yy, x + 130, yy + 18, f"Item {r}"), Word(x + 250, yy, x + 300, yy + 18, f"{r * 7}")]
    return words, (x, y, x + 320, y + 8 + 24 * rows)


def test_tables_in_their_own_ruled_frames_stay_apart() -> None:
    """Stacked with a title between them, or side by side: each ruled frame holding rows is one table."""
    top, f1 = _framed_table(100, 100)
    bottom, f2 = _framed_table(100, 270)
    title = [Word(150, 240, 400, 258, "Frequency by year")]
    boxes = detect_tables(top + title + bottom, [], frames=[f1, f2])
    assert len(match_boxes(boxes, [f1, f2], 0.9)) == 2 and len(boxes) == 2
    left, g1 = _framed_table(100, 100, 8)
    right, g2 = _framed_table(440, 100, 8)
    boxes = detect_tables(left + right, [], frames=[g1, g2])
    assert len(match_boxes(boxes, [g1, g2], 0.9)) == 2 and len(boxes) == 2


def test_a_section_box_around_a_framed_table_is_not_the_table() -> None:
    words, frame = _framed_table(120, 140)
    section = (80.0, 90.0, 480.0, 300.0)  # a box around the heading and the table
    heading = [Word(200, 100, 360, 118, "Greenhouse gases")]
    boxes = detect_tables(heading + words, [], frames=[section, frame])
    assert match_boxes(boxes, [frame], 0.9) and len(boxes) == 1


def test_a_frame_with_table_rows_outside_it_keeps_the_whole_table() -> None:
    """A frame around the body only: the header row above it belongs to the table."""
    words, frame = _framed_table(100, 130)
    header = [Word(110, 100, 180, 118, "Name"), Word(350, 100, 400, 118, "Count")]
    boxes = detect_tables(header + words, [], frames=[frame])
    assert len(boxes) == 1 and boxes[0][1] <= 100
