"""Per-snippet features of a raw video: the ImageNet EfficientNet-Lite0 trunk (pooled 1280-D head activation of
the snippet's centre frame) plus cheap motion cues (frame-difference energy and Farneback flow statistics).

Snippets are `stride` frames long (16, as on ActivityNet); frames are read once. The appearance part is
L2-normalised and the 12 motion values are z-scored over the video and scaled so both parts weigh alike in the
self-similarity profile the shipped model reads. None of this is action-trained: it finds appearance changes and
motion bursts, not action semantics (docs/propose-actions.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from ..errors import InputError
from ..io.video import FrameSource

MOTION_DIM = 12  # diff energy, flow mean/std/max magnitude, 8-bin orientation histogram


@dataclass
class VideoFeatures:
    """Snippet features [L, D], video duration (s), fps and snippet stride (frames)."""

    features: np.ndarray
    duration: float
    fps: float
    stride: int


def motion_cues(prev: np.ndarray, cur: np.ndarray) -> np.ndarray:
    """12 motion values between two small grey frames: |diff| energy, flow magnitude mean/std/p95, 8 orientations."""
    diff = float(np.abs(cur.astype(np.float32) - prev.astype(np.float32)).mean() / 255.0)
    flow = cv2.calcOpticalFlowFarneback(prev, cur, None, 0.5, 2, 9, 2, 5, 1.1, 0)
    mag, ang = cv2.cartToPolar(flow[..., 0], flow[..., 1])
    hist = np.bincount((ang.reshape(-1) / (2 * np.pi) * 8).astype(int) % 8, weights=mag.reshape(-1), minlength=8)
    hist = hist / (hist.sum() + 1e-6)
    return np.r_[diff, mag.mean(), mag.std(), np.percentile(mag, 95), hist].astype(np.float32)


def extract_video_features(path: Path, stride: int = 16, device: torch.device | None = None, size: int = 224,
                           batch: int = 16, on_progress: Callable[[int], None] | None = None) -> VideoFeatures:
    """Read a video once and return its snippet features; InputError when it is too short for one snippet."""
    from ..nn.efficientnet_lite import fold_batchnorm, load_efficientnet_lite0

    src = FrameSource(path)
    device = device or torch.device("cpu")
    nets: list = []
    centres: list[np.ndarray] = []
    motion: list[np.ndarray] = []
    appearance: list[np.ndarray] = []
    acc = np.zeros(MOTION_DIM, dtype=np.float64)
    pairs = 0
    prev_small = None
    n = 0

    def flush() -> None:
        if not centres:
            return
        if not nets:
            nets.append(fold_batchnorm(load_efficientnet_lite0()).to(device).eval())
        net = nets[0]
        x = np.stack([cv2.resize(cv2.cvtColor(f, cv2.COLOR_BGR2RGB), (size, size), interpolation=cv2.INTER_AREA)
                      for f in centres]).astype(np.float32) / 255.0
        t = torch.from_numpy(x).permute(0, 3, 1, 2).to(device)
        with torch.inference_mode():
            h = net.features(net.normalize(t), len(net._blocks) - 1)
            h = torch.nn.functional.relu6(net._bn1(net._conv_head(h))).mean((2, 3))
        appearance.extend(h.float().cpu().numpy())
        centres.clear()

    for frame in src:
        small = cv2.cvtColor(cv2.resize(frame, (160, int(160 * frame.shape[0] / frame.shape[1]))),
                             cv2.COLOR_BGR2GRAY)
        if prev_small is not None:
            acc += motion_cues(prev_small, small)
            pairs += 1
        prev_small = small
        k = n % stride
        if k == stride // 2:
            centres.append(frame)
        n += 1
        if k == stride - 1:
            motion.append((acc / max(pairs, 1)).astype(np.float32))
            acc[:] = 0
            pairs = 0
            if len(centres) >= batch:
                flush()
            if on_progress:
                on_progress(len(motion))
    snippets = n // stride
    if snippets < 1:
        raise InputError(path, f"video has {n} frames; one snippet needs {stride} (--stride-frames)")
    centres[:] = centres[: max(0, snippets - len(appearance))]
    flush()
    app = np.asarray(appearance[:snippets], dtype=np.float32)
    mot = np.asarray(motion[:snippets], dtype=np.float32)
    app = app / (np.linalg.norm(app, axis=1, keepdims=True) + 1e-8)
    mz = (mot - mot.mean(0)) / (mot.std(0) + 1e-6) if snippets > 1 else np.zeros_like(mot)
    feats = np.concatenate([app, mz * (1.0 / np.sqrt(MOTION_DIM))], axis=1)
    fps = float(src.fps or 30.0)
    return VideoFeatures(feats, n / fps, fps, stride)
