"""Evaluation on the SemanticKITTI layout: run a model (or read prediction `.label`s) and score per-class IoU,
mIoU, accuracy and the coarse groups with metrics.IoUEvaluator (semantic-kitti-api definitions)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError
from ..io.pointcloud import read_label
from .data import ScanItem, find_semantickitti, load_scan
from .labels import raw_to_train
from .metrics import IoUEvaluator, report
from .run import usable_points
from .segment import Segmenter

if TYPE_CHECKING:
    import torch


def evaluate_model(root: str | Path, segmenter: Segmenter, sequences: tuple[str, ...] | None = None,
                   on_scan: Callable[[ScanItem, dict], None] | None = None) -> dict:
    """Run `segmenter` on every labelled scan under `root`: the pooled report (19-class mIoU, per-class and coarse
    IoU), mean seconds per scan and `per_scan`, the same report for each scan alone."""
    items = [it for it in find_semantickitti(root, sequences) if it.label is not None]
    if not items:
        raise InputError(root, "no scans with labels/*.label to score")
    ev = IoUEvaluator()
    seconds = []
    per_scan = []
    for it in items:
        pts, gt = load_scan(it)
        seg = segmenter.segment(usable_points(pts, it.scan))  # too few usable points: InputError naming it
        ev.add(seg.labels, gt)
        seconds.append(seg.seconds)
        one = IoUEvaluator()
        one.add(seg.labels, gt)
        row = {"scan": f"{it.sequence}/{it.scan.stem}", "seconds": seg.seconds, **report(one)}
        per_scan.append(row)
        if on_scan is not None:
            on_scan(it, row)
    out = report(ev)
    out.update({"model": segmenter.name, "scans": len(items), "seconds_per_scan": float(np.mean(seconds)),
                "per_scan": per_scan})
    return out


def evaluate_predictions(root: str | Path, pred_root: str | Path, sequences: tuple[str, ...] | None = None) -> dict:
    """Score `pred_root/sequences/XX/predictions/NNNNNN.label` (or `pred_root/XX/...`) against `root`'s labels."""
    items = [it for it in find_semantickitti(root, sequences) if it.label is not None]
    pred_root = Path(pred_root)
    ev = IoUEvaluator()
    for it in items:
        cands = [pred_root / "sequences" / it.sequence / "predictions" / f"{it.scan.stem}.label",
                 pred_root / it.sequence / "predictions" / f"{it.scan.stem}.label"]
        pred_path = next((c for c in cands if c.is_file()), None)
        if pred_path is None:
            raise InputError(cands[0], "prediction missing for a labelled scan")
        gt_raw = read_label(it.label)
        pred = raw_to_train(read_label(pred_path, len(gt_raw)))
        ev.add(pred, raw_to_train(gt_raw))
    out = report(ev)
    out.update({"model": str(pred_root), "scans": len(items)})
    return out


def evaluate(root: str | Path, model: str = "default", pred: str | Path | None = None, sequences: str | None = None,
             knn: bool = True, device: Callable[[], object] = lambda: "cpu",
             log: Callable[[str], None] | None = None) -> dict:
    """`cvkit evaluate segment-lidar`: score the prediction .label files under `pred`, or run `model` (on
    `device()`, resolved only then) over the scans, logging each scan's scores; `sequences` is a comma list."""
    from . import registry

    seqs = tuple(s.strip() for s in sequences.split(",")) if sequences else None
    if pred is not None:
        return evaluate_predictions(root, pred, seqs)
    seg = registry.build_segmenter(model, device(), None, knn)

    def on_scan(item: ScanItem, one: dict) -> None:
        if log is not None:
            log(f"{one['scan']}: mIoU {one['miou']:.3f} ground {one['coarse_iou']['ground']:.3f} "
                f"({one['seconds']:.2f} s)")

    return evaluate_model(root, seg, seqs, on_scan)


def card_metrics(model: torch.nn.Module, summary: dict, root: Path) -> list[dict]:
    """A trained network scored on a SemanticKITTI root (evaluation only), as model-card metric rows."""
    from .projection import make_sensor

    cfg = summary["config"]
    sensor = make_sensor("hdl64", height=cfg["height"], width=cfg["width"])
    seg = Segmenter(summary.get("name", "trained"), model, sensor, cfg["use_remission"], knn=True)
    rep = evaluate_model(root, seg)
    data = f"SemanticKITTI {rep['scans']} scans ({root.name}; evaluation only)"
    rows = [{"data": data, "metric": f"IoU {k} (coarse)", "value": round(rep["coarse_iou"][k], 4)}
            for k in ("ground", "car", "building", "vegetation")]
    rows += [{"data": data, "metric": f"IoU {k}", "value": round(rep["iou"][k], 4)} for k in rep["present"]]
    rows.append({"data": data, "metric": "mIoU (19 classes, official)", "value": round(rep["miou"], 4)})
    rows.append({"data": data, "metric": "mIoU (classes present)", "value": round(rep["miou_present"], 4)})
    return rows
