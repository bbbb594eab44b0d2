"""Quality on the 3 real SemanticKITTI scans in ../shared/data/segment-lidar (skipped when absent)."""

from __future__ import annotations

import numpy as np
import pytest

from cvkit.assets import find_asset
from cvkit.io.pointcloud import read_label, write_label
from cvkit.segment_lidar.data import find_semantickitti, load_scan
from cvkit.segment_lidar.evaluate import evaluate_model
from cvkit.segment_lidar.labels import LEARNING_MAP_INV, raw_to_train, train_to_raw
from cvkit.segment_lidar.registry import DEFAULT_MODEL, build_segmenter
from tests.conftest import shared_path

# quality floors for the default model (coarse groups over the 3 scans)
THRESHOLDS = {"ground": 0.90, "car": 0.60, "building": 0.50, "vegetation": 0.50}


@pytest.fixture(scope="module")
def root():
    return shared_path("segment-lidar")


# Measured (report-only) with the classical thresholds chosen on simulated scans (classical.py, tune.py): ground
# 0.917, car 0.763, building 0.510, vegetation 0.566. Not re-tuned on these scans. The building margin is thin
# (the facade rule's RANSAC seeds 0-4 give 0.510-0.511), so this test guards against regressions of the rule.


@pytest.fixture(scope="module")
def default_report(root):
    return evaluate_model(root, build_segmenter("default"))


@pytest.mark.slow
@pytest.mark.parametrize("group", list(THRESHOLDS))
def test_default_model_meets_the_acceptance_thresholds(default_report, group):
    rep = default_report
    assert rep["scans"] == 3 and rep["points"] > 300_000
    assert rep["coarse_iou"][group] >= THRESHOLDS[group], (DEFAULT_MODEL, group, rep["coarse_iou"])


@pytest.mark.slow
def test_learned_model_is_scored(root):
    assert find_asset("segment-lidar", "ssgv3-tiny-sim") is not None, "shipped asset missing"
    rep = evaluate_model(root, build_segmenter("ssgv3-tiny-sim"))
    # sim-trained: ground and cars transfer; the numbers are in the card and the README
    assert rep["coarse_iou"]["ground"] > 0.7
    assert rep["seconds_per_scan"] < 5


@pytest.mark.slow
def test_real_data_model_is_scored_per_scan(root):
    assert find_asset("segment-lidar", "ssgv3-tiny-kitti") is not None, "shipped asset missing"
    rep = evaluate_model(root, build_segmenter("ssgv3-tiny-kitti"))
    # measured 0.896 ground, 0.558 car (card); the classical default stays ahead on car and building here and in
    # leave-one-drive-out validation (docs/segment-lidar.md)
    assert rep["coarse_iou"]["ground"] > 0.8 and rep["coarse_iou"]["car"] > 0.4
    assert len(rep["per_scan"]) == 3 and all(0 < r["miou"] < 1 for r in rep["per_scan"])
    assert rep["seconds_per_scan"] < 10


def test_label_output_format_on_a_real_scan(root, tmp_path):
    item = find_semantickitti(root)[0]
    pts, gt = load_scan(item)
    pred = build_segmenter("classical").segment(pts).labels
    out = tmp_path / "000000.label"
    write_label(out, train_to_raw(pred))
    back = read_label(out, len(pts))
    assert out.stat().st_size == 4 * len(pts) and back.dtype == np.uint32
    assert set(np.unique(back)) <= set(LEARNING_MAP_INV)
    assert np.array_equal(raw_to_train(back), pred)
    # the ground-truth file itself passes the same reader
    assert len(read_label(item.label, len(pts))) == len(pts) == item.scan.stat().st_size // 16
