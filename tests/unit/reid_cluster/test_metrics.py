"""Re-ID metrics on hand-computed cases: Market-protocol mAP/CMC with junk removal, NMI and ARI."""

from __future__ import annotations

import numpy as np
import pytest

from cvkit.reid_cluster.metrics import ari, average_precision, cluster_scores, evaluate_ranking, nmi


def test_average_precision_torchreid_convention():
    # hits at 0-based positions 1 and 2: (1/2 + 2/3) / 2
    assert average_precision(np.array([False, True, True])) == pytest.approx(7 / 12)
    assert average_precision(np.array([True, False, False, True])) == pytest.approx((1 + 2 / 4) / 2)
    assert average_precision(np.array([False, False])) == 0.0


def test_market_protocol_removes_same_camera_positives_and_junk():
    # gallery sorted by distance: neg, hit (other cam), same id+cam (removed), junk -1 (removed), hit
    dist = np.array([[0.1, 0.2, 0.3, 0.4, 0.5]])
    g_pids = np.array([2, 1, 1, -1, 1])
    g_cams = np.array([2, 2, 1, 2, 3])
    s = evaluate_ranking(dist, np.array([1]), g_pids, np.array([1]), g_cams, max_rank=5)
    assert s.mAP == pytest.approx(7 / 12)  # hits at filtered positions 1 and 2
    assert s.cmc.tolist() == [0.0, 1.0, 1.0, 1.0, 1.0]
    assert s.n_valid == 1 and s.cce == 1 and s.ice == 0
    # without the removal the same-camera positive would have counted: AP = (1/2 + 2/3 + 3/5... ) != 7/12
    kept_all = average_precision(np.array([False, True, True, False, True]))
    assert kept_all != pytest.approx(7 / 12)


def test_distractors_stay_and_queries_without_positives_are_skipped():
    dist = np.array([[0.1, 0.2, 0.9], [0.5, 0.1, 0.2]])
    g_pids = np.array([0, 1, 3])
    g_cams = np.array([2, 2, 1])
    q_pids, q_cams = np.array([1, 3]), np.array([1, 1])
    s = evaluate_ranking(dist, q_pids, g_pids, q_cams, g_cams, max_rank=3)
    # query 1: distractor first, hit second -> AP 1/2, rank-1 miss; query 3: its only positive is same-camera
    assert s.n_valid == 1 and s.n_queries == 2
    assert s.mAP == pytest.approx(0.5)
    assert s.rank(1) == 0.0 and s.rank(2) == 1.0


def test_mean_over_queries_and_cmc():
    dist = np.array([[0.1, 0.2, 0.3], [0.3, 0.2, 0.1]])
    g_pids = np.array([1, 2, 1])
    g_cams = np.array([2, 2, 2])
    s = evaluate_ranking(dist, np.array([1, 2]), g_pids, np.array([1, 1]), g_cams, max_rank=3)
    # q1: hits at 0 and 2 -> (1 + 2/3)/2 ; q2: order g2,g1,g0 -> hit at 1 -> 1/2
    assert s.mAP == pytest.approx(((1 + 2 / 3) / 2 + 0.5) / 2)
    assert s.cmc.tolist() == [0.5, 1.0, 1.0]
    assert s.ice == 0 and s.cce == 1


def test_single_camera_time_window_junk_and_self_exclusion():
    # one camera: same-id crops within +-50 frames are junk, later ones count
    frames = np.array([100, 120, 300, 110])
    pids = np.array([1, 1, 1, 2])
    cams = np.ones(4, int)
    d = np.abs(frames[:, None] - frames[None, :]).astype(float)
    s = evaluate_ranking(d, pids, pids, cams, cams, q_frames=frames, g_frames=frames, junk_window=50,
                         exclude=np.eye(4, dtype=bool), max_rank=3)
    # query 0 (f100): 120 is junk; ranking: f110 (id 2, miss), f300 (hit) -> AP 1/2
    assert s.ap[0] == pytest.approx(0.5)
    # query 3 (id 2) has no positive -> skipped; three valid queries
    assert s.n_valid == 3
    # the rank-1 errors are in the query's (only) camera
    assert s.ice == s.n_valid - int(round(s.rank(1) * s.n_valid))
    with pytest.raises(ValueError):
        evaluate_ranking(d, pids, pids, cams, cams, junk_window=50)


def test_nmi_hand_computed_and_sklearn_agreement():
    assert nmi([0, 0, 1, 1], [5, 5, 7, 7]) == pytest.approx(1.0)
    assert nmi([0, 0, 0, 0], [0, 0, 1, 1]) == 0.0
    # C = {0,0,1,1}, L = {0,1,1,1}: I = .25 ln2 + .25 ln(2/3) + .5 ln(4/3); H(C) = ln2, H(L) = 0.5623
    i = 0.25 * np.log(2) + 0.25 * np.log(2 / 3) + 0.5 * np.log(4 / 3)
    hl = -(0.25 * np.log(0.25) + 0.75 * np.log(0.75))
    assert nmi([0, 0, 1, 1], [0, 1, 1, 1]) == pytest.approx(i / np.sqrt(np.log(2) * hl))
    from sklearn.metrics import normalized_mutual_info_score

    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 5, 200), rng.integers(0, 7, 200)
    assert nmi(a, b) == pytest.approx(normalized_mutual_info_score(b, a, average_method="geometric"))


def test_ari_hand_computed():
    assert ari([0, 0, 1, 1], [1, 1, 0, 0]) == pytest.approx(1.0)
    assert ari([0, 0, 1, 1], [0, 0, 1, 2]) == pytest.approx(4 / 7)


def test_cluster_scores_over_kept_only():
    labels = np.array([0, 0, 1, 1, -1, -1])
    truth = np.array([3, 3, 4, 4, 3, 4])
    s = cluster_scores(labels, truth)
    assert s["nmi"] == pytest.approx(1.0) and s["purity"] == 1.0
    assert s["coverage"] == pytest.approx(4 / 6) and s["kept"] == 4 and s["clusters"] == 2
