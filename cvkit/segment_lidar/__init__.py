"""LiDAR point-cloud semantic segmentation: SqueezeSegV3 (spatially-adaptive convolution) and a classical pipeline.

Public API:
- `build_segmenter(model, device, sensor, knn)` -> Segmenter; `Segmenter.segment(points)` -> Segmentation
- `run.collect_scans`, `run.segment_one`: files or folders -> `.label` / `.ply` / `.pcd` outputs
- `make_sensor(preset, fov_up, fov_down, height, width)`, `project`, `back_project`
- `SqueezeSegV3`, `CONFIGS`, `SACConv` (variants s, is, sk, isk), `multi_layer_loss`, `knn_vote`
- `IoUEvaluator`, `evaluate_model`, `evaluate_predictions`; `train`, `TrainConfig`
"""

from __future__ import annotations

from .knn import knn_vote
from .metrics import IoUEvaluator, report
from .projection import SENSORS, Sensor, back_project, make_sensor, project
from .registry import DEFAULT_MODEL, MODELS, build_segmenter
from .sac import SACBlock, SACConv
from .segment import Segmentation, Segmenter
from .ssgv3 import CONFIGS, SqueezeSegV3, count_parameters, multi_layer_loss

__all__ = [
    "CONFIGS", "DEFAULT_MODEL", "MODELS", "SENSORS", "IoUEvaluator", "SACBlock", "SACConv", "Segmentation",
    "Segmenter", "Sensor", "SqueezeSegV3", "back_project", "build_segmenter", "count_parameters", "knn_vote",
    "make_sensor", "multi_layer_loss", "project", "report",
]
