"""Scale-equivariant steerable convolutions (SESN; Sosnovik, Szmaja, Smeulders 2020), as used by SE-SiamFC.

Features live on (scale, y, x): tensors `[B, C, S, H, W]`. Every spatial kernel is a learned linear
combination of a fixed multi-scale Hermite-Gaussian basis, so the same weights give one kernel per scale
σ_s and rescaling the input by σ_{s+1}/σ_s shifts the output one step along the scale axis.

Conventions follow the SE-SiamFC release (ISosnovik/SiamSE) so its checkpoints load: the basis is a
persistent buffer `basis` of shape `[E², S, k, k]`, weights are `[C_out, C_in, E²]` (Z2->H) and
`[C_out, C_in, scale_size, E²]` (H->H), function f = (a, b) is g_{f % E}(row) * g_{f // E}(col), and every
function is divided by its L2 norm at the smallest scale. Our own implementation; nothing is copied.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from numpy.polynomial import hermite_e
from torch import nn

from .ops import xcorr

PADDING_MODES = ("constant", "circular")


def default_scales(num_scales: int = 3, base: float = 0.9, step: float = 1.4) -> list[float]:
    """The SE-SiamFC scales σ_s = base·step^s (default {0.9, 1.26, 1.764})."""
    return [base * step**s for s in range(num_scales)]


def hermite_gaussian_1d(size: int, sigma: float, effective_size: int) -> np.ndarray:
    """1-D functions g_n(u) = exp(-u²/2σ²)/σ · He_n(u/σ), n < effective_size, on u = -size//2..size//2."""
    u = np.arange(size, dtype=np.float64) - size // 2
    envelope = np.exp(-(u**2) / (2 * sigma**2)) / sigma
    rows = []
    for n in range(effective_size):
        coeffs = np.zeros(n + 1)
        coeffs[n] = 1.0
        rows.append(envelope * hermite_e.hermeval(u / sigma, coeffs))
    return np.stack(rows)  # [E, size]


def hermite_gaussian_basis(kernel_size: int, scales: Sequence[float], effective_size: int) -> torch.Tensor:
    """Normalised multi-scale 2-D Hermite-Gaussian basis [E², S, k, k] (float32).

    Scale σ is built on a centred support of int(k·σ/σ_max)//2·2+1 pixels and zero-padded to k×k;
    all scales of a function share one divisor, its L2 norm at the smallest scale.
    """
    if kernel_size % 2 != 1:
        raise ValueError(f"kernel_size must be odd, got {kernel_size}")
    e = effective_size
    sigma_max = max(scales)
    per_scale = []
    for sigma in scales:
        support = int(kernel_size * sigma / sigma_max) // 2 * 2 + 1
        g = hermite_gaussian_1d(support, sigma, e)
        f = np.arange(e * e)
        psi = g[f % e][:, :, None] * g[f // e][:, None, :]  # [E², support, support]
        pad = (kernel_size - support) // 2
        per_scale.append(np.pad(psi, ((0, 0), (pad, pad), (pad, pad))))
    basis = np.stack(per_scale, axis=1)  # [E², S, k, k]
    norm = np.sqrt((basis[:, int(np.argmin(scales))] ** 2).sum(axis=(1, 2)))
    if np.any(norm < 1e-12):
        raise ValueError(
            f"degenerate basis: kernel_size {kernel_size} leaves the smallest scale {min(scales):.3g} "
            f"too small a support for effective_size {e} (some functions vanish); use a larger kernel_size"
        )
    return torch.from_numpy(basis / norm[:, None, None, None]).float()


def _check_padding_mode(mode: str) -> str:
    if mode not in PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {PADDING_MODES}, got {mode!r}")
    return mode


def he_normal_(weight: torch.Tensor, in_channels: int) -> None:
    """He-normal init N(0, sqrt(2/n)) with n = weight.numel()/in_channels, as the SE-SiamFC release does."""
    n = weight.numel() / in_channels
    with torch.no_grad():
        weight.normal_(0.0, math.sqrt(2.0 / n))


class _SESBase(nn.Module):
    """Shared state of the steerable layers: the basis buffer, padding and stride."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        effective_size: int,
        scales: Sequence[float] | None,
        stride: int,
        padding: int,
        padding_mode: str,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.effective_size = effective_size
        self.scales = list(scales) if scales is not None else default_scales()
        self.num_scales = len(self.scales)
        self.stride = stride
        self.padding = padding
        self.padding_mode = _check_padding_mode(padding_mode)
        self.register_buffer("basis", hermite_gaussian_basis(kernel_size, self.scales, effective_size))
        self.num_funcs = effective_size**2

    def _kernels(self) -> torch.Tensor:
        """weight [..., E²] @ basis -> [..., S, k, k]."""
        k = self.kernel_size
        flat = self.weight @ self.basis.reshape(self.num_funcs, -1)
        return flat.reshape(*self.weight.shape[:-1], self.num_scales, k, k)

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        if self.padding <= 0:
            return x
        return F.pad(x, [self.padding] * 4, mode=self.padding_mode)

    def extra_repr(self) -> str:
        scales = ", ".join(f"{s:.3g}" for s in self.scales)
        return (f"{self.in_channels}->{self.out_channels}, k={self.kernel_size}, E={self.effective_size}, "
                f"scales=[{scales}], stride={self.stride}, padding={self.padding} ({self.padding_mode})")


class SESConv_Z2_H(_SESBase):
    """Lifting scale convolution Z2 -> H: [B, C, H, W] -> [B, C', S, H', W']; weights shared by all scales."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        effective_size: int,
        scales: Sequence[float] | None = None,
        stride: int = 1,
        padding: int = 0,
        bias: bool = False,
        padding_mode: str = "constant",
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size, effective_size, scales, stride, padding,
                         padding_mode)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, self.num_funcs))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """He-normal weights, zero bias."""
        he_normal_(self.weight, self.in_channels)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, s = self.kernel_size, self.num_scales
        kern = self._kernels()  # [C', C, S, k, k]
        kern = kern.permute(0, 2, 1, 3, 4).reshape(self.out_channels * s, self.in_channels, k, k)
        y = F.conv2d(self._pad(x), kern, stride=self.stride)
        y = y.reshape(y.shape[0], self.out_channels, s, y.shape[-2], y.shape[-1])
        if self.bias is not None:
            y = y + self.bias.view(1, -1, 1, 1, 1)
        return y


class SESConv_H_H(_SESBase):
    """Scale convolution H -> H: [B, C, S, H, W] -> [B, C', S, H', W'], mixing `scale_size` adjacent scales.

    Output scale s sees input scales s..s+scale_size-1 (zero beyond the largest scale), each through the
    kernel at σ_s, so the layer commutes with a one-step shift of the scale axis.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        scale_size: int,
        kernel_size: int,
        effective_size: int,
        scales: Sequence[float] | None = None,
        stride: int = 1,
        padding: int = 0,
        bias: bool = False,
        padding_mode: str = "constant",
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size, effective_size, scales, stride, padding,
                         padding_mode)
        self.scale_size = scale_size
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, scale_size, self.num_funcs))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """He-normal weights, zero bias."""
        he_normal_(self.weight, self.in_channels)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, s, h, w = x.shape
        if s != self.num_scales:
            raise ValueError(f"{type(self).__name__}: input has {s} scales, layer has {self.num_scales}")
        k = self.kernel_size
        kern = self._kernels()  # [C', C, T, S, k, k]
        kern = kern.permute(2, 3, 0, 1, 4, 5).reshape(self.scale_size, s * self.out_channels, c, k, k)
        if self.scale_size > 1:
            x = F.pad(x, [0, 0, 0, 0, 0, self.scale_size - 1])  # zeros above the largest scale
        out = None
        for i in range(self.scale_size):
            xi = x[:, :, i:i + s].transpose(1, 2).reshape(b, s * c, h, w)  # scale-major channel groups
            yi = F.conv2d(self._pad(xi), kern[i], stride=self.stride, groups=s)
            out = yi if out is None else out + yi
        assert out is not None
        y = out.reshape(b, s, self.out_channels, out.shape[-2], out.shape[-1]).transpose(1, 2)
        if self.bias is not None:
            y = y + self.bias.view(1, -1, 1, 1, 1)
        return y.contiguous()


class SESConv_H_H_1x1(nn.Module):
    """1×1 scale convolution H -> H: conv3d, kernel (scale_size, 1, 1); output scale s sees s..s+scale_size-1.

    The weight is [C', C, 1, 1] when scale_size is 1 and [C', C, scale_size, 1, 1] otherwise (release layout).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        scale_size: int = 1,
        stride: int = 1,
        num_scales: int = 1,
        bias: bool = False,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.scale_size = scale_size
        self.stride = stride
        self.num_scales = num_scales
        shape = (out_channels, in_channels, 1, 1) if scale_size == 1 else (out_channels, in_channels,
                                                                           scale_size, 1, 1)
        self.weight = nn.Parameter(torch.empty(shape))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """He-normal weights, zero bias."""
        he_normal_(self.weight, self.in_channels)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight if self.weight.dim() == 5 else self.weight[:, :, None]
        if self.scale_size > 1:
            x = F.pad(x, [0, 0, 0, 0, 0, self.scale_size - 1])
        return F.conv3d(x, w, self.bias, stride=(1, self.stride, self.stride))

    def extra_repr(self) -> str:
        return f"{self.in_channels}->{self.out_channels}, scale_size={self.scale_size}, stride={self.stride}"


def ses_max_projection(x: torch.Tensor) -> torch.Tensor:
    """Max over the scale axis: [B, C, S, H, W] -> [B, C, H, W] (scale pooling)."""
    return x.amax(dim=2)


class SESMaxProjection(nn.Module):
    """Module form of `ses_max_projection`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ses_max_projection(x)


def set_padding_mode(module: nn.Module, mode: str) -> None:
    """Switch every steerable layer in `module` to 'constant' or 'circular' padding (weights unchanged)."""
    mode = _check_padding_mode(mode)
    for m in module.modules():
        if isinstance(m, _SESBase):
            m.padding_mode = mode


def scale_xcorr(
    x: torch.Tensor, z: torch.Tensor, scales: Sequence[float] = (1 / 1.2, 1.0, 1.2)
) -> torch.Tensor:
    """Non-parametric scale convolution of search maps x (N,C,H,W) with template(s) z (1 or N, C, h, w).

    For each s: rescale x by s (bicubic, corners aligned), cross-correlate, resample the response back to
    the plain xcorr size; max over s. Returns (N, 1, H-h+1, W-w+1).
    """
    out_h, out_w = x.shape[-2] - z.shape[-2] + 1, x.shape[-1] - z.shape[-1] + 1
    responses = []
    for s in scales:
        if s == 1:
            xs = x
        else:
            size = (math.floor(x.shape[-2] * s), math.floor(x.shape[-1] * s))
            if size[0] < z.shape[-2] or size[1] < z.shape[-1]:
                raise ValueError(f"scale_xcorr: search map {tuple(x.shape[-2:])} at scale {s} is smaller "
                                 f"than the template {tuple(z.shape[-2:])}")
            xs = F.interpolate(x, size=size, mode="bicubic", align_corners=True)
        r = xcorr(xs, z)
        if r.shape[-2:] != (out_h, out_w):
            r = F.interpolate(r, size=(out_h, out_w), mode="bicubic", align_corners=True)
        responses.append(r)
    return torch.stack(responses, 0).amax(dim=0)
