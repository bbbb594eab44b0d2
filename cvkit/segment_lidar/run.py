"""Batch running: collect input scans (file, folder, SemanticKITTI sequence/root) and write one output per scan.

A folder mirrors its tree under the output folder (`scans/a/b.bin` -> `OUT/a/b.label`); a SemanticKITTI layout
(`sequences/XX/velodyne/NNNNNN.bin`) writes `OUT/sequences/XX/predictions/NNNNNN.label`, where semantic-kitti-api
looks for predictions. Outputs are written atomically (no partial file on failure).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io.pointcloud import POINT_SUFFIXES, read_points, write_label, write_pcd, write_ply
from .labels import CLASS_NAMES, COLORS, train_to_raw
from .segment import Segmentation, Segmenter

OUTPUT_SUFFIXES = (".label", ".ply", ".pcd")


@dataclass
class Job:
    """One input scan and where its output goes (relative to the batch output folder)."""

    path: Path
    rel: Path


def collect_jobs(input_path: Path) -> tuple[list[Job], bool]:
    """(jobs, is_batch): a single file, or every point-cloud file under a folder."""
    input_path = Path(input_path)
    if input_path.is_file():
        return [Job(input_path, Path(input_path.name))], False
    if not input_path.is_dir():
        raise InputError(input_path, "no such file or folder")
    files = sorted(p for p in input_path.rglob("*") if p.is_file() and p.suffix.lower() in POINT_SUFFIXES)
    if not files:
        raise InputError(input_path, f"folder holds no point-cloud files ({', '.join(POINT_SUFFIXES)})")
    jobs = []
    for f in files:
        rel = f.relative_to(input_path)
        parts = rel.parts
        if f.parent.name == "velodyne" and f.suffix == ".bin":
            # SemanticKITTI: .../XX/velodyne/NNNNNN.bin -> sequences/XX/predictions/NNNNNN
            seq = f.parent.parent.name
            rel = Path("sequences") / seq / "predictions" / f.name
        elif len(parts) > 1 and parts[0] == "sequences":
            rel = Path(*parts)
        jobs.append(Job(f, rel))
    return jobs, True


def write_outputs(points: np.ndarray, seg: Segmentation, out: Path) -> None:
    """Write `.label` (raw SemanticKITTI ids, uint32), or a coloured `.ply` / `.pcd` with a label field."""
    raw = train_to_raw(seg.labels)
    suffix = out.suffix.lower()
    if suffix == ".label":
        write_label(out, raw)
    elif suffix == ".ply":
        write_ply(out, points, COLORS[seg.labels], raw)
    elif suffix == ".pcd":
        write_pcd(out, points, COLORS[seg.labels], raw)
    else:
        raise ValueError(f"unknown output format {suffix!r}")


def segment_one(segmenter: Segmenter, path: Path, outputs: list[Path]) -> tuple[np.ndarray, Segmentation, dict]:
    """Read, label and write one scan; returns the points, the segmentation and a JSON-ready summary."""
    points = read_points(path)
    seg = segmenter.segment(points)
    for out in outputs:
        write_outputs(points, seg, out)
    hist = np.bincount(seg.labels, minlength=len(CLASS_NAMES))
    summary = {"file": str(path), "points": int(len(points)), "seconds": round(seg.seconds, 4),
               "model": segmenter.name, "outputs": [str(o) for o in outputs],
               "histogram": {CLASS_NAMES[c]: int(n) for c, n in enumerate(hist) if n}}
    return points, seg, summary
