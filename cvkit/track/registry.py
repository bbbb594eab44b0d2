"""Tracker registry: names accepted by `--model`, what each needs, and how to build it.

A name is a shipped or built-in model; a path is user weights (card.json beside it names the
architecture, else the architecture is recognised from the state-dict keys).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from ..assets import Asset, asset_from_path, find_asset, load_into
from ..errors import ModelError
from ..registry import ModelInfo, register_task
from .base import Tracker
from .opencv_trackers import OPENCV_TRACKERS, OpenCVTracker

DEFAULT_MODEL = "automatch-lite"  # best mean success AUC over the real sequences (README, bench_track)


def _siam_lite(device: torch.device, asset: Asset | None) -> Tracker:
    from .siamfc.siam_lite import SiamLiteNet
    from .siamfc.siamfc import SiamFCTracker

    tracker = SiamFCTracker(SiamLiteNet(), device=device)
    tracker.name = "siam-lite"
    return tracker


def _sesiamfc(device: torch.device, asset: Asset | None) -> Tracker:
    from .siamfc.se_siamfc import SESiamFCNet, SESiamFCParams, official_state_dict
    from .siamfc.siamfc import SiamFCTracker

    config = asset.card.get("config", {}) if asset else {}
    net = SESiamFCNet(head=config.get("head", "corr"), padding_mode="constant")  # the release tests with zeros
    load_into(net, official_state_dict(asset.state_dict()), asset.weights)
    tracker = SiamFCTracker(net, SESiamFCParams.preset(config.get("preset", "OTB2015")), device=device)
    tracker.name = "sesiamfc"
    return tracker


def _lite(kind: str) -> Callable[[torch.device, Asset | None], Tracker]:
    def build(device: torch.device, asset: Asset | None) -> Tracker:
        from .siamfc.se_siamfc_lite import build_lite_net
        from .siamfc.siamfc import SiamFCParams, SiamFCTracker

        card = asset.card if asset else {}
        net = build_lite_net(kind, pretrained=True, **card.get("config", {}))
        load_weights(net, asset)
        params = SiamFCParams(**card.get("tracker_params", {}))
        tracker = SiamFCTracker(net, params, device=device)
        tracker.name = kind
        return tracker

    return build


BUILDERS: dict[str, Callable[[torch.device, Asset | None], Tracker]] = {
    "siam-lite": _siam_lite,
    "sesiamfc": _sesiamfc,
    "sesiamfc-lite": _lite("sesiamfc-lite"),
    "siamfc-lite-plain": _lite("siamfc-lite-plain"),
}
MODELS: dict[str, ModelInfo] = {
    "siam-lite": ModelInfo(
        "siam-lite",
        "SiamFC inference (3-scale pyramid, cosine window) on the frozen ImageNet EfficientNet-Lite0 "
        "stride-16 trunk; training-free",
        needs_weights=False,
        lost_threshold=0.25,
    ),
    "sesiamfc": ModelInfo(
        "sesiamfc",
        "SE-SiamFC (Sosnovik et al., WACV 2021): SE-ResNet-22 of Hermite-basis scale convolutions, scale "
        "pooling, SiamFC head; paper size (1.45 M params); loads official SiamSE checkpoints",
        needs_weights=True,
        train_hint="Train it with `cvkit train track --model sesiamfc --data got10k:DIR` (GPU advised)",
    ),
    "sesiamfc-lite": ModelInfo(
        "sesiamfc-lite",
        "SE-SiamFC's mechanism (scale-convolution neck, scale max-pooling) on the frozen EfficientNet-Lite0 trunk",
        needs_weights=True,
        train_hint="Train it with `cvkit train track --model sesiamfc-lite --data synthetic`",
    ),
    "siamfc-lite-plain": ModelInfo(
        "siamfc-lite-plain",
        "the non-equivariant twin of sesiamfc-lite (plain convolutions), for ablations",
        needs_weights=True,
        train_hint="Train it with `cvkit train track --model siamfc-lite-plain --data synthetic`",
    ),
}
for _name, (_, _desc) in OPENCV_TRACKERS.items():
    MODELS[_name] = ModelInfo(_name, f"OpenCV peer, {_desc}", needs_weights=False, lost_threshold=0.5)


def default_lost_threshold(model: str) -> float | None:
    """The model's score below which a frame is flagged lost (None: the model has no calibrated score)."""
    info = MODELS.get(model)
    return info.lost_threshold if info else None


def register(info: ModelInfo, builder: Callable[[torch.device, Asset | None], Tracker]) -> None:
    """Add a tracker family to the registry (called by the modules that define them)."""
    MODELS[info.name] = info
    BUILDERS[info.name] = builder


def _architecture_of(asset: Asset) -> str:
    arch = asset.card.get("architecture")
    if arch in BUILDERS:
        return arch
    keys = set(asset.state_dict())
    for name, probe in KEY_PROBES.items():
        if probe(keys):
            return name
    raise ModelError(
        f"{asset.weights}: cannot tell which tracker these weights belong to "
        f"(add a card.json with \"architecture\": one of {', '.join(sorted(BUILDERS))})"
    )


KEY_PROBES: dict[str, Callable[[set[str]], bool]] = {
    # the official SiamSE release (and our sesiamfc) name the backbone features.features.*
    "sesiamfc": lambda keys: any(k.removeprefix("module.").startswith("features.features.conv1") for k in keys),
}


def build_tracker(model: str = DEFAULT_MODEL, device: torch.device | str = "cpu") -> Tracker:
    """Build a tracker by registered name or from a weights path (ModelError, exit 5, when unavailable)."""
    device = torch.device(device)
    if model in OPENCV_TRACKERS:
        return OpenCVTracker(model)
    path = Path(model)
    if model not in MODELS and (path.exists() or path.suffix in (".safetensors", ".pt", ".pth")):
        asset = asset_from_path(path)
        asset.verify()
        return BUILDERS[_architecture_of(asset)](device, asset)
    if model not in MODELS:
        raise ModelError(f"unknown model {model!r}; available: {', '.join(MODELS)} (or a path to weights)")
    info = MODELS[model]
    asset = find_asset("track", info.asset_name) if info.needs_weights else None
    if info.needs_weights and asset is None:
        raise ModelError(
            f"model {model!r} has no shipped weights. {info.train_hint} "
            "or point --model at a weights file (.safetensors with card.json, or .pt state dict)".strip()
        )
    if asset is not None:
        asset.verify()
    return BUILDERS[model](device, asset)


def _load_plugins() -> None:
    """Import the tracker families that register themselves (kept out of this module's import list)."""
    import importlib

    for module in PLUGINS:
        importlib.import_module(f"{__package__}.{module}")


# modules that call `register(...)` at import time
PLUGINS: tuple[str, ...] = ("automatch.automatch", "dmtrack.dmtrack")


def load_weights(net: torch.nn.Module, asset: Asset, strict: bool = True) -> torch.nn.Module:
    """Load an asset's tensors into a network (key/shape mismatch -> ModelError naming the key)."""
    load_into(net, asset.state_dict(), asset.weights, strict=strict)
    return net


_load_plugins()
register_task("track", default_model=DEFAULT_MODEL, table=MODELS, headline_metric="success_auc",
              description="single-object tracking in videos and image folders",
              datasets=("otb", "got10k", "lasot", "vot", "folder"),
              checks=(("opencv trackers", lambda: _opencv_trackers()),))


def _opencv_trackers() -> str:
    """The OpenCV contrib trackers used as peers are present."""
    import cv2

    missing = [f for f in ("TrackerCSRT_create", "TrackerKCF_create", "TrackerMIL_create") if not hasattr(cv2, f)]
    if missing:
        raise RuntimeError(f"OpenCV {cv2.__version__} lacks {', '.join(missing)} (needs the contrib build)")
    return "CSRT, KCF and MIL available"
