"""`cvkit semantic-flow`, `cvkit train semantic-flow`, `cvkit evaluate semantic-flow`: thin wrappers over
cvkit.semantic_flow."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ._options import RunOptions, TrainOptions, err_console, run_options, train_options
from ._render import print_json, stderr_log

TASK = "semantic-flow"

SIZE_HELP = "Working size (longer side, px); memory grows with its 4th power (640: about 1 GB)."
FLOW_HELP = """Dense correspondence SOURCE -> TARGET (guided semantic flow): flow[y, x] = (u, v) moves source pixel
(x, y) to target pixel (x + u, y + v); the images may differ in size. Default: training-free GSF on ImageNet
EfficientNet-Lite0 features; --model nn: nearest-neighbour argmax; or a GSFNet from `cvkit train semantic-flow`.

Examples:

  cvkit semantic-flow graf1.png graf3.png -o flow.flo --viz pair.png --warp warped.png

  cvkit semantic-flow a.jpg b.jpg -o flow.npy --keypoints kps.csv --json

  cvkit semantic-flow --pairs pairs.csv -o flows/      # pairs.csv: source,target per line -> flows/A__B.flo
"""


@run_options()
def flow_command(
    source: Annotated[Path | None, typer.Argument(help="Source image.", show_default=False)] = None,
    target: Annotated[Path | None, typer.Argument(help="Target image.", show_default=False)] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Flow .flo/.npy (--pairs: a folder).")] = None,
    pairs: Annotated[Path | None, typer.Option("--pairs", help="CSV of source,target pairs (batch).")] = None,
    warp: Annotated[Path | None, typer.Option("--warp", help="Write the source warped onto the target.")] = None,
    viz: Annotated[Path | None, typer.Option("--viz", help="Side-by-side picture of the matches.")] = None,
    matches: Annotated[Path | None, typer.Option("--matches", help="CSV of the confident matches.")] = None,
    keypoints: Annotated[Path | None, typer.Option("--keypoints", help="CSV of source points x,y.")] = None,
    keypoints_out: Annotated[Path | None, typer.Option("--keypoints-out", help="Points out (default: stdout).")] = None,
    model: Annotated[str, typer.Option(
        "--model", "-m", help="default (gsf), nn, gsfnet, gsfnet-lite, or a trained weights path.")] = "default",
    size: Annotated[int, typer.Option("--size", min=64, max=640, help=SIZE_HELP)] = 384,
    fmt: Annotated[str, typer.Option("--format", help="Batch flow format: flo or npy.")] = "flo",
    *,
    run: RunOptions,
) -> None:
    from cvkit.io.batch import run_batch
    from cvkit.registry import build_model
    from cvkit.semantic_flow.run import FlowJob, Outputs, plan_pairs

    plan = plan_pairs(source, target, pairs, Outputs(flow=output, warp=warp, viz=viz, matches=matches,
                                                     keypoints_out=keypoints_out), fmt, keypoints)
    job = FlowJob(build_model("semantic-flow", model, run.select_device(), size=size), plan, keypoints)
    run_batch(plan.inputs, job.work, job.targets, out_dir=output if pairs else None, **run.batch(),
              describe=job.describe)
    if job.keypoints_text and not run.json_out:
        sys.stdout.write("".join(job.keypoints_text))


TRAIN_HELP = """Train the paper's GSF model (stage 1: pruning net with L_P; stage 2: end to end with L_final) on
synthetic affine + TPS warps (default: scikit-image / scikit-learn bundled images) or PF-PASCAL training pairs.

Examples:

  cvkit train semantic-flow --backbone lite0 --image-size 256 --width 16 --stage1-steps 150 \\
      --stage2-steps 350 --m-temperature 0.1 -o runs/gsf-lite

  cvkit train semantic-flow --backbone resnet101 --backbone-weights resnet101.pth \\
      --data pf-pascal --root DATA -o runs/gsf-r101
"""


@train_options(out="runs/semantic-flow", budget=())
def train_command(
    backbone: Annotated[str, typer.Option("--backbone", help="lite0 (ImageNet weights) or resnet101.")] = "lite0",
    backbone_weights: Annotated[Path | None, typer.Option(
        "--backbone-weights", help="ImageNet ResNet-101 state dict (torchvision layout), if you have one.")] = None,
    image_size: Annotated[int, typer.Option("--image-size", min=64, help="Square input size (paper 320).")] = 320,
    width: Annotated[int, typer.Option("--width", min=4, help="Net base width (paper 64).")] = 64,
    stage1_steps: Annotated[int, typer.Option("--stage1-steps", min=0, help="Stage-1 optimiser steps.")] = 200,
    stage2_steps: Annotated[int, typer.Option("--stage2-steps", min=0, help="Stage-2 optimiser steps.")] = 200,
    batch: Annotated[int, typer.Option("--batch", min=2, help="Pairs per step (>= 2 for BatchNorm).")] = 4,
    lr: Annotated[float, typer.Option("--lr", help="Adam learning rate.")] = 1e-4,
    m_temperature: Annotated[float, typer.Option("--m-temperature", help="L_M softmax temperature.")] = 1.0,
    data: Annotated[str, typer.Option("--data", help="synthetic or pf-pascal.")] = "synthetic",
    root: Annotated[Path | None, typer.Option("--root", help="Dataset root (pf-pascal) or an image folder.")] = None,
    dataset: Annotated[str | None, typer.Option("--dataset", hidden=True)] = None,  # the old name of --data
    *,
    opts: TrainOptions,
) -> None:
    from cvkit.semantic_flow import train as recipe
    from cvkit.semantic_flow.model import GSFConfig

    cfg = recipe.TrainOptions(GSFConfig(backbone=backbone, image_size=image_size, width=width), stage1_steps,
                              stage2_steps, batch, lr, opts.seed, backbone_weights=backbone_weights,
                              m_temperature=m_temperature, device=str(opts.select_device()))
    path, summary = recipe.run_recipe(opts.out, cfg, dataset or data, root, opts.command("semantic-flow"),
                                      log=stderr_log(opts.quiet))
    err_console.print(f"wrote {path} ({summary['params']})")


EVAL_HELP = """PCK@alpha of transferred keypoints at original resolution, with each benchmark's threshold (PF-PASCAL,
homography: target image max side; PF-WILLOW: target keypoint box; SPair-71k: target object box).

Examples:

  cvkit evaluate semantic-flow --dataset homography --root ../shared/data/semantic-flow --model gsf,nn,dis,farneback
"""


@run_options(batch=False)
def evaluate_command(
    dataset: Annotated[str, typer.Option("--dataset", help="pf-pascal, pf-willow, spair or homography.")],
    root: Annotated[Path, typer.Option("--root", help="Dataset root folder.")],
    alpha: Annotated[list[float] | None, typer.Option("--alpha", help="PCK alpha (repeatable).")] = None,
    model: Annotated[str, typer.Option("--model", "-m", help="Comma list: gsf, nn, identity, dis, farneback, "
                                       "or a trained weights path.")] = "gsf,nn",
    size: Annotated[int, typer.Option("--size", min=64, max=640, help=SIZE_HELP)] = 384,
    split: Annotated[str, typer.Option("--split", help="Split (pf-pascal, spair).")] = "test",
    limit: Annotated[int, typer.Option("--limit", min=0, help="Evaluate only the first N pairs (0 = all).")] = 0,
    methods: Annotated[str | None, typer.Option("--methods", hidden=True)] = None,  # the old name of --model
    *,
    run: RunOptions,
) -> None:
    from cvkit.semantic_flow.evaluate import evaluate_dataset

    res = evaluate_dataset(dataset, root, methods or model, size, split, limit, tuple(alpha) if alpha else (0.05, 0.1),
                           run.select_device())
    if run.json_out:
        print_json(res)
        return
    if not run.quiet:
        err_console.print(f"{dataset}: {res['pairs']} pairs; correct if distance <= {res['convention']}")
    for m, d in res["pck"].items():
        sys.stdout.write(f"{m}\t" + "\t".join(f"PCK@{a}={v:.4f}" for a, v in d.items()) + "\n")


def register(app: typer.Typer, train_app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Add the command, `train semantic-flow` and `evaluate semantic-flow`."""
    app.command("semantic-flow", help=FLOW_HELP, no_args_is_help=True)(flow_command)
    train_app.command("semantic-flow", help=TRAIN_HELP)(train_command)
    evaluate_app.command("semantic-flow", help=EVAL_HELP)(evaluate_command)
