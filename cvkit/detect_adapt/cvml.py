"""PETS2009 / CVML-style per-frame box annotations (`<frame number><objectlist><object><box xc yc w h>`) and video
frames, for the real person-class check (scoring only; never trained on)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from ..errors import InputError


def read_cvml(path: str | Path) -> dict[int, np.ndarray]:
    """frame number -> N x 4 person boxes (x1, y1, x2, y2)."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        raise InputError(f"{path}:{e.position[0]}", f"malformed XML ({e})") from None
    out = {}
    for fr in root.iter("frame"):
        boxes = []
        for b in fr.iter("box"):
            xc, yc, w, h = (float(b.get(k)) for k in ("xc", "yc", "w", "h"))
            boxes.append([xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2])
        out[int(fr.get("number"))] = np.asarray(boxes, np.float32).reshape(-1, 4)
    return out


def read_frames(video: str | Path, indices: list[int]) -> list[np.ndarray]:
    """RGB uint8 frames of a video at the given (sorted) indices."""
    import cv2

    cap = cv2.VideoCapture(str(video))
    if not cap.isOpened():
        raise InputError(video, "cannot open video")
    want, out, i = set(indices), [], 0
    while len(out) < len(want):
        ok, frame = cap.read()
        if not ok:
            break
        if i in want:
            out.append(frame[:, :, ::-1].copy())
        i += 1
    cap.release()
    return out


def hog_people(rgb: np.ndarray) -> dict:
    """OpenCV's Dalal-Triggs HOG + linear SVM people detector (classical baseline): boxes, SVM scores."""
    import cv2

    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    rects, weights = hog.detectMultiScale(np.ascontiguousarray(rgb[:, :, ::-1]), winStride=(8, 8), padding=(8, 8),
                                          scale=1.05, hitThreshold=-0.5)
    rects = np.asarray(rects, np.float32).reshape(-1, 4)
    # the 64 x 128 detection window holds the person with a 16 px margin on each side (Dalal & Triggs 2005):
    # report the person's box, 32 x 96 of the window, around the window's centre
    c = rects[:, :2] + rects[:, 2:] / 2
    half = rects[:, 2:] * np.array([0.5, 0.75], np.float32) / 2
    boxes = np.c_[c - half, c + half]
    return {"boxes": boxes, "scores": np.asarray(weights, np.float32).reshape(-1),
            "labels": np.zeros(len(boxes), np.int64)}
