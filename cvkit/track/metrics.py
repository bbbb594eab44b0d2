"""Tracking metrics exactly as the benchmarks' official tools define them.

Sources: pysot toolkit (`utils/statistics.py`, `evaluation/{ar,eao}_benchmark.py`), the `got10k` toolkit
(`utils/metrics.rect_iou`, `experiments/got10k.py`), pytracking's OPE analysis and the OTB MATLAB toolkit.

Conventions, including the places where the toolkits disagree and what we chose:
* Boxes are x,y,w,h, continuous, no +1 in areas (pysot `overlap_ratio`, got10k `rect_iou`).
  Centre = (x + (w-1)/2, y + (h-1)/2) (OTB toolkit, pysot, pytracking).
* A ground-truth frame is invalid when any value is NaN or w <= 0 or h <= 0 (pysot's overlap mask).
  Default: invalid frames are left out of numerator and denominator. `count_invalid=True` keeps them in the
  denominator as failures, like pysot (`/ n_frame`), pytracking and the OTB toolkit. Note pysot's
  `success_error` gives invalid frames a distance of -1, which `<= threshold` counts as a *success* in
  precision; we count them as failures there too (pytracking and the OTB toolkit do).
* A prediction that is NaN (missing line, VOT code line) scores IoU 0 and an infinite centre error.
* Success thresholds: `linspace(0, 1, 21)`, strict `>` (got10k; pysot's `arange(0, 1.05, 0.05)` differs
  only in the last bit of a few thresholds). AUC = mean of the curve. Precision: 0..50 px, `<=`, P@20 =
  curve[20]. Normalised precision: 0..0.5 step 0.01, `<=`, NP@0.2 = curve[20], NP-AUC = mean of the curve.
* `include_first=True` keeps the init frame (OTB/pysot OPE); False drops it (as GOT-10k always does).
* GOT-10k: boxes clipped with the toolkit's own rule (x clipped to [0, W], then w to [0, W - x], without
  shortening w by the shift), frame 0 dropped, frames with cover == 0 dropped, IoUs of all repetitions and
  sequences concatenated (frame-weighted), AO = mean, SR = mean(IoU > t), 101-threshold success curve.
* VOT (reset-based, 2016-2019): polygon IoU clipped to the image bound, computed geometrically
  (Sutherland-Hodgman). The VOT C library rasterises polygons on the pixel grid instead, so single overlaps
  may differ from it by about one pixel row of area. Accuracy bound (W, H), EAO bound (W-1, H-1), 10-frame
  burn-in counted from the init frame itself, failures per 100 frames, EAO fragments and the averaging range
  exactly as pysot (`weight[low-1:high]`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..nn import detection

SUCCESS_THRESHOLDS = np.linspace(0.0, 1.0, 21)
PRECISION_THRESHOLDS = np.arange(0, 51, dtype=np.float64)
NORM_PRECISION_THRESHOLDS = np.arange(0, 51, dtype=np.float64) / 100.0
GOT10K_THRESHOLDS = np.linspace(0.0, 1.0, 101)
# pysot constants (EAOBenchmark): N_lo, N_hi of the EAO averaging interval per VOT edition.
EAO_RANGES: dict[int, tuple[int, int]] = {2016: (108, 371), 2017: (100, 356), 2018: (100, 356), 2019: (46, 291)}
VOT_BURNIN = 10
VOT_SKIPPING = 5


# ----------------------------------------------------------------------------------------------------------
# boxes


def _boxes(a: np.ndarray | Sequence) -> np.ndarray:
    """Float64 array of boxes with last axis 4."""
    arr = np.asarray(a, dtype=np.float64)
    if arr.shape[-1] != 4:
        raise ValueError(f"expected boxes with 4 values (x,y,w,h), got shape {arr.shape}")
    return arr


def valid_boxes(boxes: np.ndarray) -> np.ndarray:
    """Mask of usable boxes: all values finite and w, h > 0 (the benchmarks' validity rule)."""
    b = _boxes(boxes)
    return np.isfinite(b).all(-1) & (b[..., 2] > 0) & (b[..., 3] > 0)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of x,y,w,h boxes (element-wise, broadcasting, no +1); 0 where a box is NaN or the union is empty.
    The benchmarks' name for `cvkit.nn.detection.box_iou(a, b, fmt="xywh", pairwise=False)`."""
    return np.clip(detection.box_iou(_boxes(a), _boxes(b), fmt="xywh", pairwise=False), 0.0, 1.0)


def box_center(boxes: np.ndarray) -> np.ndarray:
    """Box centres (x + (w-1)/2, y + (h-1)/2), the OTB/pysot pixel-centre convention."""
    b = _boxes(boxes)
    return b[..., :2] + (b[..., 2:] - 1.0) / 2.0


def center_error(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Euclidean centre distance in pixels; inf where the prediction or GT is NaN."""
    d = np.linalg.norm(box_center(pred) - box_center(gt), axis=-1)
    return np.where(np.isfinite(d), d, np.inf)


def normalized_center_error(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Centre distance with both centres divided by the GT width/height (TrackingNet/LaSOT NP)."""
    g = _boxes(gt)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.linalg.norm((box_center(pred) - box_center(g)) / g[..., 2:], axis=-1)
    return np.where(np.isfinite(d), d, np.inf)


def success_curve(ious: np.ndarray, n_frames: int | None = None,
                  thresholds: np.ndarray = SUCCESS_THRESHOLDS) -> np.ndarray:
    """Fraction of frames with IoU strictly above each threshold; `n_frames` is the denominator."""
    ious = np.asarray(ious, dtype=np.float64).ravel()
    n = len(ious) if n_frames is None else n_frames
    if n == 0:
        return np.full(len(thresholds), np.nan)
    return (ious[:, None] > thresholds[None, :]).sum(0) / float(n)


def precision_curve(errors: np.ndarray, n_frames: int | None = None,
                    thresholds: np.ndarray = PRECISION_THRESHOLDS) -> np.ndarray:
    """Fraction of frames with centre error at most each threshold (`<=`); `n_frames` is the denominator."""
    errors = np.asarray(errors, dtype=np.float64).ravel()
    n = len(errors) if n_frames is None else n_frames
    if n == 0:
        return np.full(len(thresholds), np.nan)
    return (errors[:, None] <= thresholds[None, :]).sum(0) / float(n)


def _align(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Prediction cut or NaN-padded to the GT length (missing frames count as failures)."""
    pred = _boxes(pred).reshape(-1, 4)
    n = len(gt)
    if len(pred) >= n:
        return pred[:n]
    return np.concatenate([pred, np.full((n - len(pred), 4), np.nan)])


def ope_sequence(pred: np.ndarray, gt: np.ndarray, include_first: bool = True,
                 count_invalid: bool = False) -> dict:
    """One-pass evaluation of one sequence: success/precision/normalised-precision curves and scalars."""
    gt = _boxes(gt).reshape(-1, 4)
    pred = _align(pred, gt)
    if not include_first:
        pred, gt = pred[1:], gt[1:]
    valid = valid_boxes(gt)
    n = len(gt) if count_invalid else int(valid.sum())
    ious = box_iou(pred[valid], gt[valid])
    err = center_error(pred[valid], gt[valid])
    nerr = normalized_center_error(pred[valid], gt[valid])
    succ = success_curve(ious, n)
    prec = precision_curve(err, n)
    nprec = precision_curve(nerr, n, NORM_PRECISION_THRESHOLDS)
    return {
        "auc": float(succ.mean()),
        "p20": float(prec[20]),
        "np20": float(nprec[20]),
        "np_auc": float(nprec.mean()),
        "mean_iou": float(ious.sum() / n) if n else float("nan"),
        "sr50": float((ious > 0.5).sum() / n) if n else float("nan"),
        "n_frames": n,
        "n_invalid": int((~valid).sum()),
        "success_curve": succ,
        "precision_curve": prec,
        "norm_precision_curve": nprec,
    }


def score_sequence(pred: np.ndarray, gt: np.ndarray, include_first: bool = True) -> dict:
    """OTB-style scores of one sequence (auc, p20, np20, mean_iou, sr50) for the CLI's inline summary."""
    r = ope_sequence(pred, gt, include_first=include_first)
    return {k: r[k] for k in ("auc", "p20", "np20", "mean_iou", "sr50")}


def ope_dataset(per_sequence: Sequence[dict]) -> dict:
    """Dataset OPE scores: curves averaged over sequences (sequence-weighted, as pysot/OTB/pytracking)."""
    seqs = [r for r in per_sequence if r["n_frames"] > 0]
    if not seqs:
        nan = float("nan")
        return {"auc": nan, "p20": nan, "np20": nan, "np_auc": nan, "mean_iou": nan, "sr50": nan,
                "n_sequences": 0, "n_frames": 0}
    succ = np.mean([r["success_curve"] for r in seqs], axis=0)
    prec = np.mean([r["precision_curve"] for r in seqs], axis=0)
    nprec = np.mean([r["norm_precision_curve"] for r in seqs], axis=0)
    return {
        "auc": float(succ.mean()),
        "p20": float(prec[20]),
        "np20": float(nprec[20]),
        "np_auc": float(nprec.mean()),
        "mean_iou": float(np.mean([r["mean_iou"] for r in seqs])),
        "sr50": float(np.mean([r["sr50"] for r in seqs])),
        "n_sequences": len(seqs),
        "n_frames": int(sum(r["n_frames"] for r in seqs)),
        "success_curve": succ,
        "precision_curve": prec,
        "norm_precision_curve": nprec,
    }


def paired_difference(a: Sequence[float], b: Sequence[float]) -> dict:
    """Per-item a - b on the same items (e.g. per-clip AUCs of two trackers): mean, sd, standard error, and how
    many items each side wins; what an ablation on shared clips should report beside the two means."""
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    sd = float(d.std(ddof=1)) if len(d) > 1 else 0.0
    return {"mean": round(float(d.mean()), 4), "sd": round(sd, 4), "se": round(sd / max(len(d), 1) ** 0.5, 4),
            "wins": int((d > 0).sum()), "losses": int((d < 0).sum()), "ties": int((d == 0).sum())}


# ----------------------------------------------------------------------------------------------------------
# GOT-10k


def got10k_clip(boxes: np.ndarray, bound: tuple[float, float]) -> np.ndarray:
    """Clip boxes to the image as the got10k toolkit does: x to [0,W], then w to [0, W-x] (same for y/h)."""
    b = _boxes(boxes).copy()
    w_img, h_img = float(bound[0]), float(bound[1])
    b[..., 0] = np.clip(b[..., 0], 0, w_img)
    b[..., 1] = np.clip(b[..., 1], 0, h_img)
    b[..., 2] = np.clip(b[..., 2], 0, w_img - b[..., 0])
    b[..., 3] = np.clip(b[..., 3], 0, h_img - b[..., 1])
    return b


def got10k_ious(pred: np.ndarray, gt: np.ndarray, bound: tuple[float, float] | None = None,
                cover: np.ndarray | None = None) -> np.ndarray:
    """Per-frame IoUs of one run as GOT-10k scores them: frame 0 dropped, boxes clipped, cover==0 dropped.

    Without a cover label, frames whose GT is invalid are dropped instead.
    """
    gt = _boxes(gt).reshape(-1, 4)
    pred = _align(pred, gt)
    p, g = pred[1:], gt[1:]
    if bound is not None:
        p, g = got10k_clip(p, bound), got10k_clip(g, bound)
    with np.errstate(invalid="ignore", divide="ignore"):
        x1 = np.maximum(p[:, 0], g[:, 0])
        y1 = np.maximum(p[:, 1], g[:, 1])
        x2 = np.minimum(p[:, 0] + p[:, 2], g[:, 0] + g[:, 2])
        y2 = np.minimum(p[:, 1] + p[:, 3], g[:, 1] + g[:, 3])
        inter = np.maximum(x2 - x1, 0) * np.maximum(y2 - y1, 0)
        union = p[:, 2] * p[:, 3] + g[:, 2] * g[:, 3] - inter
        ious = np.clip(inter / (union + np.finfo(float).eps), 0.0, 1.0)
    ious = np.nan_to_num(ious, nan=0.0)
    if cover is not None:
        keep = np.asarray(cover, dtype=np.float64).ravel()[1:len(gt)] > 0
        keep = np.concatenate([keep, np.zeros(len(g) - len(keep), bool)])
    else:
        keep = valid_boxes(g)
    return ious[keep]


def got10k_scores(ious: np.ndarray, times: np.ndarray | None = None) -> dict:
    """AO, SR0.5, SR0.75, FPS and the 101-point success curve over concatenated (frame-weighted) IoUs."""
    ious = np.asarray(ious, dtype=np.float64).ravel()
    t = np.asarray([] if times is None else times, dtype=np.float64).ravel()
    t = t[np.isfinite(t) & (t > 0)]
    if len(ious) == 0:
        ao = sr50 = sr75 = float("nan")
        curve = np.full(len(GOT10K_THRESHOLDS), np.nan)
    else:
        ao, sr50, sr75 = float(ious.mean()), float((ious > 0.5).mean()), float((ious > 0.75).mean())
        curve = (ious[:, None] > GOT10K_THRESHOLDS[None, :]).mean(0)
    return {"ao": ao, "sr50": sr50, "sr75": sr75, "fps": float(np.mean(1.0 / t)) if len(t) else -1.0,
            "n_frames": int(len(ious)), "success_curve": curve}


# ----------------------------------------------------------------------------------------------------------
# polygons (VOT)


def box_to_polygon(boxes: np.ndarray) -> np.ndarray:
    """x,y,w,h boxes -> 8-value polygons (x1,y1,...,x4,y4) going round the corners."""
    b = _boxes(boxes)
    x0, y0 = b[..., 0], b[..., 1]
    x1, y1 = x0 + b[..., 2], y0 + b[..., 3]
    return np.stack([x0, y0, x1, y0, x1, y1, x0, y1], axis=-1)


def _vertices(poly: np.ndarray) -> np.ndarray:
    """(N, 2K) flat or (N, K, 2) polygons -> float (N, K, 2)."""
    p = np.asarray(poly, dtype=np.float64)
    if p.ndim == 3:
        return p
    p = p.reshape(-1, p.shape[-1])
    return p.reshape(len(p), -1, 2)


def polygon_area(poly: np.ndarray) -> np.ndarray:
    """Unsigned shoelace area of polygons ((N, 2K) flat or (N, K, 2))."""
    return np.abs(_signed_area(_vertices(poly)))


def _signed_area(v: np.ndarray) -> np.ndarray:
    """Signed shoelace area of (N, K, 2) vertex arrays."""
    x, y = v[..., 0], v[..., 1]
    return 0.5 * (x * np.roll(y, -1, axis=-1) - np.roll(x, -1, axis=-1) * y).sum(-1)


def _compact(points: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Move kept points to the front (stable) and pad each row with its first point (zero-area padding)."""
    order = np.argsort(~keep, axis=1, kind="stable")
    pts = np.take_along_axis(points, order[..., None], axis=1)
    count = keep.sum(1)
    width = max(int(count.max(initial=0)), 1)
    pts = pts[:, :width]
    pad = np.arange(width)[None, :] >= count[:, None]
    return np.where(pad[..., None], pts[:, :1], pts)


def clip_polygons(subject: np.ndarray, clip: np.ndarray) -> np.ndarray:
    """Sutherland-Hodgman, batched: each subject polygon intersected with its convex clip polygon.

    Both are (N, K, 2) vertex arrays; rows may be padded by repeating a vertex. Returns (N, K', 2) padded the
    same way (a row whose polygons do not meet collapses to one repeated point, area 0).
    """
    out = _vertices(subject)
    c = _vertices(clip)
    sign = np.sign(_signed_area(c))[:, None]
    m = c.shape[1]
    for j in range(m):
        a, b = c[:, j], c[:, (j + 1) % m]
        e = (b - a)[:, None, :]
        d = sign * (e[..., 0] * (out[..., 1] - a[:, None, 1]) - e[..., 1] * (out[..., 0] - a[:, None, 0]))
        inside = d >= 0
        prev, d_prev, in_prev = np.roll(out, 1, axis=1), np.roll(d, 1, axis=1), np.roll(inside, 1, axis=1)
        crossing = inside != in_prev
        t = d_prev / np.where(crossing, d_prev - d, 1.0)
        inter = prev + t[..., None] * (out - prev)
        points = np.stack([inter, out], axis=2).reshape(len(out), -1, 2)
        keep = np.stack([crossing, inside], axis=2).reshape(len(out), -1)
        out = _compact(points, keep)
    return out


def _bound_polygon(bound: tuple[float, float], n: int) -> np.ndarray:
    """The image rectangle [0,W]x[0,H] as n identical (n, 4, 2) polygons."""
    w, h = float(bound[0]), float(bound[1])
    return np.broadcast_to(np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64), (n, 4, 2))


def polygon_iou(a: np.ndarray, b: np.ndarray, bound: tuple[float, float] | None = None) -> np.ndarray:
    """IoU of convex polygons (flat 2K values or (K,2) vertices, rows paired), optionally clipped to [0,W]x[0,H].

    Boxes can be passed through `box_to_polygon`. Rows with a NaN or an empty polygon give 0.
    """
    va, vb = _vertices(a), _vertices(b)
    if len(va) == 1 and len(vb) > 1:
        va = np.repeat(va, len(vb), axis=0)
    if len(vb) == 1 and len(va) > 1:
        vb = np.repeat(vb, len(va), axis=0)
    finite = np.isfinite(va).all((1, 2)) & np.isfinite(vb).all((1, 2))
    va, vb = np.where(finite[:, None, None], va, 0.0), np.where(finite[:, None, None], vb, 0.0)
    if bound is not None:
        va = clip_polygons(va, _bound_polygon(bound, len(va)))
        vb = clip_polygons(vb, _bound_polygon(bound, len(vb)))
    area_a, area_b = np.abs(_signed_area(va)), np.abs(_signed_area(vb))
    inter = np.abs(_signed_area(clip_polygons(va, vb)))
    ok = finite & (area_a > 0) & (area_b > 0)
    union = area_a + area_b - inter
    iou = np.where(ok & (union > 0), inter / np.where(union > 0, union, 1.0), 0.0)
    return np.clip(iou, 0.0, 1.0)


# ----------------------------------------------------------------------------------------------------------
# VOT reset-based protocol (result files with codes 1 = init, 2 = failure, 0 = skipped)

CODE_REGION = -1  # marks a row of a VOT result that holds a region, not a code


def vot_failures(codes: np.ndarray) -> np.ndarray:
    """Frame indices of failures (code 2) in a VOT result."""
    return np.flatnonzero(np.asarray(codes) == 2)


def vot_overlaps(codes: np.ndarray, regions: np.ndarray, gt_polygons: np.ndarray,
                 bound: tuple[float, float] | None = None, burnin: int = 0) -> np.ndarray:
    """Per-frame IoU of a VOT run against GT polygons; NaN on code frames and `burnin` frames from each init.

    `codes[i]` is 0/1/2 for code lines and CODE_REGION where `regions[i]` (a polygon, 8 values) holds the
    prediction. The burn-in starts at the init frame itself, like pysot's `calculate_accuracy`.
    """
    codes = np.asarray(codes)
    gt = _vertices(gt_polygons)
    n = min(len(codes), len(gt))
    codes, regions, gt = codes[:n], _vertices(regions)[:n], gt[:n]
    skip = codes != CODE_REGION
    if burnin > 0:
        inits = np.flatnonzero(codes == 1)
        idx = (inits[:, None] + np.arange(burnin)[None, :]).ravel()
        skip[idx[idx < n]] = True
    if regions.shape[1] != gt.shape[1]:  # pad the narrower vertex array by repeating its first vertex
        k = max(regions.shape[1], gt.shape[1])
        regions = np.concatenate([regions, np.repeat(regions[:, :1], k - regions.shape[1], 1)], 1)
        gt = np.concatenate([gt, np.repeat(gt[:, :1], k - gt.shape[1], 1)], 1)
    ov = polygon_iou(regions, gt, bound)
    ov[skip | ~np.isfinite(gt).all((1, 2))] = np.nan
    return ov


def vot_accuracy(overlaps: Sequence[Sequence[np.ndarray]]) -> float:
    """VOT accuracy (pysot): per sequence, frame-wise nanmean over runs; then nanmean over all frames."""
    frames = []
    for runs in overlaps:
        if not len(runs):
            continue
        n = min(len(r) for r in runs)
        stack = np.stack([np.asarray(r, dtype=np.float64)[:n] for r in runs])
        finite = np.isfinite(stack)
        cnt = finite.sum(0)
        per_frame = np.where(cnt > 0, np.where(finite, stack, 0).sum(0) / np.maximum(cnt, 1), np.nan)
        frames.append(per_frame)
    allf = np.concatenate(frames) if frames else np.array([])
    allf = allf[np.isfinite(allf)]
    return float(allf.mean()) if len(allf) else float("nan")


def vot_robustness(failures: Sequence[Sequence[int]], n_frames: int) -> tuple[float, float]:
    """(R, mean failure count): failures per sequence and run -> 100 * failures / frames (pysot)."""
    total = float(sum(np.mean(f) for f in failures if len(f)))
    return (100.0 * total / n_frames if n_frames else float("nan")), total


def eao_fragments(overlaps: np.ndarray, failures: np.ndarray, skipping: int = VOT_SKIPPING,
                  max_len: int | None = None) -> np.ndarray:
    """EAO fragments of one run (pysot): rows from each (re)init; failure rows padded with 0, the last with NaN."""
    ov = np.asarray(overlaps, dtype=np.float64)
    n = len(ov)
    length = n if max_len is None else max_len
    filled = np.nan_to_num(ov, nan=0.0)
    points = [0] + [int(f) + skipping for f in failures if int(f) + skipping <= n]
    rows = np.full((len(points), length), np.nan)
    for i, start in enumerate(points):
        if i < len(points) - 1:
            frag = filled[start:points[i + 1] + 1][:length]
            rows[i] = 0.0
        else:
            frag = filled[start:][:length]
        rows[i, :len(frag)] = frag
    return rows


def expected_overlap_curve(fragments: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Phi(N_s) for every length: weighted mean over fragments alive at N_s of their mean IoU on frames 1..N_s."""
    frag = np.asarray(fragments, dtype=np.float64)
    w = np.ones(len(frag)) if weights is None else np.asarray(weights, dtype=np.float64)
    length = frag.shape[1]
    curve = np.zeros(length)
    if length == 0:
        return curve
    curve[0] = 1.0
    alive = np.isfinite(frag)
    csum = np.cumsum(np.nan_to_num(frag[:, 1:], nan=0.0), axis=1)  # column i-1 = sum of frames 1..i
    means = csum / np.arange(1, length)[None, :]
    wm = (alive[:, 1:] * w[:, None]).astype(np.float64)
    den = wm.sum(0)
    num = (means * wm).sum(0)
    curve[1:] = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    return curve


def expected_average_overlap(runs: Sequence[tuple[np.ndarray, np.ndarray]],
                             eao_range: tuple[int, int] | int = 2018, skipping: int = VOT_SKIPPING,
                             weights: Sequence[float] | None = None) -> tuple[float, np.ndarray]:
    """EAO over runs given as (per-frame overlaps, failure indices); returns (eao, expected-overlap curve).

    `eao_range` is (N_lo, N_hi) or a VOT year (2016-2019, pysot constants); the average is taken over curve
    indices N_lo-1 .. N_hi-1 that exist, exactly as pysot. `weights` are per-run fragment weights.
    """
    lo, hi = EAO_RANGES[eao_range] if isinstance(eao_range, int) else eao_range
    if not runs:
        return float("nan"), np.array([])
    max_len = max(len(o) for o, _ in runs)
    blocks, fw = [], []
    for k, (ov, fails) in enumerate(runs):
        rows = eao_fragments(ov, fails, skipping, max_len)
        blocks.append(rows)
        fw.extend([1.0 if weights is None else float(weights[k])] * len(rows))
    curve = expected_overlap_curve(np.concatenate(blocks), np.asarray(fw))
    sel = curve[lo - 1:hi]
    return (float(sel.mean()) if len(sel) else float("nan")), curve
