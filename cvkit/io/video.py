"""Frame sources (video file or image folder) and an atomic annotated-video writer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from ..errors import ArgumentError, InputError
from .atomic import atomic_path
from .images import list_images, read_image  # importing images also quiets FFmpeg/OpenCV log lines

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
MIN_VIDEO_SIDE = 2  # OpenCV's mp4v writer cannot open for 1-pixel frames
FOURCC = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".webm": "VP80", ".mkv": "MJPG"}


class FrameSource:
    """Frames of a video file or an image folder, read once, in order, as BGR uint8 arrays."""

    def __init__(self, path: str | Path, files: list[Path] | None = None) -> None:
        self.path = Path(path)
        self.files: list[Path] | None = None
        self.fps = 30.0
        if files is not None:
            self.files = files
        elif self.path.is_dir():
            self.files = list_images(self.path)
            if not self.files:
                raise InputError(self.path, "folder contains no images")
        elif self.path.is_file():
            cap = cv2.VideoCapture(str(self.path))
            ok, first = cap.read() if cap.isOpened() else (False, None)
            if not ok or first is None:
                cap.release()
                raise InputError(self.path, "cannot decode video (corrupt or unsupported format)")
            self.fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
            self._count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
            self._size = (first.shape[1], first.shape[0])
            cap.release()
        else:
            raise InputError(self.path, "file not found")
        if self.files is not None:
            first = read_image(self.files[0])
            self._count = len(self.files)
            self._size = (first.shape[1], first.shape[0])

    @property
    def n_frames(self) -> int:
        """Frame count (for videos, the container's claim; may be approximate)."""
        return self._count

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the first frame."""
        return self._size

    def __iter__(self) -> Iterator[np.ndarray]:
        if self.files is not None:
            for f in self.files:
                yield read_image(f)
            return
        cap = cv2.VideoCapture(str(self.path))
        try:
            while True:
                ok, frame = cap.read()
                if not ok:
                    break
                yield frame
        finally:
            cap.release()


class VideoWriter:
    """Annotated video output, written to a temp file and renamed on `close(ok=True)`."""

    def __init__(self, target: str | Path, fps: float, size: tuple[int, int]) -> None:
        target = Path(target)
        suffix = target.suffix.lower()
        if suffix not in FOURCC:
            raise ArgumentError(f"{target}: unsupported video suffix (use one of {', '.join(FOURCC)})")
        w, h = size
        if w < MIN_VIDEO_SIDE or h < MIN_VIDEO_SIDE:
            raise ArgumentError(f"{target}: the frames are {w}x{h} px, too small to encode as {suffix} video "
                                f"(needs at least {MIN_VIDEO_SIDE}x{MIN_VIDEO_SIDE}); drop -o or use --boxes only")
        self._ctx = atomic_path(target)
        self._tmp = self._ctx.__enter__()
        self._writer = cv2.VideoWriter(
            str(self._tmp), cv2.VideoWriter_fourcc(*FOURCC[suffix]), float(fps or 30.0), size
        )
        if not self._writer.isOpened():
            self.close(ok=False)
            raise ArgumentError(f"{target}: OpenCV cannot write {suffix} video here")

    def write(self, frame: np.ndarray) -> None:
        """Append one BGR frame."""
        self._writer.write(frame)

    def close(self, ok: bool = True) -> None:
        """Finish the file; with ok=False the partial file is removed."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        if ok:
            self._ctx.__exit__(None, None, None)
        else:
            err = RuntimeError("aborted")
            try:
                self._ctx.__exit__(RuntimeError, err, None)
            except RuntimeError:
                pass
