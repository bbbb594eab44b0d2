"""Single-object tracking: SiamFC, AutoMatch and DMTrack families on a shared core, metrics, data and training.

The public API (imported lazily, so `cvkit.track.metrics` alone stays light):

    from cvkit.track import build_tracker, track
    results = track("video.mp4", (10, 20, 60, 80))          # FrameResult per frame (box, score, lost, ms)
    tracker = build_tracker("automatch-lite", "cpu")          # initialize(frame, box) / track(frame)

`score_sequence` gives the OTB scores of predicted boxes against ground truth; `evaluate_results` scores result files
in the benchmarks' layouts. Families live in `siamfc/`, `automatch/`, `dmtrack/`; `cvkit train track` in `train.py`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_MODEL", "Tracker", "build_tracker", "evaluate_results", "score_sequence", "track"]

_LAZY = {"DEFAULT_MODEL": "registry", "build_tracker": "registry", "Tracker": "base",
         "evaluate_results": "evaluate", "score_sequence": "metrics"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def track(source: str | Path, init_box: tuple[float, float, float, float] | None = None, model: str | None = None,
          device: str = "cpu", **options: Any) -> list:
    """Track one object through a video, an image folder or a benchmark sequence (start: `init_box`, else the
    sequence's init file or ground truth); returns the per-frame `FrameResult`s. `options`: those of
    `run.track_one` (start_frame, end_frame, lost_threshold, video_path, boxes_path)."""
    from .registry import DEFAULT_MODEL, build_tracker, default_lost_threshold
    from .run import collect_jobs, track_one

    jobs, batch = collect_jobs(source)
    if batch:
        from ..errors import ArgumentError

        raise ArgumentError(f"{source}: holds {len(jobs)} items; track them one by one (or use `cvkit track`)")
    model = model or DEFAULT_MODEL
    tracker = build_tracker(model, device)
    if "lost_threshold" not in options and not tracker.reports_lost:
        options["lost_threshold"] = default_lost_threshold(model)
    return track_one(jobs[0], tracker, init_box, label=model, **options)[0]
