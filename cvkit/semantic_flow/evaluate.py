"""PCK evaluation of flow methods over a dataset layout (data.py), at original resolution, with each benchmark's
own threshold; peers on the same pairs: identity flow, OpenCV DIS and Farneback optical flow."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from ..io.images import read_image
from .data import PairRecord
from .metrics import mean_pck, pck, pck_threshold, sample_flow

FlowFn = Callable[[np.ndarray, np.ndarray], np.ndarray]

CONVENTIONS = {"img": "alpha * max(h, w) of the target image", "kpbox": "alpha * max side of the target keypoints' box",
               "bbox": "alpha * max side of the target object box (trg_bndbox)"}


def identity_flow(src: np.ndarray, tgt: np.ndarray) -> np.ndarray:
    """Each source pixel maps to the same relative position in the target (the 'no motion' baseline)."""
    h, w = src.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    sx, sy = tgt.shape[1] / w, tgt.shape[0] / h
    return np.stack([(xs + 0.5) * sx - 0.5 - xs, (ys + 0.5) * sy - 0.5 - ys], -1)


def _optical_flow(src: np.ndarray, tgt: np.ndarray, fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    h, w = src.shape[:2]
    g0 = cv2.cvtColor(src, cv2.COLOR_BGR2GRAY)
    g1 = cv2.cvtColor(cv2.resize(tgt, (w, h), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
    f = fn(g0, g1).astype(np.float32)
    ident = identity_flow(src, tgt)
    sx, sy = tgt.shape[1] / w, tgt.shape[0] / h
    return ident + f * np.array([sx, sy], np.float32)


def dis_flow(src: np.ndarray, tgt: np.ndarray) -> np.ndarray:
    """OpenCV DIS optical flow (MEDIUM preset); the target is resized to the source's size first."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return _optical_flow(src, tgt, lambda a, b: dis.calc(a, b, None))


def farneback_flow(src: np.ndarray, tgt: np.ndarray) -> np.ndarray:
    """OpenCV Farneback optical flow (5 levels, window 15)."""
    return _optical_flow(src, tgt, lambda a, b: cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 5, 15, 3, 5, 1.2, 0))


def record_threshold(rec: PairRecord, tgt_shape: tuple[int, ...]) -> float:
    """The PCK normaliser of one pair, per its benchmark's convention."""
    if rec.thres_kind == "img":
        return pck_threshold("img", image_hw=tgt_shape[:2])
    if rec.thres_kind == "kpbox":
        return pck_threshold("kpbox", keypoints=rec.trg_kps)
    return pck_threshold("bbox", bbox=rec.bbox)


def evaluate_records(records: list[PairRecord], methods: dict[str, FlowFn], alphas: tuple[float, ...] = (0.05, 0.1),
                     progress: Callable[[int, int], None] | None = None) -> dict:
    """PCK per method and alpha (mean over pairs) and per category; images read once per pair."""
    per: dict[str, dict[float, list[float]]] = {m: defaultdict(list) for m in methods}
    per_cat: dict[str, dict[str, list[float]]] = {m: defaultdict(list) for m in methods}
    for k, rec in enumerate(records):
        src, tgt = read_image(rec.source), read_image(rec.target)
        thres = record_threshold(rec, tgt.shape)
        for name, fn in methods.items():
            pred = sample_flow(fn(src, tgt), rec.src_kps)
            for a in alphas:
                v = pck(pred, rec.trg_kps, thres, a)
                per[name][a].append(v)
                if a == alphas[-1]:
                    per_cat[name][rec.category].append(v)
        if progress:
            progress(k + 1, len(records))
    kinds = sorted({r.thres_kind for r in records})
    return {"pairs": len(records), "convention": "; ".join(CONVENTIONS[k] for k in kinds),
            "pck": {m: {str(a): mean_pck(v) for a, v in d.items()} for m, d in per.items()},
            "per_category": {m: {c: mean_pck(v) for c, v in d.items()} for m, d in per_cat.items()}}


def method_functions(names: list[str], size: int = 384, device: object = "cpu") -> dict[str, FlowFn]:
    """Flow functions by name: gsf, guidance, nn (one shared SemanticFlow), identity, dis, farneback, or a path to
    trained GSFNet weights (named by its folder / file stem). ArgumentError for an unknown name."""
    from ..errors import ArgumentError
    from .learned import LearnedFlow
    from .predict import GSFParams, SemanticFlow

    fns: dict[str, FlowFn] = {}
    sf = None
    for m in names:
        if m in ("gsf", "nn", "guidance"):
            sf = sf or SemanticFlow(GSFParams(size=size), device)
            fns[m] = lambda s, t, _m=m, _sf=sf: _sf(s, t, _m).flow
        elif m in ("identity", "dis", "farneback"):
            fns[m] = {"identity": identity_flow, "dis": dis_flow, "farneback": farneback_flow}[m]
        elif Path(m).exists():
            lf = LearnedFlow.from_path(m, device)
            fns[Path(m).stem if Path(m).is_file() else Path(m).name] = lambda s, t, _f=lf: _f(s, t).flow
        else:
            raise ArgumentError(f"--model: unknown method {m!r} (gsf, nn, guidance, identity, dis, farneback, "
                                "or a trained weights path)")
    return fns


def evaluate_dataset(dataset: str, root: str | Path, methods: str = "gsf,nn", size: int = 384, split: str = "test",
                     limit: int = 0, alphas: tuple[float, ...] = (0.05, 0.1), device: object = "cpu") -> dict:
    """`cvkit evaluate semantic-flow`: read the `dataset` layout at `root` (`split` for pf-pascal/spair; the first
    `limit` pairs, 0 = all) and score the comma-separated `methods` (see `method_functions`) by PCK."""
    from ..errors import ArgumentError
    from .data import READERS

    if dataset not in READERS:
        raise ArgumentError(f"--dataset {dataset!r}: use {', '.join(READERS)}")
    records = READERS[dataset](root, split) if dataset in ("pf-pascal", "spair") else READERS[dataset](root)
    records = records[:limit] if limit else records
    fns = method_functions([m.strip() for m in methods.split(",") if m.strip()], size, device)
    return {**evaluate_records(records, fns, alphas), "dataset": dataset}
