"""Table structure recognition (TabStruct-Net, Raja et al. ECCV 2020) and the formats around it.

Public API:
- `parse(path, model="graph-lite", **options) -> list[Table]`: tables of an image or PDF.
- `build_parser(model)`: a reusable parser; `parse_path(path, parser, ParseOptions(...))`.
- `Table`, `Cell`; `read_tables(path)`, `render(tables, fmt)`; metrics `teds`, `adjacency_scores`, `ctdar_scores`.
"""

from __future__ import annotations

from pathlib import Path

from .formats import FORMATS, format_for, read_tables, render
from .metrics import adjacency_prf, adjacency_scores, ctdar_scores, teds
from .pipeline import ParseOptions, parse_path
from .registry import DEFAULT_MODEL, MODELS, build_parser
from .table import Cell, Table


def parse(path: str | Path, model: str = DEFAULT_MODEL, **options) -> list[Table]:
    """Tables of one image or PDF with the named model (options: see ParseOptions)."""
    return parse_path(path, build_parser(model), ParseOptions(**options))


__all__ = ["DEFAULT_MODEL", "FORMATS", "MODELS", "Cell", "ParseOptions", "Table", "adjacency_prf",
           "adjacency_scores", "build_parser", "ctdar_scores", "format_for", "parse", "parse_path", "read_tables",
           "render", "teds"]
