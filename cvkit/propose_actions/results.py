"""Writers: ActivityNet result JSON, CSV ranking, JSON-lines record and a timeline PNG; all atomic."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from ..io.atomic import write_text_atomic
from .data import strip_v
from .predict import Proposals


def anet_json(items: list[Proposals], model: str = "") -> dict:
    """The ActivityNet result dict: {"version", "results": {video: [{"segment": [s, e], "score": p}]},
    "external_data"} with ids without `v_`."""
    results = {}
    for p in items:
        results[strip_v(p.video)] = [{"segment": [round(float(s), 3), round(float(e), 3)], "score": float(sc)}
                                     for (s, e), sc in zip(p.segments, p.scores, strict=True)]
    return {"version": "VERSION 1.3", "results": results,
            "external_data": {"used": False, "details": f"cvkit propose-actions {model}".strip()}}


def write_anet_json(items: list[Proposals], target: Path, model: str = "") -> None:
    """Write (atomically) and re-parse the ActivityNet result JSON."""
    text = json.dumps(anet_json(items, model))
    json.loads(text)
    write_text_atomic(target, text + "\n")


def merge_anet_json(parts: list[Path], target: Path) -> None:
    """One ActivityNet result file from several (later files win on a repeated video id)."""
    results: dict = {}
    version, external = "VERSION 1.3", {"used": False}
    for path in parts:
        d = json.loads(Path(path).read_text())
        results.update(d.get("results", {}))
        version, external = d.get("version", version), d.get("external_data", external)
    text = json.dumps({"version": version, "results": results, "external_data": external})
    json.loads(text)
    write_text_atomic(target, text + "\n")


def csv_text(items: list[Proposals]) -> str:
    """`video,rank,t_start,t_end,score,xmin,xmax,p_start,p_end,p_content` (seconds and normalised)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["video", "rank", "t_start", "t_end", "score", "xmin", "xmax", "p_start", "p_end", "p_content"])
    for p in items:
        n = len(p.scores)
        ex = {k: p.extra.get(k, np.full(n, np.nan)) for k in ("xmin", "xmax", "p_start", "p_end", "p_content")}
        for r in range(n):
            row = [strip_v(p.video), r + 1, f"{p.segments[r, 0]:.3f}", f"{p.segments[r, 1]:.3f}",
                   f"{p.scores[r]:.6g}"]
            row += ["" if np.isnan(ex[k][r]) else f"{ex[k][r]:.4f}" for k in ex]
            w.writerow(row)
    return buf.getvalue()


def write_csv(items: list[Proposals], target: Path) -> None:
    """Write the CSV ranking atomically."""
    write_text_atomic(target, csv_text(items))


def jsonl_record(p: Proposals, top: int | None = None) -> dict:
    """One JSON-lines record: video, duration and [[start, end, score], ...]."""
    k = len(p.scores) if top is None else min(top, len(p.scores))
    return {"video": strip_v(p.video), "duration": round(float(p.duration), 3),
            "proposals": [[round(float(s), 3), round(float(e), 3), round(float(c), 6)]
                          for (s, e), c in zip(p.segments[:k], p.scores[:k], strict=True)]}


def write_timeline(p: Proposals, target: Path, top: int = 10, gt: np.ndarray | None = None) -> None:
    """PNG timeline of the top proposals (brighter = higher score), GT below when given."""
    from .plots import timeline_png

    timeline_png(p.segments, p.scores, p.duration, target, f"{p.video}: top {min(top, len(p.scores))} proposals",
                 top, gt)


def output_paths(out: Path) -> dict[str, Path]:
    """Sibling outputs of a result JSON: the CSV and the timeline PNG."""
    out = Path(out)
    return {"json": out, "csv": out.with_suffix(".csv"), "png": out.with_suffix(".png")}
