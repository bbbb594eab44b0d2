"""Run one item (`cvkit track`'s work): input discovery (video, image folder, benchmark sequence, batch folder),
the start box, init-box validation, the per-frame loop with timing, annotated-frame drawing, and `track_one`,
which writes one job's outputs and returns its summary (the CLI runs it through `cvkit.io.batch.run_batch`)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..errors import ArgumentError, InputError
from ..io.batch import Inputs, mirrored
from ..io.boxes import FrameResult, box_format_for, parse_box, read_box_file
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


def parse_init_box(text: str | None, one_based: bool = False) -> tuple[float, float, float, float] | None:
    """`--init-box`: X,Y,W,H, or @FILE (the first box of a box file); None when not given."""
    if text is None:
        return None
    if text.startswith("@"):
        box = tuple(float(v) for v in read_box_file(Path(text[1:]), one_based=one_based)[0])
        if not all(math.isfinite(v) for v in box) or box[2] <= 0 or box[3] <= 0:
            raise InputError(text[1:], f"first box {','.join(f'{v:g}' for v in box)} is not a box of positive size")
        return box
    return parse_box(text, one_based=one_based)


def collect_inputs(input_path: str | Path) -> Inputs:
    """`collect_jobs` as the batch runner's Inputs: the items are the TrackJobs (each has `.path` and `.rel`)."""
    jobs, batch = collect_jobs(input_path)
    return Inputs(jobs, batch, Path(input_path))  # type: ignore[arg-type]


def start_box(job: TrackJob, init_box: tuple[float, float, float, float] | None,
              start_frame: int = 0) -> tuple[float, float, float, float]:
    """The box to start from: `init_box`, else the job's init file, else its ground truth at `start_frame`."""
    if init_box is not None:
        return init_box
    if "init_error" in job.extras:  # its init.txt could not be read (the batch goes on with the others)
        raise job.extras["init_error"]
    if job.init_box is not None:
        return job.init_box
    if job.gt is not None and start_frame < len(job.gt):
        box = tuple(float(v) for v in job.gt[start_frame])
        if not all(math.isfinite(v) for v in box):
            raise InputError(job.path, f"ground truth of frame {start_frame} is empty (target absent); "
                                       "give --init-box or another --start-frame")
        return box
    raise ArgumentError(f"{job.path}: no --init-box given and no ground truth or init.txt to start from")


def track_one(
    job: TrackJob,
    tracker: Tracker,
    init_box: tuple[float, float, float, float] | None = None,
    *,
    start_frame: int = 0,
    end_frame: int | None = None,
    lost_threshold: float | None = None,
    video_path: Path | None = None,
    boxes_path: Path | None = None,
    label: str = "",
    on_start: Callable[[int | None], None] | None = None,
    on_frame: Callable[[FrameResult, np.ndarray], None] | None = None,
) -> tuple[list[FrameResult], dict]:
    """Run one job: track it (`start_box` when `init_box` is None), write the annotated video and the boxes file
    (only when the job succeeds: atomic writes), and return the per-frame results and the job's summary
    (frames, fps over the tracked frames, lost, mean score, and the OTB scores when the job has ground truth).
    `on_start(n)` gets the number of frames to track (None: unknown) once the input is open; `on_frame(result,
    frame)` is called after every frame (progress, JSON Lines)."""
    from ..io.atomic import check_not_input
    from ..io.boxes import write_results
    from ..io.video import VideoWriter
    from .metrics import score_sequence

    for path in (video_path, boxes_path):
        if path is not None and str(path) != "-":
            check_not_input(path, [job.path, *(job.files or [])[:1]])
    init_box = start_box(job, init_box, start_frame)
    source = job.source()
    writer = VideoWriter(video_path, source.fps, source.size) if video_path is not None else None
    if on_start is not None:
        total = source.n_frames - start_frame if source.n_frames else None
        on_start(min(total, end_frame - start_frame + 1) if end_frame is not None and total else total)

    def each(result: FrameResult, frame: np.ndarray) -> None:
        if writer is not None:
            gt = job.gt[result.frame] if job.gt is not None and result.frame < len(job.gt) else None
            writer.write(draw_frame(frame, result, gt, label))
        if on_frame is not None:
            on_frame(result, frame)

    try:
        results = run_tracker(tracker, source, init_box, start_frame, end_frame, lost_threshold, each,
                              where=str(job.path))
    except BaseException:
        if writer is not None:
            writer.close(ok=False)
        raise
    if writer is not None:
        writer.close(ok=True)
    if boxes_path is not None and str(boxes_path) != "-":
        write_results(boxes_path, results)
    tracked = [r.ms for r in results if r.frame != start_frame]
    summary = {"sequence": job.name, "frames": len(results), "fps": 1000.0 * len(tracked) / max(sum(tracked), 1e-9),
               "lost": int(sum(r.lost for r in results)),
               "mean_score": float(np.mean([r.score for r in results[1:]])) if len(results) > 1 else 1.0}
    if job.gt is not None:
        pred = np.array([r.box for r in results])
        gt = job.gt[[r.frame for r in results if r.frame < len(job.gt)]]
        summary.update(score_sequence(pred[: len(gt)], gt, include_first=False))
    return results, summary


@dataclass(frozen=True)
class Outputs:
    """Where `cvkit track` writes: a single input's annotated video and boxes file (or '-', stdout), or a batch's
    files mirrored under the output folder (ITEM.txt/.csv/.jsonl, and ITEM.mp4 with `video`)."""

    batch: bool
    output: Path | None = None
    boxes: Path | None = None
    boxes_format: str = "txt"
    video: bool = False

    def paths(self, job: TrackJob) -> tuple[Path | None, Path | None]:
        """(annotated video, boxes file) of one job; None where nothing is written."""
        if not self.batch:
            return self.output, self.boxes
        assert self.output is not None
        video = mirrored(job, self.output, ".mp4") if self.video else None  # type: ignore[arg-type]
        return video, mirrored(job, self.output, f".{self.boxes_format}")  # type: ignore[arg-type]

    def targets(self, job: TrackJob) -> list[Path]:
        """The files written for a job (what the batch runner checks before any work and skips when present)."""
        return [p for p in self.paths(job) if p is not None and str(p) != "-"]


def plan_outputs(inputs: Inputs, output: Path | None, boxes: Path | None, boxes_format: str = "txt",
                 video: bool = False, json_out: bool = False) -> Outputs:
    """Check the output options against the input (ArgumentError, exit 4) and fill in the defaults: a single
    input with no output asked for prints its boxes on stdout (unless --json, whose lines carry them)."""
    if boxes is not None and str(boxes) != "-":
        box_format_for(boxes)
    if not inputs.batch:
        if boxes is None and output is None and not json_out:
            boxes = Path("-")
        return Outputs(False, output, boxes)
    if output is None:
        raise ArgumentError(f"{inputs.root}: is a folder of {len(inputs.items)} items; give -o DIR for the outputs")
    if boxes is not None:
        raise ArgumentError(f"--boxes is for a single input; a batch writes -o DIR/ITEM.{boxes_format}")
    if boxes_format not in ("txt", "csv", "jsonl"):
        raise ArgumentError(f"--boxes-format {boxes_format!r}: use txt, csv or jsonl")
    return Outputs(True, output, None, boxes_format, video)


def check_frames(start_frame: int, end_frame: int | None, lost_threshold: float | None) -> None:
    """The frame range and the lost threshold are usable (ArgumentError, exit 4)."""
    if lost_threshold is not None and not math.isfinite(lost_threshold):
        raise ArgumentError(f"--lost-threshold {lost_threshold}: expected a finite score")
    if end_frame is not None and end_frame < start_frame:
        raise ArgumentError(f"--end-frame {end_frame} is before --start-frame {start_frame}")


@dataclass(frozen=True)
class TrackPlan:
    """`cvkit track` over its inputs: the tracker, where each job's outputs go, --init-box, the frame range and
    the lost threshold (the model's own when none is given)."""

    tracker: Tracker
    outputs: Outputs
    init_box: tuple[float, float, float, float] | None
    label: str
    start_frame: int = 0
    end_frame: int | None = None
    lost_threshold: float | None = None

    @property
    def boxes_to_stdout(self) -> bool:
        """True when the boxes go to stdout (`--boxes -`, or a single input with nothing else written)."""
        return not self.outputs.batch and str(self.outputs.boxes) == "-"

    def track(self, job: TrackJob, on_start: Callable[[int | None], None] | None = None,
              on_frame: Callable[[FrameResult, np.ndarray], None] | None = None) -> tuple[list[FrameResult], dict]:
        """`track_one` of a job with this plan; a batch item's own start (init file, ground truth) beats --init-box."""
        own_start = job.init_box is not None or job.gt is not None
        video_path, boxes_path = self.outputs.paths(job)
        return track_one(job, self.tracker, None if self.outputs.batch and own_start else self.init_box,
                         start_frame=self.start_frame, end_frame=self.end_frame, lost_threshold=self.lost_threshold,
                         video_path=video_path, boxes_path=boxes_path, label=self.label, on_start=on_start,
                         on_frame=on_frame)


def plan_tracking(input_path: str | Path, device: object, model: str, init_box: str | None = None,
                  one_based: bool = False, output: Path | None = None, boxes: Path | None = None,
                  boxes_format: str = "txt", video: bool = False, start_frame: int = 0, end_frame: int | None = None,
                  lost_threshold: float | None = None, json_out: bool = False) -> tuple[Inputs, TrackPlan]:
    """Check the options, collect the inputs, plan the outputs and build the tracker on `device`: the batch
    inputs (TrackJobs) and the plan tracking each."""
    from . import registry

    check_frames(start_frame, end_frame, lost_threshold)
    box0 = parse_init_box(init_box, one_based)
    inputs = collect_inputs(input_path)
    outs = plan_outputs(inputs, output, boxes, boxes_format, video, json_out)
    tracker = registry.build_tracker(model, device)
    if lost_threshold is None and not tracker.reports_lost:
        lost_threshold = registry.default_lost_threshold(model)
    return inputs, TrackPlan(tracker, outs, box0, model, start_frame, end_frame, lost_threshold)
