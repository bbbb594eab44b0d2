"""SemanticKITTI metrics and label maps on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from cvkit.segment_lidar.labels import (
    LEARNING_MAP_INV,
    NUM_CLASSES,
    class_weights,
    coarse_lut,
    raw_to_train,
    train_to_raw,
)
from cvkit.segment_lidar.metrics import IoUEvaluator, coarse_evaluator, report


def test_iou_hand_computed():
    # gt:   1 1 1 9 9 0 0 ; pred: 1 9 1 9 13 1 9
    gt = np.array([1, 1, 1, 9, 9, 0, 0])
    pred = np.array([1, 9, 1, 9, 13, 1, 9])
    ev = IoUEvaluator()
    ev.add(pred, gt)
    miou, iou = ev.iou()
    # car: TP 2, FP 0 (the pred-1 on gt-0 is ignored), FN 1 -> 2/3
    assert iou[1] == pytest.approx(2 / 3)
    # road: TP 1, FP 1 (gt car), FN 1 (pred building) -> 1/3
    assert iou[9] == pytest.approx(1 / 3)
    # building: TP 0, FP 1 -> 0
    assert iou[13] == 0.0
    # mIoU averages all 19 classes, absent ones count 0 (official tool)
    assert miou == pytest.approx((2 / 3 + 1 / 3) / 19)
    # accuracy over non-ignored gt points: 3 correct of 5
    assert ev.accuracy() == pytest.approx(3 / 5)
    rep = report(ev)
    assert rep["present"] == ["car", "road"]
    assert rep["miou_present"] == pytest.approx(0.5)


def test_prediction_of_ignore_class_is_zeroed_like_the_official_tool():
    ev = IoUEvaluator()
    ev.add(np.array([0, 1]), np.array([1, 1]))
    _, iou = ev.iou()
    # the row of predicted class 0 is zeroed (SqueezeSegV3 ioueval): only the correct point counts
    assert iou[1] == pytest.approx(1.0)


def test_accumulates_over_scans_and_checks_lengths():
    ev = IoUEvaluator()
    ev.add(np.array([1, 1]), np.array([1, 9]))
    ev.add(np.array([9]), np.array([9]))
    _, iou = ev.iou()
    assert iou[1] == pytest.approx(0.5) and iou[9] == pytest.approx(0.5)
    with pytest.raises(ValueError):
        ev.add(np.array([1, 2]), np.array([1]))
    with pytest.raises(ValueError):
        ev.add(np.array([20]), np.array([1]))


def test_coarse_ground_group():
    ev = IoUEvaluator()
    # road predicted as sidewalk and terrain as parking: all ground in the coarse view
    ev.add(np.array([11, 10, 1, 15]), np.array([9, 17, 1, 13]))
    coarse = coarse_evaluator(ev)
    _, ciou = coarse.iou()
    names = ["ignored", *report(ev)["coarse_iou"].keys()]
    assert ciou[names.index("ground")] == pytest.approx(1.0)
    assert ciou[names.index("building")] == 0.0
    assert report(ev)["coarse_iou"]["vegetation"] == 0.0
    assert coarse_lut()[9] == coarse_lut()[17] != coarse_lut()[13]


def test_learning_map_and_inverse():
    raw = np.array([0, 10, 40, 44, 48, 49, 50, 60, 70, 72, 252, 99, 52, 1, 123456], dtype=np.uint32)
    raw[1] |= 7 << 16  # instance id in the upper bits is ignored
    assert raw_to_train(raw).tolist() == [0, 1, 9, 10, 11, 12, 13, 9, 15, 17, 1, 0, 0, 0, 0]
    assert train_to_raw(np.arange(NUM_CLASSES)).tolist() == list(LEARNING_MAP_INV)
    assert (raw_to_train(train_to_raw(np.arange(NUM_CLASSES))) == np.arange(NUM_CLASSES)).all()
    with pytest.raises(ValueError):
        train_to_raw(np.array([20]))


def test_class_weights():
    w = class_weights(formula="code")
    assert w[0] == 0 and w[9] == pytest.approx(1 / (0.194871744 + 0.001), rel=1e-5)
    wp = class_weights(formula="paper")
    assert wp[0] == 0 and wp[19] > wp[9] > 0  # rare classes weigh more
    with pytest.raises(ValueError):
        class_weights(formula="nope")
