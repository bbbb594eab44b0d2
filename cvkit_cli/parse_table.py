"""`cvkit parse-table`, `cvkit train parse-table`, `cvkit evaluate parse-table`: thin wrappers over the library."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._options import RunOptions, TrainOptions, err_console, run_options, train_options
from ._render import print_json, print_metrics

TASK = "parse-table"
GRAPH_LITE_OUT = "runs/parse-table/graph-lite"

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

  cvkit parse-table report.pdf --detector combined -o tables.json
"""


@run_options()
def parse_table_command(
    input: Annotated[Path, typer.Argument(help="Table/page image, PDF, or a folder of them.", show_default=False)],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Output file (format from suffix), '-' for stdout, or a folder in batch mode. "
        "Default: JSON on stdout.")] = None,
    fmt: Annotated[str | None, typer.Option(
        "--format", "-f", help="icdar2013, ctdar, html, csv or json (default: from the -o suffix).")] = None,
    model: Annotated[str, typer.Option("--model", "-m", help="graph-lite (default), tabstructnet, line-grid "
                                       "(classical fallback; CPU only, --device does not apply) or a weights path."
                                       )] = "graph-lite",
    ocr: Annotated[str, typer.Option("--ocr", help="auto (PDF text layer, else rapidocr), pdf, rapidocr, "
                                     "tesseract or none (geometry only). OCR runs on the CPU.")] = "auto",
    pages: Annotated[str | None, typer.Option("--pages", help="PDF pages, e.g. 1,3-5 (default: all).")] = None,
    dpi: Annotated[float, typer.Option("--dpi", min=36, max=600, help="PDF render resolution.")] = 150.0,
    region: Annotated[str | None, typer.Option("--region", help="Table region X,Y,W,H in pixels.")] = None,
    regions: Annotated[Path | None, typer.Option("--regions", help="ICDAR-2013 -reg.xml with the table regions "
                                                 "(PDF input).")] = None,
    detect: Annotated[bool, typer.Option("--detect/--no-detect", help="Without a region: find the tables on "
                                         "each page (default), or take the whole input as one table.")] = True,
    detector: Annotated[str, typer.Option("--detector", help="Table detection: auto (rules on a PDF's text layer, "
                                          "combined on page images and scans), rules (training-free), learned "
                                          "(table-heat), combined (rules + learned) or rcnn (table-rcnn, the paper's "
                                          "Mask R-CNN route).")] = "auto",
    overlay: Annotated[Path | None, typer.Option("--overlay", help="PNG with cells/rows drawn for checking "
                                                 "(a folder in batch mode).")] = None,
    *,
    run: RunOptions,
) -> None:
    from cvkit.io.batch import run_batch
    from cvkit.parse_table.run import is_stdout, plan_job

    inputs, job = plan_job(input, output, fmt, overlay, model, run.select_device(), ocr=ocr, region=region, dpi=dpi,
                           pages=pages, regions_xml=regions, detect=detect, detector=detector)
    json_out = run.json_out and not is_stdout(output)
    run_batch(inputs, job.work, job.targets, out_dir=output if inputs.batch else None,
              **{**run.batch(), "json_out": json_out}, describe=None if json_out else job.describe)


TRAIN_HELP = """Train the table-structure model: the recipe that produced the shipped asset.

graph-lite trains on procedurally generated tables for --steps (the shipped recipe: 4000, about 19 CPU minutes)
or --minutes, on one thread; --nproc N trains data-parallel in N processes with the same loss curve.
tabstructnet is the paper's full model on a dataset layout (scitsr:DIR, pubtabnet:DIR, icdar2013:DIR;
--epochs; a GPU is advised). Both train on --device. table-heat and table-rcnn (the paper's Mask R-CNN route for
whole pages) are the learned table detectors, trained on rendered synthetic pages (--data synthetic-pages).

Examples:

  cvkit train parse-table --data synthetic --steps 4000 --out assets/parse-table/graph-lite

  cvkit train parse-table --model tabstructnet --data scitsr:/data/SciTSR --epochs 20 --device cuda
"""


@train_options(out=GRAPH_LITE_OUT, minutes=60.0, threads=1, nproc=True)
def train_command(
    data: Annotated[str, typer.Option("--data", help="synthetic, scitsr:DIR, pubtabnet:DIR or icdar2013:DIR.")
                    ] = "synthetic",
    model: Annotated[str, typer.Option("--model", "-m", help="graph-lite, tabstructnet, table-heat or table-rcnn "
                                       "(the learned table detectors, --data synthetic-pages).")] = "graph-lite",
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="tabstructnet: passes over the data.")] = 20,
    backbone: Annotated[str, typer.Option("--backbone", help="tabstructnet: resnet101, resnet50, resnet18, tiny.")
                        ] = "resnet101",
    max_steps: Annotated[int | None, typer.Option(
        "--max-steps", min=1, hidden=True, help="Old name of --steps.")] = None,
    *,
    opts: TrainOptions,
) -> None:
    from cvkit.parse_table.train import train_recipe

    out = opts.out
    if model in ("tabstructnet", "table-heat", "table-rcnn") and opts.out == Path(GRAPH_LITE_OUT):
        out = Path("runs/parse-table/tabstructnet" if model == "tabstructnet" else f"assets/parse-table/{model}")
    path = train_recipe(model, data, out, device=opts.select_device(), nproc=opts.nproc, seed=opts.seed,
                        steps=opts.steps or max_steps, minutes=opts.minutes or 60.0, epochs=epochs, backbone=backbone,
                        quiet=opts.quiet)
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

  cvkit evaluate parse-table --dataset icdar2013 --root eu/ --detection --detector learned

  cvkit evaluate parse-table --dataset pubtabnet --root ../shared/data/parse-table/pubtabnet-mini --json
"""


@run_options(batch=False)
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
    detector: Annotated[str, typer.Option("--detector", help="With --detection: auto (as `cvkit parse-table`), "
                                          "rules, learned, combined or rcnn.")] = "auto",
    *,
    run: RunOptions,
) -> None:
    from cvkit.parse_table.evaluate import metric_rows, score_model

    progress = None if run.quiet else (lambda name: err_console.print(f"  {name}", highlight=False))
    summary = score_model(dataset, root, model, run.select_device(), per_table=per_table, ocr=ocr, dpi=dpi,
                          limit=limit, detection=detection, progress=progress, detector=detector)
    if run.json_out:
        print_json(summary)
    if not run.quiet:
        print_metrics(f"{model} on {dataset} ({summary['n_tables']} tables)", metric_rows(summary), left_title=False)


def register(app: typer.Typer, train_app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Attach the parse-table commands to the app and its train/evaluate groups."""
    app.command("parse-table", help=PARSE_HELP, no_args_is_help=True)(parse_table_command)
    train_app.command("parse-table", help=TRAIN_HELP, no_args_is_help=False)(train_command)
    evaluate_app.command("parse-table", help=EVALUATE_HELP, no_args_is_help=True)(evaluate_command)
