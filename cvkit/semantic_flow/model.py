"""The paper's learned GSF model (Sec. 4.1, supplement Table 1): features -> full correlation C -> pruning net
(confidence Q' from the mutual-consistency volume Q, Eq. 4-5) -> propagation (soft-argmax over the retained
candidates, Eq. 6, then Gaussian MLS, Eq. 7) -> matching net on the Gaussian-modulated volume C' (Eq. 8) ->
tau = G' + residual (Eq. 9).

Paper size: ResNet-101 conv4_23 + conv5_3 (upsampled) at 320 x 320 -> a 20 x 20 grid, 400-channel correlation,
base width 64 (pruning net 12.2 M parameters, matching net 11.5 M). The pruning/matching nets take h*w channels,
so a trained model is tied to its grid. Choices where the paper is silent (see docs/semantic-flow.md): pooling
with ceil_mode and decoder outputs resized to the skip's size (20 -> 10 -> 5 -> 3 -> 5 -> 10 -> 20); upconv =
3x3 transposed conv, stride 2; Eq. 6 softmax restricted to the retained (non-zero) candidates; Eq. 8 centred on
i + G'_i.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..nn.efficientnet_lite import load_efficientnet_lite0
from ..nn.resnet import ResNet101
from .features import hyper_features


def conv_bn(cin: int, cout: int, k: int) -> nn.Sequential:
    """k x k conv + BatchNorm + ReLU (every layer of S Table 1 but the last)."""
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=k // 2), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


def upconv_bn(cin: int, cout: int) -> nn.Sequential:
    """3 x 3 transposed conv, stride 2 (x2 upsampling) + BatchNorm + ReLU."""
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=1, output_padding=1),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class EncoderDecoder(nn.Module):
    """S Table 1: conv1 5x5 (in -> w), three (pool, conv, conv) stages to 8w, three (upconv, concat skip, conv,
    conv) stages back, conv8 5x5 (w -> out). `width` = w = 64 at paper size."""

    def __init__(self, cin: int, cout: int, width: int = 64) -> None:
        super().__init__()
        w1, w2, w3, w4 = width, 2 * width, 4 * width, 8 * width
        self.conv1, self.conv1b = conv_bn(cin, w1, 5), conv_bn(w1, w1, 3)
        self.conv2, self.conv2b = conv_bn(w1, w2, 3), conv_bn(w2, w2, 3)
        self.conv3, self.conv3b = conv_bn(w2, w3, 3), conv_bn(w3, w3, 3)
        self.conv4, self.conv4b = conv_bn(w3, w4, 3), conv_bn(w4, w4, 3)
        self.upconv5 = upconv_bn(w4, w4)
        self.conv5, self.conv5b = conv_bn(w4 + w3, w3, 3), conv_bn(w3, w3, 3)
        self.upconv6 = upconv_bn(w3, w3)
        self.conv6, self.conv6b = conv_bn(w3 + w2, w2, 3), conv_bn(w2, w2, 3)
        self.upconv7 = upconv_bn(w2, w2)
        self.conv7, self.conv7b = conv_bn(w2 + w1, w1, 3), conv_bn(w1, w1, 3)
        self.conv8 = nn.Conv2d(w1, cout, 5, padding=2)

    @staticmethod
    def _up(x: torch.Tensor, up: nn.Module, skip: torch.Tensor) -> torch.Tensor:
        y = up(x)
        if y.shape[-2:] != skip.shape[-2:]:
            y = F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return torch.cat([y, skip], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, in, h, w) -> (B, out, h, w), pre-activation."""
        s1 = self.conv1b(self.conv1(x))
        s2 = self.conv2b(self.conv2(F.max_pool2d(s1, 2, ceil_mode=True)))
        s3 = self.conv3b(self.conv3(F.max_pool2d(s2, 2, ceil_mode=True)))
        s4 = self.conv4b(self.conv4(F.max_pool2d(s3, 2, ceil_mode=True)))
        y = self.conv5b(self.conv5(self._up(s4, self.upconv5, s3)))
        y = self.conv6b(self.conv6(self._up(y, self.upconv6, s2)))
        y = self.conv7b(self.conv7(self._up(y, self.upconv7, s1)))
        return self.conv8(y)


class PruningNet(EncoderDecoder):
    """F(Q; W_P): h*w -> h*w channels, sigmoid; conv8 starts at bias 10 (sigmoid ~ 0.99995, S Sec. 1)."""

    def __init__(self, cells: int, width: int = 64) -> None:
        super().__init__(cells, cells, width)
        nn.init.zeros_(self.conv8.weight)
        nn.init.constant_(self.conv8.bias, 10.0)

    def forward(self, q: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(super().forward(q))


class MatchingNet(EncoderDecoder):
    """F(C'; W_M): h*w -> 2 channels (residual displacement, cells); conv8 starts at zero output (S Sec. 1)."""

    def __init__(self, cells: int, width: int = 64) -> None:
        super().__init__(cells, 2, width)
        nn.init.zeros_(self.conv8.weight)
        nn.init.zeros_(self.conv8.bias)


@dataclass
class GSFConfig:
    """Model configuration (stored in checkpoints / cards). Paper size: resnet101, 320 px, width 64."""

    backbone: str = "resnet101"
    image_size: int = 320
    width: int = 64
    rho: float = 0.9
    c_p: float = 7.0
    c_m: float = 5.0

    @property
    def grid(self) -> int:
        """Cells per side (stride 16)."""
        return self.image_size // 16

    def to_dict(self) -> dict:
        """Plain dict."""
        return asdict(self)


class Backbone(nn.Module):
    """W_F: ResNet-101 conv4_23 (layer3) + conv5_3 (layer4, bilinearly upsampled), or the EfficientNet-Lite0
    stand-in (blocks 7, 10, 14); each block L2-normalised, concatenated, L2-normalised."""

    def __init__(self, name: str = "resnet101", pretrained: bool = True) -> None:
        super().__init__()
        self.name = name
        if name == "resnet101":
            self.net = ResNet101()
        elif name == "lite0":
            self.net = load_efficientnet_lite0(pretrained)
        else:
            raise ValueError(f"unknown backbone {name!r} (resnet101, lite0)")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """ImageNet-normalised (B,3,H,W) -> (B,D,H/16,W/16)."""
        grid = (x.shape[-2] // 16, x.shape[-1] // 16)
        if self.name == "resnet101":
            c4 = self.net.stem_to(x, "layer4")
            taps = [c4, self.net.layer4(c4)]
        else:
            taps = self.net.taps(x, (7, 10, 14))
        return hyper_features(taps, grid)


def cell_coords(h: int, w: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """(h*w, 2) (x, y) coordinates of the grid cells, row-major."""
    ys, xs = torch.meshgrid(torch.arange(h, device=device, dtype=torch.float32),
                            torch.arange(w, device=device, dtype=torch.float32), indexing="ij")
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], 1)


def full_correlation(fs: torch.Tensor, ft: torch.Tensor) -> torch.Tensor:
    """Eq. 1-2: cosine correlation of L2-normalised features -> (B, ht*wt, hs, ws) (one channel per target cell)."""
    b, d, hs, ws = fs.shape
    c = torch.einsum("bdi,bdj->bji", fs.flatten(2), ft.flatten(2))
    return c.reshape(b, -1, hs, ws)


def mutual_consistency_volume(c: torch.Tensor) -> torch.Tensor:
    """Eq. 4 on the (B, Nt, hs, ws) volume (ReLU first so negative cosines cannot become confident)."""
    c = c.clamp_min(0)
    max_over_src = c.flatten(2).amax(2)[:, :, None, None]   # max_i C_ij
    max_over_tgt = c.amax(1, keepdim=True)                  # max_j C_ij
    return c * c / (max_over_src * max_over_tgt).clamp_min(1e-12)


def soft_argmax_retained(qp: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
    """Eq. 6 restricted to the retained candidates: sum_j j exp(Q'_ij) [Q'_ij > 0] / sum_l ... -> (B, hs*ws, 2)
    target positions (rows without a retained candidate give 0 and are masked out by S)."""
    b, n = qp.shape[:2]
    q = qp.flatten(2).transpose(1, 2)                       # (B, Ns, Nt)
    wgt = torch.exp(q) * (q > 0)
    return (wgt @ tgt) / wgt.sum(2, keepdim=True).clamp_min(1e-12)


def mls_guidance(g: torch.Tensor, s_mask: torch.Tensor, src: torch.Tensor, c_p: float) -> torch.Tensor:
    """Eq. 7, batched: G'_i = sum_{s in S} G_s w(s - i) / sum_{s in S} w(s - i), w Gaussian with scale c_P."""
    w = torch.exp(-torch.cdist(src, src).pow(2) / (2 * c_p * c_p))[None] * s_mask[:, None, :].float()
    return (w @ g) / w.sum(2, keepdim=True).clamp_min(1e-12)


class GSFNet(nn.Module):
    """Guided semantic flow: `forward(src, tgt)` -> dict with C, Q, P (pruning output), Q', S, G, G', C', tau
    (all displacements in cells of the grid)."""

    def __init__(self, config: GSFConfig | None = None, pretrained_backbone: bool = True) -> None:
        super().__init__()
        self.config = config or GSFConfig()
        cells = self.config.grid ** 2
        self.backbone = Backbone(self.config.backbone, pretrained_backbone)
        self.pruning = PruningNet(cells, self.config.width)
        self.matching = MatchingNet(cells, self.config.width)

    def forward(self, src: torch.Tensor, tgt: torch.Tensor, features: tuple[torch.Tensor, torch.Tensor] | None = None
                ) -> dict[str, torch.Tensor]:
        """src, tgt: ImageNet-normalised (B,3,S,S) with S = image_size (or precomputed features)."""
        cfg = self.config
        fs, ft = features if features is not None else (self.backbone(src), self.backbone(tgt))
        b, _, h, w = fs.shape
        grid = cell_coords(h, w, fs.device)
        c = full_correlation(fs, ft)
        q = mutual_consistency_volume(c)
        p = self.pruning(q)
        qp = q * p
        qp = qp * (qp > cfg.rho)                                           # T(., rho), Eq. 5
        s_mask = qp.flatten(2).sum(1) > 0                                  # S: rows with a retained match
        g = soft_argmax_retained(qp, grid) - grid[None]                    # Eq. 6 (valid on S)
        gp = mls_guidance(g, s_mask, grid, cfg.c_p)                        # Eq. 7
        centre = grid[None] + gp                                           # (B, Ns, 2)
        d2 = torch.cdist(centre, grid[None].expand(b, -1, -1)).pow(2)      # (B, Ns, Nt)
        mod = torch.exp(-d2 / (2 * cfg.c_m * cfg.c_m)).transpose(1, 2).reshape(b, -1, h, w)
        cm = mod * c                                                       # Eq. 8
        gp_map = gp.transpose(1, 2).reshape(b, 2, h, w)
        tau = gp_map + self.matching(cm)                                   # Eq. 9
        return {"fs": fs, "ft": ft, "C": c, "Q": q, "P": p, "Qp": qp, "S": s_mask.reshape(b, h, w),
                "G": g, "Gp": gp_map, "Cm": cm, "tau": tau}


def count_params(module: nn.Module) -> int:
    """Number of parameters (trainable and frozen)."""
    return sum(p.numel() for p in module.parameters())
