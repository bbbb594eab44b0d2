"""propose-actions on ../shared/data: the prior baseline on ActivityNet-1.3 val, and a real video end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cvkit.propose_actions.data import load_anet
from cvkit.propose_actions.metrics import anet_summary, average_recall_vs_avg_nr_proposals
from cvkit.propose_actions.train import fit_prior
from tests.conftest import shared_path


def test_prior_on_activitynet_val_matches_independent_figures():
    root = shared_path("propose-actions")
    prior, _ = fit_prior(f"anet:{root}", "training")  # built from the training split only
    val = [a for a in load_anet(root).values() if a.subset == "validation" and len(a.segments)]
    assert len(val) == 4728
    gt = {a.video: a.segments for a in val}
    props = {a.video: prior.propose(a.feature_duration) for a in val}
    s = anet_summary(average_recall_vs_avg_nr_proposals(gt, props))
    assert s["AR@100"] == pytest.approx(54.54, abs=0.5)
    assert s["AUC"] == pytest.approx(43.43, abs=0.5)


@pytest.mark.slow
def test_real_video_end_to_end(tmp_path):
    from cvkit.propose_actions.results import write_anet_json
    from cvkit.propose_actions.run import ItemOptions, load_proposer, propose_one

    video = shared_path("pets2009", "vtest.avi")
    props, summary = propose_one(load_proposer("default"), video, ItemOptions())
    assert summary["snippets"] == 795 // 16
    assert summary["duration"] == pytest.approx(79.5, abs=0.5)
    write_anet_json([props], tmp_path / "p.json")
    d = json.loads((tmp_path / "p.json").read_text())
    rows = d["results"]["vtest"]
    assert 1 <= len(rows) <= 100
    segs = np.array([r["segment"] for r in rows])
    assert (segs[:, 0] >= 0).all() and (segs[:, 1] <= summary["duration"] + 1e-6).all()
    assert (segs[:, 1] > segs[:, 0]).all()
