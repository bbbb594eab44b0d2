"""Temporal action proposals: BC-GNN (Bai et al., ECCV 2020), the prior and sliding-window baselines, the official
ActivityNet AR@AN evaluation, and per-snippet video features."""

from .metrics import anet_summary, average_recall_vs_avg_nr_proposals, thumos_summary
from .model import BCGNN, BCGNNConfig
from .prior import PriorModel

__all__ = ["BCGNN", "BCGNNConfig", "PriorModel", "anet_summary", "average_recall_vs_avg_nr_proposals",
           "thumos_summary"]
