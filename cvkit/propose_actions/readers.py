"""Feature files: BSN `csv_mean_100` CSV (header f0..fD-1), `.npy` / `.npz` [T, D], `.h5` (one dataset per video
or a single array), checked for shape and finite values."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io.arrays import read_matrix

FEATURE_SUFFIXES = (".csv", ".npy", ".npz", ".h5", ".hdf5")


def read_features(path: Path, expect_dim: int | None = None, key: str | None = None) -> np.ndarray:
    """[T, D] float32 features; InputError naming the file when unreadable, ragged, non-finite or the wrong width."""
    path = Path(path)
    suffix = path.suffix.lower()
    def read() -> np.ndarray:
        if suffix == ".csv":
            return _read_csv(path)
        if suffix == ".npy":
            return np.load(path, allow_pickle=False)
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                return z[key] if key else z[z.files[0]]
        if suffix in (".h5", ".hdf5"):
            return _read_h5(path, key)
        raise InputError(path, f"unsupported feature file type (use {', '.join(FEATURE_SUFFIXES)})")

    arr = read_matrix(path, read, "features", "snippets")
    if expect_dim is not None and arr.shape[1] != expect_dim:
        raise InputError(path, f"features have {arr.shape[1]} columns but the model expects {expect_dim}")
    return arr


def _read_csv(path: Path) -> np.ndarray:
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    if not lines:
        raise InputError(path, "empty CSV")
    first = lines[0].split(",")
    try:
        [float(v) for v in first]
        header = False
    except ValueError:
        header = True
    rows = lines[1:] if header else lines
    width = len(first)
    data = []
    for k, ln in enumerate(rows):
        vals = ln.split(",")
        if len(vals) != width:
            raise InputError(path, f"row {k + 1 + header} has {len(vals)} values, the header/first row {width}")
        try:
            data.append([float(v) for v in vals])
        except ValueError:
            raise InputError(path, f"row {k + 1 + header} holds a non-numeric value") from None
    if not data:
        raise InputError(path, "CSV has a header but no rows")
    return np.asarray(data, dtype=np.float64)


def _read_h5(path: Path, key: str | None) -> np.ndarray:
    try:
        import h5py
    except ImportError:
        raise InputError(path, "reading .h5 needs h5py (pip install h5py)") from None
    with h5py.File(path, "r") as f:
        if key is None:
            keys = list(f.keys())
            if len(keys) != 1:
                raise InputError(path, f"holds {len(keys)} datasets; name one (video id)")
            key = keys[0]
        return np.asarray(f[key])


def find_feature_file(folder: Path, video: str) -> Path | None:
    """The feature file of `video` in `folder` (`v_<id>` or `<id>`, any supported suffix), or None."""
    folder = Path(folder)
    for stem in (video, f"v_{video}", video[2:] if video.startswith("v_") else None):
        if not stem:
            continue
        for suf in FEATURE_SUFFIXES:
            p = folder / f"{stem}{suf}"
            if p.is_file():
                return p
    return None
