"""Inference: a Segmenter turns an (N, 4) scan into one training id per point, by a SqueezeSegV3 network
(project -> normalise -> network -> argmax -> back-project, optional kNN vote) or by the classical pipeline."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .classical import classical_segment
from .knn import knn_vote
from .labels import COLORS, NUM_CLASSES
from .projection import Projection, Sensor, back_project, normalise, project
from .ssgv3 import SqueezeSegV3


@dataclass
class Segmentation:
    """Per-point training ids, the projection used (None for the classical pipeline) and timings."""

    labels: np.ndarray
    projection: Projection | None = None
    pixel_labels: np.ndarray | None = None
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)


class Segmenter:
    """A named model with its sensor set-up; `segment(points)` labels a scan."""

    def __init__(self, name: str, net: SqueezeSegV3 | None, sensor: Sensor, use_remission: bool = True,
                 knn: bool = True, device: torch.device | str = "cpu") -> None:
        self.name, self.net, self.sensor = name, net, sensor
        self.use_remission, self.knn = use_remission, knn
        self.device = torch.device(device)
        if net is not None:
            if sensor.width % 8:
                raise ValueError(f"range-image width {sensor.width} must be divisible by 8 for SqueezeSegV3")
            self.net = net.to(self.device).eval()

    @property
    def is_classical(self) -> bool:
        """True for the classical (non-learned) pipeline."""
        return self.net is None

    def segment(self, points: np.ndarray) -> Segmentation:
        """Label every point of an (N, 4) scan (same order); invalid points get 0 (unlabeled)."""
        t0 = time.perf_counter()
        if self.net is None:
            return Segmentation(classical_segment(points), seconds=time.perf_counter() - t0)
        proj = project(points, self.sensor)
        x = normalise(proj.image, proj.mask, self.use_remission)[None].to(self.device)
        with torch.inference_mode():
            logits = self.net(x, all_heads=False)
            logits[:, 0] = -torch.inf  # never predict "unlabeled"
            pix = logits.argmax(1)[0].cpu().numpy()
        if self.knn:
            labels = knn_vote(proj, pix, NUM_CLASSES)
        else:
            labels = back_project(pix, proj)
        return Segmentation(labels, proj, pix, time.perf_counter() - t0)


def range_image_png(seg: Segmentation, scale: int = 4) -> np.ndarray:
    """A BGR picture of the projection: grey range on top, predicted class colours below (rows scaled up)."""
    proj = seg.projection
    if proj is None or seg.pixel_labels is None:
        raise ValueError("the classical pipeline has no range image")
    r = proj.image[0]
    grey = np.where(proj.mask, 255 - np.clip(r / 80.0 * 255, 0, 255), 0).astype(np.uint8)
    top = np.repeat(grey[:, :, None], 3, 2)
    cls = np.where(proj.mask, seg.pixel_labels, 0)
    bottom = COLORS[cls][:, :, ::-1]
    img = np.concatenate([top, bottom], 0)
    return np.repeat(img, scale, axis=0)
