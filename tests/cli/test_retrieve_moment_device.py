"""`--device` reaches the retrieve-moment models (retrieve, evaluate) without CUDA: `select_device` answers the
meta device and the model loaders record what they were given. (`train retrieve-moment` has no --device: its
recipes run on the CPU.)"""

from __future__ import annotations

import pytest
import torch

from cvkit.errors import ModelError
from tests.robustness.harness import invoke


@pytest.fixture
def seen(monkeypatch):
    got: dict = {}

    def select_device(name: str = "auto") -> torch.device:
        got["asked"] = name
        return torch.device("meta")

    def stop(key: str, device) -> None:
        got[key] = device
        raise ModelError("stop here")

    monkeypatch.setattr("cvkit.device.select_device", select_device)
    monkeypatch.setattr("cvkit.retrieve_moment.predict.Retriever",
                        lambda model, prior, device, *a: stop("model", device))
    monkeypatch.setattr("cvkit.retrieve_moment.train.synth_eval", lambda *a, device: stop("synth", device))
    return got


def test_retrieve_and_evaluate_pass_the_device(seen, tmp_path):
    (tmp_path / "clip.mp4").write_bytes(b"")
    r = invoke(["retrieve-moment", str(tmp_path / "clip.mp4"), "a dog", "--device", "cuda:1"])
    assert r.code == 5 and seen == {"asked": "cuda:1", "model": "meta"}, r.stderr
    r = invoke(["evaluate", "retrieve-moment", "--dataset", "charades-sta", "--root", str(tmp_path), "--device",
                "cuda:2"])
    assert r.code == 5 and seen == {"asked": "cuda:2", "model": "meta"}, r.stderr
    r = invoke(["evaluate", "retrieve-moment", "--dataset", "synth-sta", "--device", "cuda:3"])
    assert r.code == 5 and seen["asked"] == "cuda:3" and seen["synth"] == "meta", r.stderr
    text = invoke(["train", "retrieve-moment", "--help"]).stdout
    assert "--epochs" in text and "--device" not in text
