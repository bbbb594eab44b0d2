"""`--device` reaches the detect-adapt model (train, detect, evaluate) without CUDA: `select_device` answers the
meta device and the loaders record what they were given. `probe_devices` serves the other tasks' device tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import pytest
import torch

from cvkit.errors import ModelError
from tests.robustness.harness import invoke

META = torch.device("meta")


def probe_devices(monkeypatch: pytest.MonkeyPatch, loaders: dict[str, tuple[str, Callable[..., Any]]]) -> dict:
    """`--device X` resolves to the meta device (recorded as got["asked"] = X); each loader `key: (dotted path,
    pick)` is replaced by one that records `pick(*args, **kwargs)` (the device it was given) as got[key] and stops
    the command with exit 5."""
    got: dict = {}

    def select_device(name: str = "auto") -> torch.device:
        got["asked"] = name
        return META

    def stopper(key: str, pick: Callable[..., Any]) -> Callable[..., None]:
        def stop(*args: Any, **kwargs: Any) -> None:
            got[key] = pick(*args, **kwargs)
            raise ModelError("stop here")
        return stop

    monkeypatch.setattr("cvkit.device.select_device", select_device)
    for key, (target, pick) in loaders.items():
        monkeypatch.setattr(target, stopper(key, pick))
    return got


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
