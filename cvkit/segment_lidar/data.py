"""Data: the SemanticKITTI layout (sequences/XX/velodyne/*.bin + labels/*.label) and the simulated training set.

Both yield range-image samples (normalised (5, H, W) input, (H, W) training-id targets) through the same projection
used at inference, so simulated and real scans meet the network in the same form.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import InputError
from ..io.pointcloud import read_kitti_bin, read_label
from .labels import raw_to_train
from .projection import Sensor, normalise, pixel_labels, project

TRAIN_SEQUENCES = ("00", "01", "02", "03", "04", "05", "06", "07", "09", "10")
VALID_SEQUENCES = ("08",)


@dataclass
class ScanItem:
    """One scan of a SemanticKITTI-layout folder: its `.bin` and (if present) its `.label`."""

    sequence: str
    scan: Path
    label: Path | None


def find_semantickitti(root: str | Path, sequences: tuple[str, ...] | None = None) -> list[ScanItem]:
    """All scans under `root` (a dataset root holding `sequences/`, or a single sequence folder)."""
    root = Path(root)
    if (root / "velodyne").is_dir():
        seq_dirs = [root]
    else:
        base = root / "sequences" if (root / "sequences").is_dir() else root
        seq_dirs = sorted(p for p in base.iterdir() if p.is_dir() and (p / "velodyne").is_dir()) \
            if base.is_dir() else []
    if sequences is not None:
        seq_dirs = [d for d in seq_dirs if d.name in sequences]
    items = []
    for d in seq_dirs:
        for scan in sorted((d / "velodyne").glob("*.bin")):
            lab = d / "labels" / (scan.stem + ".label")
            items.append(ScanItem(d.name, scan, lab if lab.is_file() else None))
    if not items:
        raise InputError(root, "no SemanticKITTI scans found (expected sequences/XX/velodyne/NNNNNN.bin)")
    return items


def load_scan(item: ScanItem) -> tuple[np.ndarray, np.ndarray | None]:
    """Points (N, 4) and training-id labels (N,) of a scan (labels None when the scan has none)."""
    pts = read_kitti_bin(item.scan)
    if item.label is None:
        return pts, None
    return pts, raw_to_train(read_label(item.label, len(pts)))


def augment(points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random yaw rotation, y-flip, small global scaling and point drop-out (spec 2.6 additions)."""
    p = points.copy()
    a = rng.uniform(-np.pi, np.pi)
    c, s = np.cos(a), np.sin(a)
    x, y = p[:, 0].copy(), p[:, 1].copy()
    p[:, 0], p[:, 1] = c * x - s * y, s * x + c * y
    if rng.random() < 0.5:
        p[:, 1] = -p[:, 1]
    p[:, :3] *= rng.uniform(0.95, 1.05)
    return p


def augment_heavy(points: np.ndarray, labels: np.ndarray, rng: np.random.Generator,
                  drop: float = 0.2, laser_range: float = 0.005, laser_offset: float = 0.02,
                  laser_remission: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    """Real-scan augmentation: `augment` (yaw, y-flip, scale) plus an x-flip, point drop-out and per-laser jitter.

    Drop-out removes a random fraction U(0, drop) of the points. Per-laser jitter: each of the 64 HDL-64E rings
    (from the point's pitch) gets its own range scale 1 + N(0, laser_range), range offset N(0, laser_offset) metres
    and remission gain 1 + U(-laser_remission, laser_remission): the per-laser calibration spread of real sensors.
    """
    keep = rng.random(len(points)) >= rng.uniform(0.0, drop)
    p, lab = augment(points[keep], rng), labels[keep]
    if rng.random() < 0.5:
        p[:, 0] = -p[:, 0]
    r = np.linalg.norm(p[:, :3], axis=1)
    pitch = np.degrees(np.arcsin(np.clip(p[:, 2] / np.maximum(r, 1e-6), -1.0, 1.0)))
    ring = np.clip(((3.0 - pitch) / 28.0 * 64).astype(np.int64), 0, 63)
    gain, offset = 1.0 + rng.normal(0.0, laser_range, 64), rng.normal(0.0, laser_offset, 64)
    scale = gain[ring] + offset[ring] / np.maximum(r, 1.0)  # r' = gain r + offset, along the ray
    p[:, :3] *= scale[:, None].astype(np.float32)
    p[:, 3] = np.clip(p[:, 3] * (1.0 + rng.uniform(-laser_remission, laser_remission, 64))[ring], 0.0, 1.0)
    return p, lab


def to_sample(points: np.ndarray, labels: np.ndarray, sensor: Sensor,
              use_remission: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Project a labelled scan to a (network input, pixel target) pair."""
    proj = project(points, sensor)
    x = normalise(proj.image, proj.mask, use_remission)
    y = torch.from_numpy(pixel_labels(labels, proj))
    return x, y


def simulated_batches(seed: int, sensor: Sensor, batch: int, use_remission: bool = True,
                      views_per_scene: int = 3) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless batches of augmented simulated scans (deterministic for a seed)."""
    from .simulate import build_scene, cast_scan

    rng = np.random.default_rng(seed)
    pending: list[tuple[torch.Tensor, torch.Tensor]] = []
    while True:
        scene, spots = build_scene(rng, views_per_scene)
        for spot in spots:
            scan = cast_scan(scene, rng, spot)
            keep = rng.random(len(scan.points)) > rng.uniform(0, 0.1)
            pending.append(to_sample(augment(scan.points[keep], rng), scan.labels[keep], sensor, use_remission))
            if len(pending) == batch:
                xs, ys = zip(*pending, strict=True)
                yield torch.stack(xs), torch.stack(ys)
                pending = []


def semantickitti_batches(root: str | Path, seed: int, sensor: Sensor, batch: int,
                          sequences: tuple[str, ...] = TRAIN_SEQUENCES,
                          use_remission: bool = True, heavy: bool = True
                          ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless shuffled, augmented batches from a SemanticKITTI root (labelled scans only; `augment_heavy`)."""
    items = [it for it in find_semantickitti(root, sequences) if it.label is not None]
    if not items:
        raise InputError(root, f"no labelled scans in sequences {', '.join(sequences)}")
    rng = np.random.default_rng(seed)
    pending: list[tuple[torch.Tensor, torch.Tensor]] = []
    while True:
        for i in rng.permutation(len(items)):
            pts, lab = load_scan(items[i])
            pts, lab = augment_heavy(pts, lab, rng) if heavy else (augment(pts, rng), lab)
            pending.append(to_sample(pts, lab, sensor, use_remission))
            if len(pending) == batch:
                xs, ys = zip(*pending, strict=True)
                yield torch.stack(xs), torch.stack(ys)
                pending = []
