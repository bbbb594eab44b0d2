"""Running a tracker over inputs: input discovery (video, image folder, benchmark sequence, batch folder),
init-box validation, the per-frame loop with timing, and annotated-frame drawing."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..errors import ArgumentError, InputError
from ..io.boxes import FrameResult, read_box_file
from ..io.images import list_images, natural_key
from ..io.video import VIDEO_SUFFIXES, FrameSource
from .base import Tracker
from .datasets import detect_sequence

INIT_SIDECAR = ".init.txt"


@dataclass
class TrackJob:
    """One sequence to track: frames, optional ground truth, and where its outputs go in a batch."""

    name: str
    path: Path
    rel: Path
    gt: np.ndarray | None = None
    files: list[Path] | None = None
    init_box: tuple[float, float, float, float] | None = None
    layout: str = "video"
    extras: dict = field(default_factory=dict)

    def source(self) -> FrameSource:
        """Open the frames (raises InputError when unreadable)."""
        return FrameSource(self.path, files=self.files)


def _read_init(job: TrackJob, path: Path) -> None:
    """The job's start box from an init file; a bad file fails this job when it runs, not the whole batch."""
    try:
        job.init_box = tuple(float(v) for v in read_box_file(path)[0])
    except InputError as e:
        job.extras["init_error"] = e


def _job_for(path: Path, root: Path) -> TrackJob | None:
    rel = path.relative_to(root) if path != root else Path(path.stem if path.is_file() else path.name)
    if path.is_file():
        if path.suffix.lower() not in VIDEO_SUFFIXES:
            return None
        job = TrackJob(path.stem, path, rel.with_suffix(""))
        sidecar = path.with_name(path.name + INIT_SIDECAR)
        if not sidecar.is_file():
            sidecar = path.with_suffix(INIT_SIDECAR)
        if sidecar.is_file():
            _read_init(job, sidecar)
        return job
    seq = detect_sequence(path)
    if seq is not None:
        return TrackJob(seq.name, path, rel, gt=seq.gt, files=seq.frames, layout=seq.layout, extras=seq.extras)
    if list_images(path):
        job = TrackJob(path.name, path, rel, layout="folder")
        if (path / "init.txt").is_file():
            _read_init(job, path / "init.txt")
        return job
    return None


def collect_jobs(input_path: str | Path) -> tuple[list[TrackJob], bool]:
    """Jobs for INPUT and whether it is a batch (a folder of videos / sequences / image folders)."""
    root = Path(input_path)
    if not root.exists():
        raise InputError(root, "file or folder not found")
    if root.is_file():
        if root.suffix.lower() not in VIDEO_SUFFIXES:
            # let OpenCV try anyway: some containers have unusual suffixes
            return [TrackJob(root.stem, root, Path(root.stem))], False
        return [_job_for(root, root)], False
    single = _job_for(root, root)
    if single is not None:
        return [single], False
    jobs: list[TrackJob] = []

    def walk(folder: Path) -> Iterator[TrackJob]:
        for entry in sorted(folder.iterdir(), key=natural_key):
            if entry.name.startswith("."):
                continue
            job = _job_for(entry, root)
            if job is not None:
                yield job
            elif entry.is_dir():
                yield from walk(entry)

    jobs = list(walk(root))
    if not jobs:
        raise InputError(root, "no videos, image folders or benchmark sequences found")
    return jobs, True


def validate_box(box: tuple[float, float, float, float], width: int, height: int, where: str) -> None:
    """Reject a zero-area box or one that is mostly outside the frame (exit 4)."""
    x, y, w, h = box
    if not (w > 0 and h > 0):
        raise ArgumentError(f"{where}: init box {x:g},{y:g},{w:g},{h:g} has zero or negative area")
    iw = min(x + w, width) - max(x, 0.0)
    ih = min(y + h, height) - max(y, 0.0)
    if iw <= 0 or ih <= 0 or iw * ih < 0.5 * w * h:
        raise ArgumentError(
            f"{where}: init box {x:g},{y:g},{w:g},{h:g} lies outside the {width}x{height} frame"
        )


def draw_frame(
    frame: np.ndarray, result: FrameResult, gt: np.ndarray | None = None, label: str = ""
) -> np.ndarray:
    """Annotated copy of a frame: predicted box (red, or grey when lost), GT (green), index and score."""
    out = frame.copy()
    if gt is not None and np.all(np.isfinite(gt)):
        gx, gy, gw, gh = (int(round(v)) for v in gt)
        cv2.rectangle(out, (gx, gy), (gx + gw, gy + gh), (0, 200, 0), 2)
    x, y, w, h = (int(round(v)) for v in result.box)
    colour = (160, 160, 160) if result.lost else (0, 0, 255)
    cv2.rectangle(out, (x, y), (x + w, y + h), colour, 2)
    text = f"#{result.frame} {label} score {result.score:.2f}" + (" LOST" if result.lost else "")
    cv2.putText(out, text, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(out, text, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def run_tracker(
    tracker: Tracker,
    frames: FrameSource,
    init_box: tuple[float, float, float, float],
    start_frame: int = 0,
    end_frame: int | None = None,
    lost_threshold: float | None = None,
    on_frame: Callable[[FrameResult, np.ndarray], None] | None = None,
    where: str = "",
) -> list[FrameResult]:
    """Track from `start_frame` (initialised with `init_box`) to `end_frame` (inclusive) or the end.

    `on_frame(result, frame)` is called after every frame (progress, JSON output, video writing).
    The init frame's result is the init box with score 1. A frame is lost when its score is below
    `lost_threshold`, or, with no threshold, when the tracker says so (`tracker.lost`).
    """
    results: list[FrameResult] = []
    for i, frame in enumerate(frames):
        if i < start_frame:
            continue
        if end_frame is not None and i > end_frame:
            break
        t0 = time.perf_counter()
        if i == start_frame:
            h, w = frame.shape[:2]
            validate_box(init_box, w, h, where or str(frames.path))
            tracker.initialize(frame, init_box)
            box, score = tuple(float(v) for v in init_box), 1.0
        else:
            box, score = tracker.track(frame)
        ms = (time.perf_counter() - t0) * 1000.0
        if lost_threshold is not None:
            lost = score < lost_threshold
        else:
            lost = i != start_frame and bool(getattr(tracker, "lost", False))
        result = FrameResult(i, tuple(float(v) for v in box), float(score), bool(lost), ms)
        results.append(result)
        if on_frame is not None:
            on_frame(result, frame)
    if not results:
        raise ArgumentError(f"{where or frames.path}: start frame {start_frame} is past the last frame")
    return results
