"""AR@AN / AUC against hand-computed cases and a literal transcription of the official loop."""

from __future__ import annotations

import numpy as np
import pytest

from cvkit.propose_actions.metrics import (
    ANET_THRESHOLDS,
    THUMOS_THRESHOLDS,
    anet_summary,
    average_recall_vs_avg_nr_proposals,
    segment_tiou,
    thumos_summary,
)


def reference_loop(gt, props, max_avg=100, thresholds=ANET_THRESHOLDS):
    """Line-by-line transcription of eval_proposal.average_recall_vs_avg_nr_proposals (Python 3, no pandas)."""
    videos = list(gt)
    n_props = sum(len(p[1]) for p in props.values())
    ratio = max_avg * len(videos) / n_props
    score_lst, total = [], 0
    for v in videos:
        g = np.asarray(gt[v]).reshape(-1, 2)
        if v not in props or len(props[v][1]) == 0:
            score_lst.append(np.zeros((len(g), 1)))
            continue
        segs, sc = props[v]
        segs = np.asarray(segs)[np.asarray(sc).argsort()[::-1]]
        nr = min(int(segs.shape[0] * ratio), segs.shape[0])
        total += nr
        segs = segs[:nr]
        tiou = np.zeros((len(g), len(segs)))
        for i, gg in enumerate(g):
            for j, pp in enumerate(segs):
                inter = max(0.0, min(gg[1], pp[1]) - max(gg[0], pp[0]))
                union = (pp[1] - pp[0]) + (gg[1] - gg[0]) - inter
                tiou[i, j] = inter / union
        score_lst.append(tiou)
    pcn = np.arange(1, 101) / 100.0 * (max_avg * len(videos) / total)
    matches = np.empty((len(videos), 100))
    positives = np.empty(len(videos))
    recall = np.empty((len(thresholds), 100))
    for r, thr in enumerate(thresholds):
        for i, score in enumerate(score_lst):
            positives[i] = score.shape[0]
            tp = score >= thr
            pcn_props = np.minimum((score.shape[1] * pcn).astype(int), score.shape[1])
            for j, nr in enumerate(pcn_props):
                matches[i, j] = np.count_nonzero(tp[:, :nr].sum(axis=1))
        recall[r] = matches.sum(axis=0) / positives.sum()
    avg = recall.mean(axis=0)
    an = pcn * (total / len(videos))
    return avg, an, 100.0 * np.trapezoid(avg, an) / an[-1]


def test_tiou_hand_values():
    t = segment_tiou(np.array([[0, 10], [5, 15], [20, 30]]), np.array([[0, 10]]))
    assert t[0] == pytest.approx([1.0, 5 / 15, 0.0])


def test_single_perfect_proposal():
    c = average_recall_vs_avg_nr_proposals({"a": np.array([[10.0, 20.0]])}, {"a": (np.array([[10.0, 20.0]]),
                                                                                   np.array([0.9]))})
    assert np.allclose(c.avg_recall, 1.0)
    assert c.proposals_per_video == pytest.approx(np.arange(1, 101))
    assert c.auc == pytest.approx(99.0)  # trapezoid of 1 over AN 1..100, / 100


def test_half_the_thresholds():
    # tIoU 0.72: recalled at 0.50..0.70 (5 of 10 thresholds)
    c = average_recall_vs_avg_nr_proposals({"a": np.array([[0.0, 10.0]])}, {"a": (np.array([[0.0, 7.2]]),
                                                                                  np.array([1.0]))})
    assert anet_summary(c)["AR@1"] == pytest.approx(50.0)


def test_any_proposal_matches_several_gt_and_missing_videos_count_zero():
    gt = {"a": np.array([[0.0, 10.0], [0.0, 10.5]]), "b": np.array([[3.0, 4.0]])}
    props = {"a": (np.array([[0.0, 10.0]]), np.array([1.0]))}
    c = average_recall_vs_avg_nr_proposals(gt, props)
    assert 100 * c.avg_recall[-1] == pytest.approx(200 / 3)  # both GT of a by one proposal; b's GT missed


def test_percentage_truncation_uses_global_ratio():
    # video a: 200 proposals, the match at rank 150; b has GT but no proposals -> ratio 1, a keeps all 200
    segs = np.tile([[50.0, 60.0]], (200, 1))
    segs[150] = [0.0, 10.0]
    props = {"a": (segs, np.linspace(1, 0, 200))}
    c = average_recall_vs_avg_nr_proposals({"a": np.array([[0.0, 10.0]]), "b": np.array([[0.0, 1.0]])}, props)
    assert c.avg_recall[-1] == pytest.approx(0.5)
    assert c.avg_recall[50] == pytest.approx(0.0)  # top 102 of a: rank 150 not yet included


def test_matches_reference_loop_on_random_data():
    rng = np.random.default_rng(0)
    gt, props = {}, {}
    for v in range(25):
        d = rng.uniform(20, 200)
        n = rng.integers(1, 4)
        s = rng.uniform(0, d * 0.8, n)
        gt[str(v)] = np.stack([s, s + rng.uniform(1, d * 0.5, n)], 1)
        if v % 7 == 3:
            continue
        m = int(rng.integers(5, 150))
        ps = rng.uniform(0, d * 0.9, m)
        props[str(v)] = (np.stack([ps, ps + rng.uniform(0.5, d * 0.6, m)], 1), rng.random(m))
    avg, an, auc = reference_loop(gt, props)
    c = average_recall_vs_avg_nr_proposals(gt, props)
    assert c.avg_recall == pytest.approx(avg)
    assert c.proposals_per_video == pytest.approx(an)
    assert c.auc == pytest.approx(auc)
    avg_t, _, _ = reference_loop(gt, props, 1000, THUMOS_THRESHOLDS)
    ct = average_recall_vs_avg_nr_proposals(gt, props, 1000, THUMOS_THRESHOLDS)
    assert ct.avg_recall == pytest.approx(avg_t)
    assert set(thumos_summary(ct)) == {"AR@50", "AR@100", "AR@200", "AR@500", "AR@1000"}


def test_thumos_threshold_one_needs_an_exact_match():
    gt = {"a": np.array([[1.0, 2.0]])}
    exact = average_recall_vs_avg_nr_proposals(gt, {"a": (np.array([[1.0, 2.0]]), np.array([1.0]))}, 1000,
                                               THUMOS_THRESHOLDS)
    near = average_recall_vs_avg_nr_proposals(gt, {"a": (np.array([[1.0, 2.01]]), np.array([1.0]))}, 1000,
                                              THUMOS_THRESHOLDS)
    assert exact.avg_recall[-1] == pytest.approx(1.0)
    assert near.avg_recall[-1] == pytest.approx(10 / 11)
