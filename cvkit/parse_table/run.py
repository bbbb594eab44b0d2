"""Running `cvkit parse-table` on inputs: collect them, parse one file, write its table file and overlay.

A folder (or glob) is a batch: outputs mirror its tree under the output folder (`scans/a/b.pdf` ->
`OUT/a/b-str.xml`, overlays `OVERLAY/a/b.png`). Outputs are written atomically and re-read before the rename, so
a failed item leaves no partial file. The batch loop itself is `cvkit.io.batch.run_batch`.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..io.batch import Inputs, Item, discover, mirrored
from .pipeline import INPUT_SUFFIXES, ParseOptions, parse_path, read_image_checked
from .table import Cell, Table


def collect_inputs(source: str | Path) -> Inputs:
    """One image or PDF, or every image and PDF under a folder (or matching a glob): a batch."""
    return discover(source, INPUT_SUFFIXES, what="image or PDF")


def is_stdout(output: Path | str | None) -> bool:
    """No output file: the tables go to stdout (no -o, or -o -)."""
    return output is None or str(output) == "-"


def output_format(output: Path | None, fmt: str | None, batch: bool) -> str:
    """The output format: --format, else the -o suffix; a batch defaults to icdar2013, stdout to json."""
    from .formats import format_for

    if batch or is_stdout(output):
        return format_for("", fmt or ("icdar2013" if batch else "json"))
    return format_for(output, fmt)


def table_path(item: Item, out_dir: Path, fmt: str) -> Path:
    """Where a batch item's tables go: its path under `out_dir` with the format's suffix (`-str.xml`, ...)."""
    from .formats import FORMAT_SUFFIX

    stem = mirrored(item, out_dir, "")
    return stem.with_name(stem.name + FORMAT_SUFFIX[fmt])


def overlay_image(path: Path, tables: list[Table], dpi: float) -> tuple[np.ndarray, list[Table]]:
    """The picture to draw on and the tables in its pixels: the image itself, or the first page with tables of a
    PDF rendered at `dpi` (PDF-point boxes mapped to pixels)."""
    if path.suffix.lower() != ".pdf":
        return read_image_checked(path), tables
    from .pdf import open_pdf, page_geometry, render_page

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


def write_overlay(path: Path, tables: list[Table], dpi: float, target: Path) -> None:
    """PNG of the input with the cells, row bands and table regions drawn (atomic)."""
    import cv2

    from ..io.atomic import atomic_path
    from .overlay import draw_overlay

    img, px_tables = overlay_image(path, tables, dpi)
    with atomic_path(target, ".png") as tmp:
        cv2.imwrite(str(tmp), draw_overlay(img, px_tables))


def plan_inputs(source: str | Path, output: Path | None, fmt: str | None, overlay: Path | None, ocr: str,
                region: str | None) -> tuple[Inputs, str, tuple[float, float, float, float] | None]:
    """Check the command line before any work: the inputs, the output format, the --region box; the overlay
    path is writable (a folder in batch mode). ArgumentError (exit 4) / InputError (exit 3) otherwise."""
    from ..errors import ArgumentError
    from ..io.atomic import check_output, check_output_dir
    from .ocr import OCR_ENGINES
    from .pipeline import parse_region_arg

    if ocr not in OCR_ENGINES:
        raise ArgumentError(f"--ocr {ocr!r}: use one of {', '.join(OCR_ENGINES)}")
    inputs = collect_inputs(source)
    if inputs.batch and is_stdout(output):
        raise ArgumentError(f"{source}: is a folder of {len(inputs.items)} inputs; give -o DIR for the outputs")
    fmt = output_format(output, fmt, inputs.batch)
    box = parse_region_arg(region)
    if overlay is not None:
        (check_output_dir if inputs.batch else check_output)(overlay)
    return inputs, fmt, box


@dataclass(frozen=True)
class ParseJob:
    """Everything an item needs besides its path: the parser, the options, the output format, where the outputs
    go (`output`: a file, '-'/None for stdout, or the batch folder; `overlay` likewise). Its methods are what
    `cvkit.io.batch.run_batch` takes; the job pickles, so Ray workers hold the parser resident."""

    parser: object
    options: ParseOptions
    fmt: str
    output: Path | None = None
    overlay: Path | None = None
    batch: bool = False

    def target(self, item: Item) -> Path | None:
        """The item's table file (None or '-': stdout)."""
        return table_path(item, self.output, self.fmt) if self.batch else self.output

    def overlay_for(self, item: Item) -> Path | None:
        """The item's overlay PNG, if asked for."""
        if self.overlay is None:
            return None
        return mirrored(item, self.overlay, ".png") if self.batch else self.overlay

    def targets(self, item: Item) -> list[Path]:
        """The files the item writes (checked before any work; --skip-existing skips it when all exist)."""
        return [p for p in (self.target(item), self.overlay_for(item)) if not is_stdout(p)]

    def work(self, item: Item) -> dict:
        """Parse the item and write its outputs; the record of `parse_one`."""
        return parse_one(self, item.path, self.target(item), self.overlay_for(item))

    @staticmethod
    def describe(item: Item, r: dict) -> str:
        """The progress line of a finished item."""
        return (f"{item.rel}: {r['n_tables']} table(s), {r['n_cells']} cells ({r['seconds']:.2f} s) -> "
                f"{r['output'] or 'stdout'}")


def plan_job(source: str | Path, output: Path | None, fmt: str | None, overlay: Path | None, model: str,
             device: object = None, *, ocr: str = "auto", region: str | None = None, **options
             ) -> tuple[Inputs, ParseJob]:
    """`cvkit parse-table`: check the command line (`plan_inputs`), build the parser of `model` on `device` and
    gather the ParseOptions (`options`: dpi, pages, regions_xml, detect, detector): the batch inputs and the job."""
    from . import registry

    inputs, fmt, box = plan_inputs(source, output, fmt, overlay, ocr, region)
    parser = registry.build_parser(model, device)
    return inputs, ParseJob(parser, ParseOptions(ocr=ocr, region=box, **options), fmt, output, overlay, inputs.batch)


def parse_one(job: ParseJob, path: Path, target: Path | None, overlay: Path | None = None) -> dict:
    """Parse one image or PDF, write its tables to `target` (stdout when None or '-') and the overlay; returns
    the JSON-ready record (output, format, tables, cells, rows/columns per table, parse seconds)."""
    from dataclasses import replace

    from ..io.atomic import write_text_atomic
    from .evaluate import regions_beside
    from .formats import check_text, check_written, render

    options = job.options
    if options.regions_xml is None and path.suffix.lower() == ".pdf":
        options = replace(options, regions_xml=regions_beside(path) or None)
    t0 = time.perf_counter()
    tables = parse_path(path, job.parser, options)
    seconds = time.perf_counter() - t0
    text = render(tables, job.fmt, path.name)
    if is_stdout(target):
        check_text(text, job.fmt, path)
        sys.stdout.write(text)
    else:
        write_text_atomic(target, text, check=lambda tmp: check_written(tmp, job.fmt, path))
    if overlay is not None:
        write_overlay(path, tables, options.dpi, overlay)
    return {"output": None if target is None else str(target), "format": job.fmt, "n_tables": len(tables),
            "n_cells": sum(len(t.cells) for t in tables), "rows": [t.n_rows for t in tables],
            "cols": [t.n_cols for t in tables], "seconds": round(seconds, 3)}
