"""Scoring: a result JSON against ActivityNet (BSN layout or the official GT file) or THUMOS-14 (G-TAD CSV)
annotations, the synthetic held-out comparison (BC-GNN vs prior vs sliding windows), and the AR-AN plot."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import InputError
from .data import load_anet, load_thumos, strip_v
from .metrics import (
    ANET_THRESHOLDS,
    THUMOS_THRESHOLDS,
    RecallCurve,
    anet_summary,
    average_recall_vs_avg_nr_proposals,
    thumos_summary,
)


def read_results(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """An ActivityNet result JSON -> video id (no `v_`) -> ([n, 2] seconds, scores)."""
    path = Path(path)
    try:
        data = json.loads(Path(path).read_text())
        results = data["results"]
        out = {}
        for vid, props in results.items():
            segs = np.array([p["segment"] for p in props], dtype=np.float64).reshape(-1, 2)
            sc = np.array([p.get("score", 0.0) for p in props], dtype=np.float64)
            out[strip_v(vid)] = (segs, sc)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise InputError(path, f"not an ActivityNet result JSON ({type(e).__name__}: {e})") from None
    return out


def evaluate_results(dataset: str, root: Path, results: dict[str, tuple[np.ndarray, np.ndarray]],
                     subset: str = "validation") -> tuple[dict, RecallCurve]:
    """AR@AN table (ActivityNet: AR@1/5/10/100 + AUC over tIoU 0.5:0.05:0.95; THUMOS: AR@50..1000 over
    0.5:0.05:1.0) and the curve."""
    if dataset == "anet":
        annos = load_anet(root)
        gt = {v: a.segments for v, a in annos.items() if (not subset or a.subset == subset) and len(a.segments)}
        curve = average_recall_vs_avg_nr_proposals(gt, results, 100, ANET_THRESHOLDS)
        summary = anet_summary(curve)
    elif dataset == "thumos":
        annos = load_thumos(root)
        gt = {v: a.segments for v, a in annos.items()}
        curve = average_recall_vs_avg_nr_proposals(gt, results, 1000, THUMOS_THRESHOLDS)
        summary = thumos_summary(curve)
    else:
        raise ValueError(f"unknown dataset {dataset!r}: use anet or thumos")
    covered = sum(1 for v in gt if v in results)
    summary.update({"videos": len(gt), "videos_with_proposals": covered,
                    "proposals": int(sum(len(r[1]) for r in results.values()))})
    return summary, curve


def plot_curve(curves: dict[str, RecallCurve], target: Path, title: str = "AR-AN") -> None:
    """PNG of average recall against average number of proposals per video, one line per named curve."""
    from .plots import curve_png

    curve_png({k: (c.proposals_per_video, c.avg_recall, c.auc) for k, c in curves.items()}, target, title)


def synthetic_comparison(model, input_kind: str, seed: int = 7, n: int = 300, train_seed: int = 0,
                         post=None, prior_videos: int = 3000, device=None) -> dict[str, dict]:
    """Held-out generated test set (seed `seed`, never trained on): BC-GNN vs the prior (fitted on the synthetic
    training annotations) vs sliding windows, AR@AN in percent, same run."""
    from .predict import propose_bcgnn, propose_prior, sliding_windows
    from .prior import PriorModel
    from .synthetic import generate_set

    test = generate_set(10_000 + seed, n)
    train = generate_set(train_seed + 1000, prior_videos)
    prior = PriorModel.fit([(s, e, 1.0) for v in train for s, e in v.segments])
    gt = {str(k): v.segments * v.duration for k, v in enumerate(test)}
    out: dict[str, dict] = {}
    runs = {
        "bcgnn": {str(k): propose_bcgnn(model, v.features, v.duration, input_kind, str(k), post, device=device)
                  for k, v in enumerate(test)},
        "prior": {str(k): propose_prior(prior, v.duration, str(k)) for k, v in enumerate(test)},
        "sliding-window": {str(k): sliding_windows(v.duration, str(k)) for k, v in enumerate(test)},
    }
    curves = {}
    for name, props in runs.items():
        res = {k: (p.segments, p.scores) for k, p in props.items()}
        curves[name] = average_recall_vs_avg_nr_proposals(gt, res, 100)
        out[name] = anet_summary(curves[name])
    out["_curves"] = curves  # type: ignore[assignment]
    return out
