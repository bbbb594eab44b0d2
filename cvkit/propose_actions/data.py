"""Dataset layouts: ActivityNet-1.3 as prepared by BSN (anet_anno_action.json + video_info_new.csv, csv_mean_100
features) and THUMOS-14 as in G-TAD (`*_Annotation.csv`, per-video feature arrays)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError


@dataclass
class VideoAnno:
    """One video: id (without `v_`), duration in seconds, corrected (feature) duration, GT segments, subset."""

    video: str
    duration: float
    feature_duration: float
    segments: np.ndarray  # [n, 2] seconds
    subset: str = ""
    labels: list[str] = field(default_factory=list)


def strip_v(video: str) -> str:
    """ActivityNet ids without BSN's `v_` prefix (the official GT file's form)."""
    return video[2:] if video.startswith("v_") else video


def load_anet(root: Path) -> dict[str, VideoAnno]:
    """Read BSN's anet_anno_action.json (+ video_info_new.csv subsets when present) under `root` (or the json)."""
    root = Path(root)
    anno_path = root if root.is_file() else root / "anet_anno_action.json"
    info_path = anno_path.parent / "video_info_new.csv"
    try:
        data = json.loads(anno_path.read_text())
    except (OSError, ValueError) as e:
        raise InputError(anno_path, f"cannot read ActivityNet annotations ({e})") from None
    if "database" in data:  # the official activity_net.v1-3.min.json
        return _from_official(data["database"])
    subsets: dict[str, str] = {}
    if info_path.exists():
        with open(info_path, newline="") as f:
            for row in csv.DictReader(f):
                subsets[strip_v(row["video"])] = row.get("subset", "")
    out = {}
    for key, v in data.items():
        vid = strip_v(key)
        dur = float(v["duration_second"])
        ff, df = v.get("feature_frame"), v.get("duration_frame")
        fdur = float(ff) / float(df) * dur if ff and df else dur
        segs = np.array([a["segment"] for a in v.get("annotations", [])], dtype=np.float64).reshape(-1, 2)
        labels = [a.get("label", "") for a in v.get("annotations", [])]
        out[vid] = VideoAnno(vid, dur, fdur, segs, subsets.get(vid, v.get("subset", "")), labels)
    return out


def _from_official(db: dict) -> dict[str, VideoAnno]:
    out = {}
    for vid, v in db.items():
        segs = np.array([a["segment"] for a in v.get("annotations", [])], dtype=np.float64).reshape(-1, 2)
        dur = float(v.get("duration", 0.0))
        out[vid] = VideoAnno(vid, dur, dur, segs, v.get("subset", ""), [a.get("label", "") for a in
                                                                          v.get("annotations", [])])
    return out


def load_thumos_csv(path: Path) -> dict[str, VideoAnno]:
    """G-TAD THUMOS annotations `video,type,type_idx,start,end,startFrame,endFrame` (duration unknown: max end)."""
    path = Path(path)
    rows: dict[str, list[tuple[float, float]]] = {}
    labels: dict[str, list[str]] = {}
    try:
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                rows.setdefault(row["video"], []).append((float(row["start"]), float(row["end"])))
                labels.setdefault(row["video"], []).append(row.get("type", ""))
    except (OSError, KeyError, ValueError) as e:
        raise InputError(path, f"not a THUMOS annotation CSV (video,type,type_idx,start,end,...): {e}") from None
    out = {}
    for v, segs in rows.items():
        a = np.array(segs, dtype=np.float64).reshape(-1, 2)
        out[v] = VideoAnno(v, float(a[:, 1].max()), float(a[:, 1].max()), a, "test", labels[v])
    return out


def load_thumos(root: Path) -> dict[str, VideoAnno]:
    """THUMOS GT: a G-TAD `test_Annotation.csv` file, or a folder holding it (or `thumos_annotations/`)."""
    root = Path(root)
    for cand in (root, root / "test_Annotation.csv", root / "thumos_annotations" / "test_Annotation.csv"):
        if cand.is_file():
            return load_thumos_csv(cand)
    csvs = sorted(root.glob("*Annotation*.csv")) if root.is_dir() else []
    if csvs:
        return load_thumos_csv(csvs[-1])
    raise InputError(root, "no THUMOS annotation CSV (test_Annotation.csv) found")
