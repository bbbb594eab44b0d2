"""Real data: PETS2009 S2L1 person boxes (CVML XML) and frames; OpenCV's HOG people detector scores well above
chance on them (the classical baseline of the README's PETS row); the shipped model runs on a real frame."""

import numpy as np
import pytest
import torch

from cvkit.detect_adapt.cvml import hog_people, read_cvml, read_frames
from cvkit.detect_adapt.metrics import voc_map
from tests.conftest import shared_path


def test_cvml_boxes_and_frames_align():
    gt = read_cvml(shared_path("pets2009", "PETS2009-S2L1.xml"))
    assert len(gt) >= 790 and 4000 < sum(len(b) for b in gt.values()) < 5500
    heights = np.concatenate([b[:, 3] - b[:, 1] for b in gt.values() if len(b)])
    assert 40 < np.median(heights) < 150
    frames = read_frames(shared_path("pets2009", "vtest.avi"), [0, 100])
    assert len(frames) == 2 and frames[0].shape == (576, 768, 3)


@pytest.mark.slow
def test_hog_people_detector_finds_walkers():
    gt = read_cvml(shared_path("pets2009", "PETS2009-S2L1.xml"))
    idx = [0, 200, 400]
    frames = read_frames(shared_path("pets2009", "vtest.avi"), idx)
    gts = [{"boxes": gt[i], "labels": np.zeros(len(gt[i]), np.int64)} for i in idx]
    ap = voc_map(gts, [hog_people(f) for f in frames], 1)["map"]
    assert ap > 0.1


@pytest.mark.slow
def test_shipped_model_runs_on_a_real_frame():
    from cvkit.detect_adapt.registry import load_predictor
    frame = read_frames(shared_path("pets2009", "vtest.avi"), [0])[0]
    pred = load_predictor("default", torch.device("cpu"))  # the default's weights are shipped: a ModelError fails
    det = pred.detect([torch.from_numpy(frame.astype(np.float32) / 255).permute(2, 0, 1)], 0.05)[0]
    assert det["boxes"].shape[1] == 4
    if len(det["boxes"]):
        assert float(det["boxes"][:, 2].max()) <= 768 + 1e-3 and float(det["boxes"][:, 3].max()) <= 576 + 1e-3
