"""`cvkit propose-actions`, `cvkit train propose-actions`, `cvkit evaluate propose-actions`: thin wrappers over
cvkit.propose_actions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._options import RunOptions, TrainOptions, err_console, run_options, train_options
from ._render import print_json, stderr_log

TASK = "propose-actions"

PROPOSE_HELP = """Temporal action proposals (start, end, score) for a video or its snippet features (BC-GNN).

INPUT: a video (features from the EfficientNet-Lite0 trunk + motion cues, one snippet per 16 frames), a feature
file (BSN csv_mean_100 .csv; .npy/.npz of shape (snippets, dims); .h5), or a folder / glob of them (batch: -o DIR
gets one result per video, mirroring the tree, and DIR/proposals.json with all). Writes the ActivityNet result
JSON (-o), a CSV ranking (.csv) and a timeline (.png) beside it. A CSV with a `video` column (video,seconds[,subset],
e.g. BSN's video_info_new.csv) is a duration list for the content-free models (prior, sliding-window).

Examples:

  cvkit propose-actions ../shared/data/pets2009/vtest.avi -o proposals.json

  cvkit propose-actions csv_mean_100/ -o val/ --durations video_info_new.csv --model runs/bcgnn --json

  cvkit propose-actions video_info_new.csv --subset validation --model runs/prior -o prior_val.json
"""


@run_options()
def propose_command(
    input: Annotated[str, typer.Argument(help="Video, feature file, folder or glob.", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Result JSON (one input) or folder (batch).")
                      ] = Path("proposals.json"),
    model: Annotated[str, typer.Option("--model", "-m", help="bcgnn-small-synth, sliding-window, or a trained "
                                       "folder / weights path.")] = "bcgnn-small-synth",
    duration: Annotated[float | None, typer.Option("--duration", help="Seconds (feature input).")] = None,
    durations: Annotated[Path | None, typer.Option("--durations", help="CSV video,seconds (features).")] = None,
    fps: Annotated[float, typer.Option("--fps", help="Feature input without a duration: frames/s.")] = 30.0,
    stride: Annotated[int, typer.Option("--stride-frames", min=1, help="Frames per snippet.")] = 16,
    mode: Annotated[str, typer.Option("--mode", help="anet (rescale to the window) or thumos (slide it).")] = "anet",
    top_k: Annotated[int, typer.Option("--top-k", min=1, help="Proposals kept per video.")] = 100,
    nms: Annotated[str, typer.Option("--nms", help="soft, hard or none.")] = "soft",
    subset: Annotated[str, typer.Option("--subset", help="Duration list: only this subset.")] = "",
    timeline: Annotated[bool, typer.Option("--timeline/--no-timeline", help="Write the timeline PNG.")] = True,
    *,
    run: RunOptions,
) -> None:
    from cvkit.io.batch import run_batch
    from cvkit.propose_actions.run import item_options, plan_job

    opts = item_options(duration, durations, fps, stride, mode, nms, top_k)
    job = plan_job(input, output, opts, model, run.select_device, subset, timeline)
    try:
        run_batch(job.inputs, job.work, job.targets, out_dir=output if job.inputs.batch else None, **run.batch(),
                  describe=job.describe)
    finally:
        n = job.merge()
        if n and not run.quiet:
            err_console.print(f"{n} videos -> {output / 'proposals.json'}")


TRAIN_HELP = """Train BC-GNN (or build the prior table): the recipes behind the shipped asset and for real features.

--data synthetic: procedurally generated sequences (the shipped bcgnn-small-synth). anet:DIR: BSN layout
(anet_anno_action.json + video_info_new.csv under DIR, --features csv_mean_100/, training subset).
thumos:CSV: G-TAD layout (annotation CSV in seconds, --features DIR of <video>.npy, --fps, --stride-frames 5).

Examples:

  cvkit train propose-actions --data synthetic --steps 20 --videos 64 -o runs/smoke

  cvkit train propose-actions --model prior --data anet:../shared/data/propose-actions -o runs/prior
"""


@train_options(out="runs/propose-actions", steps=1500, budget=("steps",), threads=1)
def train_command(
    model: Annotated[str, typer.Option("--model", help="bcgnn or prior.")] = "bcgnn",
    data: Annotated[str, typer.Option("--data", help="synthetic, anet:DIR or thumos:CSV.")] = "synthetic",
    features: Annotated[Path | None, typer.Option("--features", help="Feature folder (anet/thumos).")] = None,
    size: Annotated[str, typer.Option("--size", help="paper, slim or small.")] = "small",
    input_kind: Annotated[str, typer.Option("--input", help="profile (feature-agnostic) or raw.")] = "profile",
    videos: Annotated[int, typer.Option("--videos", min=1, help="Synthetic training videos.")] = 3000,
    epochs: Annotated[int | None, typer.Option("--epochs", min=1, help="Epochs instead of --steps (paper 20).")
                      ] = None,
    batch: Annotated[int, typer.Option("--batch", min=1, help="Videos per step.")] = 16,
    lr: Annotated[float, typer.Option("--lr", help="Adam learning rate (paper 1e-4).")] = 1e-3,
    weight_decay: Annotated[float, typer.Option("--weight-decay", help="Paper 5e-3.")] = 1e-4,
    fps: Annotated[float, typer.Option("--fps", help="THUMOS feature fps.")] = 30.0,
    stride: Annotated[int, typer.Option("--stride-frames", min=1, help="THUMOS snippet stride.")] = 5,
    name: Annotated[str, typer.Option("--name", help="Model name in the card.")] = "bcgnn-small-synth",
    report: Annotated[bool, typer.Option("--report/--no-report", help="Synthetic: held-out scores in the card.")
                      ] = False,
    *,
    opts: TrainOptions,
) -> None:
    from cvkit.propose_actions import workflows

    command = opts.command("propose-actions")
    path = workflows.train(model, data, features, size, input_kind, videos, epochs or 20, 0 if epochs else opts.steps,
                           batch, lr, weight_decay, fps, stride, opts.out, name, report, str(opts.select_device()),
                           opts.threads, opts.seed, command, stderr_log(opts.quiet))
    err_console.print(f"saved {path}")


EVALUATE_HELP = """Score --results: AR@AN and AUC as the official ActivityNet evaluation (tIoU 0.5:0.05:0.95, AN 1..100)
or THUMOS-14 AR@50..1000; --dataset synthetic compares --model with the prior and sliding windows.

Examples:

  cvkit evaluate propose-actions --dataset anet --root ../shared/data/propose-actions --results val.json --plot ar.png

  cvkit evaluate propose-actions --dataset synthetic --videos 50
"""


@run_options(batch=False)
def evaluate_command(
    dataset: Annotated[str, typer.Option("--dataset", help="anet, thumos or synthetic.")] = "anet",
    root: Annotated[Path | None, typer.Option("--root", help="Annotations (BSN folder/json, THUMOS CSV).")] = None,
    results: Annotated[Path | None, typer.Option("--results", help="ActivityNet result JSON to score.")] = None,
    subset: Annotated[str, typer.Option("--subset", help="ActivityNet subset.")] = "validation",
    model: Annotated[str, typer.Option("--model", "-m", help="Synthetic: the model.")] = "bcgnn-small-synth",
    videos: Annotated[int, typer.Option("--videos", min=1, help="Synthetic test videos.")] = 300,
    plot: Annotated[Path | None, typer.Option("--plot", help="AR-AN curve PNG.")] = None,
    *,
    run: RunOptions,
) -> None:
    from cvkit.propose_actions import workflows

    rep = workflows.evaluate(dataset, root, results, subset, model, videos, plot, run.select_device())
    if run.json_out:
        print_json(rep)
    if not run.quiet:
        for name, row in rep["models"].items():
            err_console.print(f"{name}: " + "  ".join(f"{k} {v:.2f}" for k, v in row.items() if isinstance(v, float)))


def register(app: typer.Typer, train_app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Attach the propose-actions commands to the app and its train/evaluate groups."""
    app.command("propose-actions", help=PROPOSE_HELP, no_args_is_help=True)(propose_command)
    train_app.command("propose-actions", help=TRAIN_HELP)(train_command)
    evaluate_app.command("propose-actions", help=EVALUATE_HELP, no_args_is_help=True)(evaluate_command)
