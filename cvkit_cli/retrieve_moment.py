"""`cvkit retrieve-moment`, `cvkit train retrieve-moment`, `cvkit evaluate retrieve-moment`: thin wrappers over
cvkit.retrieve_moment."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ._options import DeviceOpt, JsonOpt, QuietOpt, SeedOpt, ThreadsOpt, err_console

TASK = "retrieve-moment"

HELP = """Find the moments of a video that a sentence describes; ranked (start, end, score) in seconds.

VIDEO is a video file or a folder (moments of all its videos ranked together). Features are extracted once per
video and cached by content hash (beside -o, or --cache DIR), so further queries cost only the text side.
--model: auto (= concepts+prior), prior (blind, query-independent), concepts (ImageNet concept bank alone),
concepts+prior, vlanet-small-synth (trained on synthetic shapes only), or a VLANet weights path.

Examples:

  cvkit retrieve-moment clip.mp4 "a person opens the door" --top 5 -o moments.jsonl --srt moments.srt

  cvkit retrieve-moment clip.mp4 "a person drinks coffee" --overlay timeline.mp4 --clip-out top1.mp4

  cvkit retrieve-moment videos/ --queries queries.txt --json -o found.jsonl
"""


def retrieve_command(
    video: Annotated[Path, typer.Argument(help="Video file or folder of videos.", show_default=False)],
    query: Annotated[str | None, typer.Argument(help="The sentence (or use --queries).", show_default=False)] = None,
    queries: Annotated[Path | None, typer.Option("--queries", help="Text file, one query per line.")] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Moments per query.")] = 5,
    model: Annotated[str, typer.Option("--model", "-m", help="auto, prior, concepts, concepts+prior, "
                                       "vlanet-small-synth or a weights path.")] = "auto",
    prior: Annotated[str, typer.Option("--prior", help="Shipped prior name or prior JSON.")] = "charades-sta-published",
    nms: Annotated[float, typer.Option("--nms", help="Temporal NMS IoU between returned moments (0 = off).")] = 0.5,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="JSON Lines output.")] = None,
    srt: Annotated[Path | None, typer.Option("--srt", help="Cues of the moments: .srt or .vtt.")] = None,
    overlay: Annotated[Path | None, typer.Option("--overlay", help="Video with a timeline bar (one video).")] = None,
    clip_out: Annotated[Path | None, typer.Option("--clip-out", help="Cut the top moment to this video file.")
                        ] = None,
    cache: Annotated[Path | None, typer.Option("--cache", help="Feature cache folder.")] = None,
    device: DeviceOpt = "auto", threads: ThreadsOpt = 0, json_out: JsonOpt = False, quiet: QuietOpt = False,
) -> None:
    from cvkit.device import select_device, set_threads
    from cvkit.errors import ArgumentError, BatchError
    from cvkit.io.atomic import check_not_input
    from cvkit.retrieve_moment.outputs import write_clip, write_cues, write_jsonl, write_overlay
    from cvkit.retrieve_moment.predict import Retriever, list_videos, read_queries, search
    from cvkit.retrieve_moment.visual import default_cache_dir

    set_threads(threads)
    if (query is None) == (queries is None):
        raise ArgumentError("give one QUERY argument or --queries FILE")
    qs = read_queries(queries) if queries else [query]
    videos = list_videos(video) if video.is_dir() else [video]
    folder = video.is_dir()
    if folder and overlay:
        raise ArgumentError("--overlay needs a single video, not a folder")
    outs = [p for p in (output, srt, overlay, clip_out) if p is not None]
    for p in outs:
        check_not_input(p, videos)
    cache_dir = cache or ((output.parent / ".cvkit-features") if output else default_cache_dir())
    r = Retriever(model, prior, str(select_device(device)), cache_dir, top, nms)
    log = None if quiet else (lambda m: err_console.print(m, markup=False, highlight=False))
    records, failures = search(r, videos, qs, top, log)
    if output:
        write_jsonl(output, records)
    if srt:
        write_cues(srt, records)
    if overlay:
        write_overlay(videos[0], overlay, records[0])
    if clip_out and records[0]["moments"]:
        m = records[0]["moments"][0]
        write_clip(m.get("video", videos[0]), clip_out, m["start"], m["end"])
    for rec in records:
        if json_out:
            sys.stdout.write(json.dumps(rec) + "\n")
        else:
            for m in rec["moments"]:
                where = f"{m['video']}\t" if folder else ""
                sys.stdout.write(f"{where}{m['rank']}\t{m['start']:.2f}\t{m['end']:.2f}\t{m['score']:.4f}\t"
                                 f"{rec['query']}\n")
    if failures:
        raise BatchError(failures)


def train_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="Output folder (weights + card), or prior .json.")],
    synthetic: Annotated[bool, typer.Option("--synthetic", help="Synth-STA recipe of the shipped model.")] = False,
    ann: Annotated[Path | None, typer.Option("--ann", help="Training annotations (.txt/.jsonl/.json).")] = None,
    features: Annotated[Path | None, typer.Option("--features", help="Folder of <vid>.npy or an .h5.")] = None,
    prior_from: Annotated[Path | None, typer.Option("--prior-from", help="Fit only the blind prior on these "
                                                    "annotations.")] = None,
    durations: Annotated[Path | None, typer.Option("--durations", help="Charades_v1_train.csv (lengths).")] = None,
    videos: Annotated[int, typer.Option("--videos", min=2, help="Synthetic training videos.")] = 800,
    test_videos: Annotated[int, typer.Option("--test-videos", min=2, help="Synthetic test videos (validation: "
                                             "half as many).")] = 300,
    epochs: Annotated[int, typer.Option("--epochs", min=1)] = 10,
    video_dim: Annotated[int, typer.Option("--video-dim", help="Feature size (4096 for C3D).")] = 4096,
    hidden: Annotated[int, typer.Option("--hidden", help="D of the paper.")] = 512,
    windows: Annotated[str, typer.Option("--windows", help="Window lengths in feature steps.")] = "11,13,15",
    stride: Annotated[int, typer.Option("--stride", min=1, help="Group stride in feature steps.")] = 1,
    feature_rate: Annotated[float, typer.Option("--feature-rate", help="Feature steps per second.")] = 1.5,
    seed: SeedOpt = 0, threads: ThreadsOpt = 0,
) -> None:
    """Train VLANet weakly (video-sentence pairs only): the Synth-STA recipe, or the paper-size model on a
    Charades-STA layout with precomputed features; or fit the blind prior.

    Examples:

      cvkit train retrieve-moment --synthetic --epochs 40 --threads 1 -o assets/retrieve-moment/vlanet-small-synth

      cvkit train retrieve-moment --ann charades_sta_train.txt --features c3d/ -o my-vlanet

      cvkit train retrieve-moment --prior-from charades_sta_train.txt --durations Charades_v1_train.csv -o prior.json
    """
    from cvkit.device import set_threads
    from cvkit.errors import ArgumentError
    from cvkit.retrieve_moment.data import read_annotations, read_charades_durations
    from cvkit.retrieve_moment.model import VLANetConfig
    from cvkit.retrieve_moment.prior import fit_prior
    from cvkit.retrieve_moment.train import train_on_layout, train_synth

    set_threads(threads)
    log = lambda m: err_console.print(m, markup=False)  # noqa: E731
    if prior_from:
        qs = read_annotations(prior_from, read_charades_durations(durations) if durations else None)
        fit_prior(qs, name=output.stem, source=str(prior_from)).save(output)
    elif synthetic:
        r = train_synth(str(output), n_train=videos, n_test=test_videos, epochs=epochs, seed=seed, log=log)
        log(json.dumps({k: r[k] for k in ("model", "prior", "random")}))
    elif ann and features:
        try:
            wins = tuple(int(w) for w in windows.split(","))
        except ValueError:
            raise ArgumentError(f"--windows {windows!r}: comma-separated integers") from None
        cfg = VLANetConfig(video_dim=video_dim, hidden=hidden, windows=wins, stride=stride,
                           feature_rate=feature_rate)
        train_on_layout(str(ann), str(features), str(output), cfg, epochs, seed=seed,
                        durations=str(durations) if durations else None, log=log)
    else:
        raise ArgumentError("give --synthetic, or --ann with --features, or --prior-from")


def evaluate_command(
    dataset: Annotated[str, typer.Option("--dataset", help="charades-sta, qvhighlights, anet-captions, synth-sta.")],
    root: Annotated[Path | None, typer.Option("--root", help="Dataset folder (see docs/retrieve-moment.md).")] = None,
    model: Annotated[str, typer.Option("--model", "-m")] = "auto",
    prior: Annotated[str, typer.Option("--prior")] = "charades-sta-published",
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="First N queries only.")] = None,
    device: DeviceOpt = "auto", threads: ThreadsOpt = 0, json_out: JsonOpt = False,
) -> None:
    """R@{1,5} x IoU{0.3,0.5,0.7} and mIoU of the model beside the blind prior and random windows.

    Examples:

      cvkit evaluate retrieve-moment --dataset charades-sta --root data/charades --limit 200
    """
    from cvkit.device import select_device, set_threads
    from cvkit.errors import ArgumentError
    from cvkit.retrieve_moment.evaluate import evaluate_dataset
    from cvkit.retrieve_moment.predict import Retriever
    from cvkit.retrieve_moment.train import synth_eval

    set_threads(threads)
    if dataset == "synth-sta":
        tables = synth_eval(model if model != "auto" else "vlanet-small-synth", limit or 300)
    else:
        if root is None:
            raise ArgumentError(f"--dataset {dataset} needs --root DIR")
        tables = evaluate_dataset(dataset, root, Retriever(model, prior, str(select_device(device))), prior, limit,
                                  log=lambda m: err_console.print(m, markup=False))
    if json_out:
        sys.stdout.write(json.dumps(tables) + "\n")
        return
    t = Table(title=f"retrieve-moment on {dataset}")
    t.add_column("method")
    for k in next(iter(tables.values())):
        t.add_column(k, justify="right")
    for name, row in tables.items():
        t.add_row(name, *[f"{v:.2f}" for v in row.values()])
    err_console.print(t)


def register(app: typer.Typer, train_app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Add the commands to the app."""
    app.command("retrieve-moment", help=HELP)(retrieve_command)
    train_app.command("retrieve-moment")(train_command)
    evaluate_app.command("retrieve-moment")(evaluate_command)
