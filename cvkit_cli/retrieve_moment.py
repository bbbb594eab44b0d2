"""`cvkit retrieve-moment`, `cvkit train retrieve-moment`, `cvkit evaluate retrieve-moment`: thin wrappers over
cvkit.retrieve_moment."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ._options import RunOptions, TrainOptions, err_console, run_options, train_options
from ._render import print_json, print_table, stderr_log

TASK = "retrieve-moment"

HELP = """Find the moments of a video that a sentence describes; ranked (start, end, score) in seconds.

VIDEO is a video file or a folder (moments of all its videos ranked together). Features are extracted once per
video and cached by content hash (beside -o, or --cache DIR), so further queries cost only the text side.

Examples:

  cvkit retrieve-moment clip.mp4 "a person opens the door" --top 5 -o moments.jsonl --srt moments.srt

  cvkit retrieve-moment clip.mp4 "a person drinks coffee" --overlay timeline.mp4 --clip-out top1.mp4

  cvkit retrieve-moment videos/ --queries queries.txt --json -o found.jsonl
"""


@run_options(batch=False)
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
    clip_out: Annotated[Path | None, typer.Option("--clip-out", help="Cut the top moment to this video.")] = None,
    cache: Annotated[Path | None, typer.Option("--cache", help="Feature cache folder.")] = None,
    *,
    run: RunOptions,
) -> None:
    from cvkit.errors import BatchError
    from cvkit.retrieve_moment.outputs import MomentOutputs, moments_table
    from cvkit.retrieve_moment.predict import Retriever, query_list, rank_queries, video_features, video_inputs
    from cvkit.retrieve_moment.visual import cache_dir_for

    qs = query_list(query, queries)
    inputs = video_inputs(video)
    outs = MomentOutputs(output, srt, overlay, clip_out)
    outs.check([it.path for it in inputs.items], video.is_dir())
    r = Retriever(model, prior, str(run.select_device()), cache_dir_for(cache, output), top, nms)
    feats, failures = video_features(r, inputs, run.quiet)  # failed videos are left out of the ranking (exit 6)
    records = rank_queries(r, feats, qs, top, single=len(inputs.items) == 1)
    outs.write(records, inputs.items[0].path)
    sys.stdout.write("".join(json.dumps(rec) + "\n" for rec in records) if run.json_out else moments_table(records))
    if failures:
        raise BatchError(failures)


TRAIN_HELP = """Train VLANet weakly (video-sentence pairs only): the Synth-STA recipe, or the paper-size model on a
Charades-STA layout with precomputed features; or fit the blind prior (--model prior).

Examples:

  cvkit train retrieve-moment --data synthetic --epochs 40 --threads 1 -o assets/retrieve-moment/vlanet-small-synth

  cvkit train retrieve-moment --data charades_sta_train.txt --features c3d/ -o my-vlanet

  cvkit train retrieve-moment --model prior --data charades_sta_train.txt --durations Charades_v1_train.csv -o p.json
"""


@train_options(out="runs/retrieve-moment", budget=(), device=False)
def train_command(
    model: Annotated[str, typer.Option("--model", help="vlanet or prior (the blind prior, a JSON).")] = "vlanet",
    data: Annotated[str | None, typer.Option("--data", help="synthetic or annotations (.txt/.jsonl/.json).")] = None,
    features: Annotated[Path | None, typer.Option("--features", help="Folder of <vid>.npy or an .h5.")] = None,
    durations: Annotated[Path | None, typer.Option("--durations", help="Charades_v1_train.csv (lengths).")] = None,
    videos: Annotated[int, typer.Option("--videos", min=2, help="Synthetic training videos.")] = 800,
    test_videos: Annotated[int, typer.Option("--test-videos", min=2, help="Synthetic test videos.")] = 300,
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Passes over the training videos.")] = 10,
    video_dim: Annotated[int, typer.Option("--video-dim", help="Feature size (4096 for C3D).")] = 4096,
    hidden: Annotated[int, typer.Option("--hidden", help="D of the paper.")] = 512,
    windows: Annotated[str, typer.Option("--windows", help="Window lengths in feature steps.")] = "11,13,15",
    stride: Annotated[int, typer.Option("--stride", min=1, help="Group stride in feature steps.")] = 1,
    feature_rate: Annotated[float, typer.Option("--feature-rate", help="Feature steps per second.")] = 1.5,
    synthetic: Annotated[bool, typer.Option("--synthetic", hidden=True)] = False,  # old: --data synthetic
    ann: Annotated[Path | None, typer.Option("--ann", hidden=True)] = None,  # old: --data ANN
    prior_from: Annotated[Path | None, typer.Option("--prior-from", hidden=True)] = None,  # old: --model prior --data
    *,
    opts: TrainOptions,
) -> None:
    from cvkit.device import set_threads
    from cvkit.retrieve_moment.train import run_recipe

    set_threads(opts.threads)
    data = str(prior_from or ann or data or ("synthetic" if synthetic else "")) or None
    rep = run_recipe(opts.out, "prior" if prior_from else model, data, features, durations, videos, test_videos,
                     epochs, opts.seed, stderr_log(opts.quiet, markup=False),
                     windows, video_dim=video_dim, hidden=hidden, stride=stride, feature_rate=feature_rate)
    if data == "synthetic" and not opts.quiet:
        err_console.print(json.dumps(rep), markup=False)


EVALUATE_HELP = """R@{1,5} x IoU{0.3,0.5,0.7} and mIoU of the model beside the blind prior and random windows.

Examples:

  cvkit evaluate retrieve-moment --dataset charades-sta --root data/charades --limit 200
"""


@run_options(batch=False)
def evaluate_command(
    dataset: Annotated[str, typer.Option("--dataset", help="charades-sta, qvhighlights, anet-captions, synth-sta.")],
    root: Annotated[Path | None, typer.Option("--root", help="Dataset folder (see docs/retrieve-moment.md).")] = None,
    model: Annotated[str, typer.Option("--model", "-m", help="As for `cvkit retrieve-moment`.")] = "auto",
    prior: Annotated[str, typer.Option("--prior", help="Prior name or JSON.")] = "charades-sta-published",
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="First N queries only.")] = None,
    *,
    run: RunOptions,
) -> None:
    from cvkit.retrieve_moment.evaluate import evaluate_tables

    tables = evaluate_tables(dataset, root, model, prior, limit, str(run.select_device()),
                             log=stderr_log(run.quiet, markup=False))
    if run.json_out:
        print_json(tables)
    elif not run.quiet:
        print_table(f"retrieve-moment on {dataset}", ("method", *next(iter(tables.values()))),
                    ([name, *(f"{v:.2f}" for v in row.values())] for name, row in tables.items()), left_title=False)


def register(app: typer.Typer, train_app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Add the commands to the app."""
    app.command("retrieve-moment", help=HELP)(retrieve_command)
    train_app.command("retrieve-moment", help=TRAIN_HELP)(train_command)
    evaluate_app.command("retrieve-moment", help=EVALUATE_HELP)(evaluate_command)
