"""semantic-flow model registry: names accepted by `--model` and how to build each.

`default` resolves to `gsf`, the training-free guided semantic flow: it scores higher than the learned GSFNet on
validation warps (docs/semantic-flow.md). The paper's learned model is available by name and needs weights trained
with `cvkit train semantic-flow` (none ship); a path to such weights resolves by its card's architecture.
"""

from __future__ import annotations

import torch

from ..assets import Asset
from ..errors import ModelError
from ..registry import register_model, register_task

TASK = "semantic-flow"
register_task(TASK, default_model="gsf", description="dense semantic correspondence (guided semantic flow)",
              datasets=("pf-pascal", "pf-willow", "spair", "homography"), headline_metric="PCK@0.1")


@register_model(TASK, "gsf", description="default: training-free GSF on EfficientNet-Lite0 ImageNet features "
                "(mutual-NN matches, Gaussian MLS, modulation, soft-argmax, coarse to fine)")
def build_gsf(device: torch.device, asset: Asset | None, size: int = 384, **_: object):
    """The training-free default."""
    from .predict import GSFParams, SemanticFlow

    return SemanticFlow(GSFParams(size=size), device, name="gsf")


@register_model(TASK, "nn", description="baseline: nearest-neighbour argmax of the full correlation, same features")
def build_nn(device: torch.device, asset: Asset | None, size: int = 384, **_: object):
    """The NN-argmax baseline."""
    from .predict import GSFParams, SemanticFlow

    return SemanticFlow(GSFParams(size=size), device, method="nn", name="nn")


def _learned(device: torch.device, asset: Asset | None, **_: object):
    from .learned import LearnedFlow

    if asset is None:
        raise ModelError("GSFNet needs weights: train them with `cvkit train semantic-flow -o DIR`")
    return LearnedFlow.from_asset(asset, device)


register_model(TASK, "gsfnet", description="the paper's GSFNet: ResNet-101 conv4_23+conv5_3, pruning and matching "
               "nets (12.2 M / 11.5 M params), 320 px", needs_weights=True, architecture="GSFNet (resnet101)",
               train_hint="train it with `cvkit train semantic-flow --backbone resnet101 --backbone-weights W -o DIR`"
               )(_learned)
register_model(TASK, "gsfnet-lite", description="GSFNet heads on the frozen EfficientNet-Lite0 trunk (loses to the "
               "training-free default on validation warps)", needs_weights=True, architecture="GSFNet (lite0)",
               train_hint="train it with `cvkit train semantic-flow --backbone lite0 -o DIR`")(_learned)
