"""TEDS, ICDAR-2013 adjacency and cTDaR metrics on hand-computed cases."""

from __future__ import annotations

import random

import pytest

from cvkit.parse_table.metrics import (
    PRF,
    adjacency_prf,
    adjacency_relations,
    adjacency_scores,
    ctdar_prf,
    ctdar_scores,
    levenshtein,
    levenshtein_dp,
    teds,
)
from cvkit.parse_table.table import Cell, Table


def _html(body: str) -> str:
    return f"<html><body><table>{body}</table></body></html>"


def test_levenshtein_matches_reference_dp() -> None:
    assert levenshtein("kitten", "sitting") == 3
    assert levenshtein([], list("abc")) == 3
    rnd = random.Random(1)
    for _ in range(500):
        a = [rnd.choice("ab<>c") for _ in range(rnd.randint(0, 80))]
        b = [rnd.choice("abcd") for _ in range(rnd.randint(0, 80))]
        assert levenshtein(a, b) == levenshtein_dp(a, b)


GT = _html("<tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr>")


def test_teds_identical_is_one() -> None:
    assert teds(GT, GT) == 1.0
    assert teds(GT, GT, structure_only=True) == 1.0


def test_teds_content_rename_costs_normalised_levenshtein() -> None:
    # 6 nodes under <table> (2 tr + 4 td); renaming 'd' -> 'e' costs lev/len = 1
    pred = _html("<tr><td>a</td><td>b</td></tr><tr><td>c</td><td>e</td></tr>")
    assert teds(pred, GT) == pytest.approx(1 - 1 / 6)
    assert teds(pred, GT, structure_only=True) == 1.0
    # 'dx' vs 'd': lev 1 / max len 2 = 0.5
    pred2 = _html("<tr><td>a</td><td>b</td></tr><tr><td>c</td><td>dx</td></tr>")
    assert teds(pred2, GT) == pytest.approx(1 - 0.5 / 6)


def test_teds_missing_cell_and_span_mismatch() -> None:
    pred = _html("<tr><td>a</td><td>b</td></tr><tr><td>c</td></tr>")
    assert teds(pred, GT, structure_only=True) == pytest.approx(1 - 1 / 6)
    # a colspan=2 cell replacing two cells: rename (span differs) 1 + delete 1 = 2 of 6 nodes
    pred = _html('<tr><td colspan="2">ab</td></tr><tr><td>c</td><td>d</td></tr>')
    assert teds(pred, GT, structure_only=True) == pytest.approx(1 - 2 / 6)


def test_teds_empty_or_tableless_prediction_scores_zero() -> None:
    assert teds("", GT) == 0.0
    assert teds("<html><body><p>x</p></body></html>", GT) == 0.0


def _table(cells: list[tuple[int, int, int, int, str]], boxes: bool = False) -> Table:
    out = []
    for sr, er, sc, ec, text in cells:
        bbox = (sc * 10.0, sr * 10.0, ec * 10.0 + 9, er * 10.0 + 9) if boxes else None
        out.append(Cell(sr, er, sc, ec, bbox, text))
    return Table(out)


# GT: row 0: A spans cols 0-1, B at col 2; row 1: C, empty, D
GT_CELLS = [(0, 0, 0, 1, "A"), (0, 0, 2, 2, "B"), (1, 1, 0, 0, "C"), (1, 1, 1, 1, ""), (1, 1, 2, 2, "D")]


def test_adjacency_relations_skip_blanks_and_dedupe_spans() -> None:
    t = _table(GT_CELLS)
    rels = {(t.cells[a].text, t.cells[b].text, d) for a, b, d in adjacency_relations(t)}
    assert rels == {("A", "B", "h"), ("A", "C", "v"), ("B", "D", "v"), ("C", "D", "h")}


def test_adjacency_prf_hand_computed() -> None:
    gt = _table(GT_CELLS)
    # prediction without the span: A at col 0 only, so B-D vertical is kept but A loses nothing; D moved to col 1
    pred = _table([(0, 0, 0, 0, "A"), (0, 0, 1, 1, "B"), (1, 1, 0, 0, "C"), (1, 1, 2, 2, "D")])
    # pred relations: A-B h, A-C v, C-D h (B at col 1 has nothing below) -> 3 predicted, all correct
    prf = adjacency_prf(pred, gt)
    assert (prf.correct, prf.n_pred, prf.n_gt) == (3, 3, 4)
    assert prf.precision == 1.0 and prf.recall == 0.75
    assert prf.f1 == pytest.approx(6 / 7)
    # whitespace is ignored when matching texts
    pred2 = _table([(r, e, s, c, f" {t} ") for r, e, s, c, t in GT_CELLS])
    assert adjacency_prf(pred2, gt).f1 == 1.0


def test_adjacency_scores_micro_and_macro() -> None:
    gt = _table(GT_CELLS)
    pred = _table([(0, 0, 0, 0, "A"), (0, 0, 1, 1, "B"), (1, 1, 0, 0, "C"), (1, 1, 2, 2, "D")])
    s = adjacency_scores([(pred, gt), (gt, gt)])
    assert s["micro"]["correct"] == 7 and s["micro"]["n_pred"] == 7 and s["micro"]["n_gt"] == 8
    assert s["macro"]["recall"] == pytest.approx((0.75 + 1.0) / 2)
    empty = PRF(0, 0, 0)  # nothing predicted for a table with no relations: perfect
    assert (empty.precision, empty.recall, empty.f1) == (1.0, 1.0, 1.0)
    assert (PRF(0, 0, 3).precision, PRF(0, 0, 3).recall, PRF(0, 2, 0).precision) == (0.0, 0.0, 0.0)


def test_ctdar_geometric_matching_by_iou_threshold() -> None:
    gt = _table(GT_CELLS, boxes=True)
    pred = _table(GT_CELLS, boxes=True)
    assert ctdar_prf(pred, gt, 0.9).f1 == 1.0
    # shift cell C (a 9x9 box) right by 2 px: IoU = 7*9 / (81 + 81 - 63) = 0.636 -> matched at 0.6, not at 0.9
    c = pred.cells[2]
    c.bbox = (c.bbox[0] + 2, c.bbox[1], c.bbox[2] + 2, c.bbox[3])
    assert ctdar_prf(pred, gt, 0.6).f1 == 1.0
    at9 = ctdar_prf(pred, gt, 0.9)
    # 6 relations (the empty cell counts in cTDaR mode): A-B, A-C, A-E, B-D, C-E, E-D; the two with C fail
    assert at9.correct == 4 and at9.n_gt == 6 and at9.n_pred == 6
    s = ctdar_scores([([pred], [gt])])
    f = [s[f"iou_{t}"]["f1"] for t in (0.6, 0.7, 0.8, 0.9)]
    assert s["wavg_f1"] == pytest.approx(sum(t * v for t, v in zip((0.6, 0.7, 0.8, 0.9), f, strict=False)) / 3.0)
