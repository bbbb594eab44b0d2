"""`cvkit detect-adapt`, `cvkit train detect-adapt`, `cvkit evaluate detect-adapt`: thin wrappers over
cvkit.detect_adapt."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._options import RunOptions, TrainOptions, err_console, run_options, train_options
from ._render import print_json

TASK = "detect-adapt"

DETECT_HELP = """Detect objects (car, person, sign, truck for the shipped model) in images of a shifted domain.

INPUT is an image or a folder (batch: outputs mirror the tree under -o DIR). Each image gets a COCO JSON
(--format coco) or Pascal VOC XML (--format voc) file; --overlay DIR draws the boxes; --json prints JSON Lines.

Examples:

  cvkit detect-adapt street.png --json

  cvkit detect-adapt foggy/ -o dets/ --format voc --score-thr 0.5 --classes car,person

  cvkit detect-adapt frames/ -o dets/ --model runs/my-mcar/ --overlay overlays/
"""


@run_options()
def detect_command(
    input: Annotated[Path, typer.Argument(help="Image file or folder of images.", show_default=False)],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Output file (one image) or folder.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="coco (JSON) or voc (XML).")] = "coco",
    model: Annotated[str, typer.Option("--model", "-m", help="Name, trained folder or weights path.")] = "default",
    score_thr: Annotated[float, typer.Option("--score-thr", help="Keep detections scoring at least this.")] = 0.5,
    classes: Annotated[str | None, typer.Option("--classes", help="Comma-separated class names to keep.")] = None,
    overlay: Annotated[Path | None, typer.Option("--overlay", help="Folder (or .png) for the boxes drawn.")] = None,
    *,
    run: RunOptions,
) -> None:
    from cvkit.detect_adapt.predict import plan_detection
    from cvkit.io.batch import run_batch

    inputs, job = plan_detection(input, output, overlay, fmt, score_thr, model, classes, device=run.select_device)
    run_batch(inputs, job.work, job.to.paths, out_dir=output if inputs.batch else None,
              **{**run.batch(), "json_out": run.json_out or output is None}, describe=job.describe)


TRAIN_HELP = """Train a detector on labelled images (--data) and adapt it, without labels, to --target images.

--method mcar (the paper's multi-label conditional adversarial alignment), image-adv (DANN), photometric (haze
jitter) or source-only. Rerun with the same -o to resume from OUT/checkpoint.pt.

Examples:

  cvkit train detect-adapt --data synthetic --target synthetic-fog --source-steps 600 --steps 150 -o model/

  cvkit train detect-adapt --data synthetic --target fog_frames/ --init model/ --steps 60 -o adapted/

  cvkit train detect-adapt --data voc:VOCdevkit/VOC2007 --target watercolor/JPEGImages --backbone resnet101 \\
      --min-size 600 --classes bicycle,bird,car,cat,dog,person --device cuda --steps 70000 -o runs/wc/
"""


@train_options(out="runs/detect-adapt", steps=150, threads=1)
def train_command(
    data: Annotated[str, typer.Option("--data", help="Labelled: synthetic, voc:DIR or coco:FILE.")] = "synthetic",
    target: Annotated[str, typer.Option("--target", help="Unlabelled: synthetic-fog or an image folder.")
                      ] = "synthetic-fog",
    method: Annotated[str, typer.Option("--method", help="mcar, image-adv, photometric or source-only.")] = "mcar",
    init: Annotated[str | None, typer.Option("--init", help="Start from this trained model folder.")] = None,
    source_steps: Annotated[int, typer.Option("--source-steps", min=0, help="Source-only steps first (into "
                                              "OUT/source-only, seed SEED), then adapt (seed SEED + 1).")] = 0,
    batch: Annotated[int, typer.Option("--batch", min=1, help="Source (and target) images per step.")] = 4,
    lr: Annotated[float, typer.Option("--lr", help="SGD learning rate (x0.1 after 70% of the steps).")] = 0.01,
    lam: Annotated[float, typer.Option("--lambda", help="Adversarial loss weight.")] = 0.5,
    mu: Annotated[float, typer.Option("--mu", help="Multi-label loss weight.")] = 0.01,
    eps: Annotated[float, typer.Option("--eps", help="Consistency (symmetric KL) weight.")] = 0.1,
    gamma: Annotated[float, typer.Option("--gamma", help="Focal adversarial focusing parameter.")] = 5.0,
    cond: Annotated[str, typer.Option("--cond", help="Discriminator conditioning: p or p+q.")] = "p",
    backbone: Annotated[str, typer.Option("--backbone", help="efflite0, vgg16, resnet101 or tiny.")] = "efflite0",
    min_size: Annotated[int | None, typer.Option("--min-size", help="Shorter side (synthetic 192, else 600).")] = None,
    class_names: Annotated[str | None, typer.Option("--classes", help="Comma-separated source classes.")] = None,
    eval_images: Annotated[int, typer.Option("--eval-images", help="Synthetic: held-out scenes for the card.")] = 200,
    source: Annotated[str | None, typer.Option("--source", hidden=True)] = None,  # the old name of --data
    *,
    opts: TrainOptions,
) -> None:
    from cvkit.detect_adapt.train import run_recipe

    log, info = run_recipe(opts.out, source=source or data, target=target, method=method, init=init,
                           steps=opts.steps, minutes=opts.minutes, source_steps=source_steps, batch=batch, lr=lr,
                           lam=lam, mu=mu, eps=eps, gamma=gamma, cond=cond, backbone=backbone, min_size=min_size,
                           class_names=class_names, eval_images=eval_images, device=str(opts.select_device()),
                           seed=opts.seed, quiet=opts.quiet)
    for m in info["metrics"]:
        err_console.print(f"{m['data']}: {m['metric']} = {m['value']}")
    err_console.print(f"saved {opts.out} ({log.steps} steps, {log.seconds:.0f} s)")


EVALUATE_HELP = """Score a model on a labelled dataset: VOC AP@0.5 (all-point and VOC07 11-point), COCO mAP@[.5:.95].

Examples:

  cvkit evaluate detect-adapt --dataset folder --root labelled_images/ --json

  cvkit evaluate detect-adapt --dataset voc --root VOCdevkit/VOC2007 --model runs/wc/
"""


@run_options(batch=False)
def evaluate_command(
    root: Annotated[Path, typer.Option("--root", help="Dataset root (VOC folder, COCO JSON/folder, or a folder "
                                       "of images with same-stem VOC XML).")],
    dataset: Annotated[str, typer.Option("--dataset", help="voc, coco or folder.")] = "folder",
    model: Annotated[str, typer.Option("--model", "-m", help="Name, trained folder or weights path.")] = "default",
    *,
    run: RunOptions,
) -> None:
    from cvkit.detect_adapt.evaluate import evaluate_root

    rep = evaluate_root(model, dataset, root, run.select_device(), quiet=run.quiet)
    if run.json_out:
        print_json(rep)
    if not run.quiet:
        err_console.print(f"{rep['model']} on {rep['images']} images: AP50 {rep['map']:.4f} (all-point), "
                          f"{rep['map07']:.4f} (VOC07), COCO mAP {rep['coco_map']:.4f}")
        for name, v in rep["per_class"].items():
            err_console.print(f"  {name}: {'-' if v is None else f'{v:.4f}'}")


def register(app: typer.Typer, train_app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Attach the detect-adapt commands to the app and its train/evaluate groups."""
    app.command("detect-adapt", help=DETECT_HELP, no_args_is_help=True)(detect_command)
    train_app.command("detect-adapt", help=TRAIN_HELP, no_args_is_help=False)(train_command)
    evaluate_app.command("detect-adapt", help=EVALUATE_HELP, no_args_is_help=True)(evaluate_command)
