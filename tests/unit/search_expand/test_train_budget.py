"""`cvkit train search-expand --steps N | --minutes M`: the shared training budget of `cvkit train TASK`."""

from __future__ import annotations

import json

import numpy as np

from tests.robustness.harness import invoke


def test_steps_and_minutes_budget(tmp_path) -> None:
    rng = np.random.default_rng(0)
    np.save(tmp_path / "x.npy", rng.standard_normal((60, 16)).astype(np.float32))
    np.save(tmp_path / "y.npy", np.repeat(np.arange(6), 10))
    base = ["train", "search-expand", "--features", str(tmp_path / "x.npy"), "--labels", str(tmp_path / "y.npy"),
            "--arch", "small", "--dba-epochs", "0", "--threads", "1", "--device", "cpu"]
    r = invoke([*base, "--steps", "3", "--updates", "2", "-o", str(tmp_path / "s")])
    assert r.code == 0, r.stderr
    card = json.loads((tmp_path / "s" / "card.json").read_text())
    assert card["training"]["recipe"]["epochs"] == 2  # 3 updates rounded up to whole epochs of 2
    # a generous epoch count stops at the wall-clock budget (the log names the epoch where it stopped)
    r = invoke([*base, "--epochs", "100000", "--updates", "1", "--minutes", "0.01", "--out", str(tmp_path / "m")])
    assert r.code == 0, r.stderr
    assert "--minutes 0.01 spent after" in r.stderr and (tmp_path / "m" / "weights.safetensors").exists()
