"""Evaluate descriptor + query expansion on a retrieval set: every method of the paper's Table 3 on the same
descriptors, mAP (revisited E/M/H or class relevance) and recall@k."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..io.images import read_image
from .data import RetrievalSet
from .descriptor import Whitening
from .index import SearchIndex, l2n
from .metrics import compute_map, recall_at_k, revisited_map
from .qe import Expander, augment_database, search_expanded

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class Method:
    """One row of the table: query expansion (+ optional DBA) with their k."""

    name: str
    qe: str
    k: int = 0
    dba: str = "none"
    dba_k: int = 0
    alpha: float = 3.0


# the paper's baseline settings (Sect. 4: nQE/nDBA tuned on test for the classical methods; LAttQE 64/48)
PAPER_METHODS = (
    Method("no QE", "none"),
    Method("AQE (nQE 2)", "aqe", 2),
    Method("AQEwD (nQE 4)", "aqewd", 4),
    Method("DQE (nQE 4, neg 5, C 0.1)", "dqe", 4),
    Method("alpha-QE (nQE 10, a 3) [default]", "alphaqe", 10),
    Method("alpha-QE (nQE 72, a 3)", "alphaqe", 72),
    Method("LAttQE-gram (nQE 64)", "lattqe", 64),
    Method("ADBA 4 + AQE 4", "aqe", 4, "aqe", 4),
    Method("ADBAwD 4 + AQEwD 6", "aqewd", 6, "aqewd", 4),
    Method("DDBA 4 + DQE 2", "dqe", 2, "dqe", 4),
    Method("alpha-DBA 36 + alpha-QE 10", "alphaqe", 10, "alphaqe", 36),
    Method("LAttDBA-gram 48 + LAttQE-gram 64", "lattqe", 64, "lattqe", 48),
)


def describe_all(items: list, describe: Callable[[np.ndarray], np.ndarray], cache: Path | None = None,
                 key: str = "", progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Descriptors of images given as arrays, paths or (path, bbx) query crops; cached by `key` when asked."""
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        f = cache / f"{hashlib.sha1(key.encode()).hexdigest()[:16]}.npy"
        if f.is_file():
            return np.load(f)
    out: list[np.ndarray] = []
    pending: list[np.ndarray] = []
    batch = getattr(describe, "batch", None)

    def flush() -> None:
        if pending:
            out.extend(batch(np.stack(pending)) if batch and len(pending) > 1 else [describe(p) for p in pending])
            pending.clear()

    for i, it in enumerate(items):
        if isinstance(it, tuple):
            img = read_image(it[0])
            x0, y0, x1, y1 = (int(round(v)) for v in it[1])
            img = img[max(0, y0):y1, max(0, x0):x1]
        elif isinstance(it, np.ndarray):
            img = it
        else:
            img = read_image(it)
        if pending and (img.shape != pending[0].shape or len(pending) == 32):
            flush()
        pending.append(img)
        if progress:
            progress(i + 1, len(items))
    flush()
    x = np.stack(out).astype(np.float32)
    if cache is not None:
        np.save(f, x)
    return x


def rank_all(index: SearchIndex, q: np.ndarray, m: Method, exclude: np.ndarray | None,
             lattqe: Callable | None = None, lattdba: Callable | None = None) -> list[np.ndarray]:
    """Full rankings of the database for each query under method `m`."""
    if m.dba != "none":
        fn = lattdba if m.dba == "lattqe" else None
        index = SearchIndex(augment_database(index, Expander(m.dba, m.dba_k, m.alpha, weight_fn=fn)), "flat")
    exp = Expander(m.qe, m.k, m.alpha, weight_fn=lattqe if m.qe == "lattqe" else None)
    _, ids = search_expanded(index, q, exp, len(index), exclude=exclude)
    return list(ids)


def evaluate_methods(rs: RetrievalSet, db_raw: np.ndarray, q_raw: np.ndarray, methods=PAPER_METHODS,
                     lattqe: Callable | None = None, lattdba: Callable | None = None, whiten: bool = False,
                     log: Callable[[str], None] | None = None) -> list[dict]:
    """One row per method: mAP (and E/M/H for revisited sets), mP@k and recall@k on the same descriptors.
    The centring (or PCA-whitening with `whiten`) is learnt on the database descriptors without labels, as
    `index` does."""
    w = Whitening.learn(db_raw, whiten=whiten and len(db_raw) >= 8) if len(db_raw) >= 2 else None
    db = w(db_raw) if w else l2n(db_raw)
    q = w(q_raw) if w else l2n(q_raw)
    index = SearchIndex(db, "flat")
    exclude = rs.query_db_index if (rs.query_db_index >= 0).any() else None
    rows = []
    for m in methods:
        if m.qe == "lattqe" and lattqe is None:
            continue
        if m.dba == "lattqe" and lattdba is None:
            continue
        ranks = rank_all(index, q, m, exclude, lattqe, lattdba)
        row = {"method": m.name, "qe": m.qe, "k": m.k, "dba": m.dba, "dba_k": m.dba_k}
        if rs.revisited:
            res = revisited_map(ranks, rs.gnd)
            for p, r in res.items():
                row[f"mAP_{p[0].upper()}"] = r.map
                row[f"mP@10_{p[0].upper()}"] = float(r.mpk[2])
        else:
            r = compute_map(ranks, rs.gnd)
            row["mAP"] = r.map
            row.update({f"R@{k}": v for k, v in recall_at_k(ranks, rs.gnd, (1, 5, 10)).items()})
        rows.append(row)
        if log:
            log(f"{rs.name}: {m.name}: " + ", ".join(f"{k} {v:.4f}" for k, v in row.items()
                                                    if isinstance(v, float)))
    return rows


def run_evaluation(rs: RetrievalSet, describe: Callable[[np.ndarray], np.ndarray], descriptor_key: str,
                   cache: Path | None = None, methods=PAPER_METHODS, lattqe: Callable | None = None,
                   lattdba: Callable | None = None, log: Callable[[str], None] | None = None,
                   progress: Callable[[int, int], None] | None = None, whiten: bool = False) -> list[dict]:
    """Describe a retrieval set's database and queries (optionally cached) and evaluate every method."""
    key = f"{rs.name}|{len(rs.db_images)}|{len(rs.query_images)}|{descriptor_key}"
    db_raw = describe_all(rs.db_images, describe, cache, key + "|db", progress)
    if (rs.query_db_index >= 0).all():
        q_raw = db_raw[rs.query_db_index]
    else:
        q_raw = describe_all(rs.query_images, describe, cache, key + "|q", progress)
    return evaluate_methods(rs, db_raw, q_raw, methods, lattqe, lattdba, whiten=whiten, log=log)


def evaluate_dataset(dataset: str, root: Path | None, model: str = "lattqe-gram", cache: Path | None = None,
                     size: int = 224, device: str | torch.device = "cpu", log: Callable[[str], None] | None = None,
                     progress: Callable[[int, int], None] | None = None) -> tuple[RetrievalSet, list[dict]]:
    """`cvkit evaluate search-expand`: every method on a dataset layout, the descriptor and LAttQE on `device`
    (the LAttQE rows are left out, with a note to `log`, when its weights are unavailable)."""
    from ..errors import ModelError
    from .data import load_dataset
    from .descriptor import describer
    from .model import load_lattqe
    from .train import lattqe_weight_fn

    rs = load_dataset(dataset, root)
    try:
        net = load_lattqe(model, device=device)
        fns = (lattqe_weight_fn(net), lattqe_weight_fn(net, softmax=True))
    except ModelError as e:
        if log:
            log(f"LAttQE rows skipped: {e}")
        fns = (None, None)
    d = describer(size, device)
    return rs, run_evaluation(rs, d, d.key, cache, lattqe=fns[0], lattdba=fns[1], progress=progress)
