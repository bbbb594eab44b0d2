"""Writers for retrieved moments: JSON Lines, SRT / WebVTT cues, an overlay video with a timeline bar, and the
top moment cut to a clip. All atomic (temp file, then rename)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..errors import ArgumentError, InputError
from ..io.atomic import check_not_input, write_text_atomic
from ..io.video import VideoWriter


def write_jsonl(path: str | Path, records: list[dict]) -> None:
    """One JSON object per line."""
    write_text_atomic(path, "".join(json.dumps(r) + "\n" for r in records))


def _stamp(t: float, sep: str) -> str:
    ms = int(round(max(t, 0.0) * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def cues_text(records: list[dict], vtt: bool) -> str:
    """SRT (or WebVTT) cues: one per moment, in time order, text `#rank query (score)`."""
    cues = sorted(((m["start"], m["end"], f"#{m['rank']} {r['query']} ({m['score']:.3g})")
                   for r in records for m in r["moments"]), key=lambda c: (c[0], c[1]))
    sep = "." if vtt else ","
    blocks = [f"{'' if vtt else str(i) + chr(10)}{_stamp(s, sep)} --> {_stamp(e, sep)}\n{text}\n"
              for i, (s, e, text) in enumerate(cues, 1)]
    return ("WEBVTT\n\n" if vtt else "") + "\n".join(blocks)


def write_cues(path: str | Path, records: list[dict]) -> None:
    """SRT for .srt, WebVTT for .vtt."""
    suffix = Path(path).suffix.lower()
    if suffix not in (".srt", ".vtt"):
        raise ArgumentError(f"{path}: subtitle output must end in .srt or .vtt")
    write_text_atomic(path, cues_text(records, suffix == ".vtt"))


def write_overlay(video: str | Path, target: str | Path, record: dict) -> None:
    """Copy of the video with a timeline bar: all top-n moments shaded, the top-1 in green, a playhead, and the
    query and the current moment's rank as text."""
    dur = max(record["duration"], 1e-6)

    def draw(t: float, frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        bar_y = h - 18
        cv2.rectangle(frame, (0, bar_y), (w - 1, h - 1), (40, 40, 40), -1)
        active = None
        for m in sorted(record["moments"], key=lambda m: -m["rank"]):
            x0, x1 = int(m["start"] / dur * w), max(int(m["end"] / dur * w), int(m["start"] / dur * w) + 1)
            colour = (0, 200, 0) if m["rank"] == 1 else (0, 140, 220)
            cv2.rectangle(frame, (x0, bar_y + 3), (x1, h - 4), colour, -1 if m["rank"] == 1 else 1)
            if m["start"] <= t <= m["end"] and (active is None or m["rank"] < active):
                active = m["rank"]
        cv2.line(frame, (int(t / dur * w), bar_y), (int(t / dur * w), h - 1), (255, 255, 255), 2)
        for text, y in ((record["query"], 16), (f"moment #{active}" if active else "", 34)):
            if text:
                cv2.putText(frame, text, (6, y), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 3, cv2.LINE_AA)
                cv2.putText(frame, text, (6, y), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
        return frame

    if _rewrite(video, target, draw) == 0:
        raise InputError(video, "cannot decode video")


def _rewrite(video: str | Path, target: str | Path, edit: Callable[[float, np.ndarray], np.ndarray | None],
             end: float = math.inf) -> int:
    """Re-encode the frames of `video` before `end` seconds into `target` (atomic; nothing is left when no frame
    is written), each as `edit(t, frame)` returns it (None: leave it out); returns the number written."""
    cap = cv2.VideoCapture(str(video))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    writer, n, i = None, 0, 0
    try:
        while True:
            ok, frame = cap.read()
            if not ok or i / fps >= end:
                break
            if writer is None:
                writer = VideoWriter(target, fps, (frame.shape[1], frame.shape[0]))
            out = edit(i / fps, frame)
            if out is not None:
                writer.write(np.ascontiguousarray(out))
                n += 1
            i += 1
    except BaseException:
        if writer is not None:
            writer.close(ok=False)
        raise
    finally:
        cap.release()
    if writer is not None:
        writer.close(ok=n > 0)
    return n


def write_clip(video: str | Path, target: str | Path, start: float, end: float) -> int:
    """Re-encode frames with start <= t < end into `target`; returns the number of frames written."""
    n = _rewrite(video, target, lambda t, frame: frame if t >= start else None, end)
    if n == 0:
        raise InputError(video, f"no frames between {start:.2f} s and {end:.2f} s")
    return n


@dataclass(frozen=True)
class MomentOutputs:
    """The files `cvkit retrieve-moment` writes from its records: JSON Lines, cues, the overlay video (one
    video only) and the top moment's clip (None: not asked)."""

    jsonl: Path | None = None
    cues: Path | None = None
    overlay: Path | None = None
    clip: Path | None = None

    def check(self, videos: list[Path], batch: bool) -> None:
        """Before any work: no output is an input, and --overlay needs a single video."""
        if batch and self.overlay:
            raise ArgumentError("--overlay needs a single video, not a folder")
        for p in (self.jsonl, self.cues, self.overlay, self.clip):
            if p is not None:
                check_not_input(p, videos)

    def write(self, records: list[dict], first_video: Path) -> None:
        """Write every requested output from the query records."""
        if self.jsonl:
            write_jsonl(self.jsonl, records)
        if self.cues:
            write_cues(self.cues, records)
        if self.overlay:
            write_overlay(first_video, self.overlay, records[0])
        if self.clip and records[0]["moments"]:
            m = records[0]["moments"][0]
            write_clip(m.get("video", first_video), self.clip, m["start"], m["end"])


def moments_table(records: list[dict]) -> str:
    """Tab-separated lines: [video] rank start end score query (the video column when moments name one)."""
    return "".join(f"{m['video'] + chr(9) if 'video' in m else ''}{m['rank']}\t{m['start']:.2f}\t{m['end']:.2f}\t"
                   f"{m['score']:.4f}\t{rec['query']}\n" for rec in records for m in rec["moments"])
