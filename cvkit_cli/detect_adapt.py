"""`cvkit detect-adapt`, `cvkit train detect-adapt`, `cvkit evaluate detect-adapt`: thin wrappers over
cvkit.detect_adapt."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ._options import DeviceOpt, JsonOpt, QuietOpt, SeedOpt, ThreadsOpt, err_console

TASK = "detect-adapt"

DETECT_HELP = """Detect objects (car, person, sign, truck for the shipped model) in images of a shifted domain.

INPUT is an image or a folder (batch: outputs mirror the tree under -o DIR). Each image gets a COCO JSON
(--format coco) or Pascal VOC XML (--format voc) file; --overlay DIR draws the boxes; --json prints JSON Lines.

Examples:

  cvkit detect-adapt street.png --json

  cvkit detect-adapt foggy/ -o dets/ --format voc --score-thr 0.5 --classes car,person

  cvkit detect-adapt frames/ -o dets/ --model runs/my-mcar/ --overlay overlays/
"""


def detect_command(
    input: Annotated[Path, typer.Argument(help="Image file or folder of images.", show_default=False)],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Output file (one image) or folder.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="coco (JSON) or voc (XML).")] = "coco",
    model: Annotated[str, typer.Option("--model", "-m", help="default, mcar-synthetic-fog, or a trained model "
                                       "folder / weights path.")] = "default",
    score_thr: Annotated[float, typer.Option("--score-thr", help="Keep detections scoring at least this.")] = 0.5,
    classes: Annotated[str | None, typer.Option("--classes", help="Comma-separated class names to keep.")] = None,
    overlay: Annotated[Path | None, typer.Option("--overlay", help="Folder (or .png/.jpg for one image) for "
                                                 "images with the boxes drawn.")] = None,
    skip_existing: Annotated[bool, typer.Option("--skip-existing", help="Batch: skip images already done.")] = False,
    device: DeviceOpt = "auto",
    threads: ThreadsOpt = 0,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    from cvkit.detect_adapt.data import IMAGE_SUFFIXES
    from cvkit.detect_adapt.predict import FORMATS, detect_one
    from cvkit.detect_adapt.registry import load_predictor
    from cvkit.device import select_device, set_threads
    from cvkit.errors import ArgumentError
    from cvkit.io.batch import discover, mirrored, run_batch

    set_threads(threads)
    if fmt not in FORMATS:
        raise ArgumentError(f"--format {fmt!r}: use coco or voc")
    if not 0.0 <= score_thr <= 1.0:
        raise ArgumentError(f"--score-thr {score_thr}: must be in [0, 1]")
    inputs = discover(input, IMAGE_SUFFIXES, what="image")
    predictor = load_predictor(model, select_device(device))
    keep = None
    if classes:
        wanted = [c.strip() for c in classes.split(",") if c.strip()]
        unknown = [c for c in wanted if c not in predictor.class_names]
        if unknown:
            raise ArgumentError(f"--classes: unknown {', '.join(unknown)} (model classes: "
                                f"{', '.join(predictor.class_names)})")
        keep = {predictor.class_names.index(c) for c in wanted}
    if inputs.batch and output is not None and output.suffix.lower() in (".json", ".xml"):
        raise ArgumentError(f"{output}: a folder of images needs an output folder")
    if inputs.batch and overlay is not None and overlay.suffix:
        raise ArgumentError(f"{overlay}: a folder of images needs an overlay folder")

    def dest(item) -> Path | None:
        if output is None:
            return None
        return mirrored(item, output, FORMATS[fmt]) if inputs.batch else output

    def over(item) -> Path | None:
        if overlay is None:
            return None
        return mirrored(item, overlay, ".png") if inputs.batch or not overlay.suffix else overlay

    def targets(item) -> list[Path]:
        return [p for p in (dest(item), over(item)) if p is not None]

    def work(item) -> dict:
        return detect_one(predictor, item.path, dest(item), fmt, over(item), score_thr, keep)

    run_batch(inputs, work, targets, out_dir=output if inputs.batch else None, skip_existing=skip_existing,
              json_out=json_out or output is None, quiet=quiet,
              describe=lambda item, r: f"{item.path}: {r['count']} detections ({r['seconds']:.2f} s)")


TRAIN_HELP = """Train a detector on labelled source images and adapt it, without labels, to target images.

--method mcar (paper: multi-label conditional adversarial alignment + consistency), image-adv (DANN / DA-Faster
image level), photometric (source-only with photometric / haze jitter) or source-only. --init starts from a trained
model folder. An interrupted run resumes from OUT/checkpoint.pt when started again with the same -o.

Examples:

  cvkit train detect-adapt --source synthetic --target synthetic-fog --source-steps 600 --steps 150 -o model/

  cvkit train detect-adapt --source synthetic --target fog_frames/ --init model/ --steps 60 -o adapted/

  cvkit train detect-adapt --source voc:VOCdevkit/VOC2007 --target watercolor/JPEGImages --backbone resnet101 \\
      --min-size 600 --classes bicycle,bird,car,cat,dog,person --device cuda --steps 70000 -o runs/wc/
"""


def train_command(
    source: Annotated[str, typer.Option("--source", help="synthetic, voc:DIR or coco:FILE.")] = "synthetic",
    target: Annotated[str, typer.Option("--target", help="synthetic-fog or a folder of unlabelled images.")
                      ] = "synthetic-fog",
    out: Annotated[Path, typer.Option("--output", "-o", help="Output folder (weights, card, checkpoint).")
                   ] = Path("runs/detect-adapt"),
    method: Annotated[str, typer.Option("--method", help="mcar, image-adv, photometric or source-only.")] = "mcar",
    init: Annotated[str | None, typer.Option("--init", help="Start from this trained model folder.")] = None,
    steps: Annotated[int, typer.Option("--steps", min=1, help="Optimiser steps (of --method).")] = 150,
    source_steps: Annotated[int, typer.Option("--source-steps", min=0, help="First train source-only this many "
                                              "steps (into OUT/source-only, seed SEED), then adapt from it (seed "
                                              "SEED + 1).")] = 0,
    batch: Annotated[int, typer.Option("--batch", min=1, help="Source (and target) images per step.")] = 4,
    lr: Annotated[float, typer.Option("--lr", help="SGD learning rate (x0.1 after 70% of the steps).")] = 0.01,
    lam: Annotated[float, typer.Option("--lambda", help="Adversarial loss weight.")] = 0.5,
    mu: Annotated[float, typer.Option("--mu", help="Multi-label loss weight.")] = 0.01,
    eps: Annotated[float, typer.Option("--eps", help="Consistency (symmetric KL) weight.")] = 0.1,
    gamma: Annotated[float, typer.Option("--gamma", help="Focal adversarial focusing parameter.")] = 5.0,
    cond: Annotated[str, typer.Option("--cond", help="Discriminator conditioning: p or p+q.")] = "p",
    backbone: Annotated[str, typer.Option("--backbone", help="efflite0, vgg16, resnet101 or tiny.")] = "efflite0",
    min_size: Annotated[int | None, typer.Option("--min-size", help="Shorter image side (default: 192 for "
                                                 "synthetic, 600 otherwise).")] = None,
    class_names: Annotated[str | None, typer.Option("--classes", help="Comma-separated source classes.")] = None,
    eval_images: Annotated[int, typer.Option("--eval-images", help="Synthetic: held-out scenes scored into "
                                             "the card.")] = 200,
    device: DeviceOpt = "auto",
    threads: ThreadsOpt = 1,
    seed: SeedOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    from cvkit.detect_adapt.adapt import AdaptConfig
    from cvkit.detect_adapt.detector import DetectorConfig
    from cvkit.detect_adapt.train import small_config, train
    from cvkit.device import select_device, set_threads
    from cvkit.errors import ArgumentError

    set_threads(threads)
    try:
        acfg = AdaptConfig(method=method, lam=lam, mu=mu, eps=eps, gamma=gamma, cond=cond,
                           head_channels=64 if source == "synthetic" else 512)
    except ValueError as e:
        raise ArgumentError(str(e)) from None
    if source == "synthetic" and backbone == "efflite0" and class_names is None and min_size is None:
        cfg = small_config()
    else:
        if class_names is None:
            raise ArgumentError("--classes is required with a real source (the class names to detect)")
        names = tuple(c.strip() for c in class_names.split(",") if c.strip())
        if backbone not in ("efflite0", "vgg16", "resnet101", "tiny"):
            raise ArgumentError(f"--backbone {backbone!r}: use efflite0, vgg16, resnet101 or tiny")
        cfg = DetectorConfig(class_names=names, backbone=backbone, min_size=min_size or 600)
    if source_steps:
        if init is not None:
            raise ArgumentError("--source-steps and --init exclude each other")
        pre = AdaptConfig(method="source-only", head_channels=acfg.head_channels)
        if not (out / "source-only" / "card.json").exists():  # finished before an interruption: keep it
            train(out / "source-only", source=source, target=target, acfg=pre, cfg=cfg, steps=source_steps,
                  batch=batch,
                  lr=lr, seed=seed, eval_images=0, device=str(select_device(device)), quiet=quiet,
                  name="source-only")
        init, seed = str(out / "source-only"), seed + 1
    _, log, info = train(out, source=source, target=target, acfg=acfg, cfg=cfg, steps=steps, batch=batch, lr=lr,
                         seed=seed, init=init, eval_images=eval_images, device=str(select_device(device)),
                         quiet=quiet, name=f"{method}-{target}")
    for m in info["metrics"]:
        err_console.print(f"{m['data']}: {m['metric']} = {m['value']}")
    err_console.print(f"saved {out} ({log.steps} steps, {log.seconds:.0f} s)")


EVALUATE_HELP = """Score a model on a labelled dataset: VOC AP@0.5 (all-point and VOC07 11-point), COCO mAP@[.5:.95].

Examples:

  cvkit evaluate detect-adapt --dataset folder --root labelled_images/ --json

  cvkit evaluate detect-adapt --dataset voc --root VOCdevkit/VOC2007 --model runs/wc/
"""


def evaluate_command(
    root: Annotated[Path, typer.Option("--root", help="Dataset root (VOC folder, COCO JSON/folder, or a folder "
                                       "of images with same-stem VOC XML).")],
    dataset: Annotated[str, typer.Option("--dataset", help="voc, coco or folder.")] = "folder",
    model: Annotated[str, typer.Option("--model", "-m", help="Model name, trained folder or weights path.")
                     ] = "default",
    device: DeviceOpt = "auto",
    threads: ThreadsOpt = 0,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    from cvkit.detect_adapt.data import load_dataset
    from cvkit.detect_adapt.evaluate import evaluate_dataset
    from cvkit.detect_adapt.registry import load_predictor
    from cvkit.device import select_device, set_threads
    from cvkit.errors import ArgumentError

    set_threads(threads)
    if dataset not in ("voc", "coco", "folder"):
        raise ArgumentError(f"--dataset {dataset!r}: use voc, coco or folder")
    predictor = load_predictor(model, select_device(device))
    items = load_dataset(f"{dataset}:{root}", predictor.class_names)
    rep = evaluate_dataset(predictor, items, quiet=quiet)
    if json_out:
        sys.stdout.write(json.dumps(rep) + "\n")
    if not quiet:
        err_console.print(f"{rep['model']} on {rep['images']} images: AP50 {rep['map']:.4f} (all-point), "
                          f"{rep['map07']:.4f} (VOC07), COCO mAP {rep['coco_map']:.4f}")
        for name, v in rep["per_class"].items():
            err_console.print(f"  {name}: {'-' if v is None else f'{v:.4f}'}")


def register(app: typer.Typer, train_app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Attach the detect-adapt commands to the app and its train/evaluate groups."""
    app.command("detect-adapt", help=DETECT_HELP, no_args_is_help=True)(detect_command)
    train_app.command("detect-adapt", help=TRAIN_HELP, no_args_is_help=False)(train_command)
    evaluate_app.command("detect-adapt", help=EVALUATE_HELP, no_args_is_help=True)(evaluate_command)
