"""Unsupervised person re-identification by attention-driven two-stage clustering (ADTC, Ji et al. ECCV 2020).

Public API:
  run(input, out_dir, RunOptions(...))          the `cvkit reid-cluster` job (crops -> clusters, ranking, metrics)
  build_embedder(name) -> Embedder              adtc-lite (shipped), lite0-imagenet, adtc-resnet50, hist
  ReidNet, ReidConfig, VoxelAttention           the paper's feature extractor (backbone -> VA -> GMP -> BN1d)
  two_stage_cluster(features, m, p, k)          k-means++ then KRJD selection, ambiguous samples dropped
  adapt(net, images, AdaptConfig(...))          ADTC progressive training on unlabelled crops
  evaluate_ranking, nmi, ari, cluster_scores    Market-protocol mAP/CMC and clustering scores
  extract_crops(video, boxes, out_dir)          person crops cut from a video with a boxes file
"""

from .clustering import Clustering, two_stage_cluster
from .data import Crop, extract_crops, list_crops, load_crops
from .evaluate import evaluate
from .metrics import ari, cluster_scores, evaluate_ranking, nmi
from .model import PAPER_CONFIG, ReidConfig, ReidNet, VoxelAttention
from .pipeline import RunOptions, RunResult, run
from .registry import MODELS, Embedder, build_embedder
from .train import AdaptConfig, adapt

__all__ = [
    "PAPER_CONFIG", "MODELS", "AdaptConfig", "Clustering", "Crop", "Embedder", "ReidConfig", "ReidNet", "RunOptions",
    "RunResult", "VoxelAttention", "adapt", "ari", "build_embedder", "cluster_scores", "evaluate", "evaluate_ranking",
    "extract_crops", "list_crops", "load_crops", "nmi", "run", "two_stage_cluster",
]
