"""`cvkit search-expand [query]|index`, `cvkit train search-expand`, `cvkit evaluate search-expand`: thin wrappers
over cvkit.search_expand (a Typer sub-app: the two verbs of an image-search tool; `query` is the default)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._default_group import default_group
from ._options import RunOptions, TrainOptions, err_console, run_options, train_options
from ._render import print_json, print_table, stderr_log

TASK = "search-expand"

APP_HELP = """Image search with query expansion (alpha-QE default; LAttQE, AQE, AQEwD, DQE and DBA variants).

`cvkit search-expand QUERY --db DB` is short for `cvkit search-expand query QUERY --db DB`.

Examples:

  cvkit search-expand index photos/ -o photos.db

  cvkit search-expand query.jpg --db photos.db --top 5

  cvkit search-expand query query.jpg --db photos.db --top 20 --html sheet.html

  cvkit search-expand query queries/ --db photos.db --qe lattqe --dba alphaqe -o runs.jsonl
"""
SizeOpt = Annotated[int, typer.Option("--size", min=32, help="Longest image side at scale 1 (pixels).")]
ModelOpt = Annotated[str, typer.Option("--model", "-m", help="LAttQE weights (name or path) for --qe/--dba lattqe.")]


def _progress(quiet: bool, what: str):
    if quiet:
        return None
    return lambda i, n: err_console.print(f"{what} {i}/{n}", end="\r") if i % 25 == 0 or i == n else None


@run_options(batch=False)
def index_command(
    photos: Annotated[Path, typer.Argument(help="Image folder (recursive), glob or a descriptor file (.npy/.npz/"
                                           ".fvecs/.h5/.mat; ids from NAME.ids.txt).", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Database file to write (.db).")],
    add: Annotated[bool, typer.Option("--add", help="Append to an existing database (new files only).")] = False,
    size: SizeOpt = 224,
    whiten: Annotated[bool, typer.Option("--whiten", help="PCA-whitening learnt on the database instead of "
                                         "centring only (measured worse on small databases).")] = False,
    whiten_dim: Annotated[int | None, typer.Option("--whiten-dim", min=1, help="PCA-whitening dimensions "
                                                   "(default: all the database supports).")] = None,
    *,
    run: RunOptions,
) -> None:
    """Describe every image (EfficientNet-Lite0 GeM, multi-scale) and store descriptors, file list, whitening and
    index. An interrupted run is resumed by running it again; --add appends new files."""
    from cvkit.errors import BatchError
    from cvkit.search_expand.run import index

    rep = index(photos, output, add=add, size=size, whiten=whiten, whiten_dim=whiten_dim,
                device=run.select_device(), progress=_progress(run.quiet, "indexing"))
    if run.json_out:
        print_json(rep.record(output))
    if not run.quiet:
        err_console.print(f"{output}: {rep.total} items ({rep.added} added, {rep.skipped} already there)")
    if rep.failures:
        raise BatchError(rep.failures)


@run_options(batch=False, json_out=False)
def query_command(
    query: Annotated[Path, typer.Argument(help="Query image, folder or glob of images, or descriptor file.",
                                          show_default=False)],
    db: Annotated[Path, typer.Option("--db", help="Database from `cvkit search-expand index`.")],
    top: Annotated[int, typer.Option("--top", min=1, help="Results per query.")] = 20,
    qe: Annotated[str, typer.Option("--qe", help="none, aqe, aqewd, alphaqe (default), dqe, or lattqe (learned; "
                                    "--model).")] = "alphaqe",
    k: Annotated[int | None, typer.Option("--k", min=0, help="Neighbours merged (nQE); default per method: "
                                          "aqe 2, aqewd 4, alphaqe 10, dqe 4, lattqe 64.")] = None,
    alpha: Annotated[float, typer.Option("--alpha", min=0.0, help="alpha of alpha-QE / alpha-DBA.")] = 3.0,
    dba: Annotated[str, typer.Option("--dba", help="Database-side augmentation: none, aqe, aqewd, alphaqe, dqe, "
                                     "lattqe.")] = "none",
    dba_k: Annotated[int | None, typer.Option("--dba-k", min=1, help="Neighbours of DBA (default per method).")
                     ] = None,
    model: ModelOpt = "lattqe-gram",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="JSON Lines file (default: stdout).")
                      ] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Also write a contact sheet (HTML).")] = None,
    *,
    run: RunOptions,
) -> None:
    """Search the database for each query, expand the query, search again; print JSON Lines rankings."""
    from cvkit.errors import BatchError
    from cvkit.search_expand.run import QuerySettings, search

    res = search(query, db, QuerySettings(qe, k, alpha, dba, dba_k, top), model, run.select_device())
    if output is None:
        print_json(*res.rankings)
    res.write(output, html)
    if not run.quiet:
        err_console.print(f"{len(res.rankings)} queries searched in {res.items} items (--qe {qe}, --dba {dba})")
    if res.failures:
        raise BatchError(res.failures)


TRAIN_HELP = """Train LAttQE by the paper's recipe (contrastive loss on the expanded query + auxiliary relevance head).

--data synthetic reproduces the shipped descriptor-agnostic lattqe-gram; --features X.npy --labels y.npy trains on
your own descriptors (e.g. rSfM120k features), --folders ROOT on a labelled folder-per-class image set.

Examples:

  cvkit train search-expand --data synthetic --out assets/search-expand/lattqe-gram

  cvkit train search-expand --features X.npy --labels y.npy --arch paper --out runs/lattqe
"""


@train_options(out="runs/lattqe")
def train_command(
    data: Annotated[str, typer.Option("--data", help="synthetic, or 'features' with --features/--labels.")
                    ] = "synthetic",
    features: Annotated[Path | None, typer.Option("--features", help="Training descriptors (N x D).")] = None,
    labels: Annotated[Path | None, typer.Option("--labels", help="Integer labels (.npy, N); < 0 = distractor.")
                      ] = None,
    folders: Annotated[Path | None, typer.Option("--folders", help="Folder-per-class images to describe.")] = None,
    arch: Annotated[str, typer.Option("--arch", help="gram (descriptor-agnostic), small (width 256) or paper "
                                      "(width = D, 64 heads).")] = "gram",
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Epochs (paper: 50-100); --steps replaces it.")
                      ] = 60,
    updates: Annotated[int, typer.Option("--updates", min=1, help="Updates (batches of 64) per epoch.")] = 50,
    dba_epochs: Annotated[int, typer.Option("--dba-epochs", min=0, help="LAttDBA temperature epochs after.")] = 5,
    *,
    opts: TrainOptions,
) -> None:
    from cvkit.search_expand.train import recipe

    w = recipe(data, features, labels, folders, arch, epochs, updates, dba_epochs, opts.out, opts.seed,
               str(opts.select_device()), stderr_log(opts.quiet), opts.command("search-expand"),
               steps=opts.steps, minutes=opts.minutes)
    if not opts.quiet:
        err_console.print(f"wrote {w} and card.json")


EVALUATE_HELP = """mAP / recall@k of every QE and DBA method on one set of descriptors (the paper's Table 3 rows).

roxford5k/rparis6k: --root holds <name>/jpg/ and <name>/gnd_<name>.pkl (revisited E/M/H mAP, junk as in revisitop);
folders: --root/<class>/*.jpg; pets2009: --root holds vtest.avi + PETS2009-S2L1.xml; digits; bundled (generated).

Examples:

  cvkit evaluate search-expand --dataset roxford5k --root DATA/

  cvkit evaluate search-expand --dataset folders --root my_classes/ --json
"""


@run_options(batch=False)
def evaluate_command(
    dataset: Annotated[str, typer.Option("--dataset", help="roxford5k, rparis6k, folders, pets2009, digits, "
                                         "bundled.")],
    root: Annotated[Path | None, typer.Option("--root", help="Dataset root folder.")] = None,
    model: ModelOpt = "lattqe-gram",
    cache: Annotated[Path | None, typer.Option("--cache", help="Folder caching descriptors between runs.")] = None,
    size: SizeOpt = 224,
    *,
    run: RunOptions,
) -> None:
    from cvkit.search_expand.evaluate import evaluate_dataset

    rs, rows = evaluate_dataset(dataset, root, model, cache, size, run.select_device(),
                                log=stderr_log(run.quiet), progress=_progress(run.quiet, "describing"))
    if run.json_out:
        print_json(*({"dataset": rs.name, **r} for r in rows))
    if not run.quiet:
        cols = [c for c in rows[0] if isinstance(rows[0][c], float)]
        print_table(f"{rs.name}: {len(rs.query_images)} queries, {len(rs.db_images)} database items",
                    ["method", *cols], ([r["method"], *(f"{100 * r[c]:.2f}" for c in cols)] for r in rows),
                    left_title=False)


def register(app: typer.Typer, train_app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Attach `search-expand [query]|index` and its train/evaluate commands."""
    sub = typer.Typer(cls=default_group("query"), help=APP_HELP, no_args_is_help=True)
    sub.command("index", no_args_is_help=True)(index_command)
    sub.command("query", no_args_is_help=True)(query_command)
    app.add_typer(sub, name=TASK)
    train_app.command(TASK, help=TRAIN_HELP)(train_command)
    evaluate_app.command(TASK, help=EVALUATE_HELP, no_args_is_help=True)(evaluate_command)
