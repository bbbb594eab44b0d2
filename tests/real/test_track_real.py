"""Real-data regression: the default tracker on VOT2015 `bag` and two UAV123 sequences (evaluation only, never
trained on). Thresholds sit below the measured values of benchmarks/results/bench_track.json with a margin."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from cvkit.io.boxes import polygon_to_minmax, read_box_file, read_polygons
from cvkit.track.metrics import score_sequence
from tests.conftest import shared_path


@pytest.mark.slow
def test_default_tracker_on_vot15_bag(tmp_path):
    seq = shared_path("track", "vot15_bag")
    polys = read_polygons(seq / "groundtruth.txt")
    gt = np.stack([polygon_to_minmax(p) for p in polys])
    x, y, w, h = gt[0]
    boxes = tmp_path / "b.txt"
    r = subprocess.run([sys.executable, "-m", "cvkit_cli.main", "track", str(seq / "imgs"),
                        "--init-box", f"{x},{y},{w},{h}", "--boxes", str(boxes), "--quiet"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    pred = read_box_file(boxes)
    assert pred.shape == gt.shape
    s = score_sequence(pred[1:], gt[1:], include_first=True)  # frames 2..196
    print(f"vot15_bag default: AUC {s['auc']:.3f} P@20 {s['p20']:.3f}")
    assert s["auc"] >= 0.65 and s["p20"] >= 0.90


@pytest.mark.slow
@pytest.mark.parametrize("name, min_auc", [("uav123_wakeboard10", 0.55), ("uav123_boat1", 0.6)])
def test_default_tracker_on_uav123(name, min_auc):
    """A 10x9 px target from a drone (1-based GT) and a large boat with strong scale change: no collapse."""
    import cv2

    from cvkit.track.datasets import detect_sequence
    from cvkit.track.registry import DEFAULT_MODEL, build_tracker

    seq = detect_sequence(shared_path("track", name))
    assert seq.layout == "otb" and seq.extras["one_based"]
    tracker = build_tracker(DEFAULT_MODEL)
    frames = [cv2.imread(str(f)) for f in seq.frames]
    tracker.initialize(frames[0], tuple(seq.gt[0]))
    pred = [tuple(seq.gt[0])] + [tracker.track(f)[0] for f in frames[1:]]
    s = score_sequence(np.array(pred), seq.gt, include_first=False)
    print(f"{name} {DEFAULT_MODEL}: AUC {s['auc']:.3f} P@20 {s['p20']:.3f}")
    assert s["auc"] >= min_auc and s["p20"] >= 0.75
