"""`--device` reaches the semantic-flow models (flow, train, evaluate) without CUDA: `select_device` answers the
meta device and the builders record what they were given."""

from __future__ import annotations

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
    monkeypatch.setattr("cvkit.registry.build_model", lambda task, model, device, **kw: stop("flow", device))
    monkeypatch.setattr("cvkit.semantic_flow.evaluate.method_functions",
                        lambda names, size, device: stop("evaluate", device))
    monkeypatch.setattr("cvkit.semantic_flow.train.train", lambda opts, log=None: stop("train", opts.device))
    monkeypatch.setitem(__import__("cvkit.semantic_flow.data", fromlist=["READERS"]).READERS, "homography",
                        lambda root: [])
    return got


def test_every_command_passes_the_device(seen, tmp_path):
    (tmp_path / "a.png").write_bytes(b"")
    (tmp_path / "b.png").write_bytes(b"")
    r = invoke(["semantic-flow", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "--device", "cuda:1"])
    assert r.code == 5 and seen == {"asked": "cuda:1", "flow": META}, r.stderr
    r = invoke(["evaluate", "semantic-flow", "--dataset", "homography", "--root", str(tmp_path), "--device", "cuda:2"])
    assert r.code == 5 and seen["asked"] == "cuda:2" and seen["evaluate"] == META, r.stderr
    r = invoke(["train", "semantic-flow", "--device", "cuda:3", "-o", str(tmp_path / "m")])
    assert r.code == 5 and seen["asked"] == "cuda:3" and seen["train"] == "meta", r.stderr
