"""`cvkit propose-actions`, `cvkit train propose-actions`, `cvkit evaluate propose-actions`: thin wrappers over
cvkit.propose_actions."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ._options import DeviceOpt, JsonOpt, QuietOpt, SeedOpt, ThreadsOpt, err_console

TASK = "propose-actions"

PROPOSE_HELP = """Temporal action proposals (start, end, score) for a video or its snippet features (BC-GNN).

INPUT: a video (.mp4/.avi/...; features from the EfficientNet-Lite0 trunk + motion cues, one snippet per 16
frames), a feature file (BSN csv_mean_100 .csv with header f0..fN; .npy/.npz of shape (snippets, dims); .h5),
or a folder of them. Writes the ActivityNet result JSON (-o), a CSV ranking beside it (.csv) and a timeline
PNG (.png). A folder (or glob) is a batch: -o DIR gets one result per video (mirroring the tree;
--skip-existing resumes) and DIR/proposals.json with all of them; a failed video is reported, exit 6.

Examples:

  cvkit propose-actions ../shared/data/pets2009/vtest.avi -o proposals.json

  cvkit propose-actions csv_mean_100/ -o val/ --durations video_info_new.csv --model runs/bcgnn --json

  cvkit propose-actions video_info_new.csv --subset validation --model runs/prior -o prior_val.json

A CSV with a `video` column (video,seconds and optionally subset, e.g. BSN's video_info_new.csv) is a
duration list for the content-free models (a prior table from `cvkit train propose-actions --model prior`,
or sliding-window).
"""


def propose_command(
    input: Annotated[str, typer.Argument(help="Video, feature file, folder or glob.", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Result JSON (one input) or folder (batch).")
                      ] = Path("proposals.json"),
    model: Annotated[str, typer.Option("--model", "-m", help="bcgnn-small-synth, sliding-window, or a trained "
                                       "asset folder / weights path (BC-GNN or prior).")] = "bcgnn-small-synth",
    duration: Annotated[float | None, typer.Option("--duration", help="Seconds (feature input).")] = None,
    durations: Annotated[Path | None, typer.Option("--durations", help="CSV video,seconds (video_info_new.csv).")
                         ] = None,
    fps: Annotated[float, typer.Option("--fps", help="Feature input without a duration: frames/s.")] = 30.0,
    stride: Annotated[int, typer.Option("--stride-frames", min=1, help="Frames per snippet.")] = 16,
    mode: Annotated[str, typer.Option("--mode", help="anet (rescale to the model's window) or thumos "
                                      "(sliding windows).")] = "anet",
    top_k: Annotated[int, typer.Option("--top-k", min=1, help="Proposals kept per video.")] = 100,
    nms: Annotated[str, typer.Option("--nms", help="soft, hard or none.")] = "soft",
    subset: Annotated[str, typer.Option("--subset", help="Duration list: only this subset.")] = "",
    timeline: Annotated[bool, typer.Option("--timeline/--no-timeline", help="Write the timeline PNG.")] = True,
    skip_existing: Annotated[bool, typer.Option("--skip-existing", help="Batch: skip videos already done.")
                             ] = False,
    device: DeviceOpt = "auto",
    threads: ThreadsOpt = 0,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    from cvkit.device import select_device, set_threads
    from cvkit.errors import ArgumentError
    from cvkit.io.batch import discover, mirrored, run_batch
    from cvkit.io.video import VIDEO_SUFFIXES
    from cvkit.propose_actions import results as R
    from cvkit.propose_actions.predict import PostConfig
    from cvkit.propose_actions.readers import FEATURE_SUFFIXES
    from cvkit.propose_actions.run import (
        ItemOptions,
        is_durations_csv,
        load_proposer,
        propose_from_durations,
        propose_one,
        read_durations,
    )

    if mode not in ("anet", "thumos"):
        raise ArgumentError(f"--mode {mode!r}: use anet or thumos")
    if nms not in ("soft", "hard", "none"):
        raise ArgumentError(f"--nms {nms!r}: use soft, hard or none")
    set_threads(threads)
    inputs = discover(input, (*VIDEO_SUFFIXES, *FEATURE_SUFFIXES), what="video or feature")
    if inputs.batch and output.suffix.lower() == ".json":
        raise ArgumentError(f"{output}: a folder of inputs needs -o DIR (one result per video + proposals.json)")
    if not inputs.batch and output.suffix.lower() != ".json":
        raise ArgumentError(f"{output}: the result file must end in .json (the CSV and PNG go beside it)")
    proposer = load_proposer(model, select_device(device))
    opts = ItemOptions(duration, read_durations(durations) if durations else None, fps, stride, mode,
                       post=PostConfig(nms=nms, top_k=top_k))
    single = inputs.items[0].path
    if not inputs.batch and is_durations_csv(single):  # a duration list for the content-free models
        items = propose_from_durations(proposer, single, subset, top_k)
        R.write_anet_json(items, output, proposer.name)
        R.write_csv(items, output.with_suffix(".csv"))
        if not quiet:
            err_console.print(f"{len(items)} videos -> {output} and {output.with_suffix('.csv')}")
        return

    def targets(item) -> list[Path]:
        base = mirrored(item, output, ".json") if inputs.batch else output
        return [base, base.with_suffix(".csv")] + ([base.with_suffix(".png")] if timeline else [])

    def work(item) -> dict:
        props, summary = propose_one(proposer, item.path, opts)
        out = targets(item)
        R.write_anet_json([props], out[0], proposer.name)
        R.write_csv([props], out[1])
        if timeline:
            R.write_timeline(props, out[2])
        return {**summary, **R.jsonl_record(props, 10), "output": str(out[0])}

    def describe(item, rec: dict) -> str:
        top = ", ".join(f"{s:.1f}-{e:.1f}s ({c:.2f})" for s, e, c in rec["proposals"][:3])
        return f"{item.path}: {rec['snippets']} snippets, {rec['duration']} s -> {rec['output']}; top: {top}"

    try:
        run_batch(inputs, work, targets, out_dir=output if inputs.batch else None, skip_existing=skip_existing,
                  json_out=json_out, quiet=quiet, describe=describe)
    finally:
        if inputs.batch:  # one ActivityNet file for the whole folder (finished and skipped videos)
            done = [targets(i)[0] for i in inputs.items if targets(i)[0].is_file()]
            if done:
                R.merge_anet_json(done, output / "proposals.json")
                if not quiet:
                    err_console.print(f"{len(done)} videos -> {output / 'proposals.json'}")


TRAIN_HELP = """Train BC-GNN (or build the prior table): the recipes behind the shipped asset and for real features.

--data synthetic: procedurally generated sequences (the shipped bcgnn-small-synth). anet:DIR: BSN layout
(anet_anno_action.json + video_info_new.csv under DIR, --features csv_mean_100/, training subset).
thumos:CSV: G-TAD layout (annotation CSV in seconds, --features DIR of <video>.npy, --fps, --stride-frames 5).

Examples:

  cvkit train propose-actions --data synthetic --steps 20 --videos 64 -o runs/smoke

  cvkit train propose-actions --model prior --data anet:../shared/data/propose-actions -o runs/prior
"""


def train_command(
    model: Annotated[str, typer.Option("--model", help="bcgnn or prior.")] = "bcgnn",
    data: Annotated[str, typer.Option("--data", help="synthetic, anet:DIR or thumos:CSV.")] = "synthetic",
    features: Annotated[Path | None, typer.Option("--features", help="Feature folder (anet/thumos).")] = None,
    size: Annotated[str, typer.Option("--size", help="paper, slim or small.")] = "small",
    input_kind: Annotated[str, typer.Option("--input", help="profile (feature-agnostic) or raw.")] = "profile",
    videos: Annotated[int, typer.Option("--videos", min=1, help="Synthetic training videos.")] = 3000,
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Epochs (paper: 20).")] = 20,
    steps: Annotated[int, typer.Option("--steps", min=0, help="Optimiser steps (0: use --epochs).")] = 1500,
    batch: Annotated[int, typer.Option("--batch", min=1)] = 16,
    lr: Annotated[float, typer.Option("--lr", help="Adam learning rate (paper 1e-4).")] = 1e-3,
    weight_decay: Annotated[float, typer.Option("--weight-decay", help="Paper 5e-3.")] = 1e-4,
    fps: Annotated[float, typer.Option("--fps", help="THUMOS feature fps.")] = 30.0,
    stride: Annotated[int, typer.Option("--stride-frames", min=1, help="THUMOS snippet stride.")] = 5,
    out: Annotated[Path, typer.Option("--output", "-o", help="Asset folder.")] = Path("runs/propose-actions"),
    name: Annotated[str, typer.Option("--name", help="Model name in the card.")] = "bcgnn-small-synth",
    report: Annotated[bool, typer.Option("--report/--no-report", help="Score on the held-out synthetic set "
                                         "(with prior and sliding windows) into the card.")] = False,
    device: DeviceOpt = "cpu",
    threads: ThreadsOpt = 1,
    seed: SeedOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    from cvkit.propose_actions import workflows

    command = " ".join(["cvkit", "train", "propose-actions", *sys.argv[3:]])
    path = workflows.train(model, data, features, size, input_kind, videos, epochs, steps, batch, lr, weight_decay,
                           fps, stride, out, name, report, device, threads, seed, command,
                           None if quiet else err_console.print)
    err_console.print(f"saved {path}")


EVALUATE_HELP = """Score proposals: AR@AN and AUC as the official ActivityNet evaluation (tIoU 0.5:0.05:0.95, AN 1..100)
or THUMOS-14 AR@50..1000 (tIoU 0.5:0.05:1.0); --dataset synthetic compares a model with the prior and sliding
windows on the held-out generated set.

Examples:

  cvkit evaluate propose-actions --dataset anet --root ../shared/data/propose-actions --results val.json --plot ar.png

  cvkit evaluate propose-actions --dataset synthetic --videos 50
"""


def evaluate_command(
    dataset: Annotated[str, typer.Option("--dataset", help="anet, thumos or synthetic.")] = "anet",
    root: Annotated[Path | None, typer.Option("--root", help="Annotations (BSN folder/json, or THUMOS CSV).")
                    ] = None,
    results: Annotated[Path | None, typer.Option("--results", help="ActivityNet result JSON.")] = None,
    subset: Annotated[str, typer.Option("--subset", help="ActivityNet subset.")] = "validation",
    model: Annotated[str, typer.Option("--model", "-m", help="Synthetic: the model.")] = "bcgnn-small-synth",
    videos: Annotated[int, typer.Option("--videos", min=1, help="Synthetic test videos.")] = 300,
    plot: Annotated[Path | None, typer.Option("--plot", help="AR-AN curve PNG.")] = None,
    threads: ThreadsOpt = 0,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    from cvkit.device import set_threads
    from cvkit.propose_actions import workflows

    set_threads(threads)
    rep = workflows.evaluate(dataset, root, results, subset, model, videos, plot)
    if json_out:
        sys.stdout.write(json.dumps(rep) + "\n")
    if not quiet:
        for name, row in rep["models"].items():
            err_console.print(f"{name}: " + "  ".join(f"{k} {v:.2f}" for k, v in row.items() if isinstance(v, float)))


def register(app: typer.Typer, train_app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Attach the propose-actions commands to the app and its train/evaluate groups."""
    app.command("propose-actions", help=PROPOSE_HELP, no_args_is_help=True)(propose_command)
    train_app.command("propose-actions", help=TRAIN_HELP)(train_command)
    evaluate_app.command("propose-actions", help=EVALUATE_HELP, no_args_is_help=True)(evaluate_command)
