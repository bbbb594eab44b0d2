"""Dense semantic correspondence by guided semantic flow (GSF, Jeon et al., ECCV 2020).

`SemanticFlow` runs the training-free default (EfficientNet-Lite0 features, mutual-NN confident matches, MLS
propagation, Gaussian modulation, soft-argmax, coarse-to-fine); `model.GSFNet` is the paper's learned model
(pruning net, propagation, matching net) with its losses and two training stages.
"""

from .flo import read_flow, write_flow
from .metrics import pck, pck_threshold, sample_flow
from .predict import FlowResult, GSFParams, SemanticFlow

__all__ = ["FlowResult", "GSFParams", "SemanticFlow", "pck", "pck_threshold", "read_flow", "sample_flow",
           "write_flow"]
