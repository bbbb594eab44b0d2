"""Fixtures shared by the unit tests of several tasks."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture
def on_meta(monkeypatch) -> tuple[list[str], list[str]]:
    """--device NAME resolves to `meta`; returns (device names asked for, class names of modules moved to meta)."""
    import cvkit.device

    asked: list[str] = []
    moved: list[str] = []
    monkeypatch.setattr(cvkit.device, "select_device", lambda name="auto": asked.append(name) or torch.device("meta"))
    real_to = torch.nn.Module.to

    def spy(module, *args, **kwargs):
        out = real_to(module, *args, **kwargs)
        if any(p.device.type == "meta" for p in out.parameters()):
            moved.append(type(out).__name__)
        return out

    monkeypatch.setattr(torch.nn.Module, "to", spy)
    return asked, moved
