"""`--device` reaches the propose-actions models (propose, train, evaluate) without CUDA (see `probe_devices`)."""

from __future__ import annotations

import numpy as np
import torch

from tests.cli.helpers import probe_devices
from tests.robustness.harness import invoke


def test_every_command_passes_the_device(monkeypatch, tmp_path):
    seen = probe_devices(monkeypatch, {
        "model": ("cvkit.propose_actions.run.load_proposer", lambda model, device=None: device),
        "train": ("cvkit.propose_actions.workflows.train", lambda *args: args[16])})
    np.save(tmp_path / "v.npy", np.zeros((8, 4), np.float32))
    r = invoke(["propose-actions", str(tmp_path / "v.npy"), "-o", str(tmp_path / "p.json"), "--device", "cuda:1"])
    assert r.code == 5 and seen == {"asked": "cuda:1", "model": torch.device("meta")}, r.stderr
    r = invoke(["evaluate", "propose-actions", "--dataset", "synthetic", "--device", "cuda:2"])
    assert r.code == 5 and seen == {"asked": "cuda:2", "model": torch.device("meta")}, r.stderr
    r = invoke(["train", "propose-actions", "--device", "cuda:3", "-o", str(tmp_path / "m")])
    assert r.code == 5 and seen["asked"] == "cuda:3" and seen["train"] == "meta", r.stderr
