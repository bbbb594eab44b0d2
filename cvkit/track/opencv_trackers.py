"""OpenCV's classical trackers (CSRT, KCF, MIL) as named peers: `cv-csrt`, `cv-kcf`, `cv-mil`."""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import ModelError
from .base import Tracker

OPENCV_TRACKERS = {
    "cv-csrt": ("TrackerCSRT_create", "CSRT: discriminative correlation filter with channel/spatial reliability"),
    "cv-kcf": ("TrackerKCF_create", "KCF: kernelized correlation filter"),
    "cv-mil": ("TrackerMIL_create", "MIL: multiple-instance learning boosting"),
}


class OpenCVTracker(Tracker):
    """Adapter from cv2.Tracker to the cvkit Tracker interface (score 1 when found, 0 when lost)."""

    def __init__(self, name: str) -> None:
        if name not in OPENCV_TRACKERS:
            raise ModelError(f"unknown OpenCV tracker {name!r}")
        factory = getattr(cv2, OPENCV_TRACKERS[name][0], None)
        if factory is None:
            raise ModelError(
                f"{name}: this OpenCV build has no {OPENCV_TRACKERS[name][0]} "
                "(install opencv-contrib-python-headless)"
            )
        self.name = name
        self._factory = factory
        self._box = (0.0, 0.0, 1.0, 1.0)

    def initialize(self, frame: np.ndarray, box: tuple[float, float, float, float]) -> None:
        self._tracker = self._factory()
        x, y, w, h = box
        self._tracker.init(frame, (int(round(x)), int(round(y)), max(1, int(round(w))), max(1, int(round(h)))))
        self._box = tuple(float(v) for v in box)

    def track(self, frame: np.ndarray) -> tuple[tuple[float, float, float, float], float]:
        ok, box = self._tracker.update(frame)
        if ok:
            self._box = tuple(float(v) for v in box)
        return self._box, 1.0 if ok else 0.0
