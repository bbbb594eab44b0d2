"""Every shipped model card follows docs/design.md section 5: the required keys, no ad-hoc ones, metrics rows with
data/metric/value, a training command that names `cvkit train`, and the sha256 of the weights beside it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cvkit.assets import sha256_file

ROOT = Path(__file__).resolve().parents[3]
CARDS = sorted((ROOT / "assets").glob("*/*/card.json"))
REQUIRED = {"name", "task", "architecture", "config", "params", "training", "metrics", "licence", "sha256"}
OPTIONAL = {"notes", "trunk", "tracker_params", "input", "feature"}


def test_the_shipped_cards_are_found() -> None:
    assert len(CARDS) >= 10


@pytest.mark.parametrize("path", CARDS, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_card_schema(path: Path) -> None:
    card = json.loads(path.read_text())
    assert REQUIRED <= set(card), f"missing keys {REQUIRED - set(card)}"
    assert set(card) <= REQUIRED | OPTIONAL, f"ad-hoc keys {set(card) - REQUIRED - OPTIONAL}"
    assert card["name"] == path.parent.name and card["task"] == path.parent.parent.name
    assert "cvkit train" in card["training"]["command"]
    for row in card["metrics"]:
        assert {"data", "metric", "value"} <= set(row), row
    weights = path.parent / "weights.safetensors"
    if weights.exists():  # an ablation card may run another model's weights
        assert sha256_file(weights) == card["sha256"]
