"""`cvkit reid-cluster`, `cvkit train reid-cluster`, `cvkit evaluate reid-cluster`: thin wrappers over
cvkit.reid_cluster. `cvkit reid-cluster crops VIDEO --boxes FILE -o DIR` only cuts the crops."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ._options import DeviceOpt, JsonOpt, QuietOpt, SeedOpt, ThreadsOpt, err_console

TASK = "reid-cluster"

REID_HELP = """Group person crops by identity without labels (ADTC: voxel attention + two-stage clustering).

INPUT is a folder of person crops (searched recursively), a Market-1501/DukeMTMC-reID root (query +
bounding_box_test are clustered), or a video with --boxes FILE (PETS/CVML .xml, MOT gt.txt with 1-based frames,
or .csv with a frame,id,x,y,w,h header; boxes x,y,w,h in pixels, 0-based): crops are cut into OUTDIR/crops first.
With --rounds N the model first adapts to the crops, unsupervised (the paper's use on a new camera network).

Writes OUTDIR/clusters.csv (file, cluster, status kept|ambiguous|unassigned), ranking.jsonl (top-k per query),
index.html (contact sheet), and metrics.json when identities are in the file names (PPPP_cC_... names).

Examples:

  cvkit reid-cluster crops/ -o out/ --rounds 3

  cvkit reid-cluster vtest.avi --boxes PETS2009-S2L1.xml -o out/ --json | jq .cluster

  cvkit reid-cluster crops VIDEO.avi --boxes gt.txt -o crops/     # only cut the crops
"""


def _parse_clusters(text: str) -> int | None:
    from cvkit.errors import ArgumentError

    if text == "auto":
        return None
    try:
        value = int(text)
    except ValueError:
        raise ArgumentError(f"--clusters {text!r}: use a number or 'auto'") from None
    if value < 1:
        raise ArgumentError(f"--clusters must be >= 1, got {value}")
    return value


def reid_cluster_command(
    inputs: Annotated[list[Path], typer.Argument(
        help="Crops folder, Market/Duke root, or video (with --boxes); or `crops VIDEO` to only cut crops.",
        show_default=False, metavar="INPUT")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output folder.")],
    boxes: Annotated[Path | None, typer.Option("--boxes", help="Boxes file for a video input (.xml, gt.txt, .csv).")
                     ] = None,
    every: Annotated[int, typer.Option("--every", min=1, help="Video input: cut crops from every N-th frame.")] = 5,
    model: Annotated[str, typer.Option("--model", "-m", help="adtc-lite, lite0-imagenet, adtc-resnet50, hist, "
                                       "or a weights path (see `cvkit models`).")] = "adtc-lite",
    rounds: Annotated[int, typer.Option("--rounds", min=0, help="ADTC adaptation rounds on these crops first.")] = 3,
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Fine-tuning epochs per round.")] = 4,
    lr: Annotated[float, typer.Option("--lr", min=0.0, help="Adam learning rate of the adaptation (paper: 1e-4; "
                                      "the unit-norm multi-level head of adtc-lite needs no larger step).")] = 1e-4,
    clusters: Annotated[str, typer.Option("--clusters", help="k-means++ clusters M, or auto (crops / p).")] = "auto",
    p: Annotated[int, typer.Option("--p", min=1, help="Crops each centroid keeps (nearest by KRJD).")] = 20,
    k: Annotated[int, typer.Option("--k", min=1, help="k of the k-reciprocal neighbour sets.")] = 20,
    top: Annotated[int, typer.Option("--top", min=1, help="Gallery entries per query in ranking.jsonl.")] = 20,
    rerank: Annotated[bool, typer.Option("--rerank/--no-rerank", help="Rank by 0.7 KRJD + 0.3 Euclidean.")] = False,
    junk_frames: Annotated[int | None, typer.Option(
        "--junk-frames", min=0, help="Scoring, one camera: same-id crops within this many frames are junk "
        "(default 50 for one camera with frame numbers, else the Market same-camera rule).")] = None,
    html: Annotated[bool, typer.Option("--html/--no-html", help="Write the index.html contact sheet.")] = True,
    device: DeviceOpt = "auto",
    threads: ThreadsOpt = 0,
    seed: SeedOpt = 0,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    from cvkit.device import select_device, set_threads
    from cvkit.errors import ArgumentError
    from cvkit.reid_cluster.pipeline import RunOptions, run

    set_threads(threads)
    dev = select_device(device)
    log = None if quiet else (lambda msg: err_console.print(msg, markup=False, soft_wrap=True))
    if inputs[0] == Path("crops") and not inputs[0].exists():
        if len(inputs) != 2 or boxes is None:
            raise ArgumentError("usage: cvkit reid-cluster crops VIDEO --boxes FILE -o DIR")
        _crops_only(inputs[1], boxes, output, every, json_out, quiet)
        return
    if len(inputs) != 1:
        raise ArgumentError(f"give one INPUT (got {len(inputs)}); `crops VIDEO` is the only two-word form")
    opts = RunOptions(model=model, rounds=rounds, epochs=epochs, lr=lr, clusters=_parse_clusters(clusters), p=p, k=k,
                      top=top, rerank=rerank, boxes=boxes, every=every, junk_frames=junk_frames, seed=seed, html=html,
                      device=str(dev))
    result = run(inputs[0], output, opts, log=log)
    if json_out:
        for crop, lab, st in zip(result.crops, result.clustering.labels, result.clustering.status, strict=True):
            sys.stdout.write(json.dumps({"file": str(crop.path), "cluster": int(lab), "status": str(st)}) + "\n")
        if result.metrics:
            sys.stdout.write(json.dumps({"metrics": result.metrics}) + "\n")
    if not quiet:
        cl = result.clustering
        err_console.print(f"{len(result.crops)} crops -> {len(set(cl.labels[cl.kept].tolist()))} clusters, "
                          f"{int(cl.kept.sum())} kept; wrote {', '.join(p.name for p in result.outputs)} in {output}")
        if result.metrics:
            _print_scores({**result.metrics["retrieval"],
                           **{f"cluster_{k_}": v for k_, v in result.metrics["clustering"].items()}})
    if result.failures:  # the readable crops are clustered and written; the unreadable ones are listed
        from cvkit.errors import BatchError

        raise BatchError(result.failures)


def _crops_only(video: Path, boxes: Path, output: Path, every: int, json_out: bool, quiet: bool) -> None:
    from cvkit.reid_cluster.data import extract_crops, write_label_csv

    crops = extract_crops(video, boxes, output, every=every)
    write_label_csv(output / "crops.csv", crops)
    if json_out:
        for c in crops:
            rec = {"file": str(c.path), "id": c.pid, "camera": c.camera, "frame": c.frame}
            sys.stdout.write(json.dumps(rec) + "\n")
    if not quiet:
        err_console.print(f"wrote {len(crops)} crops of {len({c.pid for c in crops})} ids into {output}")


def _print_scores(scores: dict, title: str = "reid-cluster") -> None:
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in ("mAP", "rank1", "rank5", "rank10", "valid_queries", "cluster_nmi", "cluster_ari", "cluster_purity",
                "cluster_coverage", "cluster_clusters", "seconds"):
        if key in scores and scores[key] is not None:
            v = scores[key]
            table.add_row(key, f"{v:.4f}" if isinstance(v, float) else str(v))
    err_console.print(table)


TRAIN_HELP = """Train ADTC: the recipe of the shipped asset, or unsupervised adaptation to your own crops.

--data synthetic runs the recipe that produced assets/reid-cluster/adtc-lite (synthetic pedestrians: labelled
source, unlabelled target). --data DIR adapts --model to the unlabelled crops in DIR (a Market/Duke root uses
bounding_box_train) with --rounds x --epochs of two-stage clustering + triplet fine-tuning.

Examples:

  cvkit train reid-cluster --data synthetic --out assets/reid-cluster/adtc-lite

  cvkit train reid-cluster --data my_camera_crops/ --rounds 10 --out runs/my-cams

  cvkit train reid-cluster --model adtc-resnet50 --data Market-1501/ --init-backbone resnet50_imagenet.pth
"""


def train_command(
    data: Annotated[str, typer.Option("--data", help="synthetic, or a folder of unlabelled crops / Market root.")
                    ] = "synthetic",
    model: Annotated[str, typer.Option("--model", "-m", help="Start model: adtc-lite, lite0-imagenet, adtc-resnet50 "
                                       "or a weights path.")] = "adtc-lite",
    out: Annotated[Path | None, typer.Option("--out", help="Output folder (weights.safetensors + card.json).")
                   ] = None,
    rounds: Annotated[int, typer.Option("--rounds", min=1, help="ADTC rounds (paper: 20).")] = 20,
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Epochs per round (paper: 10).")] = 10,
    lr: Annotated[float, typer.Option("--lr", min=0.0, help="Adam learning rate (paper: 1e-4).")] = 1e-4,
    clusters: Annotated[str, typer.Option("--clusters", help="k-means++ clusters M, or auto (crops / p).")] = "auto",
    p: Annotated[int, typer.Option("--p", min=1, help="Crops each centroid keeps.")] = 20,
    k: Annotated[int, typer.Option("--k", min=1, help="k of the k-reciprocal sets.")] = 20,
    init_backbone: Annotated[Path | None, typer.Option(
        "--init-backbone", help="adtc-resnet50: torchvision-layout ImageNet ResNet-50 state dict to start from.")
                             ] = None,
    device: DeviceOpt = "auto",
    threads: ThreadsOpt = 0,
    seed: SeedOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    from cvkit.device import set_threads
    from cvkit.errors import ArgumentError
    from cvkit.reid_cluster.train import AdaptConfig, RecipeConfig, train_on_crops, train_recipe

    set_threads(threads)
    log = None if quiet else (lambda msg: err_console.print(msg))
    command = "cvkit train reid-cluster " + " ".join(sys.argv[3:]) if len(sys.argv) > 3 else ""
    if data == "synthetic":
        if model != "adtc-lite":
            raise ArgumentError("--data synthetic trains adtc-lite; use --data DIR for other models")
        out = out or Path("runs") / "adtc-lite"
        weights = train_recipe(out, RecipeConfig(seed=seed), log=log,
                               command=command or "cvkit train reid-cluster --data synthetic")
    else:
        out = out or Path("runs") / "adtc-custom"
        cfg = AdaptConfig.on_user_crops(rounds=rounds, epochs=epochs, lr=lr, clusters=_parse_clusters(clusters), p=p,
                                        k=k, seed=seed, decay_start=min(5, max(1, epochs // 2)))
        weights = train_on_crops(Path(data), model, cfg, out, log=log, init_backbone=init_backbone, command=command)
    if not quiet:
        err_console.print(f"wrote {weights} and card.json")


EVALUATE_HELP = """Score a model on a labelled layout: mAP and CMC rank-1/5/10 (Market protocol: same-id same-camera
gallery entries and junk removed) and NMI/ARI of the two-stage clusters.

Examples:

  cvkit evaluate reid-cluster --dataset market1501 --root Market-1501-v15.09.15 --rounds 5

  cvkit evaluate reid-cluster --dataset folder --root pets_crops/ --model hist --json
"""


def evaluate_command(
    dataset: Annotated[str, typer.Option("--dataset", help="market1501 (also DukeMTMC-reID) or folder.")],
    root: Annotated[Path, typer.Option("--root", help="Dataset root folder.")],
    model: Annotated[str, typer.Option("--model", "-m", help="Model name or weights path.")] = "adtc-lite",
    rounds: Annotated[int, typer.Option("--rounds", min=0, help="Unsupervised adaptation rounds first.")] = 0,
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Epochs per round.")] = 4,
    lr: Annotated[float, typer.Option("--lr", min=0.0, help="Adam learning rate of the adaptation.")] = 1e-4,
    clusters: Annotated[str, typer.Option("--clusters", help="k-means++ clusters M, or auto.")] = "auto",
    rerank: Annotated[bool, typer.Option("--rerank/--no-rerank", help="KRJD re-ranking.")] = False,
    junk_frames: Annotated[int | None, typer.Option("--junk-frames", min=0, help="folder, one camera: junk window."
                                                    )] = None,
    device: DeviceOpt = "auto",
    threads: ThreadsOpt = 0,
    seed: SeedOpt = 0,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    from cvkit.device import set_threads
    from cvkit.reid_cluster.evaluate import evaluate

    set_threads(threads)
    scores = evaluate(dataset, root, model, rounds=rounds, epochs=epochs, lr=lr, clusters=_parse_clusters(clusters),
                      rerank=rerank, junk_frames=junk_frames, seed=seed,
                      log=None if quiet else (lambda msg: err_console.print(msg)))
    if json_out:
        sys.stdout.write(json.dumps(scores) + "\n")
    if not quiet:
        _print_scores(scores, title=f"{dataset} ({root}) {scores['model']}")


def register(app: typer.Typer, train_app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Attach the reid-cluster commands to the app and its train/evaluate groups."""
    app.command("reid-cluster", help=REID_HELP, no_args_is_help=True)(reid_cluster_command)
    train_app.command("reid-cluster", help=TRAIN_HELP)(train_command)
    evaluate_app.command("reid-cluster", help=EVALUATE_HELP, no_args_is_help=True)(evaluate_command)
