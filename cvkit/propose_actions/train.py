"""Training recipes: BC-GNN on synthetic sequences (the shipped asset), on the ActivityNet/BSN layout
(csv_mean_100) and on the THUMOS/G-TAD layout (per-video snippet features, 128-position windows); the prior table.

Paper settings (spec 2.6): Adam, lr 1e-4, weight decay 5e-3, batch 16, 20 epochs. The synthetic recipe of the
shipped small model uses lr 1e-3 and weight decay 1e-4 (a small net from scratch within a 10-minute CPU budget).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .data import load_anet, load_thumos_csv
from .features import PROFILE_DIM, self_similarity_profile
from .model import BCGNN, BCGNNConfig, bcgnn_loss, count_parameters, make_labels
from .prior import PriorModel
from .readers import find_feature_file, read_features
from .synthetic import generate_set

SIZES = {
    "paper": dict(base_dim=256, graph_dim=256, content_dim=128, samples=32, blocks=2, groups=4),
    "slim": dict(base_dim=128, graph_dim=128, content_dim=64, samples=16, blocks=2, groups=4),
    "small": dict(base_dim=64, graph_dim=32, content_dim=32, samples=16, blocks=2, groups=4),
}


@dataclass
class TrainConfig:
    """What to train on and how."""

    data: str = "synthetic"  # synthetic | anet:DIR | thumos:DIR
    size: str = "small"
    input: str = "profile"  # profile (feature-agnostic) | raw
    features: str | None = None  # feature folder for anet/thumos
    videos: int = 3000  # synthetic training videos
    epochs: int = 20
    steps: int = 0  # > 0: stop after this many optimiser steps
    batch: int = 16
    lr: float = 1e-4
    weight_decay: float = 5e-3
    seed: int = 0
    threads: int = 1
    device: str = "cpu"
    fps: float = 30.0  # THUMOS: frames per second of the feature extraction
    stride_frames: int = 5  # THUMOS snippet stride (frames)
    window: int = 128
    window_stride: int = 64
    max_len: int = 64
    extra: dict = field(default_factory=dict)


def _positions(segments_norm: np.ndarray, tscale: int) -> np.ndarray:
    """Normalised [0, 1] segments -> node positions (node i sits at (i + 0.5) / tscale)."""
    return np.asarray(segments_norm, dtype=np.float64).reshape(-1, 2) * tscale - 0.5


def prepare_input(feats: np.ndarray, kind: str) -> np.ndarray:
    """[T, D] -> the model's [C, T] input: the self-similarity profile or the raw features."""
    x = self_similarity_profile(feats) if kind == "profile" else np.asarray(feats, dtype=np.float32)
    return np.ascontiguousarray(x.T, dtype=np.float32)


def synthetic_samples(cfg: TrainConfig, tscale: int = 100) -> list[tuple[np.ndarray, np.ndarray]]:
    """(input [C, T], GT positions [n, 2]) for the synthetic recipe."""
    return [(prepare_input(v.features, cfg.input), _positions(v.segments, tscale))
            for v in generate_set(cfg.seed + 1000, cfg.videos, tscale)]


def anet_samples(root: Path, features: Path, kind: str, subset: str = "training"
                 ) -> list[tuple[np.ndarray, np.ndarray]]:
    """ActivityNet/BSN layout: csv_mean_100/v_<id>.csv (100 x 400) with anet_anno_action.json under `root`."""
    annos = load_anet(root)
    out = []
    for vid, a in annos.items():
        if subset and a.subset != subset:
            continue
        path = find_feature_file(features, vid)
        if path is None or len(a.segments) == 0:
            continue
        feats = read_features(path)
        t = len(feats)
        out.append((prepare_input(feats, kind), _positions(a.segments / a.feature_duration, t)))
    return out


def thumos_samples(anno_csv: Path, features: Path, cfg: TrainConfig) -> list[tuple[np.ndarray, np.ndarray]]:
    """THUMOS/G-TAD layout: <video>.npy|.csv snippet features and an annotation CSV (seconds); windows of
    `window` snippets every `window_stride`; instances longer than `max_len` snippets or cut by the window are
    dropped; windows without instances are skipped."""
    annos = load_thumos_csv(anno_csv)
    out = []
    for vid, a in annos.items():
        path = find_feature_file(features, vid)
        if path is None:
            continue
        feats = read_features(path)
        pos = a.segments * cfg.fps / cfg.stride_frames - 0.5
        for w0 in range(0, max(1, len(feats) - cfg.window + cfg.window_stride), cfg.window_stride):
            win = feats[w0:w0 + cfg.window]
            if len(win) < cfg.window:
                win = np.concatenate([win, np.repeat(win[-1:], cfg.window - len(win), axis=0)])
            g = pos - w0
            keep = (g[:, 0] >= 0) & (g[:, 1] <= cfg.window - 1) & (g[:, 1] - g[:, 0] <= cfg.max_len)
            if keep.any():
                out.append((prepare_input(win, cfg.input), g[keep]))
    return out


def _batches(samples: list, batch: int, rng: np.random.Generator) -> Iterator[list]:
    while True:
        order = rng.permutation(len(samples))
        for k in range(0, len(order) - batch + 1 if len(order) >= batch else 1, batch):
            yield [samples[i] for i in order[k:k + batch]]


def train_bcgnn(cfg: TrainConfig, samples: list[tuple[np.ndarray, np.ndarray]], model_cfg: BCGNNConfig,
                on_step: Callable[[int, int, float, float], None] | None = None) -> tuple[BCGNN, dict]:
    """Train BC-GNN with the paper's loss; returns the model and a card summary."""
    if not samples:
        raise ValueError("no training samples (check the feature folder and annotations)")
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(max(1, cfg.threads))
    rng = np.random.default_rng(cfg.seed)
    dev = torch.device(cfg.device)
    model = BCGNN(model_cfg).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    per_epoch = max(1, len(samples) // cfg.batch)
    total = cfg.steps if cfg.steps > 0 else cfg.epochs * per_epoch
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=max(1, total // 2), gamma=0.1)
    labels_cache: dict[int, tuple] = {}
    t0, cpu0 = time.time(), time.process_time()
    it = _batches(samples, cfg.batch, rng)
    model.train()
    loss_v = float("nan")
    for step in range(total):
        batch = next(it)
        x = torch.from_numpy(np.stack([b[0] for b in batch])).to(dev)
        labs = []
        for b in batch:
            key = id(b)
            if key not in labels_cache:
                labels_cache[key] = make_labels(b[1], model_cfg.tscale, model.ei.cpu(), model.ej.cpu())
            labs.append(labels_cache[key])
        lab = tuple(torch.stack([lb[k] for lb in labs]).to(dev) for k in range(3))
        loss, _ = bcgnn_loss(model(x), lab)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        loss_v = float(loss.detach())
        if on_step:
            on_step(step, total, loss_v, time.time() - t0)
    model.eval()
    summary = {"config": model_cfg.to_dict(), "params": count_parameters(model), "steps": total,
               "batch": cfg.batch, "lr": cfg.lr, "weight_decay": cfg.weight_decay, "optimizer": "adam",
               "input": cfg.input, "seconds": round(time.time() - t0, 1),
               "cpu_seconds": round(time.process_time() - cpu0, 1), "final_loss": loss_v}
    return model, summary


def build_model_config(cfg: TrainConfig, in_dim: int, tscale: int) -> BCGNNConfig:
    """The BCGNNConfig of a recipe: size preset, input width, window and maximum edge length."""
    if cfg.size not in SIZES:
        raise ValueError(f"unknown size {cfg.size!r}: use {', '.join(SIZES)}")
    max_len = cfg.max_len if cfg.data.startswith("thumos:") else 0
    return BCGNNConfig(in_dim=in_dim, tscale=tscale, max_len=max_len, **SIZES[cfg.size])


def fit_prior(data: str, subset: str = "training") -> tuple[PriorModel, str]:
    """The prior table from `anet:DIR` (training subset) or `thumos:CSV` annotations; returns (model, description)."""
    kind, _, root = data.partition(":")
    if kind == "anet":
        annos = load_anet(Path(root))
        inst = [(s, e, a.feature_duration) for a in annos.values() if not subset or a.subset == subset
                for s, e in a.segments]
        return PriorModel.fit(inst), f"ActivityNet annotations ({subset} subset) under {root}"
    if kind == "thumos":
        annos = load_thumos_csv(Path(root))
        inst = [(s, e, a.duration) for a in annos.values() for s, e in a.segments]
        return PriorModel.fit(inst), f"THUMOS annotations {root} (duration = last annotated end)"
    if kind == "synthetic":
        vids = generate_set(int(root or 0) + 1000, 3000)
        inst = [(s, e, 1.0) for v in vids for s, e in v.segments]
        return PriorModel.fit(inst), "synthetic training sequences"
    raise ValueError(f"--data {data!r}: use anet:DIR, thumos:CSV or synthetic")


def profile_dim() -> int:
    """Channels of the feature-agnostic input."""
    return PROFILE_DIM


def save_bcgnn(model: BCGNN, summary: dict, out: str | Path, name: str, command: str, data: str, seed: int,
               metrics: list[dict] | None = None, feature: str = "profile") -> Path:
    """Write the asset folder (weights.safetensors + card.json) of a trained BC-GNN."""
    from ..assets import save_asset

    card = {
        "name": name, "task": "propose-actions", "architecture": "bcgnn", "config": summary["config"],
        "params": summary["params"], "input": summary["input"], "feature": feature,
        "training": {"command": command, "data": data, "seconds": summary["seconds"], "seed": seed,
                     "cpu_seconds": summary.get("cpu_seconds"), "optimizer": summary["optimizer"],
                     "lr": summary["lr"], "weight_decay": summary["weight_decay"], "steps": summary["steps"],
                     "batch": summary["batch"], "final_loss": summary["final_loss"]},
        "metrics": metrics or [],
        "licence": "Apache-2.0 (weights: ours, trained on procedurally generated data); BC-GNN after Bai et al. 2020",
    }
    return save_asset(out, model.state_dict(), card)
