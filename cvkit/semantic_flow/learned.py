"""Inference with a trained GSFNet (weights.safetensors + card.json from `cvkit train semantic-flow`, or a .pt
state dict with the config beside it): both images resized to the model's square input, tau (cells) -> pixels."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from ..assets import Asset, asset_from_path, load_into
from ..errors import ModelError
from .features import prepare
from .model import GSFConfig, GSFNet, cell_coords
from .predict import FlowResult, cells_to_pixels, dense_flow, dense_map


class LearnedFlow:
    """A trained GSFNet behind the same call as SemanticFlow: (source, target) -> FlowResult."""

    def __init__(self, model: GSFNet, device: torch.device | str = "cpu", name: str = "gsfnet") -> None:
        self.name = name
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()

    @classmethod
    def from_path(cls, path: str | Path, device: torch.device | str = "cpu") -> LearnedFlow:
        """Load weights + card (config in the card); ModelError when missing or mismatched."""
        asset = asset_from_path(path)
        asset.verify()
        return cls.from_asset(asset, device)

    @classmethod
    def from_asset(cls, asset: Asset, device: torch.device | str = "cpu") -> LearnedFlow:
        """Build from a verified Asset (weights + card with 'config')."""
        path = asset.weights
        cfg = asset.card.get("config")
        if not cfg:
            raise ModelError(f"{path}: the card has no 'config' (train with `cvkit train semantic-flow`)")
        model = GSFNet(GSFConfig(**cfg), pretrained_backbone=cfg.get("backbone") == "lite0")
        state = asset.state_dict()
        for prefix, module in (("pruning.", model.pruning), ("matching.", model.matching),
                               ("backbone.", model.backbone)):
            sub = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
            if sub or prefix != "backbone.":
                load_into(module, sub, path)
        return cls(model, device)

    @torch.inference_mode()
    def __call__(self, src_bgr: np.ndarray, tgt_bgr: np.ndarray, method: str | None = "gsf") -> FlowResult:
        """Dense flow source -> target; method 'gsf' (tau, also for None) or 'guidance' (G')."""
        size = self.model.config.image_size
        a = prepare(cv2.resize(src_bgr, (size, size), interpolation=cv2.INTER_AREA), size, self.device).tensor
        b = prepare(cv2.resize(tgt_bgr, (size, size), interpolation=cv2.INTER_AREA), size, self.device).tensor
        out = self.model(a, b)
        g = self.model.config.grid
        disp = (out["Gp"] if method == "guidance" else out["tau"])[0].reshape(2, -1).t()
        pos = cell_coords(g, g, self.device) + disp
        flow = dense_flow(cells_to_pixels(pos, (g, g), tgt_bgr.shape[:2]), (g, g), src_bgr.shape[:2])
        conf = dense_map(out["Cm"][0].amax(0).clamp(0, 1).reshape(-1), (g, g), src_bgr.shape[:2])
        return FlowResult(flow, np.zeros((0, 5)), conf, {"confident": int(out["S"].sum()), "cells": g * g})
