"""Spatially-adaptive convolution (SqueezeSegV3 paper section 4, code `backbones/SAC.py`).

SAC factorises a per-pixel, content-aware kernel W(X0)[m,n,p,q,i,j] = W^[m,n,i,j] * A(X0)[m,n,p,q,i,j] (Eq. 4). The
attention A comes from the raw LiDAR image X0 (the normalised x, y, z channels, as in the code) through a 7x7 conv +
sigmoid. Variants keep different dimensions of A (paper Fig. 4 and Table 1):

- SAC-S   A in R^{1x1xSxSx1x1}: one gate per pixel, multiplied onto the input, then a standard KxK conv.
- SAC-IS  A in R^{1xIxSxSx1x1}: a gate per pixel and input channel (SqueezeSegV2's CAM is of this kind).
- SAC-SK  A in R^{1x1xSxSxKxK}: a gate per pixel and kernel tap (PAC is this with a Gaussian attention).
- SAC-ISK A in R^{1xIxSxSxKxK}: per pixel, input channel and tap; the SqueezeSegV3 operator.

Kernel-aware variants are computed as the paper's Sec. 4.3: unfold (im2col) X to K^2 I channels, multiply by A, then a
1x1 conv whose weight is the KxK weight reshaped to O x K^2 I x 1 x 1 -- so with A = 1 every variant is exactly the
plain KxK convolution (tested). Prior work as special cases: SE = SAC-I with a global attention (`SEAttention`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

VARIANTS = ("s", "is", "sk", "isk")


class SACConv(nn.Module):
    """A KxK convolution (stride 1, 'same' padding) whose input is gated by an attention map computed from X0."""

    def __init__(self, in_ch: int, out_ch: int, variant: str = "isk", kernel: int = 3, guide_ch: int = 3,
                 attention_kernel: int = 7, bias: bool = True, bn_momentum: float = 0.1) -> None:
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"unknown SAC variant {variant!r}; use one of {VARIANTS}")
        self.variant, self.k, self.in_ch = variant, kernel, in_ch
        att_ch = {"s": 1, "is": in_ch, "sk": kernel * kernel, "isk": kernel * kernel * in_ch}[variant]
        self.attention = nn.Sequential(
            nn.Conv2d(guide_ch, att_ch, attention_kernel, padding=attention_kernel // 2, bias=True),
            nn.BatchNorm2d(att_ch, momentum=bn_momentum),
            nn.Sigmoid(),
        )
        # kernel-aware variants hold the KxK weight reshaped as a 1x1 conv over the unfolded input (W~ of Sec. 4.3)
        if variant in ("sk", "isk"):
            self.conv = nn.Conv2d(kernel * kernel * in_ch, out_ch, 1, bias=bias)
        else:
            self.conv = nn.Conv2d(in_ch, out_ch, kernel, padding=kernel // 2, bias=bias)

    def attention_map(self, guide: torch.Tensor) -> torch.Tensor:
        """A(X0): (B, att_ch, H, W) in (0, 1)."""
        return self.attention(guide)

    def forward(self, x: torch.Tensor, guide: torch.Tensor, attention: torch.Tensor | None = None) -> torch.Tensor:
        """Y = conv(A * X) (S, IS) or W~ * (A * unfold(X)) (SK, ISK); `attention` overrides A(X0) (tests)."""
        a = self.attention_map(guide) if attention is None else attention
        if self.variant in ("s", "is"):
            return self.conv(x * a)
        b, c, h, w = x.shape
        k2 = self.k * self.k
        u = F.unfold(x, self.k, padding=self.k // 2).view(b, c, k2, h, w)  # channel-major, as conv weights
        if self.variant == "sk":
            u = u * a.view(b, 1, k2, h, w)
        else:
            u = u * a.view(b, c, k2, h, w)
        return self.conv(u.view(b, c * k2, h, w))

    def as_conv_weight(self) -> torch.Tensor:
        """The static weight W^ as an (O, I, K, K) conv kernel."""
        if self.variant in ("s", "is"):
            return self.conv.weight
        return self.conv.weight.view(self.conv.out_channels, self.in_ch, self.k, self.k)


class SEAttention(nn.Module):
    """Squeeze-and-excitation, the SAC-I special case: a global per-channel gate (paper Sec. 4.4)."""

    def __init__(self, ch: int, reduction: int = 4) -> None:
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(ch, max(1, ch // reduction)), nn.ReLU(inplace=True),
                                nn.Linear(max(1, ch // reduction), ch), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x * A_I(x), A_I from global average pooling."""
        return x * self.fc(x.mean(dim=(2, 3)))[:, :, None, None]


class SACBlock(nn.Module):
    """SqueezeSegV3 residual block: SAC (adaptive 3x3, BN, ReLU) then 3x3 conv + BN + ReLU, plus the input."""

    def __init__(self, ch: int, variant: str = "isk", bn_momentum: float = 0.1, attention_kernel: int = 7) -> None:
        super().__init__()
        self.sac = SACConv(ch, ch, variant, attention_kernel=attention_kernel)
        self.bn1 = nn.BatchNorm2d(ch, momentum=bn_momentum)
        self.conv2 = nn.Conv2d(ch, ch, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(ch, momentum=bn_momentum)

    def forward(self, x: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
        """F + conv2(sac(F, xyz))."""
        y = F.relu(self.bn1(self.sac(x, guide)))
        y = F.relu(self.bn2(self.conv2(y)))
        return x + y
