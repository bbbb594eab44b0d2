"""The real Charades clip (Y1HGC) with its Charades-STA test query; GT 0.2-9.8 s. Evaluation only."""

from __future__ import annotations

import pytest

from cvkit.retrieve_moment.metrics import tiou
from cvkit.retrieve_moment.predict import Retriever
from tests.conftest import shared_path

QUERY = "a person walks in a doorway drinking some coffee"
GT = (0.2, 9.8)


def best_top5(model: str, tmp_path) -> float:
    r = Retriever(model, cache_dir=tmp_path)
    vf, _ = r.features(shared_path("retrieve-moment", "charades.mp4"))
    assert vf.duration == pytest.approx(30.7, abs=0.3)
    return max(tiou((m.start, m.end), GT) for m in r.query(vf, QUERY, 5))


@pytest.mark.slow
def test_default_model_top5_hits_the_moment(tmp_path):
    assert best_top5("auto", tmp_path) >= 0.5


@pytest.mark.slow
def test_prior_and_concept_bank_reported(tmp_path):
    # reported beside the model (docs/retrieve-moment.md); the concept bank alone must find the coffee segment
    assert best_top5("prior", tmp_path) >= 0.5
    assert best_top5("concepts", tmp_path) >= 0.5
