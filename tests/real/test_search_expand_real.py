"""search-expand on real data: PETS2009 S2L1 person crops (identity = relevance, same-identity crops within
+-5 s are junk) with the default descriptor; the default query expansion must not lose to no QE."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cvkit.search_expand.data import RetrievalSet, pets_crops
from cvkit.search_expand.descriptor import GemDescriptor
from cvkit.search_expand.evaluate import Method, describe_all, evaluate_methods
from tests.conftest import shared_path


@pytest.mark.slow
def test_pets_default_qe_beats_no_qe():
    torch.set_num_threads(1)
    root = shared_path("pets2009")
    crops, ids, frames, fps = pets_crops(root / "vtest.avi", root / "PETS2009-S2L1.xml", every=15)
    qi = np.arange(0, len(crops), 3)
    gnd = []
    for i in qi:
        same = ids == ids[i]
        near = same & (np.abs(frames - frames[i]) <= 5 * fps)
        gnd.append({"ok": np.flatnonzero(same & ~near), "junk": np.flatnonzero(near)})
    rs = RetrievalSet("pets-sub", crops, [crops[i] for i in qi], gnd, qi)
    x = describe_all(crops, GemDescriptor())
    rows = evaluate_methods(rs, x, x[qi], (Method("none", "none"), Method("alphaqe", "alphaqe", 10)))
    none, alpha = rows[0]["mAP"], rows[1]["mAP"]
    assert none > 0.15  # far above chance (about 0.05: ~44 relevant of 929)
    assert alpha >= none - 0.005
