"""Revisited mAP on hand-built rankings (values worked out by hand from revisitop's definition)."""

import numpy as np
import pytest

from cvkit.search_expand import metrics as M


def test_junk_shifts_positives_and_empty_query_is_skipped():
    rankings = [np.array([0, 1, 2, 3, 4, 5]), np.array([0, 1, 2]), np.array([4, 3, 2, 1, 0])]
    gnd = [{"ok": [1, 3], "junk": [0]}, {"ok": [], "junk": [0]}, {"ok": [2, 0], "junk": [3, 1]}]
    r = M.compute_map(rankings, gnd, kappas=(1, 5))
    # q0: shifted ranks 0, 2 -> ((1+1) + (1/2+2/3)) / 4 = 19/24 ; q2: ranks 1, 2 -> ((0+1/2)+(1/2+2/3))/4 = 5/12
    assert r.aps[0] == pytest.approx(19 / 24)
    assert np.isnan(r.aps[1])
    assert r.aps[2] == pytest.approx(5 / 12)
    assert r.map == pytest.approx((19 / 24 + 5 / 12) / 2)
    # mP@1: q0 1, q2 0; mP@5: k' = min(5, last positive 3) -> 2/3 for both
    assert r.mpk == pytest.approx([0.5, 2 / 3])


def test_item_both_positive_and_junk_is_not_shifted_by_itself():
    r = M.compute_map([np.array([0, 1, 2])], [{"ok": [1], "junk": [1]}])
    assert r.map == pytest.approx(0.25)


def test_perfect_ranking_is_one_and_missing_positive_counts_zero():
    assert M.compute_map([np.array([2, 5, 0])], [{"ok": [2, 5], "junk": []}]).map == pytest.approx(1.0)
    # truncated ranking that misses one of two positives: only the first contributes
    assert M.compute_map([np.array([2, 0])], [{"ok": [2, 5], "junk": []}]).map == pytest.approx(0.5)


def test_revisited_protocols():
    g = [{"easy": [0], "hard": [1], "junk": [2]}]
    ranking = [np.array([2, 1, 0, 3])]
    res = M.revisited_map(ranking, g, kappas=(1,))
    # easy: ok {0}, junk {2,1} -> rank 0 -> 1.0 ; hard: ok {1}, junk {2,0} -> rank 0 -> 1.0
    assert res["easy"].map == pytest.approx(1.0)
    assert res["hard"].map == pytest.approx(1.0)
    # medium: ok {0,1}, junk {2}: ranks 0,1 -> 1.0
    assert res["medium"].map == pytest.approx(1.0)
    g2 = [{"easy": [0], "hard": [], "junk": []}]
    assert np.isnan(M.revisited_map(ranking, g2)["hard"].map)  # every query empty -> NaN


def test_label_gnd_and_recall():
    labels = np.array([0, 0, 1, 1, 1])
    gnd = M.label_gnd(np.array([0, 1]), labels, query_db_index=np.array([0, 2]))
    assert list(gnd[0]["ok"]) == [1] and list(gnd[0]["junk"]) == [0]
    assert list(gnd[1]["ok"]) == [3, 4]
    rk = [np.array([0, 2, 1, 3, 4]), np.array([2, 0, 1, 3, 4])]
    rec = M.recall_at_k(rk, gnd, ks=(1, 2, 3))
    # q0: junk 0 removed -> [2,1,..] first positive at rank 1; q1: junk 2 removed -> [0,1,3] positive at rank 2
    assert rec == {1: 0.0, 2: 0.5, 3: 1.0}


def test_revisited_layout_reader_and_evaluation(tmp_path):
    import pickle

    from cvkit.search_expand.data import read_revisited
    from cvkit.search_expand.evaluate import Method, evaluate_methods

    base = tmp_path / "roxford5k"
    (base / "jpg").mkdir(parents=True)
    cfg = {"imlist": ["a", "b", "c", "d"], "qimlist": ["q"],
           "gnd": [{"bbx": [0, 0, 5, 5], "easy": [0], "hard": [2], "junk": [1]}]}
    with open(base / "gnd_roxford5k.pkl", "wb") as f:
        pickle.dump(cfg, f)
    rs = read_revisited(tmp_path, "roxford5k")
    assert rs.revisited and rs.query_images[0][1] == (0.0, 0.0, 5.0, 5.0)
    db = np.eye(4, dtype=np.float32)[:, :4] + 0.01
    q = np.array([[1.0, 0.9, 0.5, 0.0]], dtype=np.float32)
    rows = evaluate_methods(rs, db, q, (Method("none", "none"),), whiten=False)
    # ranking a, b(junk), c, d: easy -> ok {a}, junk {b, c} -> 1.0; hard: ok {c}, junk {b, a} -> rank 0 -> 1.0
    assert rows[0]["mAP_E"] == pytest.approx(1.0) and rows[0]["mAP_H"] == pytest.approx(1.0)
    assert rows[0]["mAP_M"] == pytest.approx(1.0)
