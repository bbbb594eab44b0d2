"""SqueezeSegV3 (SSGV3-21 / SSGV3-53) and its reduced-width variant: SAC encoder, RangeNet decoder, five heads.

Layout follows the official code (`backbones/SAC.py`, `decoders/SAC.py`, `modules/segmentator.py`):
stem 3x3 conv 5->32 + BN + LeakyReLU(0.1); five stages of SAC-ISK blocks, stages 1-3 end with a (1, 2)-strided 3x3
conv that halves only the width (output stride 8); stage channels 64, 128, 256, 256, 256; Dropout2d(0.01) after each
stage; the stage inputs at OS 1, 2, 4 are the skips (detached, as in the code). Decoder: dec5, dec4 3x3 conv at OS 8;
dec3..dec1 ConvTranspose (1,4)/(1,2) up + skip; each followed by a residual BasicBlock. Heads: 1x1 convs on dec5, dec4,
dec3, dec2 and a 3x3 conv on dec1, softmax; the multi-layer loss uses all five, inference the last.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .labels import NUM_CLASSES
from .sac import SACBlock


@dataclass(frozen=True)
class SSGV3Config:
    """Widths and depths of a SqueezeSegV3 network."""

    name: str = "ssgv3-21"
    stem: int = 32
    stages: tuple[int, ...] = (64, 128, 256, 256, 256)  # output channels of stages 1..5
    blocks: tuple[int, ...] = (1, 1, 2, 2, 1)
    decoder: tuple[int, ...] = (256, 256, 128, 64, 32)  # dec5, dec4, dec3, dec2, dec1
    in_channels: int = 5
    n_classes: int = NUM_CLASSES
    variant: str = "isk"
    dropout: float = 0.01
    bn_momentum: float = 0.01
    detach_skips: bool = True
    attention_kernel: int = 7  # the SAC attention conv (paper Table 4: 7x7 best; 3x3 is ~5x cheaper)

    def to_dict(self) -> dict:
        """JSON-ready config (for model cards)."""
        return asdict(self)


CONFIGS: dict[str, SSGV3Config] = {
    "ssgv3-21": SSGV3Config(),
    "ssgv3-53": SSGV3Config(name="ssgv3-53", blocks=(1, 2, 8, 8, 4)),
    # the shipped small variant: same operator and topology at quarter width, one block per stage
    "ssgv3-tiny": SSGV3Config(name="ssgv3-tiny", stem=8, stages=(16, 32, 64, 64, 64), blocks=(1, 1, 1, 1, 1),
                              decoder=(64, 64, 32, 16, 8), detach_skips=False),
    # the real-data asset: ssgv3-tiny with a 3x3 SAC attention conv (the attention dominated its CPU time)
    "ssgv3-tiny-a3": SSGV3Config(name="ssgv3-tiny-a3", stem=8, stages=(16, 32, 64, 64, 64), blocks=(1, 1, 1, 1, 1),
                                 decoder=(64, 64, 32, 16, 8), detach_skips=False, attention_kernel=3),
}
DOWNSAMPLE = (True, True, True, False, False)


def _cbr(cin: int, cout: int, k: int, stride: tuple[int, int], bn: float) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False),
                         nn.BatchNorm2d(cout, momentum=bn), nn.LeakyReLU(0.1))


class BasicBlock(nn.Module):
    """RangeNet residual block: 1x1 conv (c -> mid) + BN + LReLU, 3x3 conv (mid -> c) + BN + LReLU, plus input."""

    def __init__(self, ch: int, mid: int, bn: float) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(ch, mid, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid, momentum=bn)
        self.conv2 = nn.Conv2d(mid, ch, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(ch, momentum=bn)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x + f(x)."""
        y = F.leaky_relu(self.bn1(self.conv1(x)), 0.1)
        return x + F.leaky_relu(self.bn2(self.conv2(y)), 0.1)


class EncoderStage(nn.Module):
    """n SAC blocks at the input width, then an optional width-halving 3x3 conv."""

    def __init__(self, cin: int, cout: int, n_blocks: int, downsample: bool, cfg: SSGV3Config) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(SACBlock(cin, cfg.variant, attention_kernel=cfg.attention_kernel)
                                    for _ in range(n_blocks))
        self.down = _cbr(cin, cout, 3, (1, 2), cfg.bn_momentum) if downsample else None
        if not downsample and cin != cout:
            raise ValueError("a stage without downsampling keeps its width")

    def forward(self, x: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
        """Blocks guided by xyz at this width, then downsample."""
        for b in self.blocks:
            x = b(x, guide)
        return self.down(x) if self.down is not None else x


class DecoderStage(nn.Module):
    """Up (ConvTranspose (1,4)/(1,2)) or same-size 3x3 conv, BN, LReLU, then a BasicBlock."""

    def __init__(self, cin: int, cout: int, up: bool, bn: float) -> None:
        super().__init__()
        if up:
            self.conv = nn.ConvTranspose2d(cin, cout, (1, 4), stride=(1, 2), padding=(0, 1))
        else:
            self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.bn = nn.BatchNorm2d(cout, momentum=bn)
        self.block = BasicBlock(cout, cin, bn)
        self.up = up

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Upsample (or not) and refine."""
        return self.block(F.leaky_relu(self.bn(self.conv(x)), 0.1))


class SqueezeSegV3(nn.Module):
    """Range image (B, 5, H, W) -> five class-score maps (logits), finest last; W must be divisible by 8."""

    def __init__(self, cfg: SSGV3Config | str = "ssgv3-21") -> None:
        super().__init__()
        cfg = CONFIGS[cfg] if isinstance(cfg, str) else cfg
        self.cfg = cfg
        self.stem = _cbr(cfg.in_channels, cfg.stem, 3, (1, 1), cfg.bn_momentum)
        chans = (cfg.stem, *cfg.stages)
        self.encoder = nn.ModuleList(
            EncoderStage(chans[i], chans[i + 1], cfg.blocks[i], DOWNSAMPLE[i], cfg) for i in range(5))
        dec_in = (cfg.stages[-1], *cfg.decoder[:-1])
        self.decoder = nn.ModuleList(
            DecoderStage(dec_in[i], cfg.decoder[i], up=i >= 2, bn=cfg.bn_momentum) for i in range(5))
        self.heads = nn.ModuleList(
            nn.Sequential(nn.Dropout2d(cfg.dropout),
                          nn.Conv2d(c, cfg.n_classes, 3 if i == 4 else 1, padding=1 if i == 4 else 0))
            for i, c in enumerate(cfg.decoder))
        self.drop = nn.Dropout2d(cfg.dropout)

    def forward(self, x: torch.Tensor, all_heads: bool | None = None) -> list[torch.Tensor] | torch.Tensor:
        """Logits of all five heads (training) or only the full-resolution one (eval, unless all_heads)."""
        if x.shape[-1] % 8:
            raise ValueError(f"range-image width {x.shape[-1]} must be divisible by 8")
        xyz = x[:, 1:4]
        feat = self.stem(x)
        skips = []
        for i, stage in enumerate(self.encoder):
            guide = xyz if xyz.shape[-1] == feat.shape[-1] else F.interpolate(
                xyz, size=feat.shape[-2:], mode="bilinear", align_corners=False)
            if DOWNSAMPLE[i]:
                skips.append(feat.detach() if self.cfg.detach_skips else feat)
            feat = self.drop(stage(feat, guide))
        outs = []
        for dec in self.decoder:
            feat = dec(feat)
            if dec.up:
                skip = skips.pop()
                feat = feat + skip
            feat = self.drop(feat)
            outs.append(feat)
        if all_heads is None:
            all_heads = self.training
        if not all_heads:
            return self.heads[-1](outs[-1])
        return [h(o) for h, o in zip(self.heads, outs, strict=True)]


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def multi_layer_loss(logits: list[torch.Tensor], labels: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Paper Eq. 5: sum over the five heads of weighted CE against the label map nearest-downsampled in width.

    Each term is the class-weighted per-pixel mean (NLLLoss "mean", as the official trainer); class 0 has weight 0.
    """
    total = logits[0].new_zeros(())
    for z in logits:
        w = z.shape[-1]
        step = labels.shape[-1] // w
        lab = labels[..., ::step] if step > 1 else labels
        if labels.shape[-2] != z.shape[-2]:
            raise ValueError("label and logit heights differ")
        if (lab != 0).any():
            total = total + F.cross_entropy(z, lab, weight=weights)
    return total
