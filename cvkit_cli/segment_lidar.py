"""`cvkit segment-lidar`, `cvkit train segment-lidar`, `cvkit evaluate segment-lidar`: thin wrappers over
cvkit.segment_lidar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._options import RunOptions, TrainOptions, err_console, run_options, train_options
from ._render import print_json, print_metrics, print_table, stderr_log

TASK = "segment-lidar"

SEGMENT_HELP = """Label every point of a LiDAR scan with a SemanticKITTI class (SqueezeSegV3 or the classical pipeline).

INPUT is a KITTI .bin (float32 x,y,z,remission), .pcd, .ply, .npy/.npz, or a folder / SemanticKITTI sequence
(batch: outputs mirror the tree under -o DIR; sequences/XX/velodyne/N.bin -> DIR/sequences/XX/predictions/N.label).
-o picks the format by suffix: .label (uint32 per point, raw SemanticKITTI ids, input order), or a coloured .ply /
.pcd with a `label` field. Without -o a single scan gets INPUT.label beside it.

Examples:

  cvkit segment-lidar 000000.bin -o 000000.label --json | jq .histogram

  cvkit segment-lidar scan.pcd -o labelled.ply --sensor os1-64 --range-image range.png

  cvkit segment-lidar dataset/sequences/08 -o preds/ --skip-existing --model ssgv3-tiny-sim
"""


@run_options()
def segment_command(
    input: Annotated[Path, typer.Argument(help="Scan file or folder of scans.", show_default=False)],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Output .label/.ply/.pcd, or a folder in batch mode.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="Batch mode output format: label, ply or pcd.")] = "label",
    model: Annotated[str, typer.Option("--model", "-m", help="default, classical, ssgv3-tiny-kitti, ssgv3-tiny-sim, "
                                       "ssgv3-21, ssgv3-53, or a weights path.")] = "default",
    sensor: Annotated[str, typer.Option("--sensor", help="Projection preset: hdl64, hdl32, vlp32, vlp16, os1-64.")
                      ] = "hdl64",
    fov_up: Annotated[float | None, typer.Option("--fov-up", help="Upper vertical FOV in degrees (overrides).")
                      ] = None,
    fov_down: Annotated[float | None, typer.Option("--fov-down", help="Lower vertical FOV in degrees, e.g. -25.")
                        ] = None,
    height: Annotated[int | None, typer.Option("--height", min=1, help="Range-image rows (beams).")] = None,
    width: Annotated[int | None, typer.Option("--width", min=8, help="Range-image columns (divisible by 8).")
                     ] = None,
    knn: Annotated[bool, typer.Option("--knn/--no-knn", help="Range-aware kNN vote of back-projected labels.")
                   ] = True,
    range_image: Annotated[Path | None, typer.Option(
        "--range-image", help="Write a PNG of the projection (range above, predicted classes below).")] = None,
    *,
    run: RunOptions,
) -> None:
    from cvkit.io.batch import run_batch
    from cvkit.segment_lidar.run import SegmentJob, sensor_from_options

    dev = run.select_device()
    sens = sensor_from_options(sensor, fov_up, fov_down, height, width)
    job = SegmentJob(input, output, fmt, range_image).load(model, dev, sens, knn)
    result = run_batch(job.inputs, job.work, job.targets, out_dir=job.out_dir, **run.batch(), describe=job.describe)
    if not run.quiet and len(result.records) == 1 and not run.json_out:
        summary = result.records[0]
        print_metrics(f"segment-lidar ({summary['model']})", header=("class", "points"),
                      metrics=sorted(summary["histogram"].items(), key=lambda kv: -kv[1]))


TRAIN_HELP = """Train a SqueezeSegV3 network: the recipe that produced the shipped asset.

--data synthetic simulates HDL-64E scans of procedural street scenes (open3d ray casting) on the fly;
--data semantickitti:DIR reads the standard layout (sequences 00-07, 09, 10) with the 19-class learning map.

Examples:

  cvkit train segment-lidar --data synthetic --steps 560 --batch 2 -o assets/segment-lidar/ssgv3-tiny-sim

  cvkit train segment-lidar --data semantickitti:../shared/data/segment-lidar/train --init ssgv3-tiny-sim \
      --optimizer adamw --lr 0.001 --steps 60 --name ssgv3-tiny-kitti -o runs/ssgv3-tiny-kitti

  cvkit train segment-lidar --data semantickitti:/data/SemanticKITTI/dataset --arch ssgv3-21 --width 2048 \\
      --batch 16 --steps 180000 -o runs/ssgv3-21
"""


@train_options(out="runs/segment-lidar", steps=560, budget=("steps",), threads=1, device=False)
def train_command(
    data: Annotated[str, typer.Option("--data", help="synthetic or semantickitti:DIR.")] = "synthetic",
    arch: Annotated[str, typer.Option("--arch", help="ssgv3-tiny, ssgv3-21 or ssgv3-53.")] = "ssgv3-tiny",
    batch: Annotated[int, typer.Option("--batch", min=1, help="Scans per step.")] = 2,
    width: Annotated[int, typer.Option("--width", min=8, help="Range-image width (divisible by 8).")] = 512,
    lr: Annotated[float | None, typer.Option("--lr", help="Learning rate (default by optimiser).")] = None,
    optimizer: Annotated[str | None, typer.Option("--optimizer", help="sgd (paper) or adamw.")] = None,
    name: Annotated[str, typer.Option("--name", help="Model name in the card.")] = "ssgv3-tiny-sim",
    init: Annotated[str | None, typer.Option(
        "--init", help="Start from these weights (asset name or path; fixes --arch), e.g. ssgv3-tiny-sim.")] = None,
    crop: Annotated[int, typer.Option(
        "--crop", min=0, help="Train on random azimuth windows this many columns wide (multiple of 8; 0: whole "
        "range images): cheaper steps.")] = 0,
    crops: Annotated[int, typer.Option("--crops", min=1, help="Windows cut from each scan with --crop.")] = 1,
    report_on: Annotated[Path | None, typer.Option(
        "--report-on", help="SemanticKITTI root to score the trained model on (metrics go in the card; "
        "never trained on).")] = None,
    *,
    opts: TrainOptions,
) -> None:
    from cvkit.segment_lidar.train import TrainConfig, run_recipe

    cfg = TrainConfig(data=data, arch=arch, steps=opts.steps or 560, batch=batch, lr=lr, optimizer=optimizer,
                      width=width, seed=opts.seed, threads=opts.threads, init=init, crop=crop, crops=crops)
    path, summary = run_recipe(cfg, opts.out, name, report_on, stderr_log(opts.quiet))
    err_console.print(f"saved {path} ({summary['params']} params, {summary['seconds']:.0f} s)")


EVALUATE_HELP = """Score a model (or a folder of prediction .label files) on a SemanticKITTI-layout folder.

Per-class IoU, mIoU over the 19 classes (unlabelled ignored, as semantic-kitti-api), accuracy, and the coarse
groups (ground = road+parking+sidewalk+other-ground+terrain, car, building, vegetation, ...).

Examples:

  cvkit evaluate segment-lidar --root ../shared/data/segment-lidar --model classical

  cvkit evaluate segment-lidar --root dataset --sequences 08 --results preds/ --json
"""


@run_options(batch=False)
def evaluate_command(
    root: Annotated[Path, typer.Option("--root", help="SemanticKITTI root (sequences/XX/velodyne + labels).")],
    model: Annotated[str, typer.Option("--model", "-m", help="Model name or weights path.")] = "default",
    pred: Annotated[Path | None, typer.Option(
        "--results", "--pred", help="Score these prediction .label files instead of running a model.")] = None,
    sequences: Annotated[str | None, typer.Option("--sequences", help="Comma-separated sequences, e.g. 08.")
                         ] = None,
    knn: Annotated[bool, typer.Option("--knn/--no-knn", help="kNN post-processing for network models.")] = True,
    *,
    run: RunOptions,
) -> None:
    from cvkit.segment_lidar.evaluate import evaluate

    rep = evaluate(root, model, pred, sequences, knn, device=run.select_device, log=stderr_log(run.quiet))
    if run.json_out:
        print_json(rep)
    if not run.quiet:
        rows = [(name + ("" if name in rep["present"] else " (absent)"), v) for name, v in rep["iou"].items()]
        rows += [("[bold]mIoU (19)", rep["miou"]), ("mIoU (present)", rep["miou_present"]),
                 ("accuracy", rep["accuracy"]), *((f"[cyan]coarse {name}", v) for name, v in rep["coarse_iou"].items())]
        print_table(f"segment-lidar: {rep['model']} on {rep['scans']} scans", ("class", "IoU"),
                    ((name, f"{v:.3f}") for name, v in rows))


def register(app: typer.Typer, train_app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Attach the segment-lidar commands to the app and its train/evaluate groups."""
    app.command("segment-lidar", help=SEGMENT_HELP, no_args_is_help=True)(segment_command)
    train_app.command("segment-lidar", help=TRAIN_HELP, no_args_is_help=False)(train_command)
    evaluate_app.command("segment-lidar", help=EVALUATE_HELP, no_args_is_help=True)(evaluate_command)
