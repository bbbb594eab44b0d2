import json

import numpy as np
import pytest

from cvkit.retrieve_moment.concepts import class_names, window_contrast
from cvkit.retrieve_moment.data import Query
from cvkit.retrieve_moment.outputs import cues_text, write_jsonl
from cvkit.retrieve_moment.prior import fit_prior, load_prior
from cvkit.retrieve_moment.rank import rank_windows


def test_fitted_prior_ranks_the_common_window_first(tmp_path):
    qs = [Query("v", "", 0.0, 10.0, 40.0)] * 20 + [Query("v", "", 20.0, 30.0, 40.0)] * 5
    p = fit_prior(qs)
    top = p.rank(80.0, top=2)
    assert top[0][0] == pytest.approx(0.0, abs=3) and top[0][1] == pytest.approx(20.0, abs=3)
    p.save(tmp_path / "p.json")
    assert np.allclose(load_prior(str(tmp_path / "p.json")).table, p.table, atol=1e-6)


def test_shipped_prior_loads():
    p = load_prior("charades-sta-published")
    assert p.table.shape == (21, 21) and p.table.sum() == pytest.approx(1.0, abs=1e-3)


def test_rank_windows_nms():
    w = np.array([[0, 10], [1, 10], [20, 30]])
    assert [r[:2] for r in rank_windows(w, np.array([3.0, 2.0, 1.0]), 5, 0.5)] == [(0, 10), (20, 30)]
    assert len(rank_windows(w, np.array([3.0, 2.0, 1.0]), 5, 0.0)) == 3


def test_window_contrast_peaks_on_the_bump():
    curve = np.zeros(40)
    curve[10:20] = 1.0
    w = np.array([[2.5, 5.0], [0.0, 2.5], [5.0, 7.5], [0.0, 9.75]])   # rate 4 per second
    z = window_contrast(curve, 4.0, w)
    assert z.argmax() == 0 and z[3] == 0.0 or z[3] < z[0]


def test_class_names():
    names = class_names()
    assert len(names) == 1000 and names[504] == "coffee mug"


def test_cues_and_jsonl(tmp_path):
    rec = {"query": "q", "moments": [{"start": 61.5, "end": 62.25, "score": 0.5, "rank": 1}]}
    srt = cues_text([rec], vtt=False)
    assert srt.startswith("1\n00:01:01,500 --> 00:01:02,250\n#1 q")
    assert cues_text([rec], vtt=True).startswith("WEBVTT\n\n00:01:01.500 --> 00:01:02.250")
    write_jsonl(tmp_path / "a.jsonl", [rec, rec])
    assert [json.loads(x) for x in (tmp_path / "a.jsonl").read_text().splitlines()] == [rec, rec]
