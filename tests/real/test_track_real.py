"""Real-data regression: the default tracker on VOT2015 `bag` (evaluation only, never trained on)."""

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
    print(f"vot15_bag siam-lite: AUC {s['auc']:.3f} P@20 {s['p20']:.3f}")
    assert s["auc"] >= 0.65 and s["p20"] >= 0.90
