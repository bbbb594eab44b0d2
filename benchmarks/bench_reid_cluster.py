"""reid-cluster benchmark: feature-extraction speed (crops/s) and clustering of 10k synthetic descriptors by the
paper's two-stage clustering beside scikit-learn's DBSCAN (Euclidean, and on KRJD as in SpCL/cluster-contrast),
quality (NMI, ARI over clustered samples, coverage) and seconds, JSON out.

    python benchmarks/bench_reid_cluster.py --out benchmarks/results/bench_reid_cluster.json

Descriptors: `--ids` identities x `--per-id` samples, Gaussian around unit-norm identity centres in `--dim`
dimensions (within-identity spread `--spread`), L2-normalised like the pipeline's embeddings.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path


def extraction_speed(models: list[str], n: int, threads: list[int], batches: list[int], repeats: int) -> dict:
    """Crops/s of each model's embedding on n synthetic 128x64 crops, per thread count and batch size (decode
    excluded; best of `repeats`). On a busy 2-core machine one thread is often the fastest setting."""
    import numpy as np

    from cvkit.device import set_threads
    from cvkit.errors import ModelError
    from cvkit.reid_cluster.data import synthetic_pedestrians
    from cvkit.reid_cluster.registry import build_embedder

    images, _, _ = synthetic_pedestrians(max(1, n // 8), 8, (128, 64), seed=0)
    out = {}
    for name in models:
        try:
            emb = build_embedder(name)
        except ModelError as e:
            out[name] = {"skipped": str(e)}
            continue
        runs = {}
        for t in threads:
            set_threads(t)
            for b in batches if emb.net is not None else batches[:1]:
                emb.embed(images[:32], batch=b)  # warm-up
                times = []
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    emb.embed(images, batch=b)
                    times.append(time.perf_counter() - t0)
                runs[f"threads{t}_batch{b}"] = {"crops_per_s": round(len(images) / min(times), 1),
                                                "median_crops_per_s": round(len(images) / float(np.median(times)), 1)}
        best = max(runs.items(), key=lambda kv: kv[1]["crops_per_s"])
        out[name] = {"crops": len(images), "best_setting": best[0], "best_crops_per_s": best[1]["crops_per_s"],
                     "runs": runs}
    return out


def synthetic_descriptors(ids: int, per_id: int, dim: int, spread: float, seed: int = 0):
    """Unit-norm identity centres plus Gaussian noise, L2-normalised -> (features, labels)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(ids, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    labels = np.repeat(np.arange(ids), per_id)
    x = centres[labels] + rng.normal(0, spread / np.sqrt(dim), (len(labels), dim))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32), labels


def clustering_bench(ids: int, per_id: int, dim: int, spread: float, eps: float | None) -> dict:
    """Two-stage clustering vs DBSCAN (Euclidean and KRJD) on the same descriptors."""
    import numpy as np
    from sklearn.cluster import DBSCAN

    from cvkit.reid_cluster.clustering import knn_indices, krjd_matrix, two_stage_cluster
    from cvkit.reid_cluster.metrics import cluster_scores

    x, labels = synthetic_descriptors(ids, per_id, dim, spread)
    out = {"samples": len(x), "dim": dim, "true_ids": ids}
    t0 = time.perf_counter()
    cl = two_stage_cluster(x, None, p=20, k=20)
    out["two_stage_auto_M"] = {"seconds": round(time.perf_counter() - t0, 2), "M": int(cl.centroids.shape[0]),
                               **cluster_scores(cl.labels, labels)}
    t0 = time.perf_counter()
    cl = two_stage_cluster(x, int(round(ids * 1.3)), p=20, k=20)
    out["two_stage_M_1.3x_ids"] = {"seconds": round(time.perf_counter() - t0, 2), "M": int(round(ids * 1.3)),
                                   **cluster_scores(cl.labels, labels)}
    if eps is None:  # the k-distance heuristic: median distance to the 4th neighbour (min_samples = 4)
        nn4 = knn_indices(x, 4)[:, -1]
        eps = float(np.median(np.linalg.norm(x - x[nn4], axis=1)))
    t0 = time.perf_counter()
    db = DBSCAN(eps=eps, min_samples=4).fit_predict(x)
    out["sklearn_dbscan_euclidean"] = {"seconds": round(time.perf_counter() - t0, 2), "eps": round(eps, 4),
                                       **cluster_scores(db, labels)}
    t0 = time.perf_counter()
    j = krjd_matrix(x, 20)
    db = DBSCAN(eps=0.6, min_samples=4, metric="precomputed").fit_predict(j)
    out["sklearn_dbscan_krjd"] = {"seconds": round(time.perf_counter() - t0, 2), "eps": 0.6,
                                  **cluster_scores(db, labels)}
    return out


def main(argv: list[str] | None = None) -> int:
    """Run both parts and write the JSON report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None, help="JSON file (default: stdout)")
    ap.add_argument("--models", nargs="+", default=["adtc-lite", "lite0-imagenet", "hist"])
    ap.add_argument("--crops", type=int, default=512)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--batches", type=int, nargs="+", default=[32, 128])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--ids", type=int, default=1000)
    ap.add_argument("--per-id", type=int, default=10)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--spread", type=float, default=0.9)
    ap.add_argument("--eps", type=float, default=None,
                    help="DBSCAN eps on Euclidean distances (default: median 4th-neighbour distance)")
    args = ap.parse_args(argv)
    import torch

    report = {"machine": platform.processor() or platform.machine(), "torch": torch.__version__,
              "load_average_at_start": list(os.getloadavg()),
              "extraction": extraction_speed(args.models, args.crops, args.threads, args.batches, args.repeats),
              "clustering": clustering_bench(args.ids, args.per_id, args.dim, args.spread, args.eps)}
    text = json.dumps(report, indent=2)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    else:
        sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
