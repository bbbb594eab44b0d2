"""Per-video visual features, extracted once and cached by content hash: frames sampled at `rate` per second
(default 4) give the cheap descriptors read by the small VLANet; every `effnet_every`-th of them (default: 1 per
second, 160x160) gives EfficientNet-Lite0 (packaged ImageNet weights) pooled 1280-d features and 1000 class
logits. The defaults keep extraction above 4x real time on a loaded 2-core CPU (benchmarks/bench_retrieve_moment.py).
A second query on the same video reads the cache and costs only the text side."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ..assets import sha256_file
from ..errors import InputError
from .cheap import cheap_features

DEFAULT_RATE = 4.0
EFFNET_SIZE = 160
EFFNET_EVERY = 4
CACHE_VERSION = "3"


@dataclass
class VideoFeatures:
    """Features of one video on a `rate` per second grid (row t covers [t/rate, (t+1)/rate))."""

    effnet: np.ndarray     # T' x 1280 at rate / effnet_every
    logits: np.ndarray     # T' x 1000
    cheap: np.ndarray      # T x 110
    duration: float
    rate: float
    fps: float
    size: tuple[int, int]
    effnet_every: int = EFFNET_EVERY

    @property
    def effnet_rate(self) -> float:
        """Rows per second of effnet/logits."""
        return self.rate / self.effnet_every


def sample_frames(path: str | Path, rate: float) -> tuple[np.ndarray, float, float, tuple[int, int]]:
    """Frames nearest to t = k / rate (decoded once, skipped frames only grabbed): (T, H, W, 3) BGR, duration (s),
    fps, (width, height). InputError for unreadable or zero-length videos."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise InputError(path, "cannot open video (corrupt or unsupported format)")
    fps = cap.get(cv2.CAP_PROP_FPS)
    fps = fps if fps and 1 <= fps <= 240 else 30.0
    frames, i, nxt = [], 0, 0.0
    size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    try:
        while True:
            if not cap.grab():
                break
            if i / fps + 1e-6 >= nxt:
                ok, f = cap.retrieve()
                if ok and f is not None:
                    frames.append(cv2.resize(f, (EFFNET_SIZE, EFFNET_SIZE), interpolation=cv2.INTER_AREA))
                    nxt += 1.0 / rate
            i += 1
    finally:
        cap.release()
    if not frames or i == 0:
        raise InputError(path, "no decodable frames (empty, zero-length or unsupported video)")
    return np.stack(frames), i / fps, fps, size


class EffNetExtractor:
    """EfficientNet-Lite0 pooled features and ImageNet logits for batches of frames (BN folded, inference mode)."""

    def __init__(self, device: torch.device | str = "cpu") -> None:
        from ..nn.efficientnet_lite import fold_batchnorm, load_efficientnet_lite0

        self.net = fold_batchnorm(load_efficientnet_lite0(True)).to(device).eval()
        self.device = torch.device(device)

    @torch.inference_mode()
    def __call__(self, frames_bgr: np.ndarray, batch: int = 16) -> tuple[np.ndarray, np.ndarray]:
        """(T, H, W, 3) BGR -> (T x 1280 pooled features, T x 1000 logits)."""
        net = self.net
        feats, logits = [], []
        for i in range(0, len(frames_bgr), batch):
            x = torch.from_numpy(np.ascontiguousarray(frames_bgr[i:i + batch, :, :, ::-1]))
            x = x.to(self.device).permute(0, 3, 1, 2).float().div_(255.0)
            x = net.normalize(x).contiguous(memory_format=torch.channels_last)
            h = net.features(x, len(net._blocks) - 1)
            h = F.relu6(net._bn1(net._conv_head(h))).mean((2, 3))
            feats.append(h.float().cpu())
            logits.append(net._fc(h).float().cpu())
        return torch.cat(feats).numpy(), torch.cat(logits).numpy()


def default_cache_dir() -> Path:
    """$CVKIT_CACHE/retrieve-moment, else ~/.cache/cvkit/retrieve-moment."""
    root = os.environ.get("CVKIT_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "cvkit")
    return Path(root) / "retrieve-moment"


def cache_dir_for(cache: Path | None, output: Path | None) -> Path:
    """The feature cache of a run: --cache, else .cvkit-features beside the -o file, else `default_cache_dir()`."""
    return cache or ((output.parent / ".cvkit-features") if output else default_cache_dir())


def extract(path: str | Path, rate: float = DEFAULT_RATE, cache_dir: str | Path | None = None,
            extractor: EffNetExtractor | None = None, device: str = "cpu") -> tuple[VideoFeatures, bool]:
    """Features of one video, from the cache when present; returns (features, cache_hit)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    if path.stat().st_size == 0:
        raise InputError(path, "zero-length file")
    cache_file = None
    if cache_dir is not None:
        key = f"{sha256_file(path)}-r{rate:g}-v{CACHE_VERSION}"  # renamed or copied videos hit the same entry
        cache_file = Path(cache_dir) / f"{key}.npz"
        if cache_file.is_file():
            try:
                z = np.load(cache_file)
                return VideoFeatures(z["effnet"].astype(np.float32), z["logits"].astype(np.float32),
                                     z["cheap"], float(z["duration"]), float(z["rate"]), float(z["fps"]),
                                     tuple(int(v) for v in z["size"])), True
            except (OSError, ValueError, KeyError):
                pass  # a damaged cache entry is recomputed
    frames, duration, fps, size = sample_frames(path, rate)
    ext = extractor or EffNetExtractor(device)
    feats, logits = ext(frames[::EFFNET_EVERY])
    vf = VideoFeatures(feats, logits, cheap_features(frames, rate), duration, rate, fps, size)
    if cache_file is not None:
        from ..io.atomic import atomic_path

        with atomic_path(cache_file) as tmp, open(tmp, "wb") as f:
            np.savez(f, effnet=feats.astype(np.float16), logits=logits.astype(np.float16), cheap=vf.cheap,
                     duration=duration, rate=rate, fps=fps, size=np.asarray(size))
    return vf, False
