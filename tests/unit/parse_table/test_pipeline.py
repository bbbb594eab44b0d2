"""Post-processing, content boxes, rule evidence, synthetic data and PDF coordinates."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cvkit.errors import ArgumentError
from cvkit.parse_table.features import (
    N_PAIR,
    N_VERTEX,
    RuleMasks,
    pair_features,
    text_features,
    vertex_features,
)
from cvkit.parse_table.metrics import adjacency_prf
from cvkit.parse_table.pdf import PageGeometry, parse_pages
from cvkit.parse_table.pipeline import header_rows, parse_region_arg
from cvkit.parse_table.postprocess import _cell_text, assemble, compact_grid, maximal_cliques, resolve_conflicts
from cvkit.parse_table.rules import rule_masks, text_blocks
from cvkit.parse_table.synthetic import chunk_targets, synth_table
from cvkit.parse_table.table import Cell, Table
from cvkit.parse_table.words import Word, boxes_array, merge_words


def test_maximal_cliques_hand_case() -> None:
    a = np.zeros((5, 5), bool)
    for x, y in [(0, 1), (1, 2), (0, 2), (2, 3), (3, 4)]:
        a[x, y] = a[y, x] = True
    assert sorted(maximal_cliques(a)) == [[0, 1, 2], [2, 3], [3, 4]]


def test_assemble_with_perfect_relations_recovers_the_table() -> None:
    f1s = []
    for seed in range(8):
        s = synth_table(np.random.default_rng(seed))
        for k, c in enumerate(s.chunks):
            c.text = f"w{k}"
        cell, row, col = chunk_targets(s)
        gt = Table([Cell(c.sr, c.er, c.sc, c.ec, c.bbox,
                         _cell_text([w for w in s.chunks if w.label == i])) for i, c in enumerate(s.table.cells)])
        pred = assemble(s.chunks, cell.astype(np.float32), row.astype(np.float32), col.astype(np.float32))
        f1s.append(adjacency_prf(pred, gt).f1)
    assert np.mean(f1s) > 0.98, f1s


def test_resolve_conflicts_shrinks_or_merges() -> None:
    t = Table([Cell(0, 0, 0, 1, None, "wide", 0.5), Cell(0, 0, 0, 0, None, "a", 0.9), Cell(0, 0, 0, 0, None, "b", 0.1)])
    out = resolve_conflicts(t)
    slots = {(c.sr, c.sc): c.text for c in out.cells}
    assert slots == {(0, 0): "a\nb", (0, 1): "wide"}


def test_compact_grid_merges_lines_that_nothing_separates() -> None:
    # a wrapped label opened row 1, which holds only the label's second line; the numbers sit in row 1 too,
    # so rows 0 and 1 are one row; column 1 is a header offset that no two cells separate from column 2
    label = Cell(0, 1, 0, 0, (0, 0, 40, 22), "Systolic\n(mmHg)")
    head = Cell(0, 0, 1, 2, (60, 0, 90, 10), "Mean")
    num = Cell(1, 1, 2, 2, (62, 12, 80, 22), "141")
    nxt, nxt_num = Cell(2, 2, 0, 0, (0, 30, 40, 40), "Age"), Cell(2, 2, 2, 2, (62, 30, 80, 40), "61")
    out = compact_grid(Table([label, head, num, nxt, nxt_num]))
    assert (out.n_rows, out.n_cols) == (3, 2)  # the header row stays: "Mean" and "141" are distinct cells
    assert (num.sr, num.sc, head.sc, head.ec, nxt.sr) == (1, 1, 1, 1, 2)


def test_compact_grid_keeps_a_side_by_side_boundary() -> None:
    cells = [Cell(0, 0, 0, 0, (0, 0, 10, 10), "a"), Cell(0, 0, 1, 1, (20, 0, 30, 10), "b"),
             Cell(1, 1, 0, 0, (0, 20, 10, 30), "c")]
    out = compact_grid(Table(cells))
    assert (out.n_rows, out.n_cols) == (2, 2)


def test_text_features_cues() -> None:
    f = text_features(["12.5 (3.1)", "Men", "(median)", "Tumor site:", ""], 5)
    assert f.shape == (5, 4)
    assert f[0, 0] > 0.5 and f[1, 0] == 0.0
    assert f[1, 1] == 1.0 and f[2, 1] == 0.0 and f[2, 2] == 1.0 and f[3, 3] == 1.0
    assert not f[4].any() and not text_features(None, 2).any()


def test_merge_words_joins_close_words_on_a_line_only() -> None:
    ws = [Word(0, 0, 20, 10, "Total"), Word(23, 0, 40, 10, "cost"), Word(80, 0, 100, 10, "12"),
          Word(0, 20, 20, 30, "next")]
    chunks = merge_words(ws, 0.5)
    assert sorted(c.text for c in chunks) == ["12", "Total cost", "next"]


def test_features_shapes_and_rule_between() -> None:
    boxes = np.array([[0, 0, 20, 10], [0, 30, 20, 40], [50, 0, 70, 10]], np.float32)
    h = np.zeros((50, 80), bool)
    h[20, :] = True
    masks = RuleMasks(h, np.zeros_like(h), 1.0)
    v = vertex_features(boxes, masks)
    assert v.shape == (3, N_VERTEX) and np.isfinite(v).all()
    p = pair_features(boxes, np.array([0, 0]), np.array([1, 2]), masks)
    assert p.shape == (2, N_PAIR)
    assert p[0, -2] == 1.0 and p[1, -2] == 0.0  # a horizontal rule lies between boxes 0 and 1 only


def test_rule_masks_and_text_blocks_on_a_drawn_table() -> None:
    img = np.full((200, 400, 3), 255, np.uint8)
    cv2.line(img, (10, 100), (390, 100), (0, 0, 0), 2)
    cv2.line(img, (200, 10), (200, 190), (0, 0, 0), 2)
    cv2.putText(img, "Name", (30, 60), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 0, 0), 2)
    cv2.putText(img, "42", (260, 150), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 0, 0), 2)
    m = rule_masks(img)
    assert m.h[100, 50:350].all() and not m.h[60, 30:90].any()
    assert m.v[20:180, 200].all()
    blocks = text_blocks(img)
    assert len(blocks) == 2
    assert any(b[0] < 40 and b[2] > 80 and b[1] < 52 < b[3] for b in blocks)


def test_synthetic_targets_are_consistent() -> None:
    s = synth_table(np.random.default_rng(3))
    cell, row, col = chunk_targets(s)
    assert (cell <= row).all() and (cell <= col).all() and cell.diagonal().all()
    assert (row == row.T).all() and boxes_array(s.chunks).shape == (len(s.chunks), 4)


def test_pdf_geometry_round_trip_and_pages() -> None:
    g = PageGeometry(0.0, 842.0, 150 / 72)
    b = (100.0, 451.0, 482.0, 543.0)
    px = g.box_to_px(b)
    assert px[1] == pytest.approx((842 - 543) * 150 / 72)
    assert g.box_to_pdf(px) == pytest.approx(b)
    assert parse_pages("1,3-4", 5) == [1, 3, 4]
    assert parse_pages(None, 2) == [1, 2]
    with pytest.raises(ArgumentError):
        parse_pages("7", 5)


def test_region_argument_and_header_rows() -> None:
    assert parse_region_arg("1,2,30,40") == (1, 2, 30, 40)
    with pytest.raises(ArgumentError):
        parse_region_arg("1,2,3")
    with pytest.raises(ArgumentError):
        parse_region_arg("1,2,0,4")
    t = Table([Cell(0, 0, 0, 0, None, "Year"), Cell(0, 0, 1, 1, None, "Sales"), Cell(1, 1, 0, 0, None, "2019"),
               Cell(1, 1, 1, 1, None, "1,200")])
    assert header_rows(t) == 1
    text_only = Table([Cell(r, r, k, k, None, f"word {r}{k}") for r in range(4) for k in range(2)])
    assert header_rows(text_only) == 1  # no numbers at all: the first row is still the column header
    two_level = Table([Cell(0, 1, 0, 0, None, "Group"), Cell(0, 0, 1, 2, None, "Men"),
                       Cell(1, 1, 1, 1, None, "Yes"), Cell(1, 1, 2, 2, None, "No"),
                       Cell(2, 2, 0, 0, None, "Age"), Cell(2, 2, 1, 1, None, "61.8"), Cell(2, 2, 2, 2, None, "60.3"),
                       Cell(3, 3, 0, 0, None, "BMI"), Cell(3, 3, 1, 1, None, "29.9"), Cell(3, 3, 2, 2, None, "26.1")])
    assert header_rows(two_level) == 2
    lone_span = Table([Cell(0, 0, 0, 0, None, ""), Cell(0, 0, 1, 2, None, "N = 121"),
                       Cell(1, 1, 0, 0, None, "Demographics"), Cell(2, 2, 0, 0, None, "Age"),
                       Cell(2, 2, 2, 2, None, "62 (56-73)")])
    assert header_rows(lone_span) == 1  # a spanning cell with nothing under it does not open a second level


def test_region_boxes_of_rotated_pages_map_to_the_structure_frame() -> None:
    """ICDAR-2013 -reg.xml measures y from the displayed page's bottom, -str.xml from the unrotated top: on a
    595 x 842 page shown with /Rotate 90 the same table is 842 - 595 points apart (eu-015)."""
    from cvkit.parse_table.pdf import PageGeometry

    rotated = PageGeometry(0.0, 842.0, 1.0, 90, (0.0, 0.0, 595.0, 842.0))
    assert rotated.region_to_upright((60, 292, 356, 505)) == (60, 539, 356, 752)
    upright = PageGeometry(0.0, 842.0, 1.0, 0, (0.0, 0.0, 595.0, 842.0))
    assert upright.region_to_upright((60, 292, 356, 505)) == (60, 292, 356, 505)
