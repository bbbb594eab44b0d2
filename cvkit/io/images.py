"""Image reading with errors that name the file, and natural-order image listing."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np

from ..errors import InputError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


def natural_key(path: Path) -> list[object]:
    """Sort key that orders `img2` before `img10`."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]


def list_images(folder: Path) -> list[Path]:
    """Image files directly inside `folder`, in natural order."""
    return sorted((p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), key=natural_key)


def read_image(path: str | Path) -> np.ndarray:
    """Read an image as BGR uint8 (H, W, 3); raise InputError if missing or undecodable."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    data = np.fromfile(str(path), dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if img is None:
        raise InputError(path, "not a readable image (corrupt or unsupported format)")
    return img
