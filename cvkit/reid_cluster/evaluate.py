"""`cvkit evaluate reid-cluster`: mAP / CMC (Market protocol) and NMI / ARI of the two-stage clusters.

market1501 (also DukeMTMC-reID, same layout): queries `query/` against `bounding_box_test/`; with --rounds the
model first adapts, unsupervised, on `bounding_box_train/` (labels unused), as in the paper. Clusters are scored
on the gallery's real identities (junk -1 and distractors 0 left out).
folder: every crop (ids parsed from Market/Duke-style names) queries all the others; with one camera and frame
numbers, same-id crops within +-junk_frames (default 50) of the query are junk instead of the whole camera.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ..errors import ArgumentError, InputError
from .clustering import pairwise_distances, rerank_distances, two_stage_cluster
from .data import Crop, has_labels, list_crops, load_crops, market_split
from .metrics import cluster_scores, evaluate_ranking
from .pipeline import default_junk_window
from .registry import Embedder, build_embedder
from .train import AdaptConfig, adapt

DATASETS = ("market1501", "folder")
SCORE_KEYS = ("mAP", "rank1", "rank5", "rank10", "valid_queries", "cluster_nmi", "cluster_ari", "cluster_purity",
              "cluster_coverage", "cluster_clusters", "seconds")


def score_rows(scores: dict) -> list[tuple[str, object]]:
    """(name, value) of the scores a table shows, in SCORE_KEYS order (missing or None ones left out)."""
    return [(key, scores[key]) for key in SCORE_KEYS if scores.get(key) is not None]


def _arrays(crops: list[Crop]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (np.array([c.pid for c in crops]), np.array([c.camera for c in crops]), np.array([c.frame for c in crops]))


def evaluate(dataset: str, root: Path, model: str = "adtc-lite", rounds: int = 0, epochs: int = 4, lr: float = 1e-4,
             clusters: int | None = None, p: int = 20, k: int = 20, rerank: bool = False,
             junk_frames: int | None = None, seed: int = 0, log: Callable[[str], None] | None = None,
             embedder: Embedder | None = None, device: torch.device | str = "cpu") -> dict:
    """Run `model` on `device` over a dataset layout and return its retrieval and clustering scores."""
    root = Path(root)
    t0 = time.time()
    if dataset not in DATASETS:
        raise ArgumentError(f"--dataset {dataset!r}: use {' or '.join(DATASETS)}")
    if dataset == "market1501":
        query, gallery = market_split(root, "query"), market_split(root, "bounding_box_test")
        crops = query + gallery
    else:
        crops = list_crops(root)
    if not has_labels(crops):
        raise InputError(root, "file names carry no identities (expected PPPP_cC_fFFFF.jpg or Market names)")
    embedder = embedder or build_embedder(model)
    if embedder.net is not None:
        embedder.net.to(device)  # adaptation trains where the net is; embedding runs there too
    cfg = AdaptConfig.on_user_crops(rounds=rounds, epochs=epochs, lr=lr, clusters=clusters, p=p, k=k, seed=seed,
                                    decay_start=max(1, epochs // 2))
    if dataset == "market1501":
        if rounds > 0 and embedder.net is not None:
            train = market_split(root, "bounding_box_train")
            adapt(embedder.net, load_crops([c.path for c in train], embedder.input_size), cfg, log=log)
        qf = embedder.embed(load_crops([c.path for c in query], embedder.input_size), center=False, device=device)
        gf = embedder.embed(load_crops([c.path for c in gallery], embedder.input_size), center=False, device=device)
        both = embedder.postprocess(np.concatenate([qf, gf]))  # one mean for query and gallery
        qf, gf = both[:len(qf)], both[len(qf):]
        (qp, qc, _), (gp, gc, _) = _arrays(query), _arrays(gallery)
        dist = rerank_distances(qf, gf, k) if rerank else pairwise_distances(qf, gf)
        scores = evaluate_ranking(dist, qp, gp, qc, gc)
        keep = gp > 0
        cl = two_stage_cluster(gf[keep], clusters, p, k, seed)
        clus = cluster_scores(cl.labels, gp[keep])
        junk = None
    else:
        images = load_crops([c.path for c in crops], embedder.input_size)
        if rounds > 0 and embedder.net is not None:
            adapt(embedder.net, images, cfg, log=log)
        f = embedder.embed(images, device=device)
        pids, cams, frames = _arrays(crops)
        junk = junk_frames if junk_frames is not None else default_junk_window(crops)
        dist = rerank_distances(f, f, k) if rerank else pairwise_distances(f, f)
        scores = evaluate_ranking(dist, pids, pids, cams, cams, q_frames=frames, g_frames=frames,
                                  junk_window=junk, exclude=np.eye(len(crops), dtype=bool))
        keep = pids > 0
        cl = two_stage_cluster(f[keep], clusters, p, k, seed)
        clus = cluster_scores(cl.labels, pids[keep])
    return {"dataset": dataset, "root": str(root), "model": embedder.name, "rounds": rounds, "rerank": rerank,
            "junk_window_frames": junk, **scores.as_dict(), **{f"cluster_{k_}": v for k_, v in clus.items()},
            "seconds": round(time.time() - t0, 2)}


def score_clusters(results: Path) -> dict:
    """`cvkit evaluate reid-cluster --results`: NMI/ARI/purity/coverage of an existing clusters.csv (or the output
    folder of a `cvkit reid-cluster` run) against the identities in its crops' names (junk -1 and distractors 0 out)."""
    from .data import parse_name
    from .outputs import read_clusters_csv

    path = Path(results) / "clusters.csv" if Path(results).is_dir() else Path(results)
    rows = read_clusters_csv(path)
    pids = [parse_name(Path(r["file"])).pid for r in rows]
    if not rows or any(p is None for p in pids):
        raise InputError(path, "no crops whose file names carry identities (expected PPPP_cC_fFFFF.jpg or Market "
                               "names) to score the clusters against")
    keep = np.array(pids) > 0
    clus = cluster_scores(np.array([r["cluster"] for r in rows])[keep], np.array(pids)[keep])
    return {"results": str(path), "crops": len(rows), **{f"cluster_{k_}": v for k_, v in clus.items()}}


def evaluate_or_score(dataset: str | None, root: Path | None, results: Path | None, model: str = "adtc-lite",
                      device: Callable[[], torch.device | str] = lambda: "cpu", clusters: str = "auto",
                      **kwargs) -> tuple[dict, str]:
    """`cvkit evaluate reid-cluster`: score an earlier run's clusters (`results`), else run `model` over the
    dataset (`evaluate`, `kwargs` passed on; `device()` is resolved only then); returns (scores, table title)."""
    from .pipeline import parse_clusters

    if results is not None:
        return score_clusters(results), f"clusters of {results}"
    if dataset is None or root is None:
        raise ArgumentError("give --dataset and --root (or --results OUTDIR to score an earlier run)")
    scores = evaluate(dataset, root, model, clusters=parse_clusters(clusters), device=device(), **kwargs)
    return scores, f"{dataset} ({root}) {scores['model']}"
