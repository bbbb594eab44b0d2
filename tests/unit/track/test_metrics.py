"""Tracking metrics on hand-computed cases and against brute-force reference loops."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cvkit.track import metrics as M

# ----------------------------------------------------------------------------------------------------------
# boxes


def test_box_iou_hand_cases():
    a = np.array([0.0, 0, 10, 10])
    assert M.box_iou(a, a) == pytest.approx(1.0)
    assert M.box_iou(a, [5, 5, 10, 10]) == pytest.approx(25 / 175)  # continuous, no +1
    assert M.box_iou(a, [0, 0, 10, 5]) == pytest.approx(0.5)
    assert M.box_iou(a, [10, 0, 10, 10]) == 0.0  # touching edges
    assert M.box_iou(a, [np.nan] * 4) == 0.0
    assert M.box_iou(a, [0, 0, 0, 0]) == 0.0
    batch = M.box_iou(np.stack([a, a]), np.array([[5, 5, 10, 10], [20, 20, 1, 1]]))
    np.testing.assert_allclose(batch, [25 / 175, 0.0])


def test_center_convention_and_errors():
    np.testing.assert_allclose(M.box_center([0, 0, 10, 20]), [4.5, 9.5])  # x + (w-1)/2
    assert M.center_error([3, 4, 10, 10], [0, 0, 10, 10]) == pytest.approx(5.0)
    assert M.center_error([np.nan] * 4, [0, 0, 10, 10]) == np.inf
    # normalised: both centres divided by the GT size -> (3/10, 4/20)
    assert M.normalized_center_error([3, 4, 10, 20], [0, 0, 10, 20]) == pytest.approx(math.hypot(0.3, 0.2))


def test_success_curve_is_strict_and_auc_is_mean():
    th = M.SUCCESS_THRESHOLDS
    assert len(th) == 21 and th[0] == 0.0 and th[10] == 0.5 and th[-1] == 1.0
    curve = M.success_curve(np.array([0.0, 0.5, 1.0]))
    assert curve[0] == pytest.approx(2 / 3)  # IoU 0 is not > 0
    assert curve[10] == pytest.approx(1 / 3)  # IoU 0.5 is not > 0.5
    assert curve[-1] == 0.0  # IoU 1 is not > 1
    # IoU 1 passes 20 thresholds, IoU 0.5 passes 10 (0..0.45), IoU 0 none.
    assert curve.mean() == pytest.approx(30 / 63)


def test_precision_curve_is_inclusive():
    assert len(M.PRECISION_THRESHOLDS) == 51
    curve = M.precision_curve(np.array([0.0, 20.0, 20.0001, np.inf]))
    assert curve[20] == pytest.approx(0.5)
    assert curve[0] == pytest.approx(0.25)
    assert curve[50] == pytest.approx(0.75)


def _seq(n=4):
    gt = np.tile([10.0, 10, 20, 20], (n, 1))
    return gt


def test_ope_sequence_hand_values():
    gt = _seq(4)
    pred = gt.copy()
    pred[1] = [20, 10, 20, 20]  # IoU = 200/600 = 1/3, centre error 10
    pred[2] = [10, 20, 20, 10]  # IoU = 0.5 exactly, centre error 5 (y centre 24.5 vs 19.5)
    pred[3] = [100, 100, 20, 20]  # IoU 0, far away
    r = M.ope_sequence(pred, gt)
    ious = np.array([1.0, 1 / 3, 0.5, 0.0])
    assert r["mean_iou"] == pytest.approx(ious.mean())
    assert r["sr50"] == pytest.approx(0.25)  # 0.5 is not > 0.5
    assert r["auc"] == pytest.approx(np.mean([(ious > t).mean() for t in np.linspace(0, 1, 21)]))
    assert r["p20"] == pytest.approx(0.75)
    # normalised errors: 0, 0.5, 0.25, large -> NP@0.2 = 1/4
    assert r["np20"] == pytest.approx(0.25)
    s = M.score_sequence(pred, gt)
    assert set(s) == {"auc", "p20", "np20", "mean_iou", "sr50"}
    assert s["auc"] == pytest.approx(r["auc"])


def test_ope_invalid_frames_excluded_or_counted():
    gt = _seq(5)
    gt[3] = np.nan
    gt[4] = [10, 10, 0, 20]  # zero width: invalid
    pred = _seq(5)
    pred[2] = [40, 40, 20, 20]  # miss
    excl = M.ope_sequence(pred, gt)
    incl = M.ope_sequence(pred, gt, count_invalid=True)
    assert excl["n_frames"] == 3 and incl["n_frames"] == 5 and excl["n_invalid"] == 2
    assert excl["mean_iou"] == pytest.approx(2 / 3)
    assert incl["mean_iou"] == pytest.approx(2 / 5)
    assert excl["success_curve"][0] == pytest.approx(2 / 3)
    assert incl["success_curve"][0] == pytest.approx(2 / 5)
    # invalid frames are failures in precision too (not pysot's dist=-1 successes)
    assert incl["p20"] == pytest.approx(2 / 5)


def test_ope_include_first_and_length_mismatch():
    gt = _seq(4)
    pred = gt.copy()
    pred[1:] = [60, 60, 20, 20]
    assert M.ope_sequence(pred, gt)["mean_iou"] == pytest.approx(0.25)
    assert M.ope_sequence(pred, gt, include_first=False)["mean_iou"] == 0.0
    short = M.ope_sequence(gt[:2], gt)  # missing frames are failures
    assert short["mean_iou"] == pytest.approx(0.5)


def test_ope_dataset_is_sequence_weighted():
    gt_a, gt_b = _seq(2), _seq(8)
    ra = M.ope_sequence(gt_a, gt_a)  # perfect, 2 frames
    pb = gt_b.copy()
    pb[:] = [90, 90, 5, 5]
    rb = M.ope_sequence(pb, gt_b)  # all wrong, 8 frames
    d = M.ope_dataset([ra, rb])
    assert d["mean_iou"] == pytest.approx(0.5)
    assert d["auc"] == pytest.approx((ra["auc"] + rb["auc"]) / 2)
    assert d["n_sequences"] == 2 and d["n_frames"] == 10


def test_ope_matches_pysot_loops_with_count_invalid():
    """pysot's success_overlap / success_error written out as loops (invalid GT frames in the denominator)."""
    rng = np.random.default_rng(7)
    gt = np.c_[rng.uniform(10, 100, (60, 2)), rng.uniform(5, 40, (60, 2))]
    pred = gt + rng.normal(0, 6, gt.shape)
    gt[[5, 17]] = [0, 0, 0, 0]  # invalid GT rows (pysot: w,h > 0 mask)
    thr = np.arange(0, 1.05, 0.05)
    iou = -np.ones(len(gt))
    dist = np.full(len(gt), np.inf)  # invalid frames fail in precision (not pysot's -1 quirk)
    for i in range(len(gt)):
        if gt[i, 2] > 0 and gt[i, 3] > 0:
            a, b = gt[i], pred[i]
            iw = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
            ih = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
            iou[i] = iw * ih / (a[2] * a[3] + b[2] * b[3] - iw * ih)
            ca, cb = a[:2] + (a[2:] - 1) / 2, b[:2] + (b[2:] - 1) / 2
            dist[i] = math.hypot(*(ca - cb))
    succ = np.array([np.sum(iou > t) / len(gt) for t in thr])
    prec = np.array([np.sum(dist <= t) / len(gt) for t in range(51)])
    r = M.ope_sequence(pred, gt, count_invalid=True)
    np.testing.assert_allclose(r["success_curve"], succ, atol=1e-12)
    np.testing.assert_allclose(r["precision_curve"], prec, atol=1e-12)
    assert r["auc"] == pytest.approx(succ.mean())


# ----------------------------------------------------------------------------------------------------------
# GOT-10k


def test_got10k_clip_quirk():
    # x clipped to 0 but w only clipped to W - x (not shortened by the 10 px shift): toolkit behaviour
    np.testing.assert_allclose(M.got10k_clip([-10, 5, 50, 20], (100, 100)), [0, 5, 50, 20])
    np.testing.assert_allclose(M.got10k_clip([90, 95, 50, 20], (100, 100)), [90, 95, 10, 5])


def test_got10k_ious_clip_drop_first_and_cover():
    gt = np.array([[0, 0, 50, 10]] * 4, dtype=float)
    pred = np.array([[500, 500, 1, 1], [-10, 0, 50, 10], [-10, 0, 50, 10], [0, 0, 25, 10]], dtype=float)
    ious = M.got10k_ious(pred, gt, bound=(100, 100))
    # frame 0 dropped; the toolkit's clip turns (-10,0,50,10) into (0,0,50,10) = GT (a true clip would
    # give (0,0,40,10) and IoU 0.8)
    np.testing.assert_allclose(ious, [1.0, 1.0, 0.5], atol=1e-12)
    unclipped = M.got10k_ious(pred, gt)
    np.testing.assert_allclose(unclipped, [2 / 3, 2 / 3, 0.5], atol=1e-12)  # 400/600 without the bound
    cover = np.array([1, 0, 3, 8])
    np.testing.assert_allclose(M.got10k_ious(pred, gt, (100, 100), cover), [1.0, 0.5], atol=1e-12)


def test_got10k_scores_hand():
    s = M.got10k_scores(np.array([0.2, 0.6, 0.8, 0.76]), np.array([0.1, 0.2, 0.0, np.nan]))
    assert s["ao"] == pytest.approx(0.59)
    assert s["sr50"] == pytest.approx(0.75)
    assert s["sr75"] == pytest.approx(0.5)
    assert s["fps"] == pytest.approx(7.5)  # mean(1/t) over positive times
    assert len(s["success_curve"]) == 101
    assert s["success_curve"][50] == pytest.approx(0.75)
    assert s["success_curve"][80] == pytest.approx(0.0)  # 0.8 is not > 0.8
    assert M.got10k_scores(np.array([0.5]))["fps"] == -1.0


# ----------------------------------------------------------------------------------------------------------
# polygons


def _rect_poly(cx, cy, w, h, angle):
    c, s = math.cos(angle), math.sin(angle)
    pts = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]
    return np.array([[cx + c * x - s * y, cy + s * x + c * y] for x, y in pts]).ravel()


def _raster_mask(poly, xs, ys):
    """Brute-force: grid points inside a convex polygon (half-plane test per edge)."""
    v = poly.reshape(-1, 2)
    sign = np.sign(np.sum(v[:, 0] * np.roll(v[:, 1], -1) - np.roll(v[:, 0], -1) * v[:, 1]))
    inside = np.ones(xs.shape, bool)
    for j in range(len(v)):
        a, b = v[j], v[(j + 1) % len(v)]
        inside &= sign * ((b[0] - a[0]) * (ys - a[1]) - (b[1] - a[1]) * (xs - a[0])) >= 0
    return inside


def test_polygon_iou_hand_cases():
    diamond = np.array([1.0, 0, 2, 1, 1, 2, 0, 1])
    square = M.box_to_polygon(np.array([0.0, 0, 2, 2]))
    assert M.polygon_area(diamond[None])[0] == pytest.approx(2.0)
    assert M.polygon_iou(diamond[None], square[None])[0] == pytest.approx(0.5)
    # orientation does not matter
    cw = diamond.reshape(4, 2)[::-1].ravel()
    assert M.polygon_iou(cw[None], square[None])[0] == pytest.approx(0.5)
    assert M.polygon_iou(square[None], cw[None])[0] == pytest.approx(0.5)
    # disjoint, degenerate and NaN
    far = M.box_to_polygon(np.array([10.0, 10, 2, 2]))
    assert M.polygon_iou(far[None], square[None])[0] == 0.0
    assert M.polygon_iou(np.zeros((1, 8)), square[None])[0] == 0.0
    assert M.polygon_iou(np.full((1, 8), np.nan), square[None])[0] == 0.0


def test_polygon_iou_equals_box_iou_for_axis_aligned():
    rng = np.random.default_rng(0)
    a = np.c_[rng.uniform(0, 50, (200, 2)), rng.uniform(1, 40, (200, 2))]
    b = np.c_[rng.uniform(0, 50, (200, 2)), rng.uniform(1, 40, (200, 2))]
    np.testing.assert_allclose(M.polygon_iou(M.box_to_polygon(a), M.box_to_polygon(b)), M.box_iou(a, b),
                               atol=1e-12)


def test_polygon_iou_bound_clipping():
    a = M.box_to_polygon(np.array([[-5.0, -5, 10, 10]]))
    b = M.box_to_polygon(np.array([[0.0, 0, 5, 5]]))
    assert M.polygon_iou(a, b)[0] == pytest.approx(0.25)
    assert M.polygon_iou(a, b, bound=(10, 10))[0] == pytest.approx(1.0)


def test_polygon_iou_against_raster_count():
    rng = np.random.default_rng(1)
    step = 0.025
    g = np.arange(-2, 22, step) + step / 2
    xs, ys = np.meshgrid(g, g)
    in_bound = (xs <= 16.0) & (ys <= 14.0) & (xs >= 0) & (ys >= 0)
    for _ in range(5):
        pa = _rect_poly(*rng.uniform(5, 15, 2), *rng.uniform(3, 10, 2), rng.uniform(0, np.pi))
        pb = _rect_poly(*rng.uniform(5, 15, 2), *rng.uniform(3, 10, 2), rng.uniform(0, np.pi))
        ma, mb = _raster_mask(pa, xs, ys), _raster_mask(pb, xs, ys)
        for bnd, mask in ((None, True), ((16.0, 14.0), in_bound)):
            inter = (ma & mb & mask).sum()
            ref = inter / ((ma & mask).sum() + (mb & mask).sum() - inter)
            assert M.polygon_iou(pa[None], pb[None], bnd)[0] == pytest.approx(ref, abs=0.005)


# ----------------------------------------------------------------------------------------------------------
# VOT


def _vot_run():
    """10 frames: init, 2 tracked (IoU 0.8 polygons), failure at 3, skipped 4-7, re-init at 8, tracked 9."""
    gt = M.box_to_polygon(np.tile([0.0, 0, 10, 10], (10, 1)))
    good = M.box_to_polygon(np.array([0.0, 0, 10, 8]))  # IoU 0.8
    ok = M.box_to_polygon(np.array([0.0, 0, 10, 6]))  # IoU 0.6
    codes = np.array([1, -1, -1, 2, 0, 0, 0, 0, 1, -1])
    regions = np.full((10, 8), np.nan)
    regions[1] = regions[2] = good
    regions[9] = ok
    return codes, regions, gt


def test_vot_overlaps_failures_and_burnin():
    codes, regions, gt = _vot_run()
    np.testing.assert_array_equal(M.vot_failures(codes), [3])
    ov = M.vot_overlaps(codes, regions, gt)
    np.testing.assert_allclose(ov, [np.nan, 0.8, 0.8, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, 0.6])
    burn = M.vot_overlaps(codes, regions, gt, burnin=2)  # init frame + 1 more ignored after each init
    np.testing.assert_allclose(burn, [np.nan, np.nan, 0.8] + [np.nan] * 7)
    assert M.vot_accuracy([[ov]]) == pytest.approx((0.8 + 0.8 + 0.6) / 3)


def test_vot_accuracy_averages_runs_then_frames():
    r1 = np.array([np.nan, 0.8, 0.4])
    r2 = np.array([np.nan, 0.6, np.nan])
    s2 = np.array([np.nan, 1.0])
    # seq 1 per frame: [nan, 0.7, 0.4]; seq 2: [nan, 1.0] -> mean(0.7, 0.4, 1.0)
    assert M.vot_accuracy([[r1, r2], [s2]]) == pytest.approx(0.7)


def test_vot_robustness_per_100_frames():
    r, total = M.vot_robustness([[1, 1], [2, 0]], n_frames=200)
    assert total == pytest.approx(2.0)
    assert r == pytest.approx(1.0)


def test_eao_hand_computed():
    codes, regions, gt = _vot_run()
    ov = M.vot_overlaps(codes, regions, gt)
    frags = M.eao_fragments(ov, M.vot_failures(codes))
    np.testing.assert_allclose(frags[0], [0, 0.8, 0.8, 0, 0, 0, 0, 0, 0, 0])  # padded with 0 after failure
    np.testing.assert_allclose(frags[1], [0, 0.6] + [np.nan] * 8)  # NaN after the sequence end
    eao, curve = M.expected_average_overlap([(ov, M.vot_failures(codes))], eao_range=(1, 3))
    np.testing.assert_allclose(curve[:4], [1.0, 0.7, 0.8, 1.6 / 3])
    np.testing.assert_allclose(curve[9], 1.6 / 9)
    assert eao == pytest.approx((1.0 + 0.7 + 0.8) / 3)


def _eao_brute(runs, lo, hi, skipping=5):
    """Literal per-fragment, per-length loop of the pysot EAO definition."""
    max_len = max(len(o) for o, _ in runs)
    frags = []
    for ov, fails in runs:
        n = len(ov)
        points = [0] + [f + skipping for f in fails if f + skipping <= n]
        for i, p in enumerate(points):
            last = i == len(points) - 1
            end = n if last else points[i + 1] + 1
            vals = [0.0 if np.isnan(ov[k]) else ov[k] for k in range(p, min(end, n, p + max_len))]
            frags.append((vals, last))
    curve = [1.0]
    for ns in range(1, max_len):
        scores = []
        for vals, last in frags:
            if last and len(vals) <= ns:
                continue  # fragment ended with the sequence before length ns
            padded = vals + [0.0] * (max_len - len(vals))
            scores.append(sum(padded[1:ns + 1]) / ns)
        curve.append(sum(scores) / len(scores) if scores else 0.0)
    sel = curve[lo - 1:hi]
    return sum(sel) / len(sel), curve


def test_eao_matches_brute_force_on_random_runs():
    rng = np.random.default_rng(3)
    runs = []
    for _ in range(7):
        n = int(rng.integers(15, 60))
        ov = rng.uniform(0.1, 0.9, n)
        fails = sorted(rng.choice(np.arange(2, n), size=int(rng.integers(0, 4)), replace=False).tolist())
        fails = [f for k, f in enumerate(fails) if k == 0 or f > fails[k - 1] + 6]
        codes = np.full(n, -1)
        codes[0] = 1
        for f in fails:
            codes[f] = 2
            codes[f + 1:f + 5] = 0
            if f + 5 < n:
                codes[f + 5] = 1
        ov[codes != -1] = np.nan
        runs.append((ov, np.array(fails, dtype=int)))
    for lo, hi in [(2, 10), (5, 40), (46, 291)]:
        eao, curve = M.expected_average_overlap(runs, eao_range=(lo, hi))
        ref, ref_curve = _eao_brute(runs, lo, hi)
        np.testing.assert_allclose(curve, ref_curve, atol=1e-12)
        assert eao == pytest.approx(ref)
    assert M.EAO_RANGES[2018] == (100, 356) and M.EAO_RANGES[2019] == (46, 291)


def test_paired_difference_hand_computed() -> None:
    # a - b = [0.2, -0.1, 0.0, 0.3]: mean 0.1, sd sqrt(((0.1)^2+(0.2)^2+(0.1)^2+(0.2)^2)/3) = sqrt(0.1/3)
    r = M.paired_difference([0.7, 0.4, 0.5, 0.9], [0.5, 0.5, 0.5, 0.6])
    sd = math.sqrt(0.1 / 3)
    assert r["mean"] == pytest.approx(0.1) and r["sd"] == pytest.approx(round(sd, 4))
    assert r["se"] == pytest.approx(round(sd / 2, 4))
    assert (r["wins"], r["losses"], r["ties"]) == (2, 1, 1)
