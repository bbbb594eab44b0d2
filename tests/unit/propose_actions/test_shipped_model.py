"""The shipped bcgnn-small-synth: card, loading, and its held-out comparison with the prior and sliding windows."""

from __future__ import annotations

import pytest

from cvkit.propose_actions.evaluate import synthetic_comparison
from cvkit.propose_actions.run import load_proposer


def test_asset_loads_with_its_card():
    p = load_proposer("default")
    assert p.kind == "bcgnn" and p.input == "profile"
    assert p.card["task"] == "propose-actions" and p.card["training"]["command"].startswith("cvkit train")


@pytest.mark.slow
def test_beats_prior_and_sliding_windows_on_heldout_generated_videos(one_thread):
    p = load_proposer("default")
    rep = synthetic_comparison(p.net, p.input, seed=7, n=80, prior_videos=300)
    bc, pr, sw = rep["bcgnn"]["AR@100"], rep["prior"]["AR@100"], rep["sliding-window"]["AR@100"]
    assert bc >= pr + 10.0, (bc, pr)  # percent: >= 0.10 AR@100
    assert bc >= sw + 10.0, (bc, sw)
