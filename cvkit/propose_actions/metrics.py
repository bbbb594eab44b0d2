"""AR@AN and AUC exactly as the official ActivityNet proposal evaluation (`eval_proposal.py`), vectorised.

`average_recall_vs_avg_nr_proposals` follows the reference step by step: per-video proposals sorted by score, a global
ratio `AN_max * |V| / #proposals` truncates each video's list, recall is counted at 100 fractions of the kept
proposals, a ground-truth instance counts as recalled when *any* of the first n proposals reaches the tIoU threshold
(no one-to-one matching), and AUC = 100 * trapezoid(AR, AN) / AN[-1]. The reference's `np.trapz` is `np.trapezoid`
here (numpy 2.4 removed trapz); its blocked-video download is not done (pass `blocked` to drop videos instead).
Deviation kept from the reference: none known. Proposals of videos without ground truth count in the ratio's
denominator, as in the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ANET_THRESHOLDS = np.linspace(0.5, 0.95, 10)
THUMOS_THRESHOLDS = np.linspace(0.5, 1.0, 11)
THUMOS_AN = (50, 100, 200, 500, 1000)


def segment_tiou(props: np.ndarray, gts: np.ndarray) -> np.ndarray:
    """tIoU matrix [n_gt, n_prop] between [n,2] segments (seconds), as the reference's `segment_iou`."""
    props = np.asarray(props, dtype=np.float64).reshape(-1, 2)
    gts = np.asarray(gts, dtype=np.float64).reshape(-1, 2)
    s = np.maximum(gts[:, None, 0], props[None, :, 0])
    e = np.minimum(gts[:, None, 1], props[None, :, 1])
    inter = np.clip(e - s, 0, None)
    union = (props[None, :, 1] - props[None, :, 0]) + (gts[:, None, 1] - gts[:, None, 0]) - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        out = inter / union
    return np.nan_to_num(out, nan=0.0)


@dataclass
class RecallCurve:
    """Recall per (threshold, fraction), average recall and average number of proposals per video."""

    recall: np.ndarray  # [n_thresholds, 100]
    avg_recall: np.ndarray  # [100]
    proposals_per_video: np.ndarray  # [100]
    thresholds: np.ndarray

    @property
    def auc(self) -> float:
        """Area under the AR-AN curve in percent (reference: 100 * trapz(AR, AN) / AN[-1])."""
        an = self.proposals_per_video
        if an[-1] <= 0:
            return 0.0
        return float(100.0 * np.trapezoid(self.avg_recall, an) / an[-1])

    def ar_at(self, n: int, an_max: int = 100) -> float:
        """AR (percent) at AN = n: the grid point k = 100 n / an_max (as BSN/BMN read AR@1/5/10/100)."""
        k = int(round(100 * n / an_max))
        return float(100.0 * self.avg_recall[max(1, min(100, k)) - 1])


def _first_hits(tiou: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """[n_thr, n_gt]: index of the first (best-ranked) proposal with tIoU >= thr, or a huge number."""
    big = np.iinfo(np.int64).max
    out = np.full((len(thresholds), tiou.shape[0]), big, dtype=np.int64)
    if tiou.shape[1] == 0:
        return out
    for r, thr in enumerate(thresholds):
        hit = tiou >= thr
        any_hit = hit.any(axis=1)
        out[r, any_hit] = hit[any_hit].argmax(axis=1)
    return out


def average_recall_vs_avg_nr_proposals(
    ground_truth: dict[str, np.ndarray],
    proposals: dict[str, tuple[np.ndarray, np.ndarray]],
    max_avg_nr_proposals: float | None = 100,
    thresholds: np.ndarray = ANET_THRESHOLDS,
) -> RecallCurve:
    """The reference function: `ground_truth` video -> [n,2] seconds; `proposals` video -> ([n,2], scores[n])."""
    videos = [v for v, g in ground_truth.items() if len(g)]
    n_videos = len(videos)
    n_props_total = sum(len(p[1]) for p in proposals.values())
    if n_videos == 0:
        raise ValueError("no ground-truth instances to evaluate")
    if not max_avg_nr_proposals:
        max_avg_nr_proposals = n_props_total / n_videos
    ratio = max_avg_nr_proposals * n_videos / max(n_props_total, 1)
    firsts, n_kept, n_gt = [], [], []
    total = 0
    for v in videos:
        gt = np.asarray(ground_truth[v], dtype=np.float64).reshape(-1, 2)
        segs, scores = proposals.get(v, (np.zeros((0, 2)), np.zeros(0)))
        segs = np.asarray(segs, dtype=np.float64).reshape(-1, 2)
        if len(segs) == 0:  # reference: a zero tIoU column (shape[1] == 1)
            firsts.append(_first_hits(np.zeros((len(gt), 1)), thresholds))
            n_kept.append(1)
            n_gt.append(len(gt))
            continue
        order = np.asarray(scores, dtype=np.float64).argsort()[::-1]
        segs = segs[order]
        nr = min(int(len(segs) * ratio), len(segs))
        total += nr
        segs = segs[:nr]
        tiou = segment_tiou(segs, gt)
        if nr == 0:  # reference: an empty tIoU matrix of shape [n_gt, 0]
            firsts.append(_first_hits(np.zeros((len(gt), 0)), thresholds))
            n_kept.append(0)
        else:
            firsts.append(_first_hits(tiou, thresholds))
            n_kept.append(nr)
        n_gt.append(len(gt))
    pcn = np.arange(1, 101) / 100.0 * (max_avg_nr_proposals * n_videos / max(total, 1))
    recall = np.zeros((len(thresholds), 100))
    positives = float(sum(n_gt))
    for f, k in zip(firsts, n_kept, strict=True):
        limit = np.minimum((k * pcn).astype(int), k)  # [100]
        recall += (f[:, :, None] < limit[None, None, :]).sum(axis=1)
    recall /= positives
    return RecallCurve(recall, recall.mean(axis=0), pcn * (total / n_videos), np.asarray(thresholds))


def anet_summary(curve: RecallCurve) -> dict[str, float]:
    """AR@1/5/10/100 and AUC in percent (the ActivityNet proposal table)."""
    out = {f"AR@{n}": curve.ar_at(n) for n in (1, 5, 10, 100)}
    out["AUC"] = curve.auc
    return out


def thumos_summary(curve: RecallCurve) -> dict[str, float]:
    """AR@50/100/200/500/1000 in percent (curve computed with max_avg_nr_proposals = 1000)."""
    return {f"AR@{n}": curve.ar_at(n, an_max=1000) for n in THUMOS_AN}
