"""segment-lidar model registry: names accepted by `--model` and how to build each.

`default` resolves to DEFAULT_MODEL, the model that scores higher on real SemanticKITTI drives it was not tuned on:
classical, ahead of ssgv3-tiny-kitti in leave-one-drive-out validation over the 8 training drives and on the 3
sequence-00 scans (docs/segment-lidar.md). The paper-size networks (`ssgv3-21`, `ssgv3-53`) are always available
by name and need weights trained with `cvkit train segment-lidar --data semantickitti:DIR --arch ssgv3-21`.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..assets import Asset, asset_from_path, find_asset, load_into
from ..errors import ModelError
from ..registry import ModelInfo, register_task
from .projection import SENSORS, Sensor
from .segment import Segmenter
from .ssgv3 import CONFIGS, SqueezeSegV3, SSGV3Config

DEFAULT_MODEL = "classical"

MODELS: dict[str, ModelInfo] = {
    "classical": ModelInfo(
        "classical", "the default (higher IoU than ssgv3-tiny-sim on the real SemanticKITTI scans): classical "
        "pipeline (not the paper's model): local ground planes + voxel clustering + geometric rules (thresholds "
        "from physical sizes and a sweep on simulated scans, none on real data); outputs "
        "road/car/building/vegetation/pole", needs_weights=False),
    "ssgv3-tiny-kitti": ModelInfo(
        "ssgv3-tiny-kitti", "SqueezeSegV3 SAC-ISK network at quarter width (0.65 M params), 64x512: "
        "ssgv3-tiny-sim (simulator pretraining) fine-tuned on the 8 real labelled SemanticKITTI scans of the "
        "training split (one per drive, heavy augmentation); settings chosen by leave-one-drive-out validation",
        needs_weights=True,
        train_hint="train it with `cvkit train segment-lidar --data semantickitti:DIR --init ssgv3-tiny-sim "
        "--optimizer adamw --lr 0.001 --steps 60 --name ssgv3-tiny-kitti -o DIR`"),
    "ssgv3-tiny-sim": ModelInfo(
        "ssgv3-tiny-sim", "SqueezeSegV3 SAC-ISK network at quarter width (0.65 M params), 64x512, trained on "
        "simulated HDL-64E street scans with remission; not the default (lower IoU on the real scans)",
        needs_weights=True,
        train_hint="train it with `cvkit train segment-lidar --data synthetic -o DIR`"),
    "ssgv3-21": ModelInfo(
        "ssgv3-21", "SqueezeSegV3-21 (paper), 64x2048, SAC-ISK, kNN post-processing", needs_weights=True,
        train_hint="train it with `cvkit train segment-lidar --data semantickitti:DIR --arch ssgv3-21 -o DIR`"),
    "ssgv3-53": ModelInfo(
        "ssgv3-53", "SqueezeSegV3-53 (paper), 64x2048, SAC-ISK, kNN post-processing", needs_weights=True,
        train_hint="train it with `cvkit train segment-lidar --data semantickitti:DIR --arch ssgv3-53 -o DIR`"),
}


def _sensor_from_card(card: dict, override: Sensor | None) -> Sensor:
    if override is not None:
        return override
    cfg = card.get("config", {})
    base = SENSORS.get(cfg.get("sensor", "hdl64"), SENSORS["hdl64"])
    return base.with_size(cfg.get("height"), cfg.get("width"))


def _net_from_asset(asset: Asset, arch_hint: str | None) -> SqueezeSegV3:
    cfg = asset.card.get("config")
    arch = asset.card.get("architecture", arch_hint)
    if cfg:
        fields = {k: tuple(v) if isinstance(v, list) else v for k, v in cfg.items()
                  if k in SSGV3Config.__dataclass_fields__}
        net = SqueezeSegV3(SSGV3Config(**fields))
    elif arch in CONFIGS:
        net = SqueezeSegV3(arch)
    else:
        raise ModelError(f"{asset.weights}: no card.json naming the architecture (one of {', '.join(CONFIGS)})")
    load_into(net, asset.state_dict(), asset.weights)
    return net


def build_segmenter(model: str = "default", device: torch.device | str = "cpu", sensor: Sensor | None = None,
                    knn: bool = True) -> Segmenter:
    """A Segmenter by registered name or weights path (ModelError, exit 5, when weights are missing)."""
    name = DEFAULT_MODEL if model == "default" else model
    if name == "classical":
        return Segmenter("classical", None, sensor or SENSORS["hdl64"])
    path = Path(name)
    if name not in MODELS:
        if path.exists() or path.suffix in (".safetensors", ".pt", ".pth"):
            asset = asset_from_path(path)
            asset.verify()
            net = _net_from_asset(asset, None)
            card_cfg = asset.card.get("config", {})
            return Segmenter(asset.name, net, _sensor_from_card(asset.card, sensor),
                             card_cfg.get("use_remission", True), knn, device)
        raise ModelError(f"unknown model {name!r}; available: default, {', '.join(MODELS)} (or a path to weights)")
    asset = find_asset("segment-lidar", name)
    if asset is None:
        raise ModelError(f"model {name!r} has no shipped weights; {MODELS[name].train_hint} "
                         "or point --model at a weights file (.safetensors with card.json, or .pt state dict)")
    asset.verify()
    net = _net_from_asset(asset, name)
    return Segmenter(name, net, _sensor_from_card(asset.card, sensor),
                     asset.card.get("config", {}).get("use_remission", True), knn, device)


def _open3d() -> str:
    """open3d imports (point-cloud files and the scan simulator; needs Debian's libusb-1.0-0)."""
    import open3d

    return f"open3d {open3d.__version__}"


register_task("segment-lidar", default_model=DEFAULT_MODEL, table=MODELS, headline_metric="mIoU",
              description="semantic segmentation of LiDAR scans", datasets=("semantickitti",),
              checks=(("open3d", _open3d),))
