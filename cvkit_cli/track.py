"""`cvkit track`, `cvkit train track`, `cvkit evaluate track`: thin wrappers over cvkit.track."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from ._options import DeviceOpt, JsonOpt, QuietOpt, SeedOpt, ThreadsOpt, err_console

TASK = "track"

TRACK_HELP = """Track one object through a video, an image folder or a benchmark sequence.

Boxes are x,y,w,h in pixels, 0-based (use --one-based for 1-based input). A benchmark sequence folder
(OTB, GOT-10k, LaSOT, VOT layouts) starts from its ground truth and prints scores. A folder of videos or
sequences runs as a batch: outputs mirror the input tree under -o DIR.

Examples:

  cvkit track video.mp4 --init-box 10,20,60,80 -o tracked.mp4 --boxes boxes.csv

  cvkit track frames/ --init-box 291,124,151,140 --boxes - --json | jq .box

  cvkit track OTB100/ -o results/ --skip-existing --model sesiamfc-lite
"""


def _parse_init_box(text: str | None, one_based: bool) -> tuple[float, float, float, float] | None:
    from cvkit.io.boxes import parse_box, read_box_file

    if text is None:
        return None
    if text.startswith("@"):
        from cvkit.errors import InputError

        box = tuple(float(v) for v in read_box_file(Path(text[1:]), one_based=one_based)[0])
        if not all(math.isfinite(v) for v in box) or box[2] <= 0 or box[3] <= 0:
            raise InputError(text[1:], f"first box {','.join(f'{v:g}' for v in box)} is not a box of positive size")
        return box
    return parse_box(text, one_based=one_based)


def track_command(
    input: Annotated[Path, typer.Argument(help="Video file, image folder, benchmark sequence, or a folder of them.",
                                          show_default=False)],
    init_box: Annotated[str | None, typer.Option(
        "--init-box", "-b", help="X,Y,W,H of the object in the start frame, or @FILE (first line of a box file). "
        "Default: the sequence's ground truth, or a VIDEO.init.txt / FOLDER/init.txt beside the input.")] = None,
    one_based: Annotated[bool, typer.Option("--one-based", help="--init-box uses 1-based pixels.")] = False,
    model: Annotated[str, typer.Option("--model", "-m", help="Tracker name (see `cvkit models`) or weights path.")
                     ] = "automatch-lite",  # cvkit.track.registry.DEFAULT_MODEL
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Annotated video (.mp4 mp4v, .avi MJPG); in batch mode an output folder.")] = None,
    boxes: Annotated[Path | None, typer.Option(
        "--boxes", help="Boxes file: .txt (x,y,w,h per frame), .csv or .jsonl; '-' for stdout. "
        "Default: txt on stdout when no other output is asked for.")] = None,
    boxes_format: Annotated[str, typer.Option(
        "--boxes-format", help="Batch mode: format of the per-item boxes files (txt, csv, jsonl).")] = "txt",
    video: Annotated[bool, typer.Option("--video/--no-video", help="Batch mode: also write annotated videos.")
                     ] = False,
    start_frame: Annotated[int, typer.Option("--start-frame", min=0, help="0-based frame to start from.")] = 0,
    end_frame: Annotated[int | None, typer.Option("--end-frame", min=0, help="Last frame (inclusive).")] = None,
    lost_threshold: Annotated[float | None, typer.Option(
        "--lost-threshold", help="Frames scoring below this are flagged lost (default: the model's own "
        "absence decision, or its calibrated threshold).")] = None,
    skip_existing: Annotated[bool, typer.Option("--skip-existing", help="Batch: skip items already done.")
                             ] = False,
    device: DeviceOpt = "auto",
    threads: ThreadsOpt = 0,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    from cvkit.device import select_device, set_threads
    from cvkit.errors import ArgumentError, BatchError, CvkitError
    from cvkit.io.atomic import check_not_input, check_output_dir
    from cvkit.io.boxes import box_format_for
    from cvkit.track.registry import build_tracker, default_lost_threshold
    from cvkit.track.run import collect_jobs

    set_threads(threads)
    dev = select_device(device)
    if lost_threshold is not None and not math.isfinite(lost_threshold):
        raise ArgumentError(f"--lost-threshold {lost_threshold}: expected a finite score")
    if end_frame is not None and end_frame < start_frame:
        raise ArgumentError(f"--end-frame {end_frame} is before --start-frame {start_frame}")
    box0 = _parse_init_box(init_box, one_based)
    jobs, batch = collect_jobs(input)
    if boxes is not None and str(boxes) != "-":
        box_format_for(boxes)
    if batch:
        if output is None:
            raise ArgumentError(f"{input}: is a folder of {len(jobs)} items; give -o DIR for the batch outputs")
        check_output_dir(output)
        if boxes_format not in ("txt", "csv", "jsonl"):
            raise ArgumentError(f"--boxes-format {boxes_format!r}: use txt, csv or jsonl")
    tracker = build_tracker(model, dev)
    lost_thr = lost_threshold
    if lost_thr is None and not tracker.reports_lost:  # else the tracker's own absence decision
        lost_thr = default_lost_threshold(model)
    failures: list[tuple[str, str]] = []
    summaries = []
    for job in jobs:
        if batch:
            boxes_path: Path | None = output / job.rel.with_suffix(f".{boxes_format}")
            video_path = output / job.rel.with_suffix(".mp4") if video else None
            if skip_existing and boxes_path.exists():
                if not quiet:
                    err_console.print(f"skip {job.name}: {boxes_path} exists")
                continue
        else:
            video_path = output
            boxes_path = boxes
            if boxes_path is None and output is None and not json_out:
                boxes_path = Path("-")
        for out_path in (video_path, boxes_path):
            if out_path is not None and str(out_path) != "-":
                check_not_input(out_path, [job.path, *(job.files or [])[:1]])
        try:
            own_start = job.init_box is not None or job.gt is not None
            summary = _track_one(job, tracker, None if batch and own_start else box0, start_frame, end_frame, lost_thr,
                                 video_path, boxes_path, json_out, quiet, model)
            summaries.append(summary)
        except CvkitError as e:
            if not batch:
                raise
            failures.append((job.name, str(e)))
            err_console.print(f"[red]failed[/] {job.name}: {e}")
    if not quiet and len(summaries) > 1:
        _print_summary_table(summaries)
    if failures:
        raise BatchError(failures)


def _track_one(job, tracker, init_box, start_frame, end_frame, lost_thr, video_path, boxes_path,
               json_out, quiet, model_name) -> dict:
    """Run one job with progress, outputs and summary; outputs appear only when the job succeeds."""
    import numpy as np

    from cvkit.errors import ArgumentError, InputError
    from cvkit.io.boxes import format_results, write_results
    from cvkit.io.video import VideoWriter
    from cvkit.track.metrics import score_sequence
    from cvkit.track.run import draw_frame, run_tracker

    if init_box is None:
        if "init_error" in job.extras:  # its init.txt could not be read (the batch goes on with the others)
            raise job.extras["init_error"]
        init_box = job.init_box
    if init_box is None and job.gt is not None and start_frame < len(job.gt):
        init_box = tuple(float(v) for v in job.gt[start_frame])
        if not all(math.isfinite(v) for v in init_box):
            raise InputError(job.path, f"ground truth of frame {start_frame} is empty (target absent); "
                                       "give --init-box or another --start-frame")
    if init_box is None:
        raise ArgumentError(f"{job.path}: no --init-box given and no ground truth or init.txt to start from")
    source = job.source()
    writer = VideoWriter(video_path, source.fps, source.size) if video_path is not None else None
    total = source.n_frames - start_frame if source.n_frames else None
    if end_frame is not None and total:
        total = min(total, end_frame - start_frame + 1)
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[fps]:.1f} fps"), TimeRemainingColumn(),
                        console=err_console, disable=quiet, transient=False)
    task = progress.add_task(job.name, total=total, fps=0.0)
    ms_sum = [0.0, 0]

    def on_frame(result, frame):
        if json_out:
            sys.stdout.write(json.dumps({"sequence": job.name, **result.as_dict()}) + "\n")
        if writer is not None:
            gt = job.gt[result.frame] if job.gt is not None and result.frame < len(job.gt) else None
            writer.write(draw_frame(frame, result, gt, model_name))
        if result.frame != start_frame:
            ms_sum[0] += result.ms
            ms_sum[1] += 1
        progress.update(task, advance=1, fps=1000.0 * ms_sum[1] / max(ms_sum[0], 1e-9))

    try:
        with progress:
            results = run_tracker(tracker, source, init_box, start_frame, end_frame, lost_thr, on_frame,
                                  where=str(job.path))
    except BaseException:
        if writer is not None:
            writer.close(ok=False)
        raise
    if writer is not None:
        writer.close(ok=True)
    if boxes_path is not None:
        if str(boxes_path) == "-":
            if not json_out:  # with --json the per-frame JSON Lines already carry the boxes
                sys.stdout.write(format_results(results, "txt"))
        else:
            write_results(boxes_path, results)
    summary = {"sequence": job.name, "frames": len(results),
               "fps": 1000.0 * ms_sum[1] / max(ms_sum[0], 1e-9),
               "lost": int(sum(r.lost for r in results)),
               "mean_score": float(np.mean([r.score for r in results[1:]])) if len(results) > 1 else 1.0}
    if job.gt is not None:
        idx = [r.frame for r in results]
        pred = np.array([r.box for r in results])
        gt = job.gt[[i for i in idx if i < len(job.gt)]]
        summary.update(score_sequence(pred[: len(gt)], gt, include_first=False))
    if json_out:
        sys.stdout.write(json.dumps({"sequence": job.name, "summary": summary}) + "\n")
    sys.stdout.flush()
    if not quiet:
        _print_summary_table([summary])
    return summary


def _print_summary_table(summaries: list[dict]) -> None:
    keys = ["frames", "fps", "lost", "mean_score"]
    extra = [k for k in ("auc", "p20", "np20", "mean_iou") if any(k in s for s in summaries)]
    table = Table(title="track", title_justify="left")
    table.add_column("sequence")
    for k in keys + extra:
        table.add_column(k, justify="right")
    for s in summaries:
        cells = [s["sequence"]]
        for k in keys + extra:
            v = s.get(k, "")
            cells.append(f"{v:.3f}" if isinstance(v, float) else str(v))
        table.add_row(*cells)
    err_console.print(table)


def register(app: typer.Typer, train_app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Attach the track commands to the app and its train/evaluate groups."""
    app.command("track", help=TRACK_HELP, no_args_is_help=True)(track_command)
    train_app.command("track", help=TRAIN_HELP, no_args_is_help=False)(train_command)
    evaluate_app.command("track", help=EVALUATE_HELP, no_args_is_help=True)(evaluate_command)


TRAIN_HELP = """Train a tracker: the recipe that produced the shipped asset.

Examples:

  cvkit train track --model sesiamfc-lite --data synthetic --steps 1600 --out runs/sesiamfc-lite

  cvkit train track --model automatch-lite --data synthetic --threads 1 --out runs/automatch-lite

  cvkit train track --model sesiamfc --data got10k:/data/GOT-10k --device cuda
"""


def train_command(
    model: Annotated[str, typer.Option("--model", "-m", help="sesiamfc-lite, siamfc-lite-plain, "
                                       "automatch-lite, dmtrack-lite, or the paper-size sesiamfc, automatch, "
                                       "dmtrack (GPU advised).")] = "sesiamfc-lite",
    data: Annotated[str, typer.Option("--data", help="synthetic, got10k:DIR or lasot:DIR.")] = "synthetic",
    minutes: Annotated[float, typer.Option("--minutes", min=0.05, help="Wall-clock budget.")] = 25.0,
    steps: Annotated[int | None, typer.Option("--steps", min=1, help="Fixed number of optimisation steps "
                                              "(reproducible; overrides --minutes).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output folder (weights.safetensors + card.json).")
                   ] = None,
    device: DeviceOpt = "auto",
    threads: ThreadsOpt = 0,
    seed: SeedOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    from cvkit.device import select_device, set_threads
    from cvkit.track.train import train_cli

    set_threads(threads)
    out = out or Path("runs") / model
    train_cli(model=model, data=data, minutes=minutes, out_dir=out, device=select_device(device), seed=seed,
              log=None if quiet else (lambda msg: err_console.print(msg)), steps=steps)
    if not quiet:
        err_console.print(f"wrote {out}/weights.safetensors and card.json")


EVALUATE_HELP = """Score trackers on a benchmark (OTB, GOT-10k, LaSOT, VOT layouts).

With --results, scores existing result files laid out as the benchmark's toolkit expects; otherwise runs
--model over every sequence first (results kept under --out).

Examples:

  cvkit evaluate track --dataset otb --root OTB100 --model siam-lite --out results/

  cvkit evaluate track --dataset got10k --root GOT-10k/val --results results/ --json

  cvkit evaluate track --dataset folder --root my_sequences/ --model automatch-lite --model cv-csrt
"""


def evaluate_command(
    dataset: Annotated[str, typer.Option("--dataset", help="otb, got10k, lasot, vot, or folder (any mix of those "
                                         "sequence layouts under --root; 1-based OTB/UAV123 GT handled per "
                                         "sequence).")],
    root: Annotated[Path, typer.Option("--root", help="Dataset root folder.")],
    results: Annotated[Path | None, typer.Option("--results", help="Existing results folder to score.")] = None,
    model: Annotated[list[str] | None, typer.Option("--model", "-m", help="Tracker(s) to run (repeatable).")
                     ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Where results are written when running models.")
                   ] = None,
    split: Annotated[str | None, typer.Option("--split", help="Dataset split (e.g. val, test).")] = None,
    skip_existing: Annotated[bool, typer.Option("--skip-existing", help="Keep result files already there.")
                             ] = True,
    device: DeviceOpt = "auto",
    threads: ThreadsOpt = 0,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    from cvkit.device import select_device, set_threads
    from cvkit.errors import ArgumentError
    from cvkit.track.evaluate import evaluate_results, run_benchmark

    set_threads(threads)
    if results is None:
        if not model:
            raise ArgumentError("give --results DIR to score, or --model NAME to run a tracker first")
        results = out or Path("results") / dataset
        run_benchmark(dataset, root, results, model, select_device(device), split=split,
                      skip_existing=skip_existing,
                      log=None if quiet else (lambda msg: err_console.print(msg)))
    scores = evaluate_results(dataset, root, results, trackers=model or None, split=split)
    if json_out:
        for name, metrics in scores.items():
            sys.stdout.write(json.dumps({"tracker": name, "dataset": dataset, **metrics}) + "\n")
    if not quiet:
        cols = sorted({k for m in scores.values() for k, v in m.items() if isinstance(v, int | float)})
        table = Table(title=f"{dataset} ({root})", title_justify="left")
        table.add_column("tracker")
        for c in cols:
            table.add_column(c, justify="right")
        for name, m in scores.items():
            table.add_row(name, *[f"{m[c]:.3f}" if isinstance(m.get(c), float) else str(m.get(c, ""))
                                  for c in cols])
        err_console.print(table)
        _print_per_sequence(scores)


def _print_per_sequence(scores: dict[str, dict]) -> None:
    """Per-sequence success AUC / P@20 of every tracker (one-pass datasets), trackers as columns."""
    names = [n for n, m in scores.items() if any("auc" in r for r in m.get("per_sequence", {}).values())]
    if not names:
        return
    table = Table(title="per sequence: AUC / P@20", title_justify="left")
    table.add_column("sequence")
    for n in names:
        table.add_column(n, justify="right")
    for seq in dict.fromkeys(s for n in names for s in scores[n]["per_sequence"]):
        cells = [scores[n]["per_sequence"].get(seq) for n in names]
        table.add_row(seq, *[f"{c['auc']:.3f} / {c['p20']:.3f}" if c else "" for c in cells])
    err_console.print(table)
