"""Evaluation on standard layouts: R@{1,5} x IoU{0.3,0.5,0.7} and mIoU for the model, the blind prior and the
random baseline on the same annotations, in one table.

Layouts under --root (videos as <vid>.mp4/.avi/... in `videos/`, or precomputed `features/<vid>.npy` / `features.h5`
for a VLANet trained on them):
  charades-sta   charades_sta_test.txt (+ Charades_v1_test.csv for durations)
  qvhighlights   highlight_val_release.jsonl
  anet-captions  val_1.json (or val_2.json / test.json)
  synth-sta      generated on the fly (the shipped model's acceptance split)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ArgumentError, InputError
from ..io.video import VIDEO_SUFFIXES
from .data import FeatureStore, Query, read_annotations, read_charades_durations
from .metrics import recall_table
from .prior import load_prior

DATASETS = {"charades-sta": ("charades_sta_test.txt",), "qvhighlights": ("highlight_val_release.jsonl",),
            "anet-captions": ("val_1.json", "val_2.json", "test.json"), "synth-sta": ()}


def load_dataset(dataset: str, root: str | Path) -> list[Query]:
    """The test annotations of a layout."""
    if dataset not in DATASETS:
        raise ArgumentError(f"--dataset {dataset!r}: use one of {', '.join(DATASETS)}")
    root = Path(root)
    for name in DATASETS[dataset]:
        if (root / name).is_file():
            durations = None
            if dataset == "charades-sta" and (root / "Charades_v1_test.csv").is_file():
                durations = read_charades_durations(root / "Charades_v1_test.csv")
            return read_annotations(root / name, durations)
    raise InputError(root, f"no {' or '.join(DATASETS[dataset])} in this folder")


def find_video(root: Path, vid: str) -> Path | None:
    """videos/<vid>.<ext> (also the `v_` prefix of ActivityNet)."""
    for stem in (vid, f"v_{vid}", vid.removeprefix("v_")):
        for ext in VIDEO_SUFFIXES:
            p = root / "videos" / f"{stem}{ext}"
            if p.is_file():
                return p
    return None


def random_windows(duration: float, rng: np.random.Generator, n: int = 5) -> list[tuple[float, float]]:
    """n random windows on the 40-step grid (the random baseline)."""
    g = 40
    out = []
    for _ in range(n):
        a, b = sorted(rng.choice(g + 1, 2, replace=False))
        out.append((a * duration / g, b * duration / g))
    return out


def evaluate_dataset(dataset: str, root: str | Path, retriever, prior: str, limit: int | None = None,
                     seed: int = 0, log=print) -> dict[str, dict[str, float]]:
    """Tables {model, prior, random} on the same queries (queries whose video is missing are skipped, counted)."""
    root = Path(root)
    queries = load_dataset(dataset, root)[:limit]
    pr = load_prior(prior)
    rng = np.random.default_rng(seed)
    store = None
    if retriever.vlanet is not None and ((root / "features").is_dir() or (root / "features.h5").is_file()):
        store = FeatureStore(root / "features" if (root / "features").is_dir() else root / "features.h5")
    preds: dict[str, list] = {"model": [], "prior": [], "random": []}
    gts, missing, feats = [], 0, {}
    for q in queries:
        if store is not None:
            if q.vid not in store:
                missing += 1
                continue
            vf = _features_from_store(store[q.vid], q, retriever)
        else:
            video = find_video(root, q.vid)
            if video is None:
                missing += 1
                continue
            if q.vid not in feats:
                feats[q.vid] = retriever.features(video)[0]
            vf = feats[q.vid]
        dur = q.duration or vf.duration
        preds["model"].append([(m.start, m.end) for m in retriever.query(vf, q.sentence, 5)])
        preds["prior"].append([(s, e) for s, e, _ in pr.rank(dur, 5, retriever.nms)])
        preds["random"].append(random_windows(dur, rng))
        gts.append((q.start, q.end))
    if not gts:
        raise InputError(root, f"none of the {len(queries)} queries has its video/features under {root}")
    if missing:
        log(f"{missing} of {len(queries)} queries skipped: video/features not found")
    return {k: recall_table(v, gts) for k, v in preds.items()}


def _features_from_store(arr: np.ndarray, q: Query, retriever):
    from .visual import VideoFeatures

    cfg = retriever.vlanet.cfg
    dur = q.duration or len(arr) / cfg.feature_rate
    z = np.zeros((0, 0), np.float32)
    kind = cfg.extra.get("features", "effnet")
    if kind == "cheap":
        return VideoFeatures(z, z, arr, dur, cfg.feature_rate, 0.0, (0, 0))
    return VideoFeatures(arr, z, z, dur, cfg.feature_rate, 0.0, (0, 0), effnet_every=1)


def evaluate_tables(dataset: str, root: str | Path | None, model: str = "auto", prior: str = "charades-sta-published",
                    limit: int | None = None, device: str = "cpu", log=None) -> dict[str, dict[str, float]]:
    """`cvkit evaluate retrieve-moment`: the tables of `evaluate_dataset` on a layout under `root`, or for
    synth-sta the Synth-STA test split (the first `limit` videos, default 300) with a VLANet (auto: the shipped
    one)."""
    from ..errors import ArgumentError
    from .predict import Retriever
    from .train import synth_eval

    if dataset == "synth-sta":
        return synth_eval(model if model != "auto" else "vlanet-small-synth", limit or 300, device=device)
    if root is None:
        raise ArgumentError(f"--dataset {dataset} needs --root DIR")
    return evaluate_dataset(dataset, root, Retriever(model, prior, device), prior, limit,
                            log=log or (lambda m: None))
