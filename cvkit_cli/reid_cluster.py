"""`cvkit reid-cluster [cluster] INPUT`, `cvkit reid-cluster crops VIDEO`, `cvkit train|evaluate reid-cluster`: thin
wrappers over cvkit.reid_cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._default_group import default_group
from ._options import RunOptions, SeedOpt, TrainOptions, err_console, run_options, train_options
from ._render import print_json, print_metrics, stderr_log

TASK = "reid-cluster"

REID_HELP = """Group person crops by identity without labels (ADTC: voxel attention + two-stage clustering).

`cvkit reid-cluster INPUT -o OUTDIR` is short for `cvkit reid-cluster cluster INPUT -o OUTDIR` (its options:
`cvkit reid-cluster cluster --help`); `cvkit reid-cluster crops VIDEO --boxes FILE -o DIR` only cuts the crops.

Examples:

  cvkit reid-cluster crops/ -o out/ --rounds 3

  cvkit reid-cluster vtest.avi --boxes PETS2009-S2L1.xml -o out/ --json | jq .cluster

  cvkit reid-cluster crops VIDEO.avi --boxes gt.txt -o crops/     # only cut the crops
"""
CLUSTER_HELP = """Cluster person crops by identity (the default sub-command: `cvkit reid-cluster INPUT ...`).

INPUT is a folder of person crops (searched recursively) or a quoted glob of crops, a Market-1501/DukeMTMC-reID
root (query + bounding_box_test are clustered), or a video with --boxes FILE (PETS/CVML .xml, MOT gt.txt with
1-based frames, or .csv with a frame,id,x,y,w,h header; boxes x,y,w,h in pixels, 0-based): crops are cut into
OUTDIR/crops first.
With --rounds N the model first adapts to the crops, unsupervised (the paper's use on a new camera network).
Writes OUTDIR/clusters.csv (file, cluster, status kept|ambiguous|unassigned), ranking.jsonl (top-k per query),
index.html (contact sheet), and metrics.json when identities are in the file names (PPPP_cC_... names).
"""
CROPS_HELP = """Only cut the boxed persons of VIDEO into DIR (JPEGs named PPPP_cC_fFFFFF.jpg + crops.csv)."""
ModelOpt = Annotated[str, typer.Option("--model", "-m", help="adtc-lite, lite0-imagenet, adtc-resnet50, hist, or a "
                                       "weights path (see `cvkit models`).")]
ClustersOpt = Annotated[str, typer.Option("--clusters", help="k-means++ clusters M, or auto (crops / p).")]
EpochsOpt = Annotated[int, typer.Option("--epochs", min=1, help="Fine-tuning epochs per adaptation round.")]
LrOpt = Annotated[float, typer.Option("--lr", min=0.0, help="Adam learning rate of the adaptation (paper: 1e-4).")]
POpt = Annotated[int, typer.Option("--p", min=1, help="Crops each centroid keeps (nearest by KRJD).")]
KOpt = Annotated[int, typer.Option("--k", min=1, help="k of the k-reciprocal neighbour sets.")]
RerankOpt = Annotated[bool, typer.Option("--rerank/--no-rerank", help="Rank by 0.7 KRJD + 0.3 Euclidean.")]
JunkOpt = Annotated[int | None, typer.Option("--junk-frames", min=0, help="Scoring, one camera: same-id crops within "
                                             "this many frames are junk (default 50 with frame numbers).")]


def _log(quiet: bool):
    return stderr_log(quiet, markup=False, soft_wrap=True)


@run_options(batch=False)
def cluster_command(
    inputs: Annotated[list[Path], typer.Argument(help="Crops folder, Market/Duke root, or video (with --boxes).",
                                                 show_default=False, metavar="INPUT")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output folder.")],
    boxes: Annotated[Path | None, typer.Option("--boxes", help="Boxes file of a video input (.xml, gt.txt, .csv).")
                     ] = None,
    every: Annotated[int, typer.Option("--every", min=1, help="Video input: cut crops from every N-th frame.")] = 5,
    model: ModelOpt = "adtc-lite",
    rounds: Annotated[int, typer.Option("--rounds", min=0, help="ADTC adaptation rounds on these crops first.")] = 3,
    epochs: EpochsOpt = 4, lr: LrOpt = 1e-4, clusters: ClustersOpt = "auto", p: POpt = 20, k: KOpt = 20,
    top: Annotated[int, typer.Option("--top", min=1, help="Gallery entries per query in ranking.jsonl.")] = 20,
    rerank: RerankOpt = False, junk_frames: JunkOpt = None,
    html: Annotated[bool, typer.Option("--html/--no-html", help="Write the index.html contact sheet.")] = True,
    seed: SeedOpt = 0,
    *,
    run: RunOptions,
) -> None:
    from cvkit.errors import ArgumentError, BatchError
    from cvkit.reid_cluster import pipeline
    from cvkit.reid_cluster.evaluate import score_rows

    if len(inputs) != 1:
        raise ArgumentError(f"give one INPUT (got {len(inputs)}); to cut crops: cvkit reid-cluster crops VIDEO")
    opts = pipeline.RunOptions(model=model, rounds=rounds, epochs=epochs, lr=lr, p=p, k=k, top=top, rerank=rerank,
                               clusters=pipeline.parse_clusters(clusters), boxes=boxes, every=every,
                               junk_frames=junk_frames, seed=seed, html=html, device=str(run.select_device()))
    result = pipeline.run(inputs[0], output, opts, log=_log(run.quiet))
    if run.json_out:
        print_json(*result.records())
    if not run.quiet:
        err_console.print(result.describe(output))
        if result.metrics:
            print_metrics("reid-cluster", score_rows(result.scores()))
    if result.failures:  # the readable crops are clustered and written; the unreadable ones are listed
        raise BatchError(result.failures)


@run_options(batch=False, device=False)
def crops_command(
    video: Annotated[Path, typer.Argument(help="Video file.", show_default=False, metavar="VIDEO")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output folder of the crops.")],
    boxes: Annotated[Path | None, typer.Option("--boxes", help="Boxes file (.xml, gt.txt, .csv).")] = None,
    every: Annotated[int, typer.Option("--every", min=1, help="Cut crops from every N-th frame.")] = 5,
    *,
    run: RunOptions,
) -> None:
    from cvkit.device import set_threads
    from cvkit.reid_cluster.pipeline import cut_crops

    set_threads(run.threads)
    crops, records = cut_crops(video, boxes, output, every)
    if run.json_out:
        print_json(*records)
    if not run.quiet:
        err_console.print(f"wrote {len(crops)} crops of {len({c.pid for c in crops})} ids into {output}")


TRAIN_HELP = """Train ADTC: the recipe of the shipped asset, or unsupervised adaptation to your own crops.

--data synthetic runs the recipe that produced assets/reid-cluster/adtc-lite (synthetic pedestrians: labelled
source, unlabelled target). --data DIR adapts --model to the unlabelled crops in DIR (a Market/Duke root uses
bounding_box_train) with --rounds x --epochs of two-stage clustering + triplet fine-tuning.

Examples:

  cvkit train reid-cluster --data synthetic --out assets/reid-cluster/adtc-lite

  cvkit train reid-cluster --data my_camera_crops/ --rounds 10 --out runs/my-cams

  cvkit train reid-cluster --model adtc-resnet50 --data Market-1501/ --init-backbone resnet50_imagenet.pth
"""


@train_options(out="runs/reid-cluster", budget=("minutes",))
def train_command(
    data: Annotated[str, typer.Option("--data", help="synthetic, or a folder of unlabelled crops / Market root.")
                    ] = "synthetic",
    model: ModelOpt = "adtc-lite",
    rounds: Annotated[int, typer.Option("--rounds", min=1, help="ADTC rounds (paper: 20).")] = 20,
    epochs: EpochsOpt = 10, lr: LrOpt = 1e-4, clusters: ClustersOpt = "auto", p: POpt = 20, k: KOpt = 20,
    init_backbone: Annotated[Path | None, typer.Option(
        "--init-backbone", help="adtc-resnet50: torchvision-layout ImageNet ResNet-50 state dict to start from.")
                             ] = None,
    *,
    opts: TrainOptions,
) -> None:
    from cvkit.reid_cluster.train import run_training

    weights = run_training(data, model, opts.out, rounds=rounds, epochs=epochs, lr=lr, clusters=clusters, p=p, k=k,
                           seed=opts.seed, init_backbone=init_backbone, device=opts.select_device(),
                           log=_log(opts.quiet), minutes=opts.minutes, command=opts.command("reid-cluster"))
    if not opts.quiet:
        err_console.print(f"wrote {weights} and card.json")


EVALUATE_HELP = """Score a model on a labelled layout: mAP and CMC rank-1/5/10 (Market protocol: same-id same-camera
gallery entries and junk removed) and NMI/ARI of the two-stage clusters. --results OUTDIR scores the clusters.csv
of an earlier `cvkit reid-cluster` run instead (identities from the crops' file names; no model is run).

Examples:

  cvkit evaluate reid-cluster --dataset market1501 --root Market-1501-v15.09.15 --rounds 5

  cvkit evaluate reid-cluster --dataset folder --root pets_crops/ --model hist --json

  cvkit evaluate reid-cluster --results out/ --json     # score an earlier run's clusters.csv
"""


@run_options(batch=False)
def evaluate_command(
    dataset: Annotated[str | None, typer.Option("--dataset", help="market1501 (also DukeMTMC-reID) or folder.",
                                                show_default=False)] = None,
    root: Annotated[Path | None, typer.Option("--root", help="Dataset root folder.")] = None,
    results: Annotated[Path | None, typer.Option("--results", help="Score this clusters.csv (or run folder) "
                                                 "instead of running a model.")] = None,
    model: ModelOpt = "adtc-lite",
    rounds: Annotated[int, typer.Option("--rounds", min=0, help="Unsupervised adaptation rounds first.")] = 0,
    epochs: EpochsOpt = 4, lr: LrOpt = 1e-4, clusters: ClustersOpt = "auto", rerank: RerankOpt = False,
    junk_frames: JunkOpt = None, seed: SeedOpt = 0,
    *,
    run: RunOptions,
) -> None:
    from cvkit.reid_cluster.evaluate import evaluate_or_score, score_rows

    scores, title = evaluate_or_score(dataset, root, results, model, device=run.select_device, clusters=clusters,
                                      rounds=rounds, epochs=epochs, lr=lr, rerank=rerank, junk_frames=junk_frames,
                                      seed=seed, log=_log(run.quiet))
    if run.json_out:
        print_json(scores)
    if not run.quiet:
        print_metrics(title, score_rows(scores))


def register(app: typer.Typer, train_app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Attach `reid-cluster [cluster]|crops` and the train/evaluate commands."""
    sub = typer.Typer(cls=default_group("cluster"), help=REID_HELP, no_args_is_help=True)
    sub.command("cluster", help=CLUSTER_HELP, no_args_is_help=True)(cluster_command)
    sub.command("crops", help=CROPS_HELP, no_args_is_help=True)(crops_command)
    app.add_typer(sub, name=TASK)
    train_app.command(TASK, help=TRAIN_HELP)(train_command)
    evaluate_app.command(TASK, help=EVALUATE_HELP, no_args_is_help=True)(evaluate_command)
