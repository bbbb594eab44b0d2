"""Re-ID retrieval and clustering metrics, as defined by the Market-1501 protocol and the paper (Eq. 7).

Retrieval: for each query, gallery items with the same identity *and* the same camera are removed, as are
junk items (identity -1); distractors (identity 0) stay as negatives. With one camera (e.g. crops cut from one
video) "same camera" is narrowed to a time window: same-identity items within +-`junk_window` frames of the
query are removed instead. AP(q) is the mean over the hits (0-based positions h_j of same-identity items in
the filtered ranking) of (j+1)/(h_j+1) -- the torchreid convention; mAP averages the queries that keep at
least one positive. CMC rank-k is the fraction of those queries whose first hit is at a position < k.
Clustering: NMI = I(C;L)/sqrt(H(C)H(L)) (Eq. 7, geometric normalisation) and the adjusted Rand index.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

JUNK_ID = -1


@dataclass
class RankingScores:
    """mAP, CMC curve and rank-1 error split (in-camera ICE / cross-camera CCE), over valid queries."""

    mAP: float
    cmc: np.ndarray
    n_queries: int
    n_valid: int
    ice: int = 0
    cce: int = 0
    ap: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def rank(self, k: int) -> float:
        """CMC at rank k (1-based)."""
        return float(self.cmc[min(k, len(self.cmc)) - 1]) if len(self.cmc) else 0.0

    def as_dict(self) -> dict:
        """Headline numbers for metrics.json / --json."""
        return {"mAP": self.mAP, "rank1": self.rank(1), "rank5": self.rank(5), "rank10": self.rank(10),
                "queries": self.n_queries, "valid_queries": self.n_valid, "rank1_errors_in_camera": self.ice,
                "rank1_errors_cross_camera": self.cce}


def average_precision(good: np.ndarray) -> float:
    """AP of one ranked list given its boolean hit vector (already filtered): mean of (j+1)/(h_j+1)."""
    hits = np.flatnonzero(good)
    if len(hits) == 0:
        return 0.0
    return float(np.mean(np.arange(1, len(hits) + 1) / (hits + 1.0)))


def evaluate_ranking(dist: np.ndarray, q_pids: np.ndarray, g_pids: np.ndarray, q_cams: np.ndarray,
                     g_cams: np.ndarray, max_rank: int = 50, q_frames: np.ndarray | None = None,
                     g_frames: np.ndarray | None = None, junk_window: int | None = None,
                     exclude: np.ndarray | None = None) -> RankingScores:
    """Score a (Q, G) distance matrix with the Market protocol (see the module docstring).

    `exclude` (Q, G) bool marks further entries to drop (e.g. the query itself when query set == gallery).
    """
    dist = np.asarray(dist, dtype=np.float64)
    q_pids, g_pids = np.asarray(q_pids), np.asarray(g_pids)
    q_cams, g_cams = np.asarray(q_cams), np.asarray(g_cams)
    n_q, n_g = dist.shape
    if len(q_pids) != n_q or len(g_pids) != n_g:
        raise ValueError(f"distance matrix {dist.shape} does not match {len(q_pids)} queries, {len(g_pids)} gallery")
    order = np.argsort(dist, axis=1, kind="stable")
    aps, cmc_sum = [], np.zeros(max_rank)
    ice = cce = 0
    for i in range(n_q):
        idx = order[i]
        same_id = g_pids[idx] == q_pids[i]
        same_cam = g_cams[idx] == q_cams[i]
        if junk_window is not None:
            if q_frames is None or g_frames is None:
                raise ValueError("junk_window needs query and gallery frame numbers")
            same_cam &= np.abs(np.asarray(g_frames)[idx] - q_frames[i]) <= junk_window
        remove = (same_id & same_cam) | (g_pids[idx] == JUNK_ID)
        if exclude is not None:
            remove |= np.asarray(exclude[i])[idx]
        keep = ~remove
        good = same_id[keep]
        if not good.any():
            continue
        aps.append(average_precision(good))
        first = int(np.argmax(good))
        if first < max_rank:
            cmc_sum[first:] += 1
        if first > 0:
            if g_cams[idx][keep][0] == q_cams[i]:
                ice += 1
            else:
                cce += 1
    n_valid = len(aps)
    if n_valid == 0:
        return RankingScores(0.0, np.zeros(max_rank), n_q, 0)
    return RankingScores(float(np.mean(aps)), cmc_sum / n_valid, n_q, n_valid, ice, cce, np.asarray(aps))


def _entropy(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def nmi(clusters: np.ndarray, labels: np.ndarray) -> float:
    """Normalised mutual information I(C;L)/sqrt(H(C)H(L)) (Eq. 7); 1.0 when both are a single class."""
    clusters, labels = np.asarray(clusters), np.asarray(labels)
    if len(clusters) != len(labels):
        raise ValueError("clusters and labels differ in length")
    if len(clusters) == 0:
        return 0.0
    _, c = np.unique(clusters, return_inverse=True)
    _, l_ = np.unique(labels, return_inverse=True)
    table = np.zeros((c.max() + 1, l_.max() + 1))
    np.add.at(table, (c, l_), 1)
    n = table.sum()
    hc, hl = _entropy(table.sum(1)), _entropy(table.sum(0))
    if hc == 0 or hl == 0:
        return 1.0 if hc == hl else 0.0
    pij = table / n
    outer = np.outer(table.sum(1), table.sum(0)) / n**2
    nz = pij > 0
    mi = float((pij[nz] * np.log(pij[nz] / outer[nz])).sum())
    return mi / np.sqrt(hc * hl)


def ari(clusters: np.ndarray, labels: np.ndarray) -> float:
    """Adjusted Rand index (Hubert & Arabie): pair-counting agreement corrected for chance."""
    clusters, labels = np.asarray(clusters), np.asarray(labels)
    _, c = np.unique(clusters, return_inverse=True)
    _, l_ = np.unique(labels, return_inverse=True)
    table = np.zeros((c.max() + 1, l_.max() + 1)) if len(c) else np.zeros((1, 1))
    np.add.at(table, (c, l_), 1)

    def comb2(x: np.ndarray) -> float:
        return float((x * (x - 1) / 2).sum())

    n = table.sum()
    total = n * (n - 1) / 2
    index, a, b = comb2(table), comb2(table.sum(1)), comb2(table.sum(0))
    expected = a * b / total if total else 0.0
    maximum = (a + b) / 2
    if maximum == expected:
        return 1.0
    return (index - expected) / (maximum - expected)


def cluster_scores(clusters: np.ndarray, labels: np.ndarray) -> dict:
    """NMI, ARI and purity over the assigned crops (cluster >= 0), with their coverage of all crops."""
    clusters, labels = np.asarray(clusters), np.asarray(labels)
    kept = clusters >= 0
    out = {"coverage": float(kept.mean()) if len(kept) else 0.0, "kept": int(kept.sum()), "total": int(len(kept)),
           "clusters": int(len(np.unique(clusters[kept])))}
    if kept.sum() == 0:
        return {**out, "nmi": 0.0, "ari": 0.0, "purity": 0.0}
    c, lab = clusters[kept], labels[kept]
    purity = sum(np.bincount(np.unique(lab, return_inverse=True)[1][c == k]).max() for k in np.unique(c))
    return {**out, "nmi": nmi(c, lab), "ari": ari(c, lab), "purity": float(purity / kept.sum())}
