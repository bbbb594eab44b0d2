"""Feature readers (CSV/npy, NaN and width checks), BSN rescaling, the self-similarity profile, the generator."""

from __future__ import annotations

import numpy as np
import pytest

from cvkit.errors import InputError
from cvkit.propose_actions.features import PROFILE_DIM, rescale, self_similarity_profile
from cvkit.propose_actions.readers import find_feature_file, read_features
from cvkit.propose_actions.synthetic import generate_set


def test_csv_with_header_and_npy(tmp_path):
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    (tmp_path / "v_a.csv").write_text("f0,f1,f2\n" + "\n".join(",".join(map(str, r)) for r in x) + "\n")
    assert read_features(tmp_path / "v_a.csv") == pytest.approx(x)
    np.save(tmp_path / "b.npy", x)
    assert read_features(tmp_path / "b.npy", expect_dim=3) == pytest.approx(x)
    assert find_feature_file(tmp_path, "a") == tmp_path / "v_a.csv"
    with pytest.raises(InputError, match="expects 5"):
        read_features(tmp_path / "b.npy", expect_dim=5)


def test_nan_ragged_and_1d_are_input_errors(tmp_path):
    (tmp_path / "n.csv").write_text("f0,f1\n1,2\nnan,3\n")
    with pytest.raises(InputError, match="NaN"):
        read_features(tmp_path / "n.csv")
    (tmp_path / "r.csv").write_text("f0,f1\n1,2\n3\n")
    with pytest.raises(InputError, match="row 2"):
        read_features(tmp_path / "r.csv")
    np.save(tmp_path / "one.npy", np.zeros(5))
    with pytest.raises(InputError, match="2-D"):
        read_features(tmp_path / "one.npy")


def test_rescale_keeps_constants_and_ramps():
    assert rescale(np.full((37, 2), 3.0)) == pytest.approx(np.full((100, 2), 3.0))
    ramp = ((np.arange(400) + 0.5) / 400)[:, None]
    assert rescale(ramp)[:, 0] == pytest.approx((np.arange(100) + 0.5) / 100, abs=1e-9)


def test_profile_is_feature_agnostic():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 20))
    x[30:60] += 3
    p = self_similarity_profile(x)
    assert p.shape == (100, PROFILE_DIM)
    perm = rng.permutation(20)
    assert self_similarity_profile(5 * x[:, perm] + 7) == pytest.approx(p, abs=1e-4)
    # the boundary contrast drops at the action's edges
    contrast = p[:, 2 * 5 + 1]  # window 4
    assert contrast[30] < np.median(contrast) and contrast[60] < np.median(contrast)


def test_generator_is_seeded_and_well_formed():
    a, b = generate_set(5, 4), generate_set(5, 4)
    for u, v in zip(a, b, strict=True):
        assert np.array_equal(u.features, v.features) and np.array_equal(u.segments, v.segments)
        assert u.features.shape[0] == 100 and len(u.segments) >= 1
        assert (u.segments[:, 1] > u.segments[:, 0]).all() and u.segments.min() >= 0 and u.segments.max() <= 1
