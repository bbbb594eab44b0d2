"""Run one pair: source + target image -> dense flow (source pixels -> target pixels) and confident matches.

The training-free default (`GSFParams`): EfficientNet-Lite0 multi-level features, coarse level (stride 16) full
correlation -> mutual-NN confident matches -> MLS guidance -> Gaussian modulation -> soft-argmax; then the same
on the stride-8 level with the full correlation first restricted around the coarse result (coarse-to-fine).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from .features import LiteFeatures, prepare
from .gsf import gsf_level, map_cells, nn_argmax


@dataclass
class GSFParams:
    """Training-free pipeline settings (cells of each level; c_p/c_m as the paper's {7, 5} at the coarse level)."""

    size: int = 384
    c_p: float = 7.0
    c_m: float = 5.0
    order: int = 1
    reject: float = 2.0
    fine: bool = True
    fine_prior_sigma: float = 3.0
    fine_c_p: float = 10.0
    fine_c_m: float = 4.0
    rotations: bool = True       # also try the target turned by 90/180/270 deg; keep one only if it wins clearly
    rotation_margin: float = 1.5  # ... i.e. has this many times more consistent confident matches than upright

    def to_dict(self) -> dict:
        """Plain dict (for cards / JSON)."""
        return asdict(self)


@dataclass
class FlowResult:
    """Dense flow (H_s, W_s, 2): source pixel p corresponds to target pixel p + flow[p]; confidence (H_s, W_s) in
    [0, 1] (peak of the modulated correlation); confident matches (K, 5): x_s, y_s, x_t, y_t, kept (1/0)."""

    flow: np.ndarray
    matches: np.ndarray
    confidence: np.ndarray | None = None
    extras: dict = field(default_factory=dict)


def cells_to_pixels(pos: torch.Tensor, grid_hw: tuple[int, int], orig_hw: tuple[int, int]) -> torch.Tensor:
    """Cell coordinates of a grid covering the whole image -> original-image pixel coordinates."""
    sx = orig_hw[1] / grid_hw[1]
    sy = orig_hw[0] / grid_hw[0]
    return torch.stack([(pos[:, 0] + 0.5) * sx - 0.5, (pos[:, 1] + 0.5) * sy - 0.5], 1)


def dense_map(values: torch.Tensor, grid_hw: tuple[int, int], orig_hw: tuple[int, int]) -> np.ndarray:
    """Per-cell scalars (N,) -> bilinear map at every source pixel (H, W)."""
    v = values.float().cpu().reshape(1, 1, *grid_hw)
    return F.interpolate(v, size=orig_hw, mode="bilinear", align_corners=False)[0, 0].numpy()


def dense_flow(pos_px: torch.Tensor, grid_hw: tuple[int, int], orig_hw: tuple[int, int]) -> np.ndarray:
    """Target pixel positions at source-grid cells -> flow at every source pixel (bilinear on displacements)."""
    h, w = grid_hw
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    cell_px = cells_to_pixels(torch.stack([xs.reshape(-1), ys.reshape(-1)], 1), grid_hw, orig_hw)
    disp = (pos_px.cpu() - cell_px).t().reshape(1, 2, h, w)
    full = F.interpolate(disp, size=orig_hw, mode="bilinear", align_corners=False)
    return full[0].permute(1, 2, 0).numpy().astype(np.float32)


class SemanticFlow:
    """The training-free GSF default (and the NN-argmax baseline) on EfficientNet-Lite0 features."""

    def __init__(self, params: GSFParams | None = None, device: torch.device | str = "cpu",
                 features: LiteFeatures | None = None, method: str = "gsf", name: str = "gsf") -> None:
        self.method, self.name = method, name
        self.params = params or GSFParams()
        self.device = torch.device(device)
        self._features = features

    @property
    def features(self) -> LiteFeatures:
        """The trunk, loaded on first use (so input errors surface before the weights are read)."""
        if self._features is None:
            self._features = LiteFeatures()
        self._features = self._features.to(self.device).eval()
        return self._features

    @torch.inference_mode()
    def extract(self, bgr: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, tuple[int, int]]:
        """Image -> (coarse (D,h,w), fine (D,2h,2w), original (H, W))."""
        p = prepare(bgr, self.params.size, self.device)
        coarse, fine = self.features(p.tensor)
        return coarse[0], fine[0], p.orig_hw

    @torch.inference_mode()
    def __call__(self, src_bgr: np.ndarray, tgt_bgr: np.ndarray, method: str | None = None) -> FlowResult:
        """Dense flow source -> target; method 'gsf' (default), 'guidance' (G' only), 'nn' / 'nn-coarse'
        (argmax baseline on the stride-8 / stride-16 features); None = this predictor's own."""
        method = method or self.method
        return self.flows(src_bgr, tgt_bgr, (method,))[method]

    @torch.inference_mode()
    def flows(self, src_bgr: np.ndarray, tgt_bgr: np.ndarray, methods: tuple[str, ...]) -> dict[str, FlowResult]:
        """Several methods on one feature extraction (same features for the baseline and the default)."""
        src, tgt = self.extract(src_bgr), self.extract(tgt_bgr)
        turn = self._pick_rotation(src, tgt, tgt_bgr) if self.params.rotations and any(
            m in ("gsf", "guidance") for m in methods) else 0
        out = {}
        for m in methods:
            if turn and m in ("gsf", "guidance"):
                rot = self.extract(np.ascontiguousarray(np.rot90(tgt_bgr, turn)))
                res = self._run(src, rot, m, _unrotate(turn, tgt_bgr.shape[:2]))
                res.extras["target_turned_deg"] = 90 * turn
                out[m] = res
            else:
                out[m] = self._run(src, tgt, m)
        return out

    def _pick_rotation(self, src: tuple, tgt: tuple, tgt_bgr: np.ndarray) -> int:
        """Quarter turns (0-3, counter-clockwise) of the target that give clearly the most MLS-consistent mutual-NN
        matches on the coarse level (CNN features are not rotation invariant); 0 unless one wins unambiguously."""
        p = self.params
        counts, shares = [], []
        cells = src[0].shape[-1] * src[0].shape[-2]
        for k in range(4):
            cand = tgt if k == 0 else self.extract(np.ascontiguousarray(np.rot90(tgt_bgr, k)))
            lvl = gsf_level(src[0], cand[0], c_p=p.c_p, c_m=p.c_m, order=p.order, reject=p.reject)
            counts.append(int(lvl.kept.sum()))
            shares.append(counts[-1] / max(len(lvl.kept), 1))
            if k == 0 and shares[0] >= 0.5 and counts[0] >= 0.15 * cells:
                return 0  # upright is already well supported: no need to test turns
        best = int(np.argmax(counts))
        # a turn must be unambiguous: many matches, most of them mutually consistent, clearly more than upright
        clear = counts[best] >= 20 and shares[best] >= 0.5 and counts[best] > p.rotation_margin * max(counts[0], 1)
        return best if best and clear else 0

    def _run(self, src: tuple, tgt: tuple, method: str, to_target: np.ndarray | None = None) -> FlowResult:
        """One method; `to_target` (2x3) maps pixel positions of a turned target back to the original target."""
        p = self.params
        cs, fs, src_hw = src
        ct, ft, tgt_hw = tgt

        def finish(pos_px: torch.Tensor) -> torch.Tensor:
            if to_target is None:
                return pos_px
            a = torch.as_tensor(to_target, dtype=pos_px.dtype)
            return pos_px @ a[:, :2].t() + a[:, 2]

        if method in ("nn", "nn-coarse"):
            a, b = (fs, ft) if method == "nn" else (cs, ct)
            grid_s, grid_t = tuple(a.shape[-2:]), tuple(b.shape[-2:])
            pos = nn_argmax(a, b)
            return FlowResult(dense_flow(finish(cells_to_pixels(pos, grid_t, tgt_hw)), grid_s, src_hw),
                              np.zeros((0, 5)))
        if method not in ("gsf", "guidance"):
            raise ValueError(f"unknown method {method!r}")
        lvl = gsf_level(cs, ct, c_p=p.c_p, c_m=p.c_m, order=p.order, reject=p.reject)
        grid_s, grid_t = tuple(cs.shape[-2:]), tuple(ct.shape[-2:])
        pos = lvl.guidance if method == "guidance" else lvl.positions
        conf = lvl.confidence
        matches = self._matches(lvl, grid_s, grid_t, src_hw, tgt_hw)
        if to_target is not None:
            matches[:, 2:4] = matches[:, 2:4] @ to_target[:, :2].T + to_target[:, 2]
        if p.fine and method != "guidance":
            prior = _upsample_positions(pos, grid_s, tuple(fs.shape[-2:]), grid_t, tuple(ft.shape[-2:]))
            fl = gsf_level(fs, ft, prior=prior, prior_sigma=p.fine_prior_sigma, c_p=p.fine_c_p, c_m=p.fine_c_m,
                           order=p.order, reject=2 * p.reject)
            pos, grid_s, grid_t = fl.positions, tuple(fs.shape[-2:]), tuple(ft.shape[-2:])
            conf = fl.confidence
        flow = dense_flow(finish(cells_to_pixels(pos, grid_t, tgt_hw)), grid_s, src_hw)
        return FlowResult(flow, matches, dense_map(conf, grid_s, src_hw),
                          {"confident": int(lvl.kept.sum()), "cells": int(cs.shape[-1] * cs.shape[-2])})

    @staticmethod
    def _matches(lvl, grid_s, grid_t, src_hw, tgt_hw) -> np.ndarray:
        from .gsf import grid_coords

        s = cells_to_pixels(grid_coords(*grid_s)[lvl.anchors_src.cpu()], grid_s, src_hw)
        t = cells_to_pixels(grid_coords(*grid_t)[lvl.anchors_tgt.cpu()], grid_t, tgt_hw)
        return torch.cat([s, t, lvl.kept.cpu().float()[:, None]], 1).numpy()


def _unrotate(k: int, hw: tuple[int, int]) -> np.ndarray:
    """2x3 affine: pixel (x', y') of np.rot90(image, k) -> pixel (x, y) of the image (size hw)."""
    h, w = hw
    return {1: np.array([[0.0, -1.0, w - 1], [1.0, 0.0, 0.0]]),
            2: np.array([[-1.0, 0.0, w - 1], [0.0, -1.0, h - 1]]),
            3: np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, h - 1]])}[k]


def _upsample_positions(pos: torch.Tensor, grid_s: tuple[int, int], fine_s: tuple[int, int],
                        grid_t: tuple[int, int], fine_t: tuple[int, int]) -> torch.Tensor:
    """Coarse target positions at coarse source cells -> fine target positions at fine source cells."""
    from .gsf import grid_coords

    ident = map_cells(grid_coords(*grid_s, device=pos.device), grid_s, grid_t)
    disp = (pos - ident).t().reshape(1, 2, *grid_s)
    disp = F.interpolate(disp, size=fine_s, mode="bilinear", align_corners=False)[0].reshape(2, -1).t()
    scale = torch.tensor([fine_t[1] / grid_t[1], fine_t[0] / grid_t[0]], device=pos.device)
    fine_ident = map_cells(grid_coords(*fine_s, device=pos.device), fine_s, fine_t)
    return fine_ident + disp * scale
