"""Image reading with errors that name the file, and natural-order image listing.

OpenCV's and FFmpeg's own log lines ("[ WARN:0@1.2] ... PNG input buffer is incomplete", "[mov,mp4 @ 0x...]
moov atom not found") would print above cvkit's one-line error that names the file: `quiet_native_logs`
silences them unless the user set OPENCV_LOG_LEVEL / OPENCV_FFMPEG_LOGLEVEL themselves.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# FFmpeg reads this when OpenCV first opens a video: -8 is AV_LOG_QUIET (cvkit reports the failure itself)
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from ..errors import InputError  # noqa: E402


def quiet_native_logs() -> None:
    """Silence OpenCV's log lines (cvkit's errors name the file instead), unless OPENCV_LOG_LEVEL is set."""
    if "OPENCV_LOG_LEVEL" not in os.environ:
        try:
            cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
        except AttributeError:  # pragma: no cover - OpenCV builds without the logging module
            pass


quiet_native_logs()

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
    if not data.size:
        raise InputError(path, "empty file (0 bytes), not an image")
    try:
        img = cv2.imdecode(data, cv2.IMREAD_COLOR)
    except cv2.error as e:  # e.g. a header declaring more pixels than CV_IO_MAX_IMAGE_PIXELS
        why = "declares an image too large to decode" if "MAX_IMAGE_PIXELS" in str(e) else "cannot be decoded"
        raise InputError(path, f"{why} (corrupt or unsupported image)") from None
    if img is None:
        raise InputError(path, "not a readable image (corrupt or unsupported format)")
    return img
