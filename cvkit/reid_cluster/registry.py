"""Models accepted by `--model`: the shipped ADTC net, its ImageNet start, the paper-size net and the classical
histogram fallback; a path loads user weights (card.json beside it gives the architecture config)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..assets import Asset, asset_from_path, load_into
from ..registry import ModelInfo, looks_like_path, register_task, resolve_model
from .model import PAPER_CONFIG, ReidConfig, ReidNet, center_branches

TASK = "reid-cluster"
DEFAULT_MODEL = "adtc-lite"
MODELS: dict[str, ModelInfo] = {
    "adtc-lite": ModelInfo(
        "adtc-lite",
        "ADTC: ImageNet EfficientNet-Lite0 + voxel attention + GMP/BN1d (global + 2 stripes, plus 6 average-pooled "
        "stripes of the stride-8 and stride-16 maps), tail trained by the ADTC recipe on synthetic pedestrians; "
        "descriptors centred on your crops; adapts to them with --rounds",
        needs_weights=True,
        train_hint="Run `cvkit train reid-cluster --data synthetic --out assets/reid-cluster/adtc-lite`",
    ),
    "lite0-imagenet": ModelInfo(
        "lite0-imagenet",
        "ADTC architecture straight from the ImageNet EfficientNet-Lite0 (untrained attention): the 'w/o DA' start",
        needs_weights=False,
    ),
    "adtc-resnet50": ModelInfo(
        "adtc-resnet50",
        "The paper's ADTC: ResNet-50 (256x128) + voxel attention (d=800) + GMP/BN1d; no weights ship",
        needs_weights=True,
        train_hint="Train it with `cvkit train reid-cluster --model adtc-resnet50 --data CROPS_DIR` (GPU advised)",
    ),
    "hist": ModelInfo(
        "hist",
        "Classical fallback (not the paper's model): 6-stripe HSV colour histogram, 768-D",
        needs_weights=False,
    ),
}
register_task(TASK, default_model=DEFAULT_MODEL, table=MODELS, headline_metric="mAP",
              description="unsupervised person re-identification and identity clustering",
              datasets=("market1501", "folder"))


@dataclass
class Embedder:
    """A named feature extractor: a ReidNet (adaptable) or the histogram descriptor (net is None)."""

    name: str
    net: ReidNet | None
    input_size: tuple[int, int]
    card: dict | None = None

    def embed(self, images: np.ndarray, batch: int = 64, device: torch.device | str = "cpu",
              center: bool = True) -> np.ndarray:
        """(N, H, W, 3) RGB uint8 at `input_size` -> (N, D) float32 L2-normalised descriptors.

        For a net, `center` (default) centres each branch on its mean over these N crops (`center_branches`;
        label-free, fitted on the user's own crops); the histogram baseline is returned as defined."""
        from .data import to_tensor
        from .histogram import histogram_features

        if self.net is None:
            f = histogram_features(images)
        else:
            net = inference_copy(self.net).to(device)
            outs = []
            with torch.inference_mode():
                for s in range(0, len(images), batch):
                    x = to_tensor(images[s:s + batch]).to(device).contiguous(memory_format=torch.channels_last)
                    outs.append(net(x).float().cpu())
            f = torch.cat(outs).numpy() if outs else np.zeros((0, self.net.dim), np.float32)
            if center:
                return self.postprocess(f)
        return (f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)).astype(np.float32)

    def postprocess(self, f: np.ndarray) -> np.ndarray:
        """Per-branch centring + L2 over the crops given together (embed query and gallery with center=False,
        then post-process them as one set so they share one mean)."""
        return center_branches(f, self.net.branch_dims) if self.net is not None else f


def inference_copy(net: ReidNet) -> ReidNet:
    """An eval-mode copy with BatchNorm folded into the convolutions and channels-last memory (~1.7x faster on
    CPU); the trainable original is left untouched."""
    from ..nn.efficientnet_lite import fold_batchnorm

    fast = copy.deepcopy(net).eval()
    if fast.config.backbone == "lite0":
        fold_batchnorm(fast.backbone.blocks)
    return fast.to(memory_format=torch.channels_last)


def net_from_asset(asset: Asset, default: ReidConfig | None = None) -> ReidNet:
    """Rebuild a ReidNet from its card's config and load the weights (ModelError on mismatch)."""
    cfg = ReidConfig.from_dict(asset.card.get("config", {})) if asset.card.get("config") else (default or ReidConfig())
    net = ReidNet(cfg)
    state = asset.state_dict()
    # cards written before the mid-level taps have one low-level BN1d named `bn_low`, now `bn_low.0`
    state = {("bn_low.0." + k[len("bn_low."):] if k.startswith("bn_low.") and not k[7:8].isdigit() else k): v
             for k, v in state.items()}
    own = net.state_dict()
    if cfg.backbone == "lite0":  # the frozen ImageNet prefix comes from its package, not from the file
        state = {**{k: v for k, v in own.items() if k.startswith("backbone.prefix.")}, **state}
    load_into(net, state, asset.weights)
    return net.eval()


def build_embedder(model: str = DEFAULT_MODEL) -> Embedder:
    """Embedder by registered name or weights path (exit 5 when weights are missing or incompatible)."""
    if model == "hist":
        return Embedder("hist", None, (128, 64))
    if model == "lite0-imagenet":
        torch.manual_seed(0)
        net = ReidNet(ReidConfig()).eval()
        return Embedder(model, net, net.config.input_size)
    if model not in MODELS and looks_like_path(model):  # user weights: the card's config says the shape
        asset = asset_from_path(Path(model))
        asset.verify()
        net = net_from_asset(asset)
        return Embedder(asset.name, net, net.config.input_size, asset.card)
    asset = resolve_model(TASK, model).asset  # unknown name or missing weights: ModelError (exit 5)
    assert asset is not None
    net = net_from_asset(asset, PAPER_CONFIG if model == "adtc-resnet50" else None)
    return Embedder(model, net, net.config.input_size, asset.card)
