"""detect-adapt models: the shipped MCAR detector adapted clear -> fog on the procedural benchmark, and the
paper-size architectures (need user-trained weights). `--model DIR` loads any `cvkit train detect-adapt` output."""

from __future__ import annotations

from pathlib import Path

import torch

from ..assets import Asset, asset_from_path, read_state_dict
from ..errors import ModelError
from ..registry import register_model, register_task

TASK = "detect-adapt"
DEFAULT_MODEL = "mcar-synthetic-fog"

register_task(TASK, default_model=DEFAULT_MODEL,
              description="domain-adaptive object detection (MCAR: multi-label conditional adversarial alignment)",
              datasets=("voc", "coco", "folder"), headline_metric="AP50")


def load_state(path: str | Path) -> dict[str, torch.Tensor]:
    """State dict from a model folder (weights.safetensors or checkpoint.pt), a .safetensors or .pt file."""
    p = Path(path)
    if p.is_dir():
        if (p / "weights.safetensors").exists():
            p = p / "weights.safetensors"
        elif (p / "checkpoint.pt").exists():
            return torch.load(p / "checkpoint.pt", map_location="cpu", weights_only=True)["model"]
        else:
            raise ModelError(f"{path}: no weights.safetensors or checkpoint.pt")
    if not p.exists():
        raise ModelError(f"{path}: no such weights file")
    return read_state_dict(p)


class Predictor:
    """A loaded detector: `detect(images, score_thr)` and its class names."""

    def __init__(self, name: str, model, device: torch.device) -> None:
        self.name, self.model, self.device = name, model, device
        self.class_names = tuple(model.detector.cfg.class_names)

    def detect(self, images: list[torch.Tensor], score_thr: float = 0.05) -> list[dict]:
        """Detections per image (boxes in input pixels, labels as class indices, scores)."""
        dets = self.model.detector.detect([im.to(self.device) for im in images], score_thr)
        return [{k: v.cpu() for k, v in d.items()} for d in dets]


def predictor_from_asset(asset: Asset, device: torch.device) -> Predictor:
    """Build the detector described by a card and load its weights."""
    from .adapt import AdaptiveDetector
    from .detector import DetectorConfig

    cfg = asset.card.get("config", {})
    if "detector" not in cfg:
        raise ModelError(f"{asset.weights}: card.json has no detector config")
    model = AdaptiveDetector(DetectorConfig.from_dict(cfg["detector"]), cfg.get("adapt", {}).get("head_channels", 512),
                             pretrained=False)
    state = asset.state_dict()
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise ModelError(f"{asset.weights}: weights do not fit the card's architecture ({str(e)[:200]})") from None
    return Predictor(asset.name, model.to(device).eval(), device)


@register_model(TASK, DEFAULT_MODEL, needs_weights=True, architecture="mcar-faster-rcnn",
                description="MCAR Faster R-CNN, EfficientNet-Lite0 trunk (ImageNet), 4 street classes (car, person, "
                "sign, truck), trained on the procedural clear-street benchmark and adapted without labels to fog",
                train_hint="train it with `cvkit train detect-adapt --source synthetic --target synthetic-fog -o DIR`")
def build_default(device: torch.device, asset: Asset | None, **_: object) -> Predictor:
    """The shipped model (or any card of this architecture given with --model PATH)."""
    if asset is None:
        raise ModelError("mcar-synthetic-fog needs weights")
    return predictor_from_asset(asset, device)


def load_predictor(name_or_path: str, device: torch.device) -> Predictor:
    """`--model` value -> Predictor: a registered name, a training output folder or a weights file with card."""
    from ..registry import build_model

    p = Path(name_or_path)
    if p.is_dir() and not (p / "card.json").exists():
        raise ModelError(f"{p}: no card.json (is it a finished `cvkit train detect-adapt` output?)")
    if p.is_dir():
        return predictor_from_asset(asset_from_path(p), device)
    return build_model(TASK, name_or_path, device)
