"""k-reciprocal sets, KRJD and the two-stage clustering's selection and ambiguity rule."""

from __future__ import annotations

import numpy as np
import pytest

from cvkit.reid_cluster.clustering import (
    auto_clusters,
    jaccard_rows,
    knn_indices,
    krjd_matrix,
    pairwise_distances,
    reciprocal_sets,
    rerank_distances,
    select_by_krjd,
    two_stage_cluster,
)


def test_reciprocal_sets_hand_case():
    x = np.array([[0.0], [1.0], [3.0], [10.0]])
    # k = 2 with self: N(0)={0,1} N(1)={1,0} N(3)={3,1} N(10)={10,3}
    assert sorted(knn_indices(x, 2)[2].tolist()) == [1, 2]
    r = reciprocal_sets(x, 2).toarray().astype(int)
    assert r.tolist() == [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
    j = jaccard_rows(reciprocal_sets(x, 2), np.arange(4))
    assert j[0, 1] == pytest.approx(0.0) and j[0, 2] == pytest.approx(1.0) and j[2, 2] == pytest.approx(0.0)
    assert np.allclose(krjd_matrix(x, 2), j)


def test_pairwise_distances_match_numpy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(7, 5)), rng.normal(size=(4, 5))
    ref = np.linalg.norm(a[:, None] - b[None], axis=-1)
    assert np.allclose(pairwise_distances(a, b, block=3), ref, atol=1e-5)


def _two_blobs():
    rng = np.random.default_rng(1)
    a = rng.normal(0, 0.1, (5, 2))
    b = rng.normal(0, 0.1, (5, 2)) + [10, 0]
    return np.concatenate([a, b]).astype(np.float32)


def test_two_stage_recovers_separated_groups():
    x = _two_blobs()
    cl = two_stage_cluster(x, m=2, p=5, k=4)
    assert cl.kept.all()
    assert len(set(cl.labels[:5])) == 1 and len(set(cl.labels[5:])) == 1 and cl.labels[0] != cl.labels[5]
    assert (cl.status == "kept").all()


def test_samples_claimed_twice_are_dropped():
    x = _two_blobs()
    centroids = np.array([x[:5].mean(0), x[5:].mean(0)])
    # p = 6: each centroid takes its 5 plus the other group's point nearest to it (KRJD tie -> Euclidean),
    # which its own centroid also claims -> those two points are ambiguous and dropped
    cl = select_by_krjd(x, centroids, p=6, k=4)
    assert (cl.status == "ambiguous").sum() == 2
    assert (cl.labels == -1).sum() == 2
    near_a = np.argmin(np.linalg.norm(x[5:] - centroids[0], axis=1)) + 5
    near_b = np.argmin(np.linalg.norm(x[:5] - centroids[1], axis=1))
    assert set(np.flatnonzero(cl.labels == -1).tolist()) == {near_a, near_b}
    # p = 2: 6 points claimed by nobody
    cl2 = select_by_krjd(x, centroids, p=2, k=4)
    assert (cl2.status == "unassigned").sum() == 6 and cl2.kept.sum() == 4
    assert np.isnan(cl2.krjd[cl2.labels == -1]).all() and (cl2.krjd[cl2.kept] <= 1).all()


def test_auto_clusters_and_rerank_shape():
    assert auto_clusters(929) == 46 and auto_clusters(929, p=8) == 116 and auto_clusters(3) == 2
    x = _two_blobs()
    d = rerank_distances(x[:3], x, k=4)
    assert d.shape == (3, 10)
    assert (d[:, 5:] > d[:, 1:5].max()).all()  # other blob is farther after re-ranking too
