"""Training recipe: `cvkit train segment-lidar --data synthetic|semantickitti:DIR` -> an asset folder with a card.

Paper schedule (spec 2.6) for SemanticKITTI: SGD momentum 0.9, weight decay 1e-4, linear warm-up, exponential decay,
multi-layer loss (Eq. 5) with the code's class weights 1/(f + 0.001). Two small shipped models:

- ssgv3-tiny-a3-kitti (real data): `--data semantickitti:../shared/data/segment-lidar/train --arch ssgv3-tiny-a3
  --optimizer adamw --steps 100`: the 8 labelled training-split scans (one per drive), `data.augment_heavy` (yaw,
  x/y flips, scale, point drop-out, per-laser range/remission jitter), 64x512, AdamW + cosine, paper-formula weights
  1/ln(f + 1.02) with SemanticKITTI's class frequencies. Its length and kNN use were chosen by leave-one-drive-out
  validation (experiments/segment_lidar/lodo.py).
- ssgv3-tiny-sim (simulation only): simulated HDL-64E scans, 64x512, all five channels (the simulator models
  remission from per-material near-infrared reflectance, see simulate.py), AdamW with cosine decay (converges within
  the CPU budget where SGD at lr 0.01 does not), paper-formula weights 1/ln(f + 1.02).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .data import TRAIN_SEQUENCES, semantickitti_batches, simulated_batches
from .labels import CONTENT, class_weights
from .projection import make_sensor
from .ssgv3 import CONFIGS, SqueezeSegV3, count_parameters, multi_layer_loss

# class frequencies of the simulated street scenes (measured on 150 scans of seed 1; classes the simulator never
# produces kept at 0.0002), for the synthetic recipe
SIM_CONTENT: tuple[float, ...] = (
    0.0, 0.081, 0.0002, 0.0002, 0.016, 0.01, 0.0014, 0.0002, 0.0002, 0.36, 0.06, 0.12, 0.0028, 0.093, 0.012, 0.13,
    0.014, 0.095, 0.0027, 0.0002,
)


@dataclass
class TrainConfig:
    """What to train on and how long."""

    data: str = "synthetic"  # or "semantickitti:DIR"
    arch: str = "ssgv3-tiny"
    steps: int = 600
    batch: int = 2
    lr: float | None = None
    optimizer: str | None = None  # "sgd" (paper) or "adamw"; default by data
    width: int = 512
    height: int = 64
    use_remission: bool | None = None  # default: True (the simulator models remission)
    seed: int = 0
    threads: int = 1
    sequences: tuple[str, ...] | None = None  # semantickitti: which sequences (default TRAIN_SEQUENCES)
    weights: str | None = None  # class-weight formula: "code" (SGD paper schedule) or "paper" (AdamW CPU recipe)
    heavy_augment: bool = True  # semantickitti: augment_heavy (x-flip, drop-out, per-laser jitter) on top of augment
    init: str | None = None  # start from these weights (asset name or path; its card fixes the architecture)
    bn_recal: int = 8  # batches to re-estimate BatchNorm statistics after training (0: keep the running averages)
    crop: int = 0  # train on random azimuth windows this many columns wide (multiple of 8; 0: whole range images)
    crops: int = 1  # windows cut from each scan of a batch (with crop)


def random_crops(x: torch.Tensor, y: torch.Tensor, width: int, n: int, gen: torch.Generator
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """`n` random azimuth windows `width` columns wide from each range image (wrapping round 360 degrees).

    The network is fully convolutional, so a window costs width/W of a full image: more, cheaper gradient steps
    per CPU second, each seeing other scans' context mixed in the batch.
    """
    if width % 8 or not 0 < width <= x.shape[-1]:
        raise ValueError(f"crop width {width} must be a multiple of 8 no wider than {x.shape[-1]}")
    xs, ys = [], []
    for i in range(x.shape[0]):
        for s in torch.randint(0, x.shape[-1], (n,), generator=gen).tolist():
            cols = torch.arange(s, s + width) % x.shape[-1]
            xs.append(x[i][..., cols])
            ys.append(y[i][..., cols])
    return torch.stack(xs), torch.stack(ys)


def recalibrate_bn(model: SqueezeSegV3, batches: Iterator[tuple[torch.Tensor, torch.Tensor]], n: int) -> None:
    """Replace BatchNorm running statistics by their plain average over `n` training batches (no weight change).

    The code's BN momentum (0.01) suits 150 epochs; after a few hundred CPU steps the running averages still
    remember their start (unit variance, or the simulator's statistics when fine-tuning), so the eval-mode network
    sees mis-scaled features. Averaging over fresh batches fixes that at the cost of n forward passes.
    """
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    moms = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    model.train()
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout2d):
            m.eval()
    with torch.no_grad():
        for _ in range(n):
            model(next(batches)[0])
    for m, mom in zip(bns, moms, strict=True):
        m.momentum = mom
    model.eval()


def _initial_model(cfg: TrainConfig) -> SqueezeSegV3:
    if cfg.init is None:
        return SqueezeSegV3(CONFIGS[cfg.arch])
    from ..assets import asset_from_path, find_asset
    from ..errors import ModelError
    from .registry import _net_from_asset

    asset = find_asset("segment-lidar", cfg.init)
    if asset is None:
        if not Path(cfg.init).exists():
            raise ModelError(f"--init {cfg.init!r}: no shipped asset or weights file of that name")
        asset = asset_from_path(cfg.init)
    asset.verify()
    return _net_from_asset(asset, None)


def train(cfg: TrainConfig, on_step: Callable[[int, float, float], None] | None = None,
          checkpoints: tuple[int, ...] = (), on_checkpoint: Callable[[int, SqueezeSegV3], None] | None = None
          ) -> tuple[SqueezeSegV3, dict]:
    """Train a SqueezeSegV3 network; returns the model and a card `training`/`config` summary.

    `on_checkpoint(step, model)` is called (model in eval mode, then back to train) after each step count in
    `checkpoints`: leave-one-drive-out validation scores several training lengths from one run.
    """
    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.set_num_threads(max(1, cfg.threads))
    sensor = make_sensor("hdl64", height=cfg.height, width=cfg.width)
    synthetic = cfg.data == "synthetic"
    remission = True if cfg.use_remission is None else cfg.use_remission
    if synthetic:
        batches = simulated_batches(cfg.seed, sensor, cfg.batch, use_remission=remission)
        weights = class_weights(SIM_CONTENT, "paper")
        opt_name = cfg.optimizer or "adamw"
    elif cfg.data.startswith("semantickitti:"):
        root = cfg.data.split(":", 1)[1]
        batches = semantickitti_batches(root, cfg.seed, sensor, cfg.batch, cfg.sequences or TRAIN_SEQUENCES,
                                        remission, cfg.heavy_augment)
        opt_name = cfg.optimizer or "sgd"
        # the code's 1/(f + 0.001) for the paper's SGD schedule; the gentler paper formula for short AdamW runs,
        # where 1/(f + 0.001) lets classes absent from a few scans dominate
        weights = class_weights(CONTENT, cfg.weights or ("code" if opt_name == "sgd" else "paper"))
    else:
        raise ValueError(f"--data {cfg.data!r}: use 'synthetic' or 'semantickitti:DIR'")
    model = _initial_model(cfg)
    model.train()
    w = torch.as_tensor(weights)
    if opt_name == "sgd":
        lr = cfg.lr or (0.005 if cfg.arch == "ssgv3-53" else 0.01)
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=1e-4)
    else:
        lr = cfg.lr or 3e-3
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    warm = max(1, cfg.steps // 20)

    def lr_at(step: int) -> float:
        if step < warm:
            return lr * (step + 1) / warm
        if opt_name == "sgd":
            return lr * 0.995 ** ((step - warm) / max(1, cfg.steps // 150))  # ~150 decay "epochs"
        return lr * 0.5 * (1 + np.cos(np.pi * (step - warm) / max(1, cfg.steps - warm)))

    gen = torch.Generator().manual_seed(cfg.seed)
    t0 = time.time()
    c0 = time.process_time()
    for step in range(cfg.steps):
        x, y = next(batches)
        if cfg.crop:
            x, y = random_crops(x, y, cfg.crop, cfg.crops, gen)
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        loss = multi_layer_loss(model(x), y, w)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if on_step is not None:
            on_step(step, loss.item(), time.time() - t0)
        if on_checkpoint is not None and step + 1 in checkpoints and step + 1 < cfg.steps:
            state = {k: v.clone() for k, v in model.state_dict().items()}
            recalibrate_bn(model, batches, cfg.bn_recal) if cfg.bn_recal else model.eval()
            on_checkpoint(step + 1, model)
            model.load_state_dict(state)  # training continues with its own running statistics
            model.train()
    if cfg.bn_recal:
        recalibrate_bn(model, batches, cfg.bn_recal)
    model.eval()
    if on_checkpoint is not None and cfg.steps in checkpoints:
        on_checkpoint(cfg.steps, model)
    summary = {
        "config": {**model.cfg.to_dict(), "sensor": "hdl64", "height": cfg.height, "width": cfg.width,
                   "use_remission": remission},
        "params": count_parameters(model),
        "seconds": round(time.time() - t0, 1),
        "cpu_seconds": round(time.process_time() - c0, 1),
        "optimizer": opt_name, "lr": lr, "steps": cfg.steps, "batch": cfg.batch,
        "class_weights": "synthetic" if synthetic else (cfg.weights or ("code" if opt_name == "sgd" else "paper")),
        "init": cfg.init, "bn_recal": cfg.bn_recal, "crop": cfg.crop, "crops": cfg.crops if cfg.crop else 1,
    }
    return model, summary


def save_trained(model: SqueezeSegV3, summary: dict, out: str | Path, name: str, command: str, data: str,
                 seed: int, metrics: list[dict] | None = None) -> Path:
    """Write the asset folder (weights.safetensors + card.json)."""
    from ..assets import save_asset

    card = {
        "name": name, "task": "segment-lidar", "architecture": model.cfg.name, "config": summary["config"],
        "params": summary["params"],
        "training": {"command": command, "data": data, "seconds": summary["seconds"], "seed": seed,
                     "cpu_seconds": summary.get("cpu_seconds"),
                     "optimizer": summary["optimizer"], "lr": summary["lr"], "steps": summary["steps"],
                     "batch": summary["batch"], "class_weights": summary.get("class_weights"),
                     "init": summary.get("init"), "bn_recal": summary.get("bn_recal"),
                     "crop": summary.get("crop"), "crops": summary.get("crops")},
        "metrics": metrics or [], "licence": "BSD-2-Clause (architecture after SqueezeSegV3); weights: ours",
    }
    return save_asset(out, model.state_dict(), card)


def run_recipe(cfg: TrainConfig, out: str | Path, name: str, report_on: Path | None = None,
               log: Callable[[str], None] | None = None) -> tuple[Path, dict]:
    """`cvkit train segment-lidar`: check the options (ArgumentError, exit 4), train, score the result on
    `report_on` when given (evaluation only; rows in the card), and save the asset; its path and the summary."""
    from ..errors import ArgumentError
    from ..training import training_command
    from .ssgv3 import CONFIGS

    if cfg.arch not in CONFIGS:
        raise ArgumentError(f"--arch {cfg.arch!r}: use one of {', '.join(CONFIGS)}")
    if cfg.width % 8:
        raise ArgumentError(f"--width {cfg.width} must be divisible by 8")
    if cfg.crop % 8 or cfg.crop > cfg.width:
        raise ArgumentError(f"--crop {cfg.crop} must be a multiple of 8 no wider than --width {cfg.width}")
    if not (cfg.data == "synthetic" or cfg.data.startswith("semantickitti:")):
        raise ArgumentError(f"--data {cfg.data!r}: use synthetic or semantickitti:DIR")

    def on_step(step: int, loss: float, elapsed: float) -> None:
        if log is not None and (step % 20 == 0 or step == cfg.steps - 1):
            log(f"step {step + 1}/{cfg.steps} loss {loss:.3f} {elapsed:.0f} s")

    model, summary = train(cfg, on_step)
    metrics = []
    if report_on is not None:
        from .evaluate import card_metrics

        metrics = card_metrics(model, summary, report_on)
    command = training_command(f"cvkit train segment-lidar --data {cfg.data} --arch {cfg.arch} --steps {cfg.steps} "
                               f"--batch {cfg.batch} --seed {cfg.seed}")
    return save_trained(model, summary, out, name, command, cfg.data, cfg.seed, metrics), summary
