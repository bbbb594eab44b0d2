"""`--device` reaches the semantic-flow models (flow, train, evaluate) without CUDA (see `probe_devices`)."""

from __future__ import annotations

import torch

from cvkit.semantic_flow.data import READERS
from tests.cli.helpers import probe_devices
from tests.robustness.harness import invoke


def test_every_command_passes_the_device(monkeypatch, tmp_path):
    monkeypatch.setitem(READERS, "homography", lambda root: [])
    seen = probe_devices(monkeypatch, {
        "flow": ("cvkit.registry.build_model", lambda task, model, device, **kw: device),
        "evaluate": ("cvkit.semantic_flow.evaluate.method_functions", lambda names, size, device: device),
        "train": ("cvkit.semantic_flow.train.train", lambda opts, log=None: opts.device)})
    (tmp_path / "a.png").write_bytes(b"")
    (tmp_path / "b.png").write_bytes(b"")
    r = invoke(["semantic-flow", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "--device", "cuda:1"])
    assert r.code == 5 and seen == {"asked": "cuda:1", "flow": torch.device("meta")}, r.stderr
    r = invoke(["evaluate", "semantic-flow", "--dataset", "homography", "--root", str(tmp_path), "--device", "cuda:2"])
    assert r.code == 5 and seen["asked"] == "cuda:2" and seen["evaluate"] == torch.device("meta"), r.stderr
    r = invoke(["train", "semantic-flow", "--device", "cuda:3", "-o", str(tmp_path / "m")])
    assert r.code == 5 and seen["asked"] == "cuda:3" and seen["train"] == "meta", r.stderr
