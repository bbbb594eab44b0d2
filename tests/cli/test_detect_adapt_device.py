"""`--device` reaches the detect-adapt model (train, detect, evaluate) without CUDA: `select_device` answers the
meta device and the loaders record what they were given."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.cli.helpers import META, probe_devices
from tests.robustness.harness import invoke


@pytest.fixture
def seen(monkeypatch):
    return probe_devices(monkeypatch, {
        "model": ("cvkit.detect_adapt.registry.load_predictor", lambda model, device: device),
        "train": ("cvkit.detect_adapt.train.train", lambda out, **kw: kw["device"])})


def test_detect_and_evaluate_pass_the_device(seen, tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((32, 32, 3), np.uint8))
    r = invoke(["detect-adapt", str(tmp_path / "a.png"), "--device", "cuda:1"])
    assert r.code == 5 and seen == {"asked": "cuda:1", "model": META}
    r = invoke(["evaluate", "detect-adapt", "--root", str(tmp_path), "--device", "cuda:2"])
    assert r.code == 5 and seen == {"asked": "cuda:2", "model": META}


def test_train_passes_the_device(seen, tmp_path):
    r = invoke(["train", "detect-adapt", "--device", "cuda:0", "--steps", "1", "-o", str(tmp_path / "m")])
    assert r.code == 5 and seen == {"asked": "cuda:0", "train": "meta"}
