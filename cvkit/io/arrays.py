"""Numeric matrices read from users' files (feature and descriptor files): one place turns any reader failure,
a wrong shape, a non-numeric type or NaN/inf into an InputError (exit 3) naming the file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError


def read_matrix(path: Path, read: Callable[[], Any], what: str, rows: str = "rows") -> np.ndarray:
    """`read()` as a non-empty 2-D float32 matrix of finite values; `what` names the content in messages
    ("features"), `rows` what a row is ("snippets")."""
    try:
        arr = np.asarray(read())
    except InputError:
        raise
    except Exception as e:  # noqa: BLE001 - any parse failure is a bad input file
        raise InputError(path, f"cannot read {what} ({type(e).__name__}: {e})") from None
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1 or not np.issubdtype(arr.dtype, np.number):
        raise InputError(path, f"{what} must be a non-empty 2-D numeric [{rows}, dims] array, got shape "
                               f"{arr.shape} ({arr.dtype})")
    arr = arr.astype(np.float32)
    bad = ~np.isfinite(arr)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise InputError(path, f"{what} hold {int(bad.sum())} NaN/inf value(s) (first at row {r}, column {c})")
    return arr
