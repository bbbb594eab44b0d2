"""AP on hand-built detections equals the VOC (11-point, all-point) and COCO definitions computed by hand."""

import numpy as np
import pytest

from cvkit.detect_adapt.metrics import coco_map, iou_matrix, voc_ap, voc_map

GT = [{"boxes": [[0, 0, 10, 10], [20, 20, 30, 30]], "labels": [0, 0]}]
# ranked: TP (exact on gt 1), FP (nowhere), TP (exact on gt 2) -> P = 1, 1/2, 2/3 at R = 1/2, 1/2, 1
DET = [{"boxes": [[0, 0, 10, 10], [50, 50, 60, 60], [20, 20, 30, 30]], "labels": [0, 0, 0], "scores": [.9, .8, .7]}]


def test_voc_all_point_area_under_envelope():
    assert voc_map(GT, DET, 1)["map"] == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)


def test_voc07_eleven_point():
    assert voc_map(GT, DET, 1, use_07=True)["map"] == pytest.approx((6 * 1 + 5 * 2 / 3) / 11)


def test_voc_duplicate_is_false_positive_and_difficult_is_ignored():
    gt = [{"boxes": [[0, 0, 10, 10], [20, 20, 30, 30]], "labels": [0, 0], "difficult": [False, True]}]
    det = [{"boxes": [[0, 0, 10, 10], [20, 20, 30, 30], [0, 0, 10, 10]], "labels": [0, 0, 0],
            "scores": [.9, .8, .7]}]
    # TP, ignored (difficult), FP duplicate: R = 1, 1; P = 1, 1/2 -> envelope 1 up to R = 1
    assert voc_map(gt, det, 1)["map"] == pytest.approx(1.0)
    det[0]["scores"] = [.7, .8, .9]  # duplicate ranked first: its match is the TP, the exact box becomes the FP
    assert voc_map(gt, det, 1)["map"] == pytest.approx(1.0)


def test_voc_plus_one_iou_and_strict_threshold():
    assert iou_matrix([[0, 0, 9, 9]], [[0, 0, 9, 9]], plus_one=True)[0, 0] == pytest.approx(1.0)
    assert iou_matrix([[0, 0, 9, 4]], [[0, 0, 9, 9]], plus_one=True)[0, 0] == pytest.approx(0.5)
    gt = [{"boxes": [[0, 0, 9, 9]], "labels": [0]}]
    det = [{"boxes": [[0, 0, 9, 4]], "labels": [0], "scores": [1.0]}]  # IoU exactly 0.5: devkit needs > 0.5
    assert voc_map(gt, det, 1)["map"] == 0.0


def test_voc_class_without_ground_truth_is_left_out_of_the_mean():
    out = voc_map(GT, DET, 3)
    assert out["per_class"][1] is None and out["map"] == pytest.approx(0.5 + 1 / 3)


def test_voc_ap_envelope_helper():
    assert voc_ap(np.array([1.0]), np.array([1.0])) == pytest.approx(1.0)
    assert voc_ap(np.array([0.5]), np.array([1.0]), use_07=True) == pytest.approx(6 / 11)


def test_coco_101_point_interpolation():
    # envelope P = 1 for R <= 0.5 (51 recall points), 2/3 for R in (0.5, 1] (50 points); IoU 1 at all thresholds
    out = coco_map(GT, DET, 1)
    assert out["map"] == pytest.approx((51 + 50 * 2 / 3) / 101)
    assert out["ap50"] == pytest.approx(out["map"])


def test_coco_iou_thresholds_average():
    gt = [{"boxes": [[0, 0, 10, 10]], "labels": [0]}]
    det = [{"boxes": [[0, 0, 10, 7.2]], "labels": [0], "scores": [1.0]}]  # IoU 0.72: TP at .50 ... .70
    out = coco_map(gt, det, 1)
    assert out["map"] == pytest.approx(0.5)
    assert out["ap50"] == pytest.approx(1.0) and out["ap75"] == pytest.approx(0.0)


def test_coco_crowd_match_is_neither_tp_nor_fp():
    gt = [{"boxes": [[0, 0, 10, 10], [20, 20, 30, 30]], "labels": [0, 0], "iscrowd": [False, True]}]
    det = [{"boxes": [[20, 20, 30, 30], [0, 0, 10, 10]], "labels": [0, 0], "scores": [.9, .5]}]
    assert coco_map(gt, det, 1)["map"] == pytest.approx(1.0)


def test_empty_detections_score_zero():
    empty = [{"boxes": np.zeros((0, 4)), "labels": [], "scores": []}]
    assert voc_map(GT, empty, 1)["map"] == 0.0
    assert coco_map(GT, empty, 1)["map"] == 0.0
