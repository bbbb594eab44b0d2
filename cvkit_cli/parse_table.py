"""`cvkit parse-table`, `cvkit train parse-table`, `cvkit evaluate parse-table`: thin wrappers over the library."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from ._options import DeviceOpt, JsonOpt, QuietOpt, SeedOpt, ThreadsOpt, err_console

TASK = "parse-table"

PARSE_HELP = """Recognise table structure (cells, start/end row and column, text) in images and PDFs.

INPUT is a table image, a page image, a PDF, or a folder of them (batch: outputs mirror the tree under
-o DIR). Cell text comes from the PDF text layer, or from OCR (rapidocr, or tesseract) for images.
Regions: --region X,Y,W,H (pixels of the image / of the page rendered at --dpi), an ICDAR-2013 -reg.xml
(--regions, or NAME-reg.xml found beside NAME.pdf); else the tables are detected on every page (text
layer or OCR lines in aligned columns, ruling lines); --no-detect takes the whole input as one table.
Output format from the suffix (.xml = ICDAR-2013 -str.xml, .html, .csv, .json) or --format (also ctdar).

Examples:

  cvkit parse-table table.png -o table.html

  cvkit parse-table eu-001.pdf --regions eu-001-reg.xml -o eu-001-str.xml --overlay check.png

  cvkit parse-table scans/ -o out/ --format icdar2013 --skip-existing --json | jq .n_cells
"""


def _outputs_for(rel: Path, out_dir: Path, fmt: str) -> Path:
    from cvkit.parse_table.formats import FORMAT_SUFFIX

    return out_dir / rel.parent / (rel.stem + FORMAT_SUFFIX[fmt])


def _collect(input: Path) -> tuple[list[tuple[Path, Path]], bool]:
    from cvkit.errors import InputError
    from cvkit.parse_table.pipeline import INPUT_SUFFIXES

    if input.is_dir():
        files = sorted(p for p in input.rglob("*") if p.is_file() and p.suffix.lower() in INPUT_SUFFIXES)
        if not files:
            raise InputError(input, "folder holds no images or PDFs")
        return [(p, p.relative_to(input)) for p in files], True
    if not input.exists():
        raise InputError(input, "no such file or folder")
    return [(input, Path(input.name))], False


def _overlay_image(path: Path, tables, dpi: float):
    from cvkit.parse_table.pipeline import read_image_checked

    if path.suffix.lower() != ".pdf":
        return read_image_checked(path), tables
    from cvkit.parse_table.pdf import open_pdf, page_geometry, render_page
    from cvkit.parse_table.table import Cell, Table

    doc = open_pdf(path)
    page_no = tables[0].page if tables else 1
    page = doc[page_no - 1]
    geom = page_geometry(page, dpi)
    img = render_page(page, dpi)
    px = []
    for t in tables:
        if t.page != page_no:
            continue
        px.append(Table([Cell(c.sr, c.er, c.sc, c.ec, geom.box_to_px(c.bbox) if c.bbox else None, c.text)
                         for c in t.cells], geom.box_to_px(t.bbox) if t.bbox else None))
    doc.close()
    return img, px


def parse_table_command(
    input: Annotated[Path, typer.Argument(help="Table/page image, PDF, or a folder of them.", show_default=False)],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Output file (format from suffix), '-' for stdout, or a folder in batch mode. "
        "Default: JSON on stdout.")] = None,
    fmt: Annotated[str | None, typer.Option(
        "--format", "-f", help="icdar2013, ctdar, html, csv or json (default: from the -o suffix).")] = None,
    model: Annotated[str, typer.Option("--model", "-m", help="graph-lite (default), tabstructnet, line-grid "
                                       "(classical fallback) or a weights path.")] = "graph-lite",
    ocr: Annotated[str, typer.Option("--ocr", help="auto (PDF text layer, else rapidocr), pdf, rapidocr, "
                                     "tesseract or none (geometry only).")] = "auto",
    pages: Annotated[str | None, typer.Option("--pages", help="PDF pages, e.g. 1,3-5 (default: all).")] = None,
    dpi: Annotated[float, typer.Option("--dpi", min=36, max=600, help="PDF render resolution.")] = 150.0,
    region: Annotated[str | None, typer.Option("--region", help="Table region X,Y,W,H in pixels.")] = None,
    regions: Annotated[Path | None, typer.Option("--regions", help="ICDAR-2013 -reg.xml with the table regions "
                                                 "(PDF input).")] = None,
    detect: Annotated[bool, typer.Option("--detect/--no-detect", help="Without a region: find the tables on "
                                         "each page (default), or take the whole input as one table.")] = True,
    overlay: Annotated[Path | None, typer.Option("--overlay", help="PNG with cells/rows drawn for checking "
                                                 "(a folder in batch mode).")] = None,
    skip_existing: Annotated[bool, typer.Option("--skip-existing", help="Batch: skip inputs already done.")] = False,
    device: DeviceOpt = "auto",
    threads: ThreadsOpt = 0,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    import cv2

    from cvkit.device import set_threads
    from cvkit.errors import ArgumentError, BatchError, CvkitError
    from cvkit.io.atomic import atomic_path, check_not_input, check_output, check_output_dir, write_text_atomic
    from cvkit.parse_table.evaluate import regions_beside
    from cvkit.parse_table.formats import check_text, check_written, format_for, render
    from cvkit.parse_table.ocr import OCR_ENGINES
    from cvkit.parse_table.overlay import draw_overlay
    from cvkit.parse_table.pipeline import ParseOptions, parse_path, parse_region_arg
    from cvkit.parse_table.registry import build_parser

    set_threads(threads)
    if ocr not in OCR_ENGINES:
        raise ArgumentError(f"--ocr {ocr!r}: use one of {', '.join(OCR_ENGINES)}")
    jobs, batch = _collect(input)
    if batch:
        if output is None or str(output) == "-":
            raise ArgumentError(f"{input}: is a folder of {len(jobs)} inputs; give -o DIR for the outputs")
        fmt = format_for("", fmt or "icdar2013")
    else:
        fmt = format_for(output, fmt) if output is not None and str(output) != "-" else format_for("", fmt or "json")
    box = parse_region_arg(region)
    if batch:
        check_output_dir(output)
    if overlay is not None:  # checked before any work, like -o
        (check_output_dir if batch else check_output)(overlay)
    parser = build_parser(model)
    failures: list[tuple[str, str]] = []
    for path, rel in jobs:
        target = _outputs_for(rel, output, fmt) if batch else output
        if batch and skip_existing and target.exists():
            if not quiet:
                err_console.print(f"skip {rel}: {target} exists")
            continue
        if target is not None and str(target) != "-":
            check_not_input(target, [path])
        reg = regions
        if reg is None and path.suffix.lower() == ".pdf":
            reg = regions_beside(path) or None
        try:
            t0 = time.perf_counter()
            tables = parse_path(path, parser, ParseOptions(ocr=ocr, dpi=dpi, pages=pages, region=box,
                                                           regions_xml=reg, detect=detect))
            seconds = time.perf_counter() - t0
            text = render(tables, fmt, path.name)
            if target is None or str(target) == "-":
                check_text(text, fmt, path)
                sys.stdout.write(text)
            else:
                write_text_atomic(target, text, check=lambda tmp, p=path: check_written(tmp, fmt, p))
            if overlay is not None:
                ov_path = overlay / rel.with_suffix(".png") if batch else overlay
                img, px_tables = _overlay_image(path, tables, dpi)
                with atomic_path(ov_path, ".png") as tmp:
                    cv2.imwrite(str(tmp), draw_overlay(img, px_tables))
        except CvkitError as e:
            if not batch:
                raise
            failures.append((str(rel), str(e)))
            err_console.print(f"[red]failed[/] {rel}: {e}")
            continue
        record = {"input": str(path), "output": None if target is None else str(target), "format": fmt,
                  "n_tables": len(tables), "n_cells": sum(len(t.cells) for t in tables),
                  "rows": [t.n_rows for t in tables], "cols": [t.n_cols for t in tables],
                  "seconds": round(seconds, 3)}
        if json_out and target is not None and str(target) != "-":
            print(json.dumps(record), flush=True)
        elif not quiet:
            err_console.print(f"{rel}: {record['n_tables']} table(s), {record['n_cells']} cells "
                              f"({seconds:.2f} s) -> {target or 'stdout'}")
    if failures:
        raise BatchError(failures)


TRAIN_HELP = """Train the table-structure model: the recipe that produced the shipped asset.

graph-lite trains on procedurally generated tables in a time budget (CPU, one thread); tabstructnet is the
paper's full model on a dataset layout (scitsr:DIR, pubtabnet:DIR, icdar2013:DIR; a GPU is advised).

Examples:

  cvkit train parse-table --data synthetic --max-steps 4000 --out assets/parse-table/graph-lite

  cvkit train parse-table --model tabstructnet --data scitsr:/data/SciTSR --epochs 20 --device cuda
"""


def train_command(
    data: Annotated[str, typer.Option("--data", help="synthetic, scitsr:DIR, pubtabnet:DIR or icdar2013:DIR.")
                    ] = "synthetic",
    model: Annotated[str, typer.Option("--model", "-m", help="graph-lite or tabstructnet.")] = "graph-lite",
    minutes: Annotated[float, typer.Option("--minutes", min=0.05, help="graph-lite: wall-clock cap.")] = 60.0,
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="tabstructnet: passes over the data.")] = 20,
    backbone: Annotated[str, typer.Option("--backbone", help="tabstructnet: resnet101, resnet50, resnet18, tiny.")
                        ] = "resnet101",
    max_steps: Annotated[int | None, typer.Option(
        "--max-steps", help="Stop after this many steps (graph-lite recipe: 4000, about 19 CPU minutes).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output folder (weights.safetensors + card.json).")
                   ] = None,
    device: DeviceOpt = "auto",
    threads: ThreadsOpt = 1,
    seed: SeedOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    from cvkit.device import set_threads
    from cvkit.errors import ArgumentError
    from cvkit.parse_table.data import parse_data_spec

    set_threads(threads)
    parse_data_spec(data)
    log = (lambda s: None) if quiet else (lambda s: err_console.print(s))
    if model == "graph-lite":
        if data != "synthetic":
            raise ArgumentError("graph-lite trains on --data synthetic (content boxes with exact labels)")
        from cvkit.parse_table.train import train_graph_lite

        cmd = f"cvkit train parse-table --data synthetic --max-steps {max_steps} --seed {seed}"
        path = train_graph_lite(out or Path("runs/parse-table/graph-lite"), minutes=minutes, seed=seed,
                                max_steps=max_steps, log=log, command=cmd)
    elif model == "tabstructnet":
        from cvkit.parse_table.train import train_tabstructnet

        path = train_tabstructnet(data, out or Path("runs/parse-table/tabstructnet"), epochs=epochs, seed=seed,
                                  backbone=backbone, max_steps=max_steps, log=log)
    else:
        raise ArgumentError(f"--model {model!r}: use graph-lite or tabstructnet")
    err_console.print(f"saved {path}")


EVALUATE_HELP = """Score a model on a dataset layout with the official metrics.

icdar2013: NAME.pdf + NAME-reg.xml + NAME-str.xml, adjacency P/R/F1 (content-matched; --ocr pdf uses the
text layer, --ocr rapidocr reads pages rendered at --dpi) with the ground-truth regions given; with
--detection, whole documents without regions: table detection (precision/recall/F1 at region IoU 0.5,
completeness, purity) and end-to-end adjacency. pubtabnet: TEDS and TEDS-Struct; ctdar: cTDaR F1 at IoU
0.6-0.9 and WAvg.F1.

Examples:

  cvkit evaluate parse-table --dataset icdar2013 --root ../shared/data/parse-table/icdar2013-eu

  cvkit evaluate parse-table --dataset icdar2013 --root ../shared/data/parse-table/icdar2013-eu --detection

  cvkit evaluate parse-table --dataset pubtabnet --root ../shared/data/parse-table/pubtabnet-mini --json
"""


def evaluate_command(
    dataset: Annotated[str, typer.Option("--dataset", help="icdar2013, pubtabnet or ctdar.")],
    root: Annotated[Path, typer.Option("--root", help="Dataset root folder.")],
    model: Annotated[str, typer.Option("--model", "-m", help="Model name or weights path.")] = "graph-lite",
    ocr: Annotated[str | None, typer.Option("--ocr", help="Content boxes: pdf, rapidocr, tesseract, none "
                                            "(default: pdf for icdar2013, rapidocr for images).")] = None,
    dpi: Annotated[float, typer.Option("--dpi", help="icdar2013 with OCR: page render resolution.")] = 150.0,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N items.")] = None,
    per_table: Annotated[Path | None, typer.Option("--per-table", help="Write per-table scores (JSON).")] = None,
    detection: Annotated[bool, typer.Option("--detection", help="icdar2013: no regions given; score table "
                                            "detection and end-to-end adjacency on whole documents.")] = False,
    threads: ThreadsOpt = 0,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    from rich.table import Table as RichTable

    from cvkit.device import set_threads
    from cvkit.errors import ArgumentError
    from cvkit.io.atomic import write_text_atomic
    from cvkit.parse_table.evaluate import DATASETS, evaluate
    from cvkit.parse_table.registry import build_parser

    set_threads(threads)
    if dataset not in DATASETS:
        raise ArgumentError(f"--dataset {dataset!r}: use one of {', '.join(DATASETS)}")
    parser = build_parser(model)
    kw: dict = {"limit": limit}
    if dataset == "icdar2013":
        kw.update(ocr=ocr or "pdf", dpi=dpi)
    else:
        kw.update(ocr=ocr or "auto")
    if not quiet:
        kw["progress"] = lambda name: err_console.print(f"  {name}", highlight=False)
    if detection:
        from cvkit.parse_table.evaluate import evaluate_detection

        if dataset != "icdar2013":
            raise ArgumentError("--detection scores ICDAR-2013 documents (--dataset icdar2013)")
        mode = "pdf" if kw["ocr"] == "pdf" else "image"
        scores = evaluate_detection(root, parser, mode=mode, dpi=dpi, ocr=kw["ocr"] if mode == "image" else "rapidocr",
                                    progress=kw.get("progress"), limit=limit)
        scores["per_table"] = scores.pop("per_document")
    else:
        scores = evaluate(dataset, root, parser, **kw)
    summary = {k: v for k, v in scores.items() if k != "per_table"}
    summary["regions"] = "detected" if detection else "ground truth"
    summary.update({"dataset": dataset, "model": model, "ocr": kw["ocr"]})
    if per_table is not None:
        write_text_atomic(per_table, json.dumps(scores.get("per_table", []), indent=1) + "\n")
    if json_out:
        print(json.dumps(summary))
    if not quiet:
        tab = RichTable(title=f"{model} on {dataset} ({scores['n_tables']} tables)")
        tab.add_column("metric")
        tab.add_column("value", justify="right")
        for k, v in summary.items():
            if isinstance(v, dict):
                for kk, vv in v.items():
                    if isinstance(vv, float):
                        tab.add_row(f"{k} {kk}", f"{vv:.4f}")
                    elif isinstance(vv, dict):
                        for k3, v3 in vv.items():
                            if isinstance(v3, float):
                                tab.add_row(f"{k} {kk} {k3}", f"{v3:.4f}")
            elif isinstance(v, float):
                tab.add_row(k, f"{v:.4f}")
        err_console.print(tab)


def register(app: typer.Typer, train_app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Attach the parse-table commands to the app and its train/evaluate groups."""
    app.command("parse-table", help=PARSE_HELP, no_args_is_help=True)(parse_table_command)
    train_app.command("parse-table", help=TRAIN_HELP, no_args_is_help=False)(train_command)
    evaluate_app.command("parse-table", help=EVALUATE_HELP, no_args_is_help=True)(evaluate_command)
