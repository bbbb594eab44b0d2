"""Scoring of trackers' result files in the benchmarks' standard layouts, and writers for those layouts.

`evaluate_results` reads `<results>/<tracker>/...` exactly where each benchmark's toolkit would (see
`datasets.result_path`) and returns one JSON-ready metrics dict per tracker:
* otb / lasot / folder: auc, p20, np20, np_auc, np (the one picked by `norm_prec`), mean_iou, sr50 and the
  success / precision / normalised-precision curves (sequence-weighted means, pysot/OTB style);
* got10k: ao, sr50, sr75, fps and the 101-point success curve (frame-weighted over all repetitions);
* vot: accuracy, robustness (failures per 100 frames), failures (mean count per run), eao and its curve.
Each dict also has n_sequences, n_frames, per_sequence and missing (sequences without a result file).
No CLI code here: the `cvkit evaluate track` command renders these dicts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from collections.abc import Sequence as Seq
from pathlib import Path

import numpy as np

from ..errors import ArgumentError, InputError
from ..io.atomic import write_text_atomic
from ..io.boxes import polygon_to_area_preserving
from . import metrics as M
from .base import Tracker
from .datasets import (
    Sequence,
    list_sequences,
    read_result,
    read_times,
    read_vot_result,
    result_path,
    sequence_resolution,
    time_path,
)

OPTIONS = ("split", "seqs", "include_first", "count_invalid", "norm_prec", "year", "eao_range", "burnin",
           "skipping", "sequences")


def _jsonable(d: dict) -> dict:
    """Numpy arrays and scalars in a metrics dict turned into lists and floats."""
    out = {}
    for k, v in d.items():
        if isinstance(v, np.ndarray):
            out[k] = [float(x) for x in v]
        elif isinstance(v, np.floating | np.integer):
            out[k] = v.item()
        else:
            out[k] = v
    return out


def _norm_dataset(dataset: str) -> str:
    """Canonical dataset key ('got-10k' -> 'got10k')."""
    ds = dataset.lower().replace("-", "").replace("_", "")
    if ds not in ("otb", "got10k", "lasot", "vot", "folder"):
        raise ArgumentError(f"unknown dataset {dataset!r}; use otb, got10k, lasot, vot or folder")
    return ds


def find_trackers(dataset: str, results: Path, seq_names: Iterable[str]) -> tuple[Path, list[str]]:
    """(folder holding tracker folders, tracker names); `results` may also be one tracker's own folder."""
    ds = _norm_dataset(dataset)
    results = Path(results)
    if not results.is_dir():
        raise InputError(results, "results folder not found")
    names = list(seq_names)
    if ds == "vot":
        own = (results / "baseline").is_dir()
    elif ds == "got10k":
        own = any((results / n).is_dir() for n in names)
    else:
        own = any((results / f"{n}.txt").is_file() for n in names)
    if own:
        return results.parent, [results.name]
    trackers = sorted(p.name for p in results.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not trackers:
        raise InputError(results, "no tracker result folders inside")
    return results, trackers


def _guess_vot_year(root: Path) -> int:
    """VOT edition from the dataset root name (VOT2016 ... VOT2019), default 2018."""
    m = re.search(r"20(1[6-9])", Path(root).name)
    return 2000 + int(m.group(1)) if m else 2018


def evaluate_results(dataset: str, root: Path, results: Path, trackers: list[str] | None = None,
                     **options: object) -> dict[str, dict]:
    """Score every tracker's result files against the benchmark at `root`; {tracker: metrics dict}.

    Options: split, seqs (names to keep), include_first (True), count_invalid (False), norm_prec
    ('at0.2' | 'auc'), year / eao_range (VOT), burnin (10), skipping (5), sequences (pre-read list).
    """
    unknown = set(options) - set(OPTIONS)
    if unknown:
        raise ArgumentError(f"unknown evaluation option(s): {', '.join(sorted(unknown))}")
    ds = _norm_dataset(dataset)
    seqs: list[Sequence] = list(options.get("sequences") or list_sequences(Path(root), ds, options.get("split")))
    wanted = options.get("seqs")
    if wanted:
        keep = set(wanted)
        unknown_seqs = keep - {s.name for s in seqs}
        if unknown_seqs:
            raise ArgumentError(f"sequence(s) not in the dataset: {', '.join(sorted(unknown_seqs))}")
        seqs = [s for s in seqs if s.name in keep]
    base, found = find_trackers(ds, Path(results), [s.name for s in seqs])
    names = trackers or found
    out: dict[str, dict] = {}
    for tracker in names:
        if not (base / tracker).is_dir():
            raise InputError(base / tracker, "tracker result folder not found")
        if ds == "got10k":
            out[tracker] = _eval_got10k(seqs, base, tracker)
        elif ds == "vot":
            rng = options.get("eao_range") or int(options.get("year") or _guess_vot_year(Path(root)))
            out[tracker] = _eval_vot(seqs, base, tracker, rng, int(options.get("burnin", M.VOT_BURNIN)),
                                     int(options.get("skipping", M.VOT_SKIPPING)))
        else:
            out[tracker] = _eval_ope(ds, seqs, base, tracker, bool(options.get("include_first", True)),
                                     bool(options.get("count_invalid", False)),
                                     str(options.get("norm_prec", "at0.2")))
    return out


def _eval_ope(ds: str, seqs: list[Sequence], base: Path, tracker: str, include_first: bool,
              count_invalid: bool, norm_prec: str) -> dict:
    """OTB/LaSOT-style one-pass evaluation of one tracker."""
    if norm_prec not in ("at0.2", "auc"):
        raise ArgumentError(f"norm_prec {norm_prec!r}: use 'at0.2' or 'auc'")
    per_seq, missing = {}, []
    for seq in seqs:
        path = result_path(ds, base, tracker, seq.name)
        if seq.gt is None or not path.is_file():
            missing.append(seq.name)
            continue
        pred = read_result(path, one_based=bool(seq.extras.get("one_based", False)))
        per_seq[seq.name] = M.ope_sequence(pred, seq.gt, include_first, count_invalid)
    if not per_seq:
        raise InputError(base / tracker, "no result file for any sequence")
    agg = M.ope_dataset(list(per_seq.values()))
    agg["np"] = agg["np20"] if norm_prec == "at0.2" else agg["np_auc"]
    agg["norm_prec"] = norm_prec
    agg["per_sequence"] = {n: {k: r[k] for k in ("auc", "p20", "np20", "np_auc", "mean_iou", "sr50", "n_frames")}
                           for n, r in per_seq.items()}
    agg["missing"] = missing
    return _jsonable(agg)


def _eval_got10k(seqs: list[Sequence], base: Path, tracker: str) -> dict:
    """GOT-10k evaluation of one tracker: all repetitions, frame-weighted."""
    ious, times, per_seq, missing = [], [], {}, []
    for seq in seqs:
        folder = base / tracker / seq.name
        files = sorted(folder.glob(f"{seq.name}_[0-9]*.txt")) if folder.is_dir() else []
        if seq.gt is None or not files:
            missing.append(seq.name)
            continue
        bound = sequence_resolution(seq)
        cover = seq.extras.get("cover")
        seq_ious = np.concatenate([M.got10k_ious(read_result(f), seq.gt, bound, cover) for f in files])
        tfile = time_path(base, tracker, seq.name)
        seq_times = read_times(tfile) if tfile.is_file() else np.array([])
        ious.append(seq_ious)
        times.append(seq_times)
        s = M.got10k_scores(seq_ious, seq_times)
        per_seq[seq.name] = {k: s[k] for k in ("ao", "sr50", "sr75", "fps", "n_frames")} | {"runs": len(files)}
    if not per_seq:
        raise InputError(base / tracker, "no result file for any sequence")
    agg = M.got10k_scores(np.concatenate(ious), np.concatenate(times))
    agg |= {"n_sequences": len(per_seq), "per_sequence": per_seq, "missing": missing}
    return _jsonable(agg)


def _eval_vot(seqs: list[Sequence], base: Path, tracker: str, eao_range: tuple[int, int] | int,
              burnin: int, skipping: int) -> dict:
    """VOT reset-based evaluation of one tracker from its result files (pysot accounting)."""
    acc_overlaps, fail_counts, eao_runs, per_seq, missing = [], [], [], {}, []
    n_frames = 0
    for seq in seqs:
        folder = base / tracker / "baseline" / seq.name
        files = sorted(folder.glob(f"{seq.name}_[0-9][0-9][0-9].txt")) if folder.is_dir() else []
        if seq.gt is None or not files:
            missing.append(seq.name)
            continue
        gt_poly = seq.polygons if seq.polygons is not None else M.box_to_polygon(seq.gt)
        size = sequence_resolution(seq)
        acc_bound = size
        eao_bound = None if size is None else (size[0] - 1, size[1] - 1)
        runs_acc, runs_fail = [], []
        for f in files:
            codes, regions = read_vot_result(f)
            runs_acc.append(M.vot_overlaps(codes, regions, gt_poly, acc_bound, burnin))
            ov = M.vot_overlaps(codes, regions, gt_poly, eao_bound, 0)
            fails = M.vot_failures(codes)
            runs_fail.append(len(fails))
            eao_runs.append((ov, fails))
        acc_overlaps.append(runs_acc)
        fail_counts.append(runs_fail)
        n = min(len(r) for r in runs_acc)
        n_frames += n
        per_seq[seq.name] = {"accuracy": M.vot_accuracy([runs_acc]), "failures": float(np.mean(runs_fail)),
                             "n_frames": n, "runs": len(files)}
    if not per_seq:
        raise InputError(base / tracker, "no result file for any sequence")
    robustness, failures = M.vot_robustness(fail_counts, n_frames)
    eao, curve = M.expected_average_overlap(eao_runs, eao_range, skipping)
    rng = M.EAO_RANGES[eao_range] if isinstance(eao_range, int) else tuple(eao_range)
    return _jsonable({"accuracy": M.vot_accuracy(acc_overlaps), "robustness": robustness, "failures": failures,
                      "eao": eao, "eao_range": list(rng), "eao_curve": curve, "n_sequences": len(per_seq),
                      "n_frames": n_frames, "per_sequence": per_seq, "missing": missing})


# ----------------------------------------------------------------------------------------------------------
# writers


def format_boxes(boxes: np.ndarray, one_based: bool = False) -> str:
    """One `x,y,w,h` line per box (3 decimals, like the got10k toolkit); `one_based` adds 1 to x and y."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4).copy()
    if one_based:
        b[:, :2] += 1.0
    return "".join(",".join(f"{v:.3f}" for v in row) + "\n" for row in b)


def format_vot_entries(entries: Iterable[int | Seq[float] | np.ndarray]) -> str:
    """VOT result lines: an int code (1 init, 2 failure, 0 skipped) or a region (4 or 8 values)."""
    lines = []
    for e in entries:
        if isinstance(e, int | np.integer):
            lines.append(str(int(e)))
        else:
            vals = np.asarray(e, dtype=np.float64).ravel()
            if len(vals) not in (4, 8):
                raise ArgumentError(f"VOT region with {len(vals)} values; expected 4 or 8")
            lines.append(",".join(f"{v:.4f}" for v in vals))
    return "\n".join(lines) + "\n"


def write_times(path: Path, times: Seq[float] | np.ndarray, repetition: int = 1) -> None:
    """Write per-frame seconds as column `repetition` of a GOT-10k `_time.txt` (other columns kept)."""
    path = Path(path)
    t = np.asarray(times, dtype=np.float64).ravel()
    cols: list[np.ndarray] = []
    if repetition > 1 and path.is_file():
        rows = [[float(v) for v in re.split(r"[,\s]+", line.strip()) if v]
                for line in path.read_text().splitlines() if line.strip()]
        if rows and len({len(r) for r in rows}) == 1 and len(rows) == len(t):
            cols = list(np.asarray(rows).T)
    cols += [np.full(len(t), np.nan)] * max(0, repetition - 1 - len(cols))
    if len(cols) >= repetition:
        cols[repetition - 1] = t
    else:
        cols.append(t)
    table = np.stack(cols, axis=1)
    write_text_atomic(path, "".join(",".join(f"{v:.8f}" for v in row) + "\n" for row in table))


def write_result(dataset: str, out_root: Path, tracker: str, seq_name: str,
                 boxes: np.ndarray | Seq, *, times: Seq[float] | np.ndarray | None = None,
                 repetition: int = 1, one_based: bool | None = None) -> Path:
    """Save one sequence's output where the benchmark's toolkit expects it; returns the result path.

    `boxes` are 0-based x,y,w,h per frame (for VOT: the entries of `run_vot_reset`). OTB files are written
    1-based by default (the GT's own convention); GOT-10k `times` go to `<seq>_time.txt`.
    """
    ds = _norm_dataset(dataset)
    path = result_path(ds, out_root, tracker, seq_name, repetition)
    if ds == "vot":
        write_text_atomic(path, format_vot_entries(boxes))
    else:
        write_text_atomic(path, format_boxes(np.asarray(boxes), ds == "otb" if one_based is None else one_based))
    if times is not None and ds == "got10k":
        write_times(time_path(out_root, tracker, seq_name), times, repetition)
    return path


def run_vot_reset(gt_polygons: np.ndarray, init: Callable[[int, tuple[float, float, float, float]], None],
                  update: Callable[[int], Seq[float]], bound: tuple[float, float] | None = None,
                  skipping: int = M.VOT_SKIPPING) -> list[int | np.ndarray]:
    """Drive a tracker through the VOT reset protocol; returns result entries (codes and boxes) per frame.

    `init(i, box)` starts the tracker on frame i with the area-preserving box of the GT polygon;
    `update(i)` returns the x,y,w,h box for frame i. A frame whose IoU with the GT polygon (clipped to
    `bound`) is 0 is a failure (code 2); the tracker is re-initialised `skipping` frames later, frames
    in between are code 0.
    """
    gt = np.asarray(gt_polygons, dtype=np.float64)
    n = len(gt)
    entries: list[int | np.ndarray] = [0] * n
    i = 0
    while i < n:
        if not np.isfinite(gt[i]).all():
            i += 1
            continue
        init(i, tuple(float(v) for v in polygon_to_area_preserving(gt[i])))
        entries[i] = 1
        i += 1
        while i < n:
            box = np.asarray(update(i), dtype=np.float64).ravel()[:4]
            gt_i = gt[i]
            if np.isfinite(gt_i).all() and M.polygon_iou(M.box_to_polygon(box)[None], gt_i[None], bound)[0] <= 0:
                entries[i] = 2
                i += skipping
                break
            entries[i] = box
            i += 1
    return entries



def _run_vot_sequence(tracker: Tracker, seq: Sequence) -> list[int | np.ndarray]:
    """VOT reset protocol for one sequence, decoding each frame once per visit."""
    from ..io.images import read_image

    cache: dict[int, np.ndarray] = {}

    def load(i: int) -> np.ndarray:
        if i not in cache:
            cache.clear()
            cache[i] = read_image(seq.frames[i])
        return cache[i]

    return run_vot_reset(seq.polygons, lambda i, box: tracker.initialize(load(i), box),
                         lambda i: tracker.track(load(i))[0], bound=sequence_resolution(seq))


def _run_ope_sequence(tracker: Tracker, seq: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """One-pass evaluation from the first valid GT box: (boxes, seconds per frame), NaN before the start."""
    import time

    from ..io.images import read_image

    gt = seq.gt
    valid = np.flatnonzero(np.isfinite(gt).all(1) & (gt[:, 2] > 0) & (gt[:, 3] > 0))
    if len(valid) == 0:
        raise InputError(seq.frames[0].parent, "no valid ground-truth box to initialise from")
    start = int(valid[0])
    boxes = np.full((len(seq.frames), 4), np.nan)
    times = np.zeros(len(seq.frames))
    for i in range(start, len(seq.frames)):
        img = read_image(seq.frames[i])
        t0 = time.perf_counter()
        if i == start:
            tracker.initialize(img, tuple(float(v) for v in gt[start]))
            boxes[i] = gt[start]
        else:
            boxes[i] = tracker.track(img)[0]
        times[i] = time.perf_counter() - t0
    return boxes, times


def score_benchmark(dataset: str, root: Path, results: Path | None, models: Seq[str] | None, device: object = "cpu",
                    out: Path | None = None, split: str | None = None, skip_existing: bool = True,
                    log: Callable[[str], None] | None = None) -> dict[str, dict]:
    """`cvkit evaluate track`: score the result files under `results`, or first run `models` over the benchmark
    (results under `out`, default results/DATASET); {tracker: metrics dict}."""
    if results is None:
        if not models:
            raise ArgumentError("give --results DIR to score, or --model NAME to run a tracker first")
        results = out or Path("results") / dataset
        run_benchmark(dataset, root, results, models, device, split=split, skip_existing=skip_existing, log=log)
    return evaluate_results(dataset, root, results, trackers=list(models or []) or None, split=split)


def per_sequence_cells(scores: dict[str, dict]) -> dict[str, dict[str, str]]:
    """One-pass datasets: {sequence: {tracker: "AUC / P@20"}} of the trackers with per-sequence AUC (empty when
    none has; a tracker without the sequence gets an empty cell)."""
    per = {n: m["per_sequence"] for n, m in scores.items()
           if any("auc" in r for r in m.get("per_sequence", {}).values())}
    return {s: {n: f"{p[s]['auc']:.3f} / {p[s]['p20']:.3f}" if s in p else "" for n, p in per.items()}
            for s in dict.fromkeys(s for p in per.values() for s in p)}


def run_benchmark(dataset: str, root: Path, out_root: Path, models: Seq[str], device: object = "cpu",
                  split: str | None = None, skip_existing: bool = True,
                  log: Callable[[str], None] | None = None) -> None:
    """Run trackers over every sequence of a benchmark and save results in its toolkit's layout.

    OTB/LaSOT/GOT-10k: one-pass evaluation from the first valid GT box (GOT-10k also writes per-frame
    times); VOT: the reset protocol. Existing result files are kept when `skip_existing`.
    """
    from .registry import build_tracker

    ds = _norm_dataset(dataset)
    seqs = list_sequences(Path(root), ds, split=split)
    for model in models:
        tracker = build_tracker(model, device)
        name = Path(model).stem if Path(model).suffix else model
        for k, seq in enumerate(seqs, 1):
            if skip_existing and result_path(ds, out_root, name, seq.name).exists():
                continue
            if log:
                log(f"[{name}] {k}/{len(seqs)} {seq.name} ({len(seq.frames)} frames)")
            if ds == "vot" and seq.polygons is not None:
                write_result(ds, out_root, name, seq.name, _run_vot_sequence(tracker, seq))
            else:
                boxes, times = _run_ope_sequence(tracker, seq)
                # results follow the sequence's own GT convention (OTB/UAV123 1-based) so they read back as scored
                write_result(ds, out_root, name, seq.name, boxes, times=times if ds == "got10k" else None,
                             one_based=bool(seq.extras.get("one_based", False)))
