"""Two-stage clustering (Sec. 3.2): k-means++ centroids, then per centroid the p samples nearest by the
k-reciprocal Jaccard distance (KRJD, Eqs. 4-5); samples claimed by more than one centroid are dropped.

k-NN sets N(x, k) contain x itself (as in Zhong et al.'s reference code); R(x, k) = {y in N(x,k) : x in N(y,k)}.
Centroids are not data points, so R is computed over the augmented set {g_i} u {c_m} (our choice). Ties in
KRJD (e.g. disjoint neighbourhoods, J = 1) are broken by Euclidean distance. Sets are sparse matrices, so
intersections are one sparse product: |R(a) n R(b)| = (R R^T)[a, b].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

STATUS = ("kept", "ambiguous", "unassigned")


@dataclass
class Clustering:
    """Per-sample cluster id (-1 when dropped), status, KRJD to the own centroid, and the centroids."""

    labels: np.ndarray
    status: np.ndarray
    krjd: np.ndarray
    centroids: np.ndarray
    first_stage: np.ndarray

    @property
    def kept(self) -> np.ndarray:
        """Boolean mask of samples with a pseudo-label."""
        return self.labels >= 0


def pairwise_distances(a: np.ndarray, b: np.ndarray, block: int = 4096) -> np.ndarray:
    """Euclidean distances (len(a), len(b)) as float32, computed in blocks with BLAS."""
    ta = torch.from_numpy(np.ascontiguousarray(a, np.float32))
    tb = torch.from_numpy(np.ascontiguousarray(b, np.float32))
    out = np.empty((len(a), len(b)), np.float32)
    bb = (tb * tb).sum(1)
    for s in range(0, len(a), block):
        x = ta[s:s + block]
        d2 = (x * x).sum(1, keepdim=True) + bb[None] - 2 * x @ tb.T
        out[s:s + block] = d2.clamp_min_(0).sqrt_().numpy()
    return out


def knn_indices(x: np.ndarray, k: int, block: int = 2048) -> np.ndarray:
    """Indices (N, k) of each row's k nearest rows (itself first), by Euclidean distance, in blocks."""
    n = len(x)
    k = min(k, n)
    t = torch.from_numpy(np.ascontiguousarray(x, np.float32))
    sq = (t * t).sum(1)
    out = np.empty((n, k), np.int64)
    for s in range(0, n, block):
        q = t[s:s + block]
        d2 = (q * q).sum(1, keepdim=True) + sq[None] - 2 * q @ t.T
        d2[torch.arange(len(q)), torch.arange(s, s + len(q))] = -1.0  # self first, even with duplicates
        out[s:s + block] = torch.topk(d2, k, dim=1, largest=False).indices.numpy()
    return out


def reciprocal_sets(x: np.ndarray, k: int) -> sp.csr_matrix:
    """Sparse boolean (N, N) matrix R with R[i, j] = 1 iff j is in R(x_i, k) (Eq. 4)."""
    n = len(x)
    nn_idx = knn_indices(x, k)
    rows = np.repeat(np.arange(n), nn_idx.shape[1])
    a = sp.csr_matrix((np.ones(rows.size, np.float32), (rows, nn_idx.ravel())), shape=(n, n))
    return a.multiply(a.T).tocsr()


def jaccard_rows(r: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
    """KRJD (Eq. 5) between the samples `rows` and all samples: (len(rows), N) dense float32."""
    sizes = np.asarray(r.sum(1)).ravel()
    inter = (r[rows] @ r.T).toarray()
    union = sizes[rows][:, None] + sizes[None, :] - inter
    return (1.0 - inter / np.maximum(union, 1e-12)).astype(np.float32)


def krjd_matrix(x: np.ndarray, k: int = 20) -> np.ndarray:
    """Full (N, N) KRJD matrix (for re-ranking; O(N^2) memory)."""
    r = reciprocal_sets(x, k)
    return jaccard_rows(r, np.arange(len(x)))


def kmeans_pp(x: np.ndarray, m: int, seed: int = 0, max_iter: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Stage 1: k-means with k-means++ seeding (Arthur & Vassilvitskii) -> (centroids (m, D), labels (N,))."""
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=m, init="k-means++", n_init=1, max_iter=max_iter, random_state=seed)
    labels = km.fit_predict(np.asarray(x, np.float64))
    return km.cluster_centers_.astype(np.float32), labels


def auto_clusters(n: int, p: int = 20) -> int:
    """Default M when the identity count is unknown: N/p, so the M*p selected slots can cover every sample once
    (our choice; the paper fixes M = 1000 for ~13k crops of ~750 ids), within [2, N/2]."""
    return int(min(max(2, round(n / p)), max(2, n // 2)))


def select_by_krjd(x: np.ndarray, centroids: np.ndarray, p: int = 20, k: int = 20) -> Clustering:
    """Stage 2: each centroid keeps its p nearest samples by KRJD; doubly-claimed samples are dropped."""
    n, m = len(x), len(centroids)
    aug = np.concatenate([np.asarray(x, np.float32), np.asarray(centroids, np.float32)])
    r = reciprocal_sets(aug, k)
    j = jaccard_rows(r, np.arange(n, n + m))[:, :n]
    eu = pairwise_distances(centroids, x)
    claims = np.zeros(n, np.int64)
    owner = np.full(n, -1, np.int64)
    own_j = np.ones(n, np.float32)
    p = min(p, n)
    for c in range(m):
        order = np.lexsort((eu[c], j[c]))[:p]
        claims[order] += 1
        owner[order] = c
        own_j[order] = j[c, order]
    labels = np.where(claims == 1, owner, -1)
    status = np.where(claims == 1, 0, np.where(claims > 1, 1, 2))
    nearest = eu.argmin(0)
    return Clustering(labels, np.asarray(STATUS)[status], np.where(claims == 1, own_j, np.nan).astype(np.float32),
                      np.asarray(centroids, np.float32), nearest)


def two_stage_cluster(x: np.ndarray, m: int | None = None, p: int = 20, k: int = 20, seed: int = 0) -> Clustering:
    """k-means++ into M clusters, then KRJD selection of p samples per centroid (Algorithm 1, lines 8-10)."""
    x = np.asarray(x, np.float32)
    if len(x) < 2:
        raise ValueError("two-stage clustering needs at least 2 samples")
    m = auto_clusters(len(x), p) if m is None else int(min(max(1, m), len(x)))
    centroids, first = kmeans_pp(x, m, seed)
    out = select_by_krjd(x, centroids, p, k)
    out.first_stage = first
    return out


def rerank_distances(q: np.ndarray, g: np.ndarray, k: int = 20, lam: float = 0.3) -> np.ndarray:
    """KRJD re-ranking over query u gallery: D* = (1 - lam) J + lam D_euclid (Zhong et al.'s mixing)."""
    allx = np.concatenate([q, g]).astype(np.float32)
    r = reciprocal_sets(allx, k)
    j = jaccard_rows(r, np.arange(len(q)))[:, len(q):]
    return (1 - lam) * j + lam * pairwise_distances(q, g)
