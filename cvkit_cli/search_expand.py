"""`cvkit search-expand index|query`, `cvkit train search-expand`, `cvkit evaluate search-expand`: thin wrappers
over cvkit.search_expand (a Typer sub-app: the two verbs of an image-search tool)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ._options import DeviceOpt, JsonOpt, QuietOpt, SeedOpt, ThreadsOpt, err_console

TASK = "search-expand"

APP_HELP = """Image search with query expansion (alpha-QE default; LAttQE, AQE, AQEwD, DQE and DBA variants).

Examples:

  cvkit search-expand index photos/ -o photos.db

  cvkit search-expand query query.jpg --db photos.db --top 20 --html sheet.html

  cvkit search-expand query queries/ --db photos.db --qe lattqe --dba alphaqe -o runs.jsonl
"""
QE_HELP = "none, aqe, aqewd, alphaqe (default), dqe, or lattqe (learned; --model)."


def _describer(device: str, size: int | dict):
    """The default descriptor at `size`, or with the parameters a database was built with."""
    from cvkit.device import select_device
    from cvkit.errors import ModelError
    from cvkit.search_expand.descriptor import NAME, GemDescriptor

    if isinstance(size, dict):
        if size.get("name") != NAME:
            raise ModelError(f"the database holds {size.get('name')} descriptors; query it with a descriptor file "
                             "of the same kind, not with images")
        return GemDescriptor(size=size["size"], scales=size["scales"], p=size["p"], min_size=size["min_size"],
                             device=select_device(device))
    return GemDescriptor(size=size, device=select_device(device))


def _progress(quiet: bool, what: str):
    if quiet:
        return None
    return lambda i, n: err_console.print(f"{what} {i}/{n}", end="\r") if i % 25 == 0 or i == n else None


def index_command(
    photos: Annotated[Path, typer.Argument(help="Image folder (recursive) or a descriptor file (.npy/.npz/.fvecs/"
                                           ".h5/.mat; ids from NAME.ids.txt).", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Database file to write (.db).")],
    add: Annotated[bool, typer.Option("--add", help="Append to an existing database (new files only).")] = False,
    size: Annotated[int, typer.Option("--size", min=32, help="Longest image side at scale 1 (pixels).")] = 224,
    whiten: Annotated[bool, typer.Option("--whiten", help="PCA-whitening learnt on the database instead of "
                                         "centring only (measured worse on small databases).")] = False,
    whiten_dim: Annotated[int | None, typer.Option("--whiten-dim", min=1, help="PCA-whitening dimensions "
                                                   "(default: all the database supports).")] = None,
    device: DeviceOpt = "auto", threads: ThreadsOpt = 0, json_out: JsonOpt = False, quiet: QuietOpt = False,
) -> None:
    """Describe every image (EfficientNet-Lite0 GeM, multi-scale) and store descriptors, file list, whitening and
    index. An interrupted run is resumed by running it again; --add appends new files."""
    from cvkit.device import set_threads
    from cvkit.errors import BatchError
    from cvkit.search_expand.features import is_descriptor_file
    from cvkit.search_expand.run import index_descriptor_file, index_images

    set_threads(threads)
    if photos.is_file() and is_descriptor_file(photos):
        rep = index_descriptor_file(photos, output, add=add, whiten=whiten, whiten_dim=whiten_dim)
    else:
        d = _describer(device, size)
        rep = index_images(photos, output, d, {**d.params, "whiten": whiten}, add=add, whiten_dim=whiten_dim,
                           progress=_progress(quiet, "indexing"))
    if json_out:
        sys.stdout.write(json.dumps({"db": str(output), "added": rep.added, "skipped": rep.skipped,
                                     "total": rep.total, "failed": [f for f, _ in rep.failures]}) + "\n")
    if not quiet:
        err_console.print(f"{output}: {rep.total} items ({rep.added} added, {rep.skipped} already there)")
    if rep.failures:
        raise BatchError(rep.failures)


def query_command(
    query: Annotated[Path, typer.Argument(help="Query image, folder of images, or descriptor file.",
                                          show_default=False)],
    db: Annotated[Path, typer.Option("--db", help="Database from `cvkit search-expand index`.")],
    top: Annotated[int, typer.Option("--top", min=1, help="Results per query.")] = 20,
    qe: Annotated[str, typer.Option("--qe", help=QE_HELP)] = "alphaqe",
    k: Annotated[int | None, typer.Option("--k", min=0, help="Neighbours merged (nQE); default per method: "
                                          "aqe 2, aqewd 4, alphaqe 10, dqe 4, lattqe 64.")] = None,
    alpha: Annotated[float, typer.Option("--alpha", min=0.0, help="alpha of alpha-QE / alpha-DBA.")] = 3.0,
    dba: Annotated[str, typer.Option("--dba", help="Database-side augmentation: none, aqe, aqewd, alphaqe, dqe, "
                                     "lattqe.")] = "none",
    dba_k: Annotated[int | None, typer.Option("--dba-k", min=1, help="Neighbours of DBA (default per method).")
                     ] = None,
    model: Annotated[str, typer.Option("--model", "-m", help="LAttQE weights for --qe/--dba lattqe.")
                     ] = "lattqe-gram",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="JSON Lines file (default: stdout).")
                      ] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Also write a contact sheet (HTML).")] = None,
    device: DeviceOpt = "auto", threads: ThreadsOpt = 0, quiet: QuietOpt = False,
) -> None:
    """Search the database for each query, expand the query, search again; print JSON Lines rankings."""
    from cvkit.device import set_threads
    from cvkit.errors import ArgumentError, BatchError, InputError
    from cvkit.search_expand.db import SearchDB, check_same_descriptor
    from cvkit.search_expand.model import load_lattqe
    from cvkit.search_expand.run import (
        QuerySettings,
        iter_queries,
        prepare_index,
        run_queries,
        write_contact_sheet,
        write_jsonl,
    )
    from cvkit.search_expand.train import lattqe_weight_fn

    set_threads(threads)
    names = ("none", "aqe", "aqewd", "alphaqe", "dqe", "lattqe")
    for opt, v in (("--qe", qe), ("--dba", dba)):
        if v not in names:
            raise ArgumentError(f"{opt} {v!r}: use one of {', '.join(names)}")
    base = SearchDB.load(db)
    s = QuerySettings(qe, k, alpha, dba, dba_k, top)
    if "lattqe" in (qe, dba):
        net = load_lattqe(model, base.dim)
        s.weight_fn, s.dba_weight_fn = lattqe_weight_fn(net), lattqe_weight_fn(net, softmax=True)
    describe = None
    if base.descriptor.get("name") != "file" and not (query.is_file() and query.suffix.lower() in
                                                      (".npy", ".npz", ".fvecs", ".h5", ".hdf5", ".mat")):
        describe = _describer(device, base.descriptor)
        check_same_descriptor(base, describe.params, db)
    failures: list[tuple[str, str]] = []
    queries = list(iter_queries(query, base, describe, failures))
    if not queries and not failures:
        raise InputError(query, "no query images found")
    rankings = run_queries(prepare_index(base, s), base, queries, s)
    if output is None:
        sys.stdout.write("".join(json.dumps(r) + "\n" for r in rankings))
    else:
        write_jsonl(output, rankings)
    if html is not None:
        write_contact_sheet(html, rankings)
    if not quiet:
        err_console.print(f"{len(rankings)} queries searched in {len(base.ids)} items (--qe {qe}, --dba {dba})")
    if failures:
        raise BatchError(failures)


TRAIN_HELP = """Train LAttQE by the paper's recipe (contrastive loss on the expanded query + auxiliary relevance head).

--data synthetic reproduces the shipped descriptor-agnostic lattqe-gram; --features X.npy --labels y.npy trains on
your own descriptors (e.g. rSfM120k features), --folders ROOT on a labelled folder-per-class image set.

Examples:

  cvkit train search-expand --data synthetic --out assets/search-expand/lattqe-gram

  cvkit train search-expand --features X.npy --labels y.npy --arch paper --out runs/lattqe
"""


def train_command(
    data: Annotated[str, typer.Option("--data", help="synthetic, or 'features' with --features/--labels.")
                    ] = "synthetic",
    features: Annotated[Path | None, typer.Option("--features", help="Training descriptors (N x D).")] = None,
    labels: Annotated[Path | None, typer.Option("--labels", help="Integer labels (.npy, N); < 0 = distractor.")
                      ] = None,
    folders: Annotated[Path | None, typer.Option("--folders", help="Folder-per-class images to describe.")] = None,
    arch: Annotated[str, typer.Option("--arch", help="gram (descriptor-agnostic), small (width 256) or paper "
                                      "(width = D, 64 heads).")] = "gram",
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Epochs (paper: 50-100).")] = 60,
    updates: Annotated[int, typer.Option("--updates", min=1, help="Updates (batches of 64) per epoch.")] = 50,
    dba_epochs: Annotated[int, typer.Option("--dba-epochs", min=0, help="LAttDBA temperature epochs after.")] = 5,
    out: Annotated[Path, typer.Option("--out", help="Output folder (weights.safetensors + card.json).")
                   ] = Path("runs/lattqe"),
    device: DeviceOpt = "auto", threads: ThreadsOpt = 0, seed: SeedOpt = 0, quiet: QuietOpt = False,
) -> None:
    from cvkit.device import select_device, set_threads
    from cvkit.search_expand.train import recipe

    set_threads(threads)
    log = None if quiet else (lambda m: err_console.print(m))
    w = recipe(data, features, labels, folders, arch, epochs, updates, dba_epochs, out, seed,
               str(select_device(device)), log, "cvkit train search-expand " + " ".join(sys.argv[3:]))
    if not quiet:
        err_console.print(f"wrote {w} and card.json")


EVALUATE_HELP = """mAP / recall@k of every QE and DBA method on one set of descriptors (the paper's Table 3 rows).

roxford5k/rparis6k: --root holds <name>/jpg/ and <name>/gnd_<name>.pkl (revisited E/M/H mAP, junk as in revisitop);
folders: --root/<class>/*.jpg; pets2009: --root holds vtest.avi + PETS2009-S2L1.xml; digits; bundled (generated).

Examples:

  cvkit evaluate search-expand --dataset roxford5k --root DATA/

  cvkit evaluate search-expand --dataset folders --root my_classes/ --json
"""


def evaluate_command(
    dataset: Annotated[str, typer.Option("--dataset", help="roxford5k, rparis6k, folders, pets2009, digits, "
                                         "bundled.")],
    root: Annotated[Path | None, typer.Option("--root", help="Dataset root folder.")] = None,
    model: Annotated[str, typer.Option("--model", "-m", help="LAttQE weights for the LAttQE rows.")
                     ] = "lattqe-gram",
    cache: Annotated[Path | None, typer.Option("--cache", help="Folder caching descriptors between runs.")] = None,
    size: Annotated[int, typer.Option("--size", min=32, help="Longest image side at scale 1.")] = 224,
    device: DeviceOpt = "auto", threads: ThreadsOpt = 0, json_out: JsonOpt = False, quiet: QuietOpt = False,
) -> None:
    from cvkit.device import set_threads
    from cvkit.errors import ModelError
    from cvkit.search_expand.data import load_dataset
    from cvkit.search_expand.evaluate import run_evaluation
    from cvkit.search_expand.model import load_lattqe
    from cvkit.search_expand.train import lattqe_weight_fn

    set_threads(threads)
    rs = load_dataset(dataset, root)
    try:
        net = load_lattqe(model)
        fns = (lattqe_weight_fn(net), lattqe_weight_fn(net, softmax=True))
    except ModelError as e:
        if not quiet:
            err_console.print(f"LAttQE rows skipped: {e}")
        fns = (None, None)
    d = _describer(device, size)
    rows = run_evaluation(rs, d, d.key, cache, lattqe=fns[0], lattdba=fns[1], progress=_progress(quiet, "describing"))
    if json_out:
        for r in rows:
            sys.stdout.write(json.dumps({"dataset": rs.name, **r}) + "\n")
    if not quiet:
        table = Table(title=f"{rs.name}: {len(rs.query_images)} queries, {len(rs.db_images)} database items")
        cols = [c for c in rows[0] if isinstance(rows[0][c], float)]
        table.add_column("method")
        for c in cols:
            table.add_column(c, justify="right")
        for r in rows:
            table.add_row(r["method"], *(f"{100 * r[c]:.2f}" for c in cols))
        err_console.print(table)


def register(app: typer.Typer, train_app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Attach `search-expand index|query` and its train/evaluate commands."""
    sub = typer.Typer(help=APP_HELP, no_args_is_help=True)
    sub.command("index", no_args_is_help=True)(index_command)
    sub.command("query", no_args_is_help=True)(query_command)
    app.add_typer(sub, name="search-expand")
    train_app.command("search-expand", help=TRAIN_HELP)(train_command)
    evaluate_app.command("search-expand", help=EVALUATE_HELP, no_args_is_help=True)(evaluate_command)
