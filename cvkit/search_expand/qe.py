"""Query expansion (QE) and database-side augmentation (DBA) in the paper's common form (Eq. 1):
q_hat = normalize(sum_{i=0..k} w_i d_i), d_0 = q, d_1..d_k its top-k database neighbours.

Classical weights (Table 1): AQE w_i = 1; AQEwD w_i = (k - i) / k; alpha-QE w_i = max(sim(q, d_i), 0)^alpha
(w_0 = 1); DQE: the normal of a linear SVM with the query and its top-k as positives and `neg` low-ranked
items as negatives. A learned expander (LAttQE) plugs in through `Expander`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import ArgumentError
from .index import SearchIndex, l2n

CLASSICAL = ("none", "aqe", "aqewd", "alphaqe", "dqe")
# the paper's test-tuned settings (Sect. 4, "Query Expansion"), our defaults for each method's nQE
DEFAULT_K = {"none": 0, "aqe": 2, "aqewd": 4, "alphaqe": 10, "dqe": 4, "lattqe": 64}
DEFAULT_DBA_K = {"aqe": 4, "aqewd": 4, "alphaqe": 36, "dqe": 4, "lattqe": 48}

# weights(query_vectors (B,D), neighbour_vectors (B,k,D), neighbour_sims (B,k), valid (B,k)) -> (B, k+1)
WeightFn = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def classical_weights(method: str, sims: np.ndarray, valid: np.ndarray, alpha: float = 3.0) -> np.ndarray:
    """(B, k+1) weights of the query (column 0) and its k neighbours for AQE, AQEwD or alpha-QE."""
    b, k = sims.shape
    w = np.ones((b, k + 1), dtype=np.float32)
    if method == "aqe":
        pass
    elif method == "aqewd":
        w[:, 1:] = (k - np.arange(1, k + 1, dtype=np.float32)) / max(k, 1)
    elif method == "alphaqe":
        w[:, 1:] = np.maximum(sims, 0.0) ** alpha
    elif method == "none":
        w[:, 1:] = 0.0
    else:
        raise ArgumentError(f"unknown query expansion {method!r}")
    w[:, 1:] *= valid
    return w


def dqe_vectors(q: np.ndarray, nbrs: np.ndarray, valid: np.ndarray, negs: np.ndarray, c: float = 0.1) -> np.ndarray:
    """DQE: per query, the normal of a linear SVM (query + neighbours positive, `negs` negative), L2-normalised."""
    from sklearn.svm import LinearSVC

    out = np.empty_like(q)
    for i in range(q.shape[0]):
        pos = np.concatenate([q[i:i + 1], nbrs[i][valid[i] > 0]])
        x = np.concatenate([pos, negs[i]])
        y = np.r_[np.ones(len(pos)), np.zeros(len(negs[i]))]
        svm = LinearSVC(C=c, fit_intercept=True, loss="hinge", dual=True, max_iter=5000)
        svm.fit(x, y)
        out[i] = svm.coef_[0]
    return l2n(out)


@dataclass
class Expander:
    """One QE configuration: a method name, its k (nQE) and alpha, or a learned weight function."""

    method: str = "alphaqe"
    k: int = 10
    alpha: float = 3.0
    neg: int = 5
    c: float = 0.1
    weight_fn: WeightFn | None = None

    def expand(self, q: np.ndarray, db: np.ndarray, ids: np.ndarray, sims: np.ndarray,
               bottom: np.ndarray | None = None) -> np.ndarray:
        """Expanded, L2-normalised queries from their neighbour ids/sims (best first; -1 = none)."""
        k = min(self.k, ids.shape[1])
        if self.method == "none" or k == 0:
            return l2n(q)
        ids, sims = ids[:, :k], sims[:, :k]
        valid = (ids >= 0).astype(np.float32)
        nbrs = db[np.maximum(ids, 0)]
        if self.method == "dqe":
            if bottom is None:
                raise ArgumentError("DQE needs low-ranked negatives")
            return dqe_vectors(q, nbrs, valid, db[bottom[:, -self.neg:]], self.c)
        if self.weight_fn is not None:
            w = self.weight_fn(q, nbrs, sims, valid)
        else:
            w = classical_weights(self.method, sims, valid, self.alpha)
        agg = w[:, :1] * q + np.einsum("bk,bkd->bd", w[:, 1:] * valid, nbrs)
        return l2n(agg)


def lowest_ranked(db: np.ndarray, q: np.ndarray, n: int, chunk: int = 1024) -> np.ndarray:
    """The `n` least similar database items per query (DQE's negatives), least similar last (fewer when the
    database is smaller)."""
    n = max(1, min(n, db.shape[0]))
    out = np.empty((q.shape[0], n), dtype=np.int64)
    for s in range(0, q.shape[0], chunk):
        sim = q[s:s + chunk] @ db.T
        part = np.argpartition(sim, n - 1, axis=1)[:, :n]
        ps = np.take_along_axis(sim, part, 1)
        out[s:s + chunk] = np.take_along_axis(part, np.argsort(-ps, axis=1), 1)
    return out


def augment_database(index: SearchIndex, expander: Expander, batch: int = 4096) -> np.ndarray:
    """DBA: every database vector replaced by its expansion over its own top-k (itself excluded)."""
    db = index.vectors
    out = np.empty_like(db)
    for s in range(0, db.shape[0], batch):
        q = db[s:s + batch]
        sims, ids = index.search(q, expander.k + 1)
        self_hit = ids == np.arange(s, s + q.shape[0])[:, None]
        ids, sims = _drop_self(ids, sims, self_hit, expander.k)
        bottom = lowest_ranked(db, q, expander.neg) if expander.method == "dqe" else None
        out[s:s + batch] = expander.expand(q, db, ids, sims, bottom)
    return out


def _drop_self(ids: np.ndarray, sims: np.ndarray, self_hit: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Remove each row's own id from its neighbour list, keeping k columns."""
    order = np.argsort(self_hit, axis=1, kind="stable")  # False first: self moves to the end
    ids = np.take_along_axis(ids, order, 1)[:, :k]
    sims = np.take_along_axis(sims, order, 1)[:, :k]
    return ids, sims


def search_expanded(index: SearchIndex, queries: np.ndarray, expander: Expander, top: int,
                    exclude: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Search, expand each query over its top-k, search again: (scores, ids) of the final top ranking.
    `exclude[i]` (>= 0) is a database id dropped from query i's neighbour set (the query's own entry)."""
    q = l2n(queries)
    top = min(top, len(index))
    if expander.method == "none" or expander.k == 0:
        return index.search(q, top)
    extra = 1 if exclude is not None else 0
    sims, ids = index.search(q, expander.k + extra)
    if exclude is not None:
        ids, sims = _drop_self(ids, sims, ids == exclude[:, None], expander.k)
    bottom = lowest_ranked(index.vectors, q, expander.neg) if expander.method == "dqe" else None
    return index.search(expander.expand(q, index.vectors, ids, sims, bottom), top)
