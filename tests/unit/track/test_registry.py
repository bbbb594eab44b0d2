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
    from cvkit.track.siamfc.se_siamfc import SESiamFCNet

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


def test_ablation_shares_its_parent_asset_and_lists_its_own_metrics() -> None:
    """dmtrack-lite-ofc runs dmtrack-lite's weights; `cvkit models` shows the card's OFC-alone numbers for it."""
    from cvkit.assets import find_asset
    from cvkit.models import list_models

    assert find_asset("track", "dmtrack-lite") is not None, "the tracked dmtrack-lite asset is missing"
    rows = {r["name"]: r for r in list_models() if r["task"] == "track"}
    ofc, fused = rows["dmtrack-lite-ofc"], rows["dmtrack-lite"]
    assert ofc["weights"] == fused["weights"] == "shipped"
    assert ofc["metrics"] and all(not m["metric"].endswith("_ofc_alone") for m in ofc["metrics"])
    assert {m["value"] for m in ofc["metrics"]} <= {m["value"] for m in fused["metrics"]}
    assert ofc["metrics"][0]["value"] != fused["metrics"][0]["value"]
