"""Output files of `cvkit reid-cluster` and their readers (each written atomically).

clusters.csv   file,cluster,status,krjd,nearest_centroid   (cluster -1 = dropped: status ambiguous|unassigned)
ranking.jsonl  {"query": file, "results": [{"file", "dist", "rank"}, ...]} one line per query (rank 1-based)
index.html     contact sheet: one row per cluster (embedded JPEG thumbnails), dropped crops last
metrics.json   retrieval (mAP, CMC) and clustering (NMI, ARI, purity, coverage) scores when ids are known
"""

from __future__ import annotations

import base64
import csv
import html
import json
import math
from pathlib import Path

import cv2
import numpy as np

from ..errors import InputError
from ..io.atomic import atomic_path

CLUSTER_FIELDS = ["file", "cluster", "status", "krjd", "nearest_centroid"]


def write_clusters_csv(path: Path, files: list[str], labels: np.ndarray, status: np.ndarray, krjd: np.ndarray,
                       nearest: np.ndarray) -> None:
    """One row per crop: its cluster (-1 dropped), kept/ambiguous/unassigned, KRJD to its centroid."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(CLUSTER_FIELDS)
        for name, lab, st, j, nc in zip(files, labels, status, krjd, nearest, strict=True):
            w.writerow([name, int(lab), str(st), "" if not np.isfinite(j) else f"{float(j):.6f}", int(nc)])


def read_clusters_csv(path: Path) -> list[dict]:
    """Rows of a clusters.csv as dicts (cluster and nearest_centroid int, krjd float or None)."""
    path = Path(path)
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        raise InputError(path, f"cannot read ({e.strerror})") from None
    if rows and set(CLUSTER_FIELDS) - set(rows[0]):
        raise InputError(path, f"not a clusters.csv (expected columns {', '.join(CLUSTER_FIELDS)})")
    try:
        return [{"file": r["file"], "cluster": int(r["cluster"]), "status": r["status"],
                 "krjd": float(r["krjd"]) if r["krjd"] else None, "nearest_centroid": int(r["nearest_centroid"])}
                for r in rows]
    except ValueError as e:
        raise InputError(path, f"malformed row ({e})") from None


def ranking_records(files: list[str], dist: np.ndarray, top: int, query_files: list[str] | None = None,
                    exclude_self: bool = True) -> list[dict]:
    """Per query the `top` nearest gallery files with distances (the query itself left out)."""
    query_files = files if query_files is None else query_files
    out = []
    for i, q in enumerate(query_files):
        d = dist[i]
        order = np.argsort(d, kind="stable")
        res = []
        for j in order:
            if exclude_self and files[j] == q:
                continue
            res.append({"file": files[j], "dist": round(float(d[j]), 6), "rank": len(res) + 1})
            if len(res) >= top:
                break
        out.append({"query": q, "results": res})
    return out


def write_ranking_jsonl(path: Path, records: list[dict]) -> None:
    """ranking.jsonl, one query per line."""
    with atomic_path(path) as tmp:
        tmp.write_text("".join(json.dumps(r) + "\n" for r in records))


def read_ranking_jsonl(path: Path) -> list[dict]:
    """Records of a ranking.jsonl."""
    path = Path(path)
    out = []
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            _ = rec["query"], rec["results"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise InputError(path, f"line {lineno}: not a ranking record") from None
        out.append(rec)
    return out


def write_metrics_json(path: Path, metrics: dict) -> None:
    """metrics.json (NaN written as null)."""
    def clean(v):
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, float | np.floating):
            return None if not math.isfinite(float(v)) else float(v)
        if isinstance(v, np.integer):
            return int(v)
        return v

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(clean(metrics), indent=2) + "\n")


def _thumb(path: Path, height: int = 96) -> str:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        return ""
    w = max(1, round(img.shape[1] * height / img.shape[0]))
    ok, buf = cv2.imencode(".jpg", cv2.resize(img, (w, height)), [cv2.IMWRITE_JPEG_QUALITY, 80])
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode() if ok else ""


def write_contact_sheet(path: Path, crop_paths: list[Path], labels: np.ndarray, title: str = "reid-cluster",
                        per_row: int = 40, show_dropped: int = 80) -> None:
    """index.html: one row per cluster (largest first, up to `per_row` crops), then some dropped crops."""
    labels = np.asarray(labels)
    ids, counts = np.unique(labels[labels >= 0], return_counts=True)
    rows = []
    for c in ids[np.argsort(-counts, kind="stable")]:
        members = np.flatnonzero(labels == c)
        imgs = "".join(f'<img src="{_thumb(crop_paths[i])}" title="{html.escape(crop_paths[i].name)}">'
                       for i in members[:per_row])
        rows.append(f"<tr><th>cluster {int(c)}<br><small>{len(members)} crops</small></th><td>{imgs}</td></tr>")
    dropped = np.flatnonzero(labels < 0)
    if len(dropped):
        imgs = "".join(f'<img src="{_thumb(crop_paths[i])}" title="{html.escape(crop_paths[i].name)}">'
                       for i in dropped[:show_dropped])
        rows.append(f"<tr><th>dropped<br><small>{len(dropped)} crops</small></th><td>{imgs}</td></tr>")
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>"
            "body{font-family:sans-serif}td img{height:96px;margin:1px}th{text-align:left;vertical-align:top;"
            "padding-right:8px;white-space:nowrap}tr{border-bottom:1px solid #ccc}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p>{len(ids)} clusters, {int((labels >= 0).sum())} of {len(labels)} "
            f"crops kept</p><table>{''.join(rows)}</table></body></html>\n")
    with atomic_path(path) as tmp:
        tmp.write_text(page)
