"""Retrieval metrics: the revisited Oxford/Paris mAP and mP@k (revisitop's definition), folder-per-class mAP
and recall@k.

The revisitop definition (Radenovic et al. 2018, `python/evaluate.py`, re-implemented here):
- junk items are deleted from the ranking before scoring, so positives after them move up;
- AP is the trapezoidal area under the precision/recall curve: for the j-th positive (0-based) at shifted
  0-based rank r, precision before it is j / r (1 when r = 0), after it (j + 1) / (r + 1), each recall step
  1 / n_positives;
- queries without any positive are left out of the mean (their AP is NaN);
- mP@k uses k' = min(k, rank of the last positive, 1-based) and counts positives within the first k'.
Positives missing from a truncated ranking count as never retrieved (they add nothing to AP).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def _positions(ranking: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Sorted 0-based positions in `ranking` of the members of `items`."""
    return np.flatnonzero(np.isin(ranking, items))


def shifted_positive_ranks(ranking: np.ndarray, ok: np.ndarray, junk: np.ndarray) -> np.ndarray:
    """0-based ranks of the positives after deleting the junk items ranked before each of them."""
    pos = _positions(ranking, ok)
    if junk.size == 0 or pos.size == 0:
        return pos
    jpos = _positions(ranking, junk)
    return pos - np.searchsorted(jpos, pos, side="left")


def trapezoid_ap(ranks: np.ndarray, n_ok: int) -> float:
    """Trapezoidal AP of positives at sorted 0-based `ranks` out of `n_ok` positives."""
    if n_ok == 0:
        return float("nan")
    ranks = np.asarray(ranks, dtype=np.float64)
    j = np.arange(ranks.size, dtype=np.float64)
    before = np.where(ranks == 0, 1.0, j / np.maximum(ranks, 1.0))
    after = (j + 1.0) / (ranks + 1.0)
    return float(np.sum(before + after) / (2.0 * n_ok))


@dataclass
class MapResult:
    """mAP over queries with >= 1 positive, per-query AP (NaN for skipped), mean and per-query precision@k."""

    map: float
    aps: np.ndarray
    mpk: np.ndarray
    prs: np.ndarray
    kappas: tuple[int, ...]


def compute_map(rankings: Sequence[np.ndarray], gnd: Sequence[dict], kappas: Sequence[int] = (1, 5, 10)) -> MapResult:
    """mAP and mP@k of per-query rankings (database indices, best first) against `gnd[i] = {ok, junk}`."""
    nq = len(gnd)
    if len(rankings) != nq:
        raise ValueError(f"{len(rankings)} rankings for {nq} ground-truth entries")
    aps = np.full(nq, np.nan)
    prs = np.full((nq, len(kappas)), np.nan)
    for i in range(nq):
        ok = np.asarray(gnd[i].get("ok", []), dtype=np.int64).ravel()
        if ok.size == 0:
            continue
        junk = np.asarray(gnd[i].get("junk", []), dtype=np.int64).ravel()
        ranks = shifted_positive_ranks(np.asarray(rankings[i]).ravel(), ok, junk)
        aps[i] = trapezoid_ap(ranks, ok.size)
        one_based = ranks + 1
        for c, k in enumerate(kappas):
            if one_based.size == 0:
                prs[i, c] = 0.0
                continue
            kq = min(int(one_based.max()), int(k))
            prs[i, c] = float(np.sum(one_based <= kq)) / kq
    valid = ~np.isnan(aps)
    m = float(aps[valid].mean()) if valid.any() else float("nan")
    mpk = prs[valid].mean(0) if valid.any() else np.full(len(kappas), np.nan)
    return MapResult(m, aps, mpk, prs, tuple(int(k) for k in kappas))


PROTOCOLS = ("easy", "medium", "hard")


def revisited_gnd(gnd: Sequence[dict], protocol: str) -> list[dict]:
    """Revisited Oxford/Paris protocol -> {ok, junk}: Easy ok=easy, junk=junk+hard; Medium ok=easy+hard,
    junk=junk; Hard ok=hard, junk=junk+easy."""
    p = protocol.lower()[:1]
    out = []
    for g in gnd:
        easy = np.asarray(g.get("easy", []), dtype=np.int64)
        hard = np.asarray(g.get("hard", []), dtype=np.int64)
        junk = np.asarray(g.get("junk", []), dtype=np.int64)
        if p == "e":
            out.append({"ok": easy, "junk": np.concatenate([junk, hard])})
        elif p == "m":
            out.append({"ok": np.concatenate([easy, hard]), "junk": junk})
        elif p == "h":
            out.append({"ok": hard, "junk": np.concatenate([junk, easy])})
        else:
            raise ValueError(f"unknown protocol {protocol!r} (easy, medium, hard)")
    return out


def revisited_map(rankings: Sequence[np.ndarray], gnd: Sequence[dict], kappas: Sequence[int] = (1, 5, 10)
                  ) -> dict[str, MapResult]:
    """E/M/H results of the revisited protocol for rankings over the database."""
    return {p: compute_map(rankings, revisited_gnd(gnd, p), kappas) for p in PROTOCOLS}


def label_gnd(query_labels: np.ndarray, db_labels: np.ndarray, query_db_index: np.ndarray | None = None,
              junk: Sequence[np.ndarray] | None = None) -> list[dict]:
    """Class = relevance: ok = database items of the query's label; the query's own database entry
    (`query_db_index`, -1 for none) and any extra `junk[i]` are junk."""
    out = []
    for i, lab in enumerate(np.asarray(query_labels)):
        ok = np.flatnonzero(db_labels == lab)
        bad = [] if junk is None else list(np.asarray(junk[i], dtype=np.int64))
        if query_db_index is not None and query_db_index[i] >= 0:
            bad.append(int(query_db_index[i]))
        bad_arr = np.asarray(sorted(set(bad)), dtype=np.int64)
        out.append({"ok": np.setdiff1d(ok, bad_arr), "junk": bad_arr})
    return out


def recall_at_k(rankings: Sequence[np.ndarray], gnd: Sequence[dict], ks: Sequence[int] = (1, 5, 10)
                ) -> dict[int, float]:
    """Recall@k as in metric learning: share of queries (with >= 1 positive) with a positive in the top k,
    after deleting junk."""
    hits = {int(k): [] for k in ks}
    for r, g in zip(rankings, gnd, strict=True):
        ok = np.asarray(g.get("ok", []), dtype=np.int64)
        if ok.size == 0:
            continue
        ranks = shifted_positive_ranks(np.asarray(r).ravel(), ok, np.asarray(g.get("junk", []), dtype=np.int64))
        first = int(ranks.min()) if ranks.size else 1 << 62
        for k in hits:
            hits[k].append(first < k)
    return {k: float(np.mean(v)) if v else float("nan") for k, v in hits.items()}
