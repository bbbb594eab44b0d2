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
                          use_remission: bool = True) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless shuffled, augmented batches from a SemanticKITTI root (labelled scans only)."""
    items = [it for it in find_semantickitti(root, sequences) if it.label is not None]
    if not items:
        raise InputError(root, f"no labelled scans in sequences {', '.join(sequences)}")
    rng = np.random.default_rng(seed)
    pending: list[tuple[torch.Tensor, torch.Tensor]] = []
    while True:
        for i in rng.permutation(len(items)):
            pts, lab = load_scan(items[i])
            pending.append(to_sample(augment(pts, rng), lab, sensor, use_remission))
            if len(pending) == batch:
                xs, ys = zip(*pending, strict=True)
                yield torch.stack(xs), torch.stack(ys)
                pending = []
