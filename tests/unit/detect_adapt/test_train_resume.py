"""An interrupted training run resumes from its last checkpoint."""

import json

import pytest

import cvkit.detect_adapt.train as train_mod
from cvkit.detect_adapt.adapt import AdaptConfig


@pytest.mark.slow
def test_interrupted_run_resumes_from_checkpoint(tmp_path, tiny_cfg, monkeypatch):
    calls = {"n": 0}
    real = train_mod.step_losses

    def flaky(*a, **k):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(train_mod, "step_losses", flaky)
    acfg = AdaptConfig(method="source-only", head_channels=16)
    with pytest.raises(KeyboardInterrupt):
        train_mod.train(tmp_path, acfg=acfg, cfg=tiny_cfg, steps=5, batch=1, ckpt_every=2, quiet=True)
    assert (tmp_path / "checkpoint.pt").exists() and not (tmp_path / "card.json").exists()
    monkeypatch.setattr(train_mod, "step_losses", real)
    _, log, _ = train_mod.train(tmp_path, acfg=acfg, cfg=tiny_cfg, steps=5, batch=1, ckpt_every=2, quiet=True)
    card = json.loads((tmp_path / "card.json").read_text())
    assert card["training"]["resumed_from_step"] == 2 and log.steps == 3 and card["training"]["total_steps"] == 5
