"""`--device` reaches the propose-actions models (propose, train, evaluate) without CUDA: `select_device`
answers the meta device and the loaders record what they were given."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cvkit.errors import ModelError
from tests.robustness.harness import invoke

META = torch.device("meta")


@pytest.fixture
def seen(monkeypatch):
    got: dict = {}

    def select_device(name: str = "auto") -> torch.device:
        got["asked"] = name
        return META

    def stop(key: str, device) -> None:
        got[key] = device
        raise ModelError("stop here")

    monkeypatch.setattr("cvkit.device.select_device", select_device)
    monkeypatch.setattr("cvkit.propose_actions.run.load_proposer", lambda model, device=None: stop("model", device))
    monkeypatch.setattr("cvkit.propose_actions.workflows.train", lambda *a, **kw: stop("train", a[16]))
    return got


def test_every_command_passes_the_device(seen, tmp_path):
    np.save(tmp_path / "v.npy", np.zeros((8, 4), np.float32))
    r = invoke(["propose-actions", str(tmp_path / "v.npy"), "-o", str(tmp_path / "p.json"), "--device", "cuda:1"])
    assert r.code == 5 and seen == {"asked": "cuda:1", "model": META}, r.stderr
    r = invoke(["evaluate", "propose-actions", "--dataset", "synthetic", "--device", "cuda:2"])
    assert r.code == 5 and seen == {"asked": "cuda:2", "model": META}, r.stderr
    r = invoke(["train", "propose-actions", "--device", "cuda:3", "-o", str(tmp_path / "m")])
    assert r.code == 5 and seen["asked"] == "cuda:3" and seen["train"] == "meta", r.stderr
