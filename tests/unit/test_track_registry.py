"""Tracker registry: names, user weights recognised by their keys, clear errors for missing weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cvkit.errors import ModelError
from cvkit.track.registry import MODELS, build_tracker


def test_registered_models():
    assert {"siam-lite", "sesiamfc", "sesiamfc-lite", "cv-csrt", "cv-kcf", "cv-mil"} <= set(MODELS)
    assert not MODELS["siam-lite"].needs_weights and MODELS["sesiamfc"].needs_weights


def test_paper_model_without_weights_says_how_to_train():
    with pytest.raises(ModelError, match="cvkit train track --model sesiamfc"):
        build_tracker("sesiamfc")


def test_official_style_checkpoint_loads_by_path_and_tracks(tmp_path):
    from cvkit.track.se_siamfc import SESiamFCNet

    torch.manual_seed(0)
    state = {f"module.{k}": v for k, v in SESiamFCNet().state_dict().items()}
    torch.save({"state_dict": state}, tmp_path / "SESiamFCResNet22.pth")
    tracker = build_tracker(str(tmp_path / "SESiamFCResNet22.pth"))
    frame = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    tracker.initialize(frame, (60, 40, 30, 30))
    box, score = tracker.track(frame)
    assert np.isfinite(box).all() and np.isfinite(score)


def test_unrecognised_weights_exit_5(tmp_path):
    torch.save({"foo.weight": torch.zeros(3)}, tmp_path / "w.pt")
    with pytest.raises(ModelError, match="cannot tell which tracker"):
        build_tracker(str(tmp_path / "w.pt"))
