"""Query expansion weights, DBA, and faiss vs brute force."""

import numpy as np
import pytest

from cvkit.search_expand.index import SearchIndex, brute_force_search, l2n
from cvkit.search_expand.qe import Expander, augment_database, classical_weights, search_expanded
from cvkit.search_expand.synthetic import synthetic_world


def _data(n=600, d=32, seed=0):
    rng = np.random.default_rng(seed)
    return synthetic_world(n, d, rng)


def test_classical_weights_follow_table_1():
    sims = np.array([[0.9, 0.5, -0.2, 0.1]], dtype=np.float32)
    valid = np.ones_like(sims)
    assert classical_weights("aqe", sims, valid).tolist() == [[1, 1, 1, 1, 1]]
    assert classical_weights("aqewd", sims, valid)[0].tolist() == pytest.approx([1, 0.75, 0.5, 0.25, 0.0])
    a = classical_weights("alphaqe", sims, valid, 3.0)[0]
    assert a == pytest.approx([1, 0.729, 0.125, 0.0, 0.001])
    valid[0, 1] = 0
    assert classical_weights("aqe", sims, valid)[0, 2] == 0


def test_alpha_qe_matches_direct_formula():
    x, _ = _data()
    idx = SearchIndex(x, "numpy")
    q = x[:5]
    sims, ids = brute_force_search(x, q, 10)
    want = l2n(q + np.einsum("bk,bkd->bd", np.maximum(sims, 0) ** 3, x[ids]))
    _, final = search_expanded(idx, q, Expander("alphaqe", 10), 20)
    _, direct = brute_force_search(x, want, 20)
    assert (final == direct).all()


def test_faiss_flat_equals_brute_force_on_sampled_queries():
    rng = np.random.default_rng(1)
    x = l2n(rng.standard_normal((3000, 48)))
    q = x[rng.choice(3000, 200, replace=False)] + 0.01 * rng.standard_normal((200, 48)).astype(np.float32)
    s1, i1 = SearchIndex(x, "flat").search(l2n(q), 20)
    s2, i2 = brute_force_search(x, l2n(q), 20)
    np.testing.assert_allclose(s1, s2, atol=1e-5)
    # ids equal except where two scores tie to float precision
    same = (i1 == i2) | np.isclose(s1, s2, atol=1e-6)
    assert same.all()


def test_dba_excludes_self_and_expansion_helps_clustered_data():
    x, y = _data(800, 32, 3)
    idx = SearchIndex(x, "flat")
    aug = augment_database(idx, Expander("aqe", 3))
    assert aug.shape == x.shape
    assert np.allclose(np.linalg.norm(aug, axis=1), 1, atol=1e-5)
    # AQE over 3 neighbours of an item must differ from the item itself
    assert not np.allclose(aug[0], x[0])


def test_dqe_returns_unit_vectors_and_exclude_drops_own_entry():
    x, _ = _data(300, 16, 4)
    idx = SearchIndex(x, "numpy")
    s, ids = search_expanded(idx, x[:3], Expander("dqe", 4), 10, exclude=np.arange(3))
    assert ids.shape == (3, 10)
    s0, ids0 = search_expanded(idx, x[:3], Expander("none", 0), 5)
    assert (ids0[:, 0] == np.arange(3)).all()


def test_shipped_lattqe_gram_loads_and_expands_any_dimension():
    from cvkit.search_expand.model import load_lattqe
    from cvkit.search_expand.train import lattqe_weight_fn

    net = load_lattqe("lattqe-gram")  # sha256 checked against its card
    for d in (16, 40):
        x, _ = _data(300, d, 5)
        idx = SearchIndex(x, "flat")
        s, ids = search_expanded(idx, x[:4], Expander("lattqe", 64, weight_fn=lattqe_weight_fn(net)), 10,
                                 exclude=np.arange(4))
        assert ids.shape == (4, 10) and (ids >= 0).all()
    # DBA with the tempered softmax keeps unit vectors
    aug = augment_database(SearchIndex(x, "flat"), Expander("lattqe", 48, weight_fn=lattqe_weight_fn(net, True)))
    assert np.allclose(np.linalg.norm(aug, axis=1), 1, atol=1e-4)
