"""Nearest-neighbour search by inner product (= cosine on L2-normalised descriptors): faiss-cpu or a plain
numpy brute force (the reference the faiss results are tested against).

`flat` is exact (faiss IndexFlatIP); `ivf` is faiss's inverted-file index (approximate, for databases of
millions, where one exact pass per query is memory-bandwidth bound); `auto` picks flat below 200,000 items.
IVF uses sqrt(N) lists and probes 8 (benchmarks/bench_search_expand.py: at 1M x 128-d the alpha-QE top-100
matches the exact one, recall 1.0, on synthetic clustered descriptors).
"""

from __future__ import annotations

import numpy as np

from ..errors import ArgumentError

IVF_FROM = 200_000


def l2n(x: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Row-wise L2 normalisation (float32)."""
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), eps)


def brute_force_search(db: np.ndarray, queries: np.ndarray, k: int, chunk: int | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k by inner product with numpy (scores, ids), best first; ties broken by lower id. Queries go in
    chunks whose similarity block stays near 64 MB."""
    k = min(k, db.shape[0])
    chunk = chunk or max(1, (1 << 24) // max(1, db.shape[0]))
    scores = np.empty((queries.shape[0], k), dtype=np.float32)
    ids = np.empty((queries.shape[0], k), dtype=np.int64)
    for s in range(0, queries.shape[0], chunk):
        sim = queries[s:s + chunk] @ db.T
        if k < sim.shape[1]:
            part = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        else:
            part = np.broadcast_to(np.arange(sim.shape[1]), sim.shape).copy()
        ps = np.take_along_axis(sim, part, 1)
        order = np.lexsort((part, -ps), axis=1)
        ids[s:s + chunk] = np.take_along_axis(part, order, 1)
        scores[s:s + chunk] = np.take_along_axis(ps, order, 1)
    return scores, ids


def faiss_threads() -> int:
    """faiss follows torch's thread setting (`--threads`): its default of all cores spins on a busy machine."""
    import torch

    return max(1, torch.get_num_threads())


class SearchIndex:
    """Inner-product index over a float32 database matrix (kept, since QE sums the original vectors)."""

    def __init__(self, vectors: np.ndarray, kind: str = "auto", nprobe: int = 8, seed: int = 0) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, d = self.vectors.shape
        if kind == "auto":
            kind = "ivf" if n >= IVF_FROM else "flat"
        if kind not in ("flat", "ivf", "numpy"):
            raise ArgumentError(f"unknown index {kind!r} (auto, flat, ivf, numpy)")
        self.kind = kind
        self._faiss = None
        if kind == "numpy":
            return
        import faiss

        faiss.omp_set_num_threads(faiss_threads())
        if kind == "flat":
            index = faiss.IndexFlatIP(d)
        else:
            nlist = int(max(16, min(np.sqrt(n), n // 40)))
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, nlist, faiss.METRIC_INNER_PRODUCT)
            rng = np.random.default_rng(seed)
            sample = self.vectors[rng.choice(n, min(n, 40 * nlist), replace=False)]
            index.train(sample)
            index.nprobe = min(nprobe, nlist)
        if n:
            index.add(self.vectors)
        self._faiss = index

    def __len__(self) -> int:
        return self.vectors.shape[0]

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query row, best first; ids are -1 where fewer than k items exist."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        k = max(1, min(int(k), len(self)))
        if self._faiss is None:
            return brute_force_search(self.vectors, queries, k)
        scores, ids = self._faiss.search(queries, k)
        return scores, ids.astype(np.int64)
