"""`cvkit track`, `cvkit train track`, `cvkit evaluate track`: options and rendering over cvkit.track."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ._options import RunOptions, TrainOptions, err_console, run_options, train_options
from ._render import print_grid, print_json, stderr_log

TASK = "track"
Opt = typer.Option


def _summaries(summaries: list[dict]) -> None:
    extra = [k for k in ("auc", "p20", "np20", "mean_iou") if any(k in s for s in summaries)]
    print_grid("track", "sequence", {s["sequence"]: s for s in summaries},
               ["frames", "fps", "lost", "mean_score", *extra])


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
    from cvkit.track.run import plan_tracking

    inputs, plan = plan_tracking(input, run.select_device(), model, init_box, one_based, output, boxes, boxes_format,
                                 video, start_frame, end_frame, lost_threshold, run.json_out)

    def work(job) -> dict:
        progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[fps]:.1f} fps"), TimeRemainingColumn(),
                            console=err_console, disable=run.quiet)
        bar, ms = progress.add_task(job.name, total=None, fps=0.0), [0.0, 0]

        def on_frame(result, frame) -> None:
            if run.json_out:
                print_json({"sequence": job.name, **result.as_dict()})
            if result.frame != start_frame:
                ms[0], ms[1] = ms[0] + result.ms, ms[1] + 1
            progress.update(bar, advance=1, fps=1000.0 * ms[1] / max(ms[0], 1e-9))

        with progress:
            results, summary = plan.track(job, on_start=lambda n: progress.update(bar, total=n), on_frame=on_frame)
        if plan.boxes_to_stdout and not run.json_out:  # with --json the JSON Lines carry the boxes
            sys.stdout.write(format_results(results, "txt"))
        sys.stdout.flush()
        if not run.quiet:
            _summaries([summary])
        return {"sequence": job.name, "summary": summary}

    result = run_batch(inputs, work, plan.outputs.targets, out_dir=output if inputs.batch else None, **run.batch())
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
              seed=opts.seed, log=stderr_log(opts.quiet), steps=opts.steps)
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
    from cvkit.track.evaluate import per_sequence_cells, score_benchmark

    scores = score_benchmark(dataset, root, results, model, run.select_device(), out, split, skip_existing,
                             log=stderr_log(run.quiet))
    if run.json_out:
        print_json(*({"tracker": n, "dataset": dataset, **m} for n, m in scores.items()))
    if not run.quiet:
        print_grid(f"{dataset} ({root})", "tracker", scores,
                   sorted({k for m in scores.values() for k, v in m.items() if isinstance(v, int | float)}))
        cells = per_sequence_cells(scores)
        if cells:  # one-pass datasets: AUC / P@20 per sequence, trackers as columns
            print_grid("per sequence: AUC / P@20", "sequence", cells, list(next(iter(cells.values()))))


def register(app: typer.Typer, train_app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Attach the track commands to the app and its train/evaluate groups (help: the commands' docstrings)."""
    app.command("track", no_args_is_help=True)(track_command)
    train_app.command("track", no_args_is_help=False)(train_command)
    evaluate_app.command("track", no_args_is_help=True)(evaluate_command)
