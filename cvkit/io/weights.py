"""`--model NAME_OR_PATH` -> the weights and card to load: a task's shipped asset by name, else a weights path
(card.json beside it), else ModelError (exit 5) that says how to get some. Every task that takes trained weights
resolves them this way, so the lookup order and the error are the same everywhere."""

from __future__ import annotations

from pathlib import Path

from ..assets import Asset, asset_from_path, find_asset
from ..errors import ModelError


def find_weights(task: str, name: str, missing: str) -> Asset:
    """The asset of `task` named `name`, or the weights at the path `name`; ModelError(`missing`) when neither
    exists. Not verified here: the caller runs `asset.verify()` (sha256 against the card) before loading."""
    asset = find_asset(task, name)
    if asset is not None:
        return asset
    if Path(name).exists():
        return asset_from_path(name)
    raise ModelError(missing)
