"""Soft-NMS / NMS behaviour and the prior table."""

from __future__ import annotations

import numpy as np
import pytest

from cvkit.propose_actions.postprocess import hard_nms, soft_nms, suppress
from cvkit.propose_actions.prior import PriorModel


def test_soft_nms_decays_overlaps_only_above_width_threshold():
    segs = np.array([[0.0, 0.5], [0.0, 0.49], [0.6, 0.9]])
    kept, sc = soft_nms(segs, np.array([0.9, 0.8, 0.7]), top_k=3)
    assert kept[0] == pytest.approx([0.0, 0.5])
    u = 0.49 / 0.5  # tIoU 0.98 > 0.5 + 0.4 * 0.5: decayed by exp(-u^2 / 0.4)
    assert sc[1] == pytest.approx(0.7)  # the disjoint one now ranks second, untouched
    assert sc[2] == pytest.approx(0.8 * np.exp(-u * u / 0.4))


def test_soft_nms_width_adaptive_threshold_spares_moderate_overlap_of_long_segments():
    segs = np.array([[0.0, 1.0], [0.0, 0.8]])  # tIoU 0.8 < 0.5 + 0.4 * 1.0
    _, sc = soft_nms(segs, np.array([0.9, 0.8]))
    assert sc[1] == pytest.approx(0.8)
    _, sc2 = soft_nms(segs, np.array([0.9, 0.8]), adaptive=False)
    assert sc2[1] == pytest.approx(0.8 * np.exp(-0.64 / 0.4))


def test_hard_nms_and_top_k():
    segs = np.array([[0, 10], [1, 10], [20, 30], [40, 50]], dtype=float)
    kept, _ = hard_nms(segs, np.array([0.9, 0.8, 0.7, 0.6]), top_k=2, thr=0.65)
    assert kept.tolist() == [[0, 10], [20, 30]]
    k2, _ = suppress(segs, np.array([0.1, 0.2, 0.3, 0.4]), "none", top_k=1)
    assert k2.tolist() == [[40, 50]]


def test_prior_ranks_the_most_frequent_cell_first_and_scales_with_duration():
    inst = [(0.0, 10.0, 10.0)] * 5 + [(2.0, 3.0, 10.0)] * 2 + [(7.0, 9.0, 10.0)]
    p = PriorModel.fit(inst)
    segs, sc = p.propose(10.0)
    assert segs[0] == pytest.approx([0.05, 9.95])  # cell (0, 99): bin centres
    assert sc[0] == pytest.approx(5 / 8)
    segs2, _ = p.propose(20.0)
    assert segs2 == pytest.approx(2 * segs)
    again = PriorModel.from_state_dict(p.state_dict())
    assert again.propose(10.0)[0] == pytest.approx(segs)
