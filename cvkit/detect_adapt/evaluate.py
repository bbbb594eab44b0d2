"""Scoring a detector on a labelled set: VOC AP@0.5 (all-point and VOC07 11-point) and COCO mAP@[.5:.95]."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import torch

from .metrics import coco_map, voc_map


def score(gts: list[dict], dets: list[dict], num_classes: int) -> dict:
    """VOC all-point / 11-point AP@0.5 and COCO AP of detections against ground truth (per-class included)."""
    voc = voc_map(gts, dets, num_classes)
    voc07 = voc_map(gts, dets, num_classes, use_07=True)
    coco = coco_map(gts, dets, num_classes)
    return {"map": voc["map"], "map07": voc07["map"], "coco_map": coco["map"], "coco_ap50": coco["ap50"],
            "per_class": voc["per_class"], "images": len(gts)}


def _np(d: dict) -> dict:
    return {k: (v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else v) for k, v in d.items()}


def detect_all(detector, images: Iterable[torch.Tensor], batch: int = 8, score_thr: float | None = None) -> list:
    """Detections of every image (batched, no grad, eval mode)."""
    detector.eval()
    out, buf = [], []
    for im in images:
        buf.append(im)
        if len(buf) == batch:
            out += [_np(d) for d in detector.detect(buf, score_thr)]
            buf = []
    if buf:
        out += [_np(d) for d in detector.detect(buf, score_thr)]
    return out


def evaluate_synthetic(detector, split: str = "target-test", n: int = 200) -> dict:
    """Score on the first `n` scenes of a held-out synthetic split (target-test: fog, source-test: clear)."""
    from .train import synthetic_sample

    items = [synthetic_sample(split, i) for i in range(n)]
    dets = detect_all(detector, (s.image for s in items))
    gts = [{"boxes": s.boxes.numpy(), "labels": s.labels.numpy()} for s in items]
    return score(gts, dets, detector.cfg.num_classes)


def evaluate_dataset(predictor, items: list, score_thr: float = 0.01, quiet: bool = True) -> dict:
    """Run a predictor over annotated images (`data.Annotated`) and score it (classes: the predictor's)."""
    from ..evaluation import run_on_dataset
    from .data import read_image

    class _Collect:
        def reset(self) -> None:
            self.gts, self.dets = [], []

        def process(self, item, det) -> None:
            self.gts.append(item.ground_truth())
            self.dets.append(_np(det))

        def summarise(self) -> dict:
            return score(self.gts, self.dets, len(predictor.class_names))

    rep = run_on_dataset(items, lambda it: predictor.detect([read_image(it.path)], score_thr)[0], _Collect(),
                         quiet=quiet, label="detect-adapt")
    rep["per_class"] = {predictor.class_names[k]: v for k, v in rep["per_class"].items()}
    rep["model"] = predictor.name
    return rep


def evaluate_root(model: str, dataset: str, root: str | Path, device: torch.device, quiet: bool = True) -> dict:
    """`cvkit evaluate detect-adapt`: load the model and the `dataset` layout (voc, coco or folder) at `root`,
    then score the model on it."""
    from ..errors import ArgumentError
    from .data import load_dataset
    from .registry import load_predictor

    if dataset not in ("voc", "coco", "folder"):
        raise ArgumentError(f"--dataset {dataset!r}: use voc, coco or folder")
    predictor = load_predictor(model, device)
    return evaluate_dataset(predictor, load_dataset(f"{dataset}:{root}", predictor.class_names), quiet=quiet)
