"""SiamFC inference shared by every scale-pyramid Siamese tracker (siam-lite, sesiamfc, sesiamfc-lite).

Bertinetto et al. 2016: template 127 px, search 255 px, a pyramid of search scales scored in one batch,
bicubic response upsampling, scale penalty, cosine window, linear size smoothing. The network is pluggable:
`SiamNet.embed(crops)` maps uint8 BGR crops to features and `SiamNet.respond(z, x)` to response maps.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch import nn

from ..base import Tracker
from ..crops import clamp_box, crop_pyramid, crop_square, mean_colour, template_side


@dataclass
class SiamFCParams:
    """SiamFC post-processing hyper-parameters: the SiamFC class defaults, not tuned on test data."""

    exemplar_size: int = 127
    instance_size: int = 255
    total_stride: int = 16
    num_scales: int = 3
    scale_step: float = 1.0375
    scale_penalty: float = 0.9745
    scale_lr: float = 0.59
    window_influence: float = 0.35
    response_up: int = 16
    context: float = 0.5
    lost_threshold: float = 0.0


class SiamNet(nn.Module):
    """A Siamese network usable by SiamFCTracker."""

    def embed(self, crops: torch.Tensor) -> torch.Tensor:  # pragma: no cover - interface
        """uint8 BGR crops (N, H, W, 3) -> features (N, ...)."""
        raise NotImplementedError

    def respond(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - interface
        """Template features (1, ...) and search features (S, ...) -> responses (S, h, w)."""
        raise NotImplementedError


class SiamFCTracker(Tracker):
    """SiamFC scale-pyramid tracker around any SiamNet."""

    def __init__(self, net: SiamNet, params: SiamFCParams | None = None, device: str | torch.device = "cpu"):
        self.net = net.eval().to(device)
        self.p = params or SiamFCParams()
        self.device = torch.device(device)
        n = self.p.num_scales
        self.scale_factors = self.p.scale_step ** (np.arange(n) - (n - 1) / 2)
        self.penalties = np.where(np.arange(n) == (n - 1) // 2, 1.0, self.p.scale_penalty)

    def _to_tensor(self, crops: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(crops)).to(self.device)

    @torch.inference_mode()
    def initialize(self, frame: np.ndarray, box: tuple[float, float, float, float]) -> None:
        x, y, w, h = (float(v) for v in box)
        self.frame_size = (frame.shape[1], frame.shape[0])
        self.cx, self.cy, self.w, self.h = x + (w - 1) / 2, y + (h - 1) / 2, w, h
        self.fill = mean_colour(frame)
        self.s_z = template_side(w, h, self.p.context)
        self.s_x = self.s_z * self.p.instance_size / self.p.exemplar_size
        self.min_sx, self.max_sx = 0.2 * self.s_x, 5.0 * self.s_x
        crop = crop_square(frame, self.cx, self.cy, self.s_z, self.p.exemplar_size, self.fill)
        self.z = self.net.embed(self._to_tensor(crop[None]))
        self.window: np.ndarray | None = None

    def _responses(self, crops: torch.Tensor) -> np.ndarray:
        """Search crops (S, H, W, 3) uint8 -> response maps (S, h, w) against the template."""
        return self.net.respond(self.z, self.net.embed(crops)).float().cpu().numpy()

    def _scale_change(self, best: int, resp: np.ndarray) -> float:
        """Estimated size change this frame (before smoothing): the winning pyramid factor."""
        return float(self.scale_factors[best])

    @torch.inference_mode()
    def track(self, frame: np.ndarray) -> tuple[tuple[float, float, float, float], float]:
        p = self.p
        sides = [self.s_x * f for f in self.scale_factors]
        crops = crop_pyramid(frame, self.cx, self.cy, sides, p.instance_size, self.fill)
        resp = self._responses(self._to_tensor(crops))
        n, rh, rw = resp.shape
        up_h, up_w = rh * p.response_up, rw * p.response_up
        up = np.stack([cv2.resize(r, (up_w, up_h), interpolation=cv2.INTER_CUBIC) for r in resp])
        peaks = up.reshape(n, -1).max(1) * self.penalties
        best = int(np.argmax(peaks))
        r = up[best]
        raw_peak = float(resp[best].max())
        r = r - r.min()
        r = r / (r.sum() + 1e-12)
        if self.window is None or self.window.shape != r.shape:
            hy, hx = np.hanning(up_h), np.hanning(up_w)
            win = np.outer(hy, hx)
            self.window = win / win.sum()
        r = (1 - p.window_influence) * r + p.window_influence * self.window
        py, px = np.unravel_index(int(np.argmax(r)), r.shape)
        disp_up = np.array([px - (up_w - 1) / 2, py - (up_h - 1) / 2])
        disp_search = disp_up * p.total_stride / p.response_up
        disp_frame = disp_search * sides[best] / p.instance_size
        self.cx += float(disp_frame[0])
        self.cy += float(disp_frame[1])
        scale = (1 - p.scale_lr) + p.scale_lr * self._scale_change(best, resp)
        self.s_x = float(np.clip(self.s_x * scale, self.min_sx, self.max_sx))
        self.w *= scale
        self.h *= scale
        W, H = self.frame_size
        self.cx, self.cy, self.w, self.h = clamp_box(self.cx, self.cy, self.w, self.h, W, H)
        box = (self.cx - (self.w - 1) / 2, self.cy - (self.h - 1) / 2, self.w, self.h)
        return box, raw_peak
