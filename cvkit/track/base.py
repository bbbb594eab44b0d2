"""Tracker interface (pytracking style): parameters + `initialize(frame, box)` / `track(frame)`."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


class Tracker(ABC):
    """A single-object tracker; boxes are x,y,w,h in 0-based pixels of BGR uint8 frames."""

    name: str = "tracker"
    # trackers with their own absence decision set `reports_lost` and keep `lost` current after every `track`
    reports_lost: bool = False
    lost: bool = False

    @abstractmethod
    def initialize(self, frame: np.ndarray, box: tuple[float, float, float, float]) -> None:
        """Start tracking the object inside `box` of `frame`."""

    @abstractmethod
    def track(self, frame: np.ndarray) -> tuple[tuple[float, float, float, float], float]:
        """Estimate the box in the next frame; returns (box, confidence)."""
