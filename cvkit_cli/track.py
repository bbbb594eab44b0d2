"""`cvkit track`, `cvkit train track`, `cvkit evaluate track`: options and rendering over cvkit.track."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from ._options import RunOptions, TrainOptions, err_console, run_options, train_options

TASK = "track"
Opt = typer.Option


def _table(title: str, first: str, rows: dict[str, dict], cols: list[str]) -> None:
    """One table on stderr: a row per name (column `first`), a column per key (floats with 3 decimals)."""
    table = Table(title=title, title_justify="left")
    for c in [first, *cols]:
        table.add_column(c, justify="left" if c == first else "right")
    for name, m in rows.items():
        table.add_row(name, *[f"{m[c]:.3f}" if isinstance(m.get(c), float) else str(m.get(c, "")) for c in cols])
    err_console.print(table)


def _summaries(summaries: list[dict]) -> None:
    extra = [k for k in ("auc", "p20", "np20", "mean_iou") if any(k in s for s in summaries)]
    _table("track", "sequence", {s["sequence"]: s for s in summaries}, ["frames", "fps", "lost", "mean_score", *extra])


@run_options()
def track_command(
    input: Annotated[Path, typer.Argument(help="Video, image folder, benchmark sequence, or a folder of them.",
                                          show_default=False)],
    init_box: Annotated[str | None, Opt("--init-box", "-b", help="X,Y,W,H in the start frame, or @FILE (its first "
                                        "box). Default: the sequence's GT, or VIDEO.init.txt / FOLDER/init.txt.")
                        ] = None,
    one_based: Annotated[bool, Opt("--one-based", help="--init-box uses 1-based pixels.")] = False,
    model: Annotated[str, Opt("--model", "-m", help="Tracker name (see `cvkit models`) or weights path.")
                     ] = "automatch-lite",  # cvkit.track.registry.DEFAULT_MODEL
    output: Annotated[Path | None, Opt("--output", "-o", help="Annotated video (.mp4, .avi); batch: a folder.")] = None,
    boxes: Annotated[Path | None, Opt("--boxes", help="Boxes file (.txt, .csv, .jsonl) or '-' for stdout (the default "
                                      "when nothing else is written). Single input only.")] = None,
    boxes_format: Annotated[str, Opt("--boxes-format", help="Batch: per-item boxes format (txt, csv, jsonl).")] = "txt",
    video: Annotated[bool, Opt("--video/--no-video", help="Batch: also write annotated videos.")] = False,
    start_frame: Annotated[int, Opt("--start-frame", min=0, help="0-based frame to start from.")] = 0,
    end_frame: Annotated[int | None, Opt("--end-frame", min=0, help="Last frame (inclusive).")] = None,
    lost_threshold: Annotated[float | None, Opt("--lost-threshold", help="Frames scoring below this are flagged lost "
                                                "(default: the model's own decision or calibrated score).")] = None,
    *,
    run: RunOptions,
) -> None:
    """Track one object through a video, an image folder or a benchmark sequence.

    Boxes are x,y,w,h in pixels, 0-based. A benchmark sequence (OTB, GOT-10k, LaSOT, VOT layouts) starts from its
    ground truth and prints scores. A folder of them is a batch: outputs mirror the input tree under -o DIR.

    Examples:

      cvkit track video.mp4 --init-box 10,20,60,80 -o tracked.mp4 --boxes boxes.csv

      cvkit track frames/ --init-box 291,124,151,140 --boxes - --json | jq .box

      cvkit track OTB100/ -o results/ --skip-existing --model sesiamfc-lite
    """
    from cvkit.io.batch import run_batch
    from cvkit.io.boxes import format_results
    from cvkit.track.registry import build_tracker, default_lost_threshold
    from cvkit.track.run import check_frames, collect_inputs, parse_init_box, plan_outputs, track_one

    dev = run.select_device()
    check_frames(start_frame, end_frame, lost_threshold)
    box0 = parse_init_box(init_box, one_based)
    inputs = collect_inputs(input)
    outs = plan_outputs(inputs, output, boxes, boxes_format, video, run.json_out)
    tracker = build_tracker(model, dev)
    lost_thr = lost_threshold if lost_threshold is not None or tracker.reports_lost else default_lost_threshold(model)

    def work(job) -> dict:
        progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[fps]:.1f} fps"), TimeRemainingColumn(),
                            console=err_console, disable=run.quiet)
        bar, ms = progress.add_task(job.name, total=None, fps=0.0), [0.0, 0]

        def on_frame(result, frame) -> None:
            if run.json_out:
                sys.stdout.write(json.dumps({"sequence": job.name, **result.as_dict()}) + "\n")
            if result.frame != start_frame:
                ms[0], ms[1] = ms[0] + result.ms, ms[1] + 1
            progress.update(bar, advance=1, fps=1000.0 * ms[1] / max(ms[0], 1e-9))

        own_start = job.init_box is not None or job.gt is not None  # a batch item's own start beats --init-box
        video_path, boxes_path = outs.paths(job)
        with progress:
            results, summary = track_one(job, tracker, None if outs.batch and own_start else box0,
                                         start_frame=start_frame, end_frame=end_frame, lost_threshold=lost_thr,
                                         video_path=video_path, boxes_path=boxes_path, label=model,
                                         on_start=lambda n: progress.update(bar, total=n), on_frame=on_frame)
        if str(boxes_path) == "-" and not run.json_out:  # with --json the JSON Lines carry the boxes
            sys.stdout.write(format_results(results, "txt"))
        sys.stdout.flush()
        if not run.quiet:
            _summaries([summary])
        return {"sequence": job.name, "summary": summary}

    result = run_batch(inputs, work, outs.targets, out_dir=output if outs.batch else None, **run.batch())
    if not run.quiet and len(result.records) > 1:
        _summaries([r["summary"] for r in result.records])


@train_options(out="runs/{model}")
def train_command(
    model: Annotated[str, Opt("--model", "-m", help="sesiamfc-lite, siamfc-lite-plain, automatch-lite, dmtrack-lite, "
                              "or the paper-size sesiamfc, automatch, dmtrack (GPU advised).")] = "sesiamfc-lite",
    data: Annotated[str, Opt("--data", help="synthetic, got10k:DIR or lasot:DIR.")] = "synthetic",
    *,
    opts: TrainOptions,
) -> None:
    """Train a tracker: the recipe that produced the shipped asset (--out default: runs/MODEL). With neither --steps
    nor --minutes: SiamFC nets train 25 minutes, AutoMatch and DMTrack their recipe's steps.

    Examples:

      cvkit train track --model sesiamfc-lite --data synthetic --steps 1600 --out runs/sesiamfc-lite

      cvkit train track --model automatch-lite --data synthetic --threads 1 --out runs/automatch-lite

      cvkit train track --model sesiamfc --data got10k:/data/GOT-10k --device cuda
    """
    from cvkit.track.train import train_cli

    out = Path(str(opts.out).replace("{model}", model))
    train_cli(model=model, data=data, minutes=opts.minutes, out_dir=out, device=opts.select_device(),
              seed=opts.seed, log=None if opts.quiet else err_console.print, steps=opts.steps)
    if not opts.quiet:
        err_console.print(f"wrote {out}/weights.safetensors and card.json")


@run_options(batch=False)
def evaluate_command(
    dataset: Annotated[str, Opt("--dataset", help="otb, got10k, lasot, vot, or folder (any mix of those layouts "
                                "under --root).")],
    root: Annotated[Path, Opt("--root", help="Dataset root folder.")],
    results: Annotated[Path | None, Opt("--results", help="Existing results folder to score.")] = None,
    model: Annotated[list[str] | None, Opt("--model", "-m", help="Tracker(s) to run first (repeatable).")] = None,
    out: Annotated[Path | None, Opt("--out", help="Where the models' results go (default results/DATASET).")] = None,
    split: Annotated[str | None, Opt("--split", help="Dataset split (e.g. val, test).")] = None,
    skip_existing: Annotated[bool, Opt("--skip-existing/--no-skip-existing", help="Keep result files already "
                                       "under --out (--no-skip-existing runs every sequence again).")] = True,
    *,
    run: RunOptions,
) -> None:
    """Score trackers on a benchmark (OTB, GOT-10k, LaSOT, VOT layouts): existing --results files, or --model
    run over every sequence first.

    Examples:

      cvkit evaluate track --dataset otb --root OTB100 --model siam-lite --out results/

      cvkit evaluate track --dataset got10k --root GOT-10k/val --results results/ --json

      cvkit evaluate track --dataset folder --root ../shared/data/track --model automatch-lite --model cv-csrt
    """
    from cvkit.errors import ArgumentError
    from cvkit.track.evaluate import evaluate_results, run_benchmark

    dev = run.select_device()
    if results is None:
        if not model:
            raise ArgumentError("give --results DIR to score, or --model NAME to run a tracker first")
        results = out or Path("results") / dataset
        run_benchmark(dataset, root, results, model, dev, split=split, skip_existing=skip_existing,
                      log=None if run.quiet else err_console.print)
    scores = evaluate_results(dataset, root, results, trackers=model or None, split=split)
    if run.json_out:
        sys.stdout.write("".join(json.dumps({"tracker": n, "dataset": dataset, **m}) + "\n" for n, m in scores.items()))
    if not run.quiet:
        _table(f"{dataset} ({root})", "tracker", scores,
               sorted({k for m in scores.values() for k, v in m.items() if isinstance(v, int | float)}))
        per = {n: m["per_sequence"] for n, m in scores.items()
               if any("auc" in r for r in m.get("per_sequence", {}).values())}
        if per:  # one-pass datasets: AUC / P@20 per sequence, trackers as columns
            cell = {s: {n: f"{p[s]['auc']:.3f} / {p[s]['p20']:.3f}" if s in p else "" for n, p in per.items()}
                    for s in dict.fromkeys(s for p in per.values() for s in p)}
            _table("per sequence: AUC / P@20", "sequence", cell, list(per))



def register(app: typer.Typer, train_app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Attach the track commands to the app and its train/evaluate groups (help: the commands' docstrings)."""
    app.command("track", no_args_is_help=True)(track_command)
    train_app.command("track", no_args_is_help=False)(train_command)
    evaluate_app.command("track", no_args_is_help=True)(evaluate_command)
