"""SemanticKITTI segmentation metrics exactly as SqueezeSegV3's `modules/ioueval.py` (= semantic-kitti-api).

A (C x C) confusion matrix accumulates every point of the split, rows = prediction, columns = ground truth. Before the
statistics the ignore class (0) row and column are zeroed; per class IoU = TP / (TP + FP + FN + 1e-15);
mIoU = mean over the non-ignored classes (a class absent from both prediction and truth counts as 0, as in the
official tool); accuracy = sum TP / (sum TP + sum FP) over the non-ignored classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .labels import CLASS_NAMES, COARSE_GROUPS, IGNORE_INDEX, NUM_CLASSES, coarse_lut


@dataclass
class IoUEvaluator:
    """Accumulates a confusion matrix over scans and reports per-class IoU, mIoU and accuracy."""

    n_classes: int = NUM_CLASSES
    ignore: tuple[int, ...] = (IGNORE_INDEX,)
    conf: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.conf is None:
            self.conf = np.zeros((self.n_classes, self.n_classes), dtype=np.int64)

    @property
    def include(self) -> list[int]:
        """The classes that enter mIoU and accuracy."""
        return [c for c in range(self.n_classes) if c not in self.ignore]

    def add(self, pred: np.ndarray, gt: np.ndarray) -> None:
        """Add one scan: predicted and true training ids, same length."""
        pred = np.asarray(pred, dtype=np.int64).ravel()
        gt = np.asarray(gt, dtype=np.int64).ravel()
        if pred.shape != gt.shape:
            raise ValueError(f"prediction has {pred.size} labels, ground truth {gt.size}")
        if pred.size and (min(pred.min(), gt.min()) < 0 or max(pred.max(), gt.max()) >= self.n_classes):
            raise ValueError(f"labels must lie in 0..{self.n_classes - 1}")
        self.conf += np.bincount(pred * self.n_classes + gt, minlength=self.n_classes ** 2).reshape(
            self.n_classes, self.n_classes)

    def stats(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """TP, FP, FN per class after zeroing the ignored rows and columns."""
        conf = self.conf.astype(np.float64).copy()
        for c in self.ignore:
            conf[c, :] = 0
            conf[:, c] = 0
        tp = np.diag(conf).copy()
        fp = conf.sum(axis=1) - tp
        fn = conf.sum(axis=0) - tp
        return tp, fp, fn

    def iou(self) -> tuple[float, np.ndarray]:
        """(mIoU over the included classes, IoU per class)."""
        tp, fp, fn = self.stats()
        iou = tp / (tp + fp + fn + 1e-15)
        return float(iou[self.include].mean()), iou

    def accuracy(self) -> float:
        """Point accuracy over the included classes."""
        tp, fp, _ = self.stats()
        inc = self.include
        return float(tp[inc].sum() / (tp[inc].sum() + fp[inc].sum() + 1e-15))

    def present(self) -> list[int]:
        """Included classes that occur in the ground truth."""
        return [c for c in self.include if self.conf[:, c].sum() > 0]


def coarse_evaluator(fine: IoUEvaluator) -> IoUEvaluator:
    """Fold a 20-class confusion matrix into the coarse groups (ground, car, ..., see labels.COARSE_GROUPS)."""
    lut = coarse_lut()
    n = len(COARSE_GROUPS) + 1
    conf = np.zeros((n, n), dtype=np.int64)
    np.add.at(conf, (lut[:, None].repeat(NUM_CLASSES, 1), lut[None, :].repeat(NUM_CLASSES, 0)), fine.conf)
    return IoUEvaluator(n_classes=n, ignore=(0,), conf=conf)


def report(fine: IoUEvaluator) -> dict:
    """Per-class and coarse IoU as a JSON-ready dict (official mIoU and mIoU over the classes present)."""
    miou, iou = fine.iou()
    present = fine.present()
    coarse = coarse_evaluator(fine)
    _, ciou = coarse.iou()
    return {
        "miou": miou,
        "miou_present": float(np.mean(iou[present])) if present else 0.0,
        "accuracy": fine.accuracy(),
        "points": int(fine.conf[:, 1:].sum()),
        "iou": {CLASS_NAMES[c]: float(iou[c]) for c in fine.include},
        "present": [CLASS_NAMES[c] for c in present],
        "coarse_iou": {name: float(ciou[g]) for g, name in enumerate(COARSE_GROUPS, start=1)},
    }
