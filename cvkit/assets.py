"""Shipped weights: find, verify (sha256) and load `assets/<task>/<name>/weights.safetensors` + `card.json`.

A card is `{name, task, architecture, config, params, training: {command, data, seconds, seed},
metrics: [{data, metric, value}], licence, sha256}` (DESIGN.md section 5). User weights are either a
`.safetensors` file with a card beside it or a `.pt` state dict (loaded with weights_only=True).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from .errors import ModelError


def assets_root() -> Path:
    """The assets folder: $CVKIT_ASSETS, else `assets/` beside the package (source checkout)."""
    env = os.environ.get("CVKIT_ASSETS")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "assets"


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, streamed."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class Asset:
    """A weights file and its model card."""

    weights: Path
    card: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        """Card name, or the weights file's stem."""
        return self.card.get("name", self.weights.stem)

    def verify(self) -> None:
        """Check the weights' sha256 against the card (ModelError on mismatch)."""
        want = self.card.get("sha256")
        if want and sha256_file(self.weights) != want:
            raise ModelError(f"{self.weights}: sha256 does not match its card (corrupt or replaced file)")

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Load the tensors (safetensors, or a weights-only torch state dict)."""
        return read_state_dict(self.weights)


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Tensors of a `.safetensors` file or a `.pt/.pth` state dict, never unpickling code."""
    path = Path(path)
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # corrupt file, pickle with code, ...
        raise ModelError(f"{path}: cannot read weights ({type(e).__name__}: {e})") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ModelError(f"{path}: not a state dict")
    # checkpoints saved from nn.DataParallel carry a "module." prefix
    if state and all(k.startswith("module.") for k in state):
        state = {k[len("module.") :]: v for k, v in state.items()}
    return state


def find_asset(task: str, name: str) -> Asset | None:
    """The shipped asset `assets/<task>/<name>/`, or None when it is not shipped."""
    folder = assets_root() / task / name
    weights = folder / "weights.safetensors"
    card = folder / "card.json"
    if not weights.is_file():
        return None
    return Asset(weights, json.loads(card.read_text()) if card.is_file() else {})


def asset_from_path(path: str | Path) -> Asset:
    """A user-supplied weights file (card.json beside it is optional)."""
    path = Path(path)
    if path.is_dir():
        path = path / "weights.safetensors"
    if not path.is_file():
        raise ModelError(f"{path}: weights file not found")
    card_path = path.parent / "card.json"
    card = json.loads(card_path.read_text()) if card_path.is_file() else {}
    return Asset(path, card)


def list_assets(task: str | None = None) -> list[Asset]:
    """All shipped assets (optionally of one task), sorted by task and name."""
    root = assets_root()
    out = []
    for card in sorted(root.glob("*/*/card.json")):
        if task and card.parent.parent.name != task:
            continue
        w = card.parent / "weights.safetensors"
        if w.is_file():
            out.append(Asset(w, json.loads(card.read_text())))
    return out


def load_into(model: nn.Module, state: dict[str, torch.Tensor], source: object, strict: bool = True) -> None:
    """Load a state dict, turning a key or shape mismatch into ModelError naming the first bad key."""
    own = model.state_dict()
    for k, v in state.items():
        if k not in own:
            if strict:
                raise ModelError(f"{source}: unexpected key {k!r} for {type(model).__name__}")
            continue
        if tuple(own[k].shape) != tuple(v.shape):
            raise ModelError(
                f"{source}: shape mismatch at {k!r}: file {tuple(v.shape)} vs model {tuple(own[k].shape)}"
            )
    if strict:
        for k in own:
            if k not in state:
                raise ModelError(f"{source}: missing key {k!r} for {type(model).__name__}")
    model.load_state_dict(state, strict=False)


def save_asset(folder: str | Path, state: dict[str, torch.Tensor], card: dict) -> Path:
    """Write weights.safetensors + card.json (sha256 and param count filled in) into `folder`."""
    from safetensors.torch import save_file

    from .io.atomic import atomic_path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / "weights.safetensors"
    tensors = {k: v.detach().contiguous().cpu() for k, v in state.items()}
    with atomic_path(weights) as tmp:
        save_file(tensors, str(tmp))
    card = dict(card)
    card["sha256"] = sha256_file(weights)
    card.setdefault("params", int(sum(v.numel() for v in tensors.values())))
    with atomic_path(folder / "card.json") as tmp:
        tmp.write_text(json.dumps(card, indent=2) + "\n")
    return weights
