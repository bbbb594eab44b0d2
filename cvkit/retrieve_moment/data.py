"""Annotation readers (Charades-STA txt, Moment-DETR/QVHighlights JSONL, ActivityNet-Captions JSON) and
precomputed clip features (`.npy` per video or one `.h5` with a dataset per video)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError


@dataclass
class Query:
    """One (video, sentence, ground-truth window) annotation; times in seconds, duration when known."""

    vid: str
    sentence: str
    start: float
    end: float
    duration: float | None = None


def read_charades_sta(path: str | Path, durations: dict[str, float] | None = None) -> list[Query]:
    """Charades-STA lines `VIDEOID start end##sentence` (the TALL release format)."""
    path = Path(path)
    out = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(path, f"cannot read annotations ({e})") from None
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        head, sep, sentence = line.partition("##")
        parts = head.split()
        if not sep or len(parts) != 3:
            raise InputError(path, f"line {i}: expected 'VIDEOID start end##sentence'")
        try:
            s, e = float(parts[1]), float(parts[2])
        except ValueError:
            raise InputError(path, f"line {i}: start/end are not numbers") from None
        dur = durations.get(parts[0]) if durations else None
        out.append(Query(parts[0], sentence.strip(), s, e, dur))
    return out


def read_charades_durations(path: str | Path) -> dict[str, float]:
    """Video lengths from Charades_v1_{train,test}.csv (columns `id` and `length`)."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            return {r["id"]: float(r["length"]) for r in csv.DictReader(f)}
    except (OSError, KeyError, ValueError) as e:
        raise InputError(path, f"not a Charades csv with id/length columns ({e})") from None


def read_moment_detr(path: str | Path) -> list[Query]:
    """Moment-DETR / QVHighlights JSONL: one query per line, every relevant window becomes a Query."""
    path = Path(path)
    out = []
    for i, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            for s, e in r.get("relevant_windows") or [[0.0, 0.0]]:
                out.append(Query(str(r["vid"]), r["query"], float(s), float(e), float(r["duration"])))
        except (ValueError, KeyError, TypeError) as e:
            raise InputError(path, f"line {i}: not a Moment-DETR record ({e})") from None
    return out


def read_anet_captions(path: str | Path) -> list[Query]:
    """ActivityNet-Captions JSON `{vid: {duration, timestamps, sentences}}`."""
    path = Path(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return [Query(vid, sent.strip(), float(s), float(e), float(r["duration"]))
                for vid, r in data.items() for (s, e), sent in zip(r["timestamps"], r["sentences"], strict=True)]
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise InputError(path, f"not ActivityNet-Captions JSON ({e})") from None


def read_annotations(path: str | Path, durations: dict[str, float] | None = None) -> list[Query]:
    """Pick the reader by suffix: .txt Charades-STA, .jsonl Moment-DETR, .json ActivityNet-Captions."""
    suffix = Path(path).suffix.lower()
    if suffix == ".jsonl":
        return read_moment_detr(path)
    if suffix == ".json":
        return read_anet_captions(path)
    return read_charades_sta(path, durations)


class FeatureStore:
    """Per-video clip features (T x C float32) from a folder of `<vid>.npy` or an `.h5` file of `/<vid>`."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._h5 = None
        if self.root.is_file() and self.root.suffix in (".h5", ".hdf5"):
            try:
                import h5py
            except ImportError:
                raise InputError(self.root, ".h5 features need h5py (pip install h5py)") from None
            self._h5 = h5py.File(self.root, "r")
        elif not self.root.is_dir():
            raise InputError(self.root, "features must be a folder of <vid>.npy or an .h5 file")

    def __contains__(self, vid: str) -> bool:
        return (vid in self._h5) if self._h5 is not None else (self.root / f"{vid}.npy").is_file()

    def __getitem__(self, vid: str) -> np.ndarray:
        if self._h5 is not None:
            arr = np.asarray(self._h5[vid])
        else:
            arr = np.load(self.root / f"{vid}.npy")
        if arr.ndim != 2:
            raise InputError(self.root, f"features of {vid} have shape {arr.shape}, expected (T, C)")
        return arr.astype(np.float32)
