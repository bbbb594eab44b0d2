"""Boxes: parsing, ground-truth files (comma/tab/space, 4- or 8-value rows) and per-frame result files.

Convention: boxes are x,y,w,h in pixels, 0-based, continuous (no +1), unless a reader is told otherwise.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ArgumentError, InputError
from .atomic import atomic_path

BOX_FORMATS = ("txt", "csv", "jsonl")


def parse_box(text: str, one_based: bool = False) -> tuple[float, float, float, float]:
    """Parse `X,Y,W,H` (commas or spaces) into floats; raise ArgumentError when malformed."""
    parts = [p for p in re.split(r"[,\s]+", text.strip()) if p]
    try:
        vals = [float(p) for p in parts]
    except ValueError:
        raise ArgumentError(f"box {text!r}: expected four numbers X,Y,W,H") from None
    if len(vals) != 4 or not all(math.isfinite(v) for v in vals):
        raise ArgumentError(f"box {text!r}: expected four finite numbers X,Y,W,H")
    x, y, w, h = vals
    if one_based:
        x, y = x - 1, y - 1
    return x, y, w, h


def polygon_to_minmax(poly: Sequence[float]) -> np.ndarray:
    """Axis-aligned min/max box (x,y,w,h) enclosing a polygon x1,y1,...,xn,yn."""
    p = np.asarray(poly, dtype=np.float64).reshape(-1, 2)
    x0, y0 = p.min(0)
    x1, y1 = p.max(0)
    return np.array([x0, y0, x1 - x0, y1 - y0])


def polygon_to_area_preserving(poly: Sequence[float]) -> np.ndarray:
    """SiamFC/pysot VOT init: centre = vertex mean, box scaled so its area matches the rotated box."""
    p = np.asarray(poly, dtype=np.float64).reshape(-1, 2)
    if len(p) != 4:
        return polygon_to_minmax(poly)
    cx, cy = p.mean(0)
    x0, y0 = p.min(0)
    x1, y1 = p.max(0)
    a_poly = np.linalg.norm(p[0] - p[1]) * np.linalg.norm(p[1] - p[2])
    a_box = (x1 - x0) * (y1 - y0)
    s = math.sqrt(a_poly / a_box) if a_box > 0 else 1.0
    w = s * (x1 - x0) + 1
    h = s * (y1 - y0) + 1
    return np.array([cx - (w - 1) / 2, cy - (h - 1) / 2, w, h])  # pysot: centre = x + (w - 1) / 2


def number_rows(path: Path) -> Iterator[tuple[int, list[float]]]:
    """(line number, values) of each non-empty line of a numeric text file (commas, tabs, spaces, `;`)."""
    for lineno, line in enumerate(Path(path).read_text(errors="replace").splitlines(), 1):
        parts = [p for p in re.split(r"[,\s;]+", line.strip()) if p]
        if not parts:
            continue
        try:
            yield lineno, [float(p) for p in parts]
        except ValueError:
            raise InputError(path, f"line {lineno}: not a list of numbers") from None


def read_box_file(path: str | Path, one_based: bool = False, polygon: str = "minmax") -> np.ndarray:
    """Read a ground-truth/result file into an (N, 4) x,y,w,h array.

    Rows may be 4 values (box) or 8 values (VOT polygon, converted per `polygon`); delimiters are commas,
    tabs or spaces; rows that are empty or non-numeric (e.g. NaN for absent targets) become NaN.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    rows: list[np.ndarray] = []
    convert = polygon_to_minmax if polygon == "minmax" else polygon_to_area_preserving
    for lineno, vals in number_rows(path):
        if len(vals) == 4:
            box = np.array(vals, dtype=np.float64)
        elif len(vals) >= 6 and len(vals) % 2 == 0:
            box = convert(vals)
        elif len(vals) == 1:  # VOT result codes 0/1/2 -> no box
            box = np.full(4, np.nan)
        else:
            raise InputError(path, f"line {lineno}: expected 4 (box) or 8 (polygon) values, got {len(vals)}")
        if one_based:
            box[:2] -= 1
        rows.append(box)
    if not rows:
        raise InputError(path, "no boxes in file")
    return np.stack(rows)


def read_polygons(path: str | Path) -> np.ndarray | None:
    """Raw 8-value polygons of a VOT ground-truth file, or None when the file holds 4-value boxes."""
    rows = []
    for line in Path(path).read_text().splitlines():
        parts = [p for p in re.split(r"[,\s]+", line.strip()) if p]
        if len(parts) != 8:
            return None
        rows.append([float(p) for p in parts])
    return np.asarray(rows) if rows else None


@dataclass
class FrameResult:
    """One tracked frame: box (x,y,w,h), confidence, lost flag and tracker latency."""

    frame: int
    box: tuple[float, float, float, float]
    score: float
    lost: bool
    ms: float

    def as_dict(self) -> dict:
        """JSON-ready form with rounded numbers."""
        return {
            "frame": self.frame,
            "box": [round(float(v), 2) for v in self.box],
            "score": round(float(self.score), 4),
            "lost": bool(self.lost),
            "ms": round(float(self.ms), 2),
        }


def box_format_for(path: str | Path) -> str:
    """Result format from a file suffix (.txt/.csv/.jsonl); unknown suffixes are an argument error."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix in ("json", "jsonl", "ndjson"):
        return "jsonl"
    if suffix in ("txt", "csv"):
        return suffix
    raise ArgumentError(f"{path}: unknown boxes format (use .txt, .csv or .jsonl)")


def format_results(results: Iterable[FrameResult], fmt: str) -> str:
    """Render results as OTB-style txt, CSV with header, or JSON Lines."""
    lines: list[str] = []
    if fmt == "csv":
        lines.append("frame,x,y,w,h,score,lost,ms")
    for r in results:
        if fmt == "txt":
            lines.append(",".join(f"{v:.2f}" for v in r.box))
        elif fmt == "csv":
            x, y, w, h = r.box
            lines.append(f"{r.frame},{x:.2f},{y:.2f},{w:.2f},{h:.2f},{r.score:.4f},{int(r.lost)},{r.ms:.2f}")
        elif fmt == "jsonl":
            lines.append(json.dumps(r.as_dict()))
        else:
            raise ArgumentError(f"unknown boxes format {fmt!r}")
    return "\n".join(lines) + "\n"


def write_results(path: str | Path, results: Sequence[FrameResult], fmt: str | None = None) -> None:
    """Write results atomically in the format given or implied by the suffix."""
    fmt = fmt or box_format_for(path)
    text = format_results(results, fmt)
    with atomic_path(path) as tmp:
        tmp.write_text(text)
