"""Detection metrics: Pascal VOC AP@0.5 (VOC07 11-point and all-point area under the curve) and COCO
mAP@[.5:.95] (101-point interpolation, up to 100 detections per image), written from the official definitions.

Ground truth per image: `{"boxes": N x 4 (x1, y1, x2, y2), "labels": N, "difficult": N bool}`; detections per
image: `{"boxes": M x 4, "labels": M, "scores": M}` (numpy or lists). Images are matched by index.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..nn.detection import box_iou


def iou_matrix(a: np.ndarray, b: np.ndarray, plus_one: bool = False) -> np.ndarray:
    """Pairwise IoU (N x M); `plus_one` uses the VOC devkit's inclusive pixel widths (x2 - x1 + 1)."""
    return box_iou(a, b, plus_one=plus_one)


def voc_ap(recall: np.ndarray, precision: np.ndarray, use_07: bool = False) -> float:
    """AP from a ranked list's recall/precision: VOC07 11-point mean, or the area under the precision envelope."""
    if use_07:
        return float(np.mean([np.max(precision[recall >= t]) if np.any(recall >= t) else 0.0
                              for t in np.arange(0.0, 1.1, 0.1)]))
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.concatenate(([0.0], precision, [0.0]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))


def _get(d: dict, key: str, n: int, default) -> np.ndarray:
    v = d.get(key)
    return np.full(n, default) if v is None else np.asarray(v)


def voc_class_ap(gts: Sequence[dict], dets: Sequence[dict], cls: int, iou_thr: float = 0.5,
                 use_07: bool = False, plus_one: bool = True) -> float | None:
    """VOC AP of one class (None when the class has no non-difficult ground truth): devkit `voc_eval` rules."""
    gt_boxes, gt_diff, used = [], [], []
    npos = 0
    for g in gts:
        lab = np.asarray(g["labels"]).reshape(-1)
        sel = lab == cls
        b = np.asarray(g["boxes"], float).reshape(-1, 4)[sel]
        d = _get(g, "difficult", len(lab), False).astype(bool)[sel]
        gt_boxes.append(b)
        gt_diff.append(d)
        used.append(np.zeros(len(b), bool))
        npos += int((~d).sum())
    if npos == 0:
        return None
    img, score, box = [], [], []
    for i, d in enumerate(dets):
        lab = np.asarray(d["labels"]).reshape(-1)
        sel = lab == cls
        box.append(np.asarray(d["boxes"], float).reshape(-1, 4)[sel])
        score.append(np.asarray(d["scores"], float).reshape(-1)[sel])
        img += [i] * int(sel.sum())
    if not img:
        return 0.0
    box, score, img = np.concatenate(box), np.concatenate(score), np.asarray(img)
    order = np.argsort(-score, kind="stable")
    tp, fp = np.zeros(len(order)), np.zeros(len(order))
    for k, j in enumerate(order):
        i = img[j]
        if len(gt_boxes[i]) == 0:
            fp[k] = 1
            continue
        ious = iou_matrix(box[j][None], gt_boxes[i], plus_one)[0]
        m = int(np.argmax(ious))
        if ious[m] > iou_thr:  # devkit: strictly greater
            if gt_diff[i][m]:
                continue
            if not used[i][m]:
                tp[k], used[i][m] = 1, True
            else:
                fp[k] = 1
        else:
            fp[k] = 1
    tp, fp = np.cumsum(tp), np.cumsum(fp)
    rec = tp / npos
    prec = tp / np.maximum(tp + fp, np.finfo(float).eps)
    return voc_ap(rec, prec, use_07)


def voc_map(gts: Sequence[dict], dets: Sequence[dict], num_classes: int, iou_thr: float = 0.5,
            use_07: bool = False, plus_one: bool = True) -> dict:
    """Per-class VOC AP and their mean over classes that have ground truth."""
    per = {c: voc_class_ap(gts, dets, c, iou_thr, use_07, plus_one) for c in range(num_classes)}
    vals = [v for v in per.values() if v is not None]
    return {"map": float(np.mean(vals)) if vals else float("nan"), "per_class": per}


COCO_IOUS = np.linspace(0.5, 0.95, 10)
COCO_RECALLS = np.linspace(0.0, 1.0, 101)


def _coco_match(g: np.ndarray, ig: np.ndarray, d: np.ndarray, thr: float) -> tuple[np.ndarray, np.ndarray]:
    """COCOeval.evaluateImg matching of score-sorted detections d to gts g (ignored gts last): (matched, ignored)."""
    order = np.argsort(ig, kind="stable")
    g, ig = g[order], ig[order]
    ious = iou_matrix(d, g) if len(g) and len(d) else np.zeros((len(d), len(g)))
    gm = np.zeros(len(g), bool)
    dm, dig = np.zeros(len(d), bool), np.zeros(len(d), bool)
    for di in range(len(d)):
        best, m = min(thr, 1 - 1e-10), -1
        for gi in range(len(g)):
            if gm[gi]:
                continue
            if m > -1 and not ig[m] and ig[gi]:
                break
            if ious[di, gi] < best:
                continue
            best, m = ious[di, gi], gi
        if m >= 0:
            dm[di], dig[di], gm[m] = True, ig[m], True
    return dm, dig


def coco_map(gts: Sequence[dict], dets: Sequence[dict], num_classes: int, max_dets: int = 100) -> dict:
    """COCO AP@[.5:.95] (area 'all'): greedy per-image matching, 101-point interpolated precision, mean over
    IoU thresholds and classes with ground truth; also AP50 and AP75 in the same convention."""
    ap = np.full((len(COCO_IOUS), num_classes), -1.0)
    for c in range(num_classes):
        per_thr: list[tuple[list, list, list]] = [([], [], []) for _ in COCO_IOUS]
        npos = 0
        for g, d in zip(gts, dets, strict=True):
            gl = np.asarray(g["labels"]).reshape(-1)
            gb = np.asarray(g["boxes"], float).reshape(-1, 4)[gl == c]
            ig = (_get(g, "iscrowd", len(gl), False).astype(bool) | _get(g, "difficult", len(gl), False)
                  .astype(bool))[gl == c]
            npos += int((~ig).sum())
            dl = np.asarray(d["labels"]).reshape(-1)
            ds = np.asarray(d["scores"], float).reshape(-1)[dl == c]
            db = np.asarray(d["boxes"], float).reshape(-1, 4)[dl == c]
            o = np.argsort(-ds, kind="mergesort")[:max_dets]
            ds, db = ds[o], db[o]
            for t, thr in enumerate(COCO_IOUS):
                dm, dig = _coco_match(gb, ig, db, thr)
                per_thr[t][0].append(ds)
                per_thr[t][1].append(dm)
                per_thr[t][2].append(dig)
        if npos == 0:
            continue
        for t in range(len(COCO_IOUS)):
            s = np.concatenate(per_thr[t][0]) if per_thr[t][0] else np.zeros(0)
            order = np.argsort(-s, kind="mergesort")
            dm = np.concatenate(per_thr[t][1])[order]
            dig = np.concatenate(per_thr[t][2])[order]
            tps = np.cumsum(dm & ~dig)
            fps = np.cumsum(~dm & ~dig)
            rc = tps / npos
            pr = tps / np.maximum(tps + fps, np.spacing(1))
            pr = np.maximum.accumulate(pr[::-1])[::-1] if len(pr) else pr
            idx = np.searchsorted(rc, COCO_RECALLS, side="left")
            q = np.array([pr[i] if i < len(pr) else 0.0 for i in idx])
            ap[t, c] = float(q.mean())
    valid = ap[0] > -1
    def mean(rows: np.ndarray) -> float:
        return float(rows[:, valid].mean()) if valid.any() else float("nan")
    return {"map": mean(ap), "ap50": mean(ap[:1]), "ap75": mean(ap[5:6]),
            "per_class": {c: (float(ap[:, c].mean()) if valid[c] else None) for c in range(num_classes)}}
