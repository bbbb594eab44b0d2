"""Training recipe: labelled source stream + unlabelled target stream -> adaptive detector, with checkpoints.

`--source synthetic --target synthetic-fog` is the procedural benchmark (spec section 5); `voc:DIR` / `coco:FILE`
and a target image folder are the user's data. A run writes `checkpoint.pt` into its output folder every
`ckpt_every` steps and resumes from it when started again with the same output folder (interrupted runs lose at
most `ckpt_every` steps); at the end it writes `weights.safetensors` + `card.json` (`cvkit.training.save_model`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import InputError
from ..training import Budget, ModelCard, TrainLog, save_model, seed_everything, train_loop
from .adapt import AdaptConfig, AdaptiveDetector, step_losses
from .detector import DetectorConfig
from .synthetic import CLASSES, sample

SMALL_SIZE = 128  # synthetic scenes


def small_config() -> DetectorConfig:
    """The CPU-sized detector of the shipped model: EfficientNet-Lite0 to block 7 (80 ch, stride 16) on 128 px
    scenes upsampled to 192 px, 4 anchor sizes x 4 ratios (tall persons / signs), 128-wide RPN, 256-wide head."""
    s = 192 / SMALL_SIZE
    return DetectorConfig(class_names=CLASSES, backbone="efflite0", backbone_upto=7, min_size=192, max_size=192,
                          anchor_sizes=tuple(a * s for a in (12.0, 24.0, 48.0, 96.0)),
                          anchor_ratios=(0.5, 1.0, 2.0, 3.5), rpn_channels=128, rpn_pre_nms=600,
                          rpn_post_nms_train=128, rpn_post_nms_test=100, roi_batch=64, head_dim=256)


@dataclass
class Sample:
    """One labelled image: RGB float tensor (3, H, W) in [0, 1], boxes (N x 4, pixels), labels (N,)."""

    image: torch.Tensor
    boxes: torch.Tensor
    labels: torch.Tensor


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """H x W x 3 array (uint8 or float in [0, 1]) -> (3, H, W) float tensor."""
    a = rgb.astype(np.float32) / (255.0 if rgb.dtype == np.uint8 else 1.0)
    return torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1)


def synthetic_sample(split: str, index: int) -> Sample:
    """Scene `index` of a synthetic split as a training sample."""
    s = sample(split, index, SMALL_SIZE)
    return Sample(to_tensor(s.image), torch.from_numpy(s.boxes), torch.from_numpy(s.labels))


def source_stream(source: str, class_names: tuple[str, ...]) -> tuple[Callable[[int], Sample], int | None]:
    """`fetch(i)` of the labelled source and its size (None: endless synthetic)."""
    if source == "synthetic":
        return (lambda i: synthetic_sample("source-train", i)), None
    from .data import load_dataset

    items = load_dataset(source, class_names)
    if not items:
        raise InputError(source, "source dataset holds no annotated images")
    return (lambda i: items[i % len(items)].load()), len(items)


def target_stream(target: str) -> tuple[Callable[[int], torch.Tensor], int | None]:
    """`fetch(i)` of the unlabelled target images and their count (None: endless synthetic fog)."""
    if target == "synthetic-fog":
        return (lambda i: synthetic_sample("target-train", i).image), None
    from ..io.batch import discover
    from .data import read_image

    paths = [it.path for it in discover(target, (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"),
                                        what="target image").items]
    return (lambda i: read_image(paths[i % len(paths)])), len(paths)


def _save_checkpoint(path: Path, model, opt, step: int, meta: dict) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "meta": meta}, tmp)
    os.replace(tmp, path)


def train(out: str | Path, *, source: str = "synthetic", target: str = "synthetic-fog",
          acfg: AdaptConfig | None = None, cfg: DetectorConfig | None = None, steps: int | None = 400,
          minutes: float | None = None, batch: int = 4, lr: float = 0.01, seed: int = 0, init: str | None = None,
          ckpt_every: int = 25, eval_images: int = 0, device: str = "cpu", quiet: bool = False,
          name: str = "mcar-synthetic-fog") -> tuple[AdaptiveDetector, TrainLog, dict]:
    """Train (or resume) into `out`; returns the model, the log of this session and the card metrics."""
    acfg = acfg or AdaptConfig()
    cfg = cfg or small_config()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fetch_s, _ = source_stream(source, cfg.class_names)  # bad data fails before any model is built
    fetch_t, _ = target_stream(target) if acfg.method in ("image-adv", "mcar") else (None, None)
    g = seed_everything(seed)
    dev = torch.device(device)
    model = AdaptiveDetector(cfg, acfg.head_channels, pretrained=init is None).to(dev)
    if init is not None:
        from .registry import load_state

        model.load_state_dict(load_state(init), strict=True)
    params = [
        {"params": [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("multilabel")],
         "lr": lr},
        {"params": list(model.multilabel.parameters()), "lr": lr * (10.0 if acfg.method == "mcar" else 1.0)},
    ]
    opt = torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=5e-4)
    ckpt = out / "checkpoint.pt"
    start = 0
    if ckpt.exists():
        state = torch.load(ckpt, map_location=dev, weights_only=True)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        start = int(state["step"])
        if not quiet:
            print(f"resuming from {ckpt} at step {start}", file=sys.stderr)
    total_steps = steps
    base_lrs = [grp["lr"] for grp in params]
    model.train()
    offset = seed * 1_000_003

    def step(i: int) -> dict:
        it = start + i
        frac = it / total_steps if total_steps else 0.0
        warm = min(1.0, (it + 1) / 50) if init is None else 1.0
        for grp, base in zip(opt.param_groups, base_lrs, strict=True):
            grp["lr"] = base * warm * (0.1 if frac >= 0.7 else 1.0)
        idx = [offset + it * batch + j for j in range(batch)]
        items = [fetch_s(j) for j in idx]
        tgt = [fetch_t(j).to(dev) for j in idx] if fetch_t else None
        losses = step_losses(model, acfg, [s.image.to(dev) for s in items], [s.boxes for s in items],
                             [s.labels for s in items], tgt, g)
        opt.zero_grad()
        losses["total"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
        if (it + 1) % ckpt_every == 0:
            _save_checkpoint(ckpt, model, opt, it + 1, {"method": acfg.method})
        return {k: float(v.detach()) for k, v in losses.items()}

    remaining = None if steps is None else max(steps - start, 1)
    log = train_loop(step, Budget(remaining, minutes), log_every=10,
                     on_log=None if quiet else (lambda e: print(
                         " ".join(f"{k}={v:.4g}" for k, v in e.items()), file=sys.stderr)))
    _save_checkpoint(ckpt, model, opt, start + log.steps, {"method": acfg.method})
    metrics = []
    if eval_images and target == "synthetic-fog":
        from .evaluate import evaluate_synthetic

        for split in ("target-test", "source-test"):
            res = evaluate_synthetic(model.detector, split, eval_images)
            metrics += [{"data": f"synthetic {split} ({eval_images} images)", "metric": "AP50 (VOC all-point)",
                         "value": round(res["map"], 4)},
                        {"data": f"synthetic {split} ({eval_images} images)", "metric": "AP50 (VOC07 11-point)",
                         "value": round(res["map07"], 4)}]
    card = ModelCard.for_run(name, "detect-adapt", "mcar-faster-rcnn", {"detector": cfg.to_dict(),
                             "adapt": acfg.to_dict()}, data=f"source {source}, target {target} (unlabelled)",
                             seed=seed, log=log, resumed_from_step=start, total_steps=start + log.steps,
                             batch=batch, lr=lr, init=init or "ImageNet EfficientNet-Lite0")
    card.metrics = metrics
    save_model(out, model, card)
    return model, log, {"metrics": metrics}


def run_recipe(out: str | Path, *, source: str = "synthetic", target: str = "synthetic-fog", method: str = "mcar",
               init: str | None = None, steps: int | None = 150, minutes: float | None = None, source_steps: int = 0,
               batch: int = 4, lr: float = 0.01, lam: float = 0.5, mu: float = 0.01, eps: float = 0.1,
               gamma: float = 5.0, cond: str = "p", backbone: str = "efflite0", min_size: int | None = None,
               class_names: str | None = None, eval_images: int = 200, device: str = "cpu", seed: int = 0,
               quiet: bool = False) -> tuple[TrainLog, dict]:
    """`cvkit train detect-adapt`: check the options, pick the detector config (the shipped small one for the
    synthetic benchmark), optionally train source-only first (OUT/source-only, seed SEED) and adapt from it
    (seed SEED + 1), then train `method` into `out`. Returns the last run's log and card metrics."""
    from ..errors import ArgumentError

    out = Path(out)
    try:
        acfg = AdaptConfig(method=method, lam=lam, mu=mu, eps=eps, gamma=gamma, cond=cond,
                           head_channels=64 if source == "synthetic" else 512)
    except ValueError as e:
        raise ArgumentError(str(e)) from None
    if source == "synthetic" and backbone == "efflite0" and class_names is None and min_size is None:
        cfg = small_config()
    else:
        if class_names is None:
            raise ArgumentError("--classes is required with a real source (the class names to detect)")
        names = tuple(c.strip() for c in class_names.split(",") if c.strip())
        if backbone not in ("efflite0", "vgg16", "resnet101", "tiny"):
            raise ArgumentError(f"--backbone {backbone!r}: use efflite0, vgg16, resnet101 or tiny")
        cfg = DetectorConfig(class_names=names, backbone=backbone, min_size=min_size or 600)
    if source_steps:
        if init is not None:
            raise ArgumentError("--source-steps and --init exclude each other")
        pre = AdaptConfig(method="source-only", head_channels=acfg.head_channels)
        if not (out / "source-only" / "card.json").exists():  # finished before an interruption: keep it
            train(out / "source-only", source=source, target=target, acfg=pre, cfg=cfg, steps=source_steps,
                  batch=batch, lr=lr, seed=seed, eval_images=0, device=device, quiet=quiet, name="source-only")
        init, seed = str(out / "source-only"), seed + 1
    _, log, info = train(out, source=source, target=target, acfg=acfg, cfg=cfg, steps=steps, minutes=minutes,
                         batch=batch, lr=lr, seed=seed, init=init, eval_images=eval_images, device=device,
                         quiet=quiet, name=f"{method}-{target}")
    return log, info
