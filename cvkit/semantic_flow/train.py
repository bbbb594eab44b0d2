"""Training recipe of the learned GSF model (paper Sec. 4.3): stage 1 trains only the pruning net W_P with L_P
(backbone W_F and matching net W_M frozen); stage 2 trains end to end with L_final. Pairs come from synthetic
affine + TPS warps of an image folder (default: the scikit-image / scikit-learn bundled images; the paper used
PASCAL VOC 2012) or from the PF-PASCAL training pairs (`--data pf-pascal --root DIR`, HPF layout).

Optimiser, learning rate, batch and epochs are not given by the paper: Adam 1e-4 (backbone x 0.1), batch 16 at
paper size. The EfficientNet-Lite0 backbone stays frozen unless `train_backbone` (its weights are the package's).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from ..assets import save_asset
from ..errors import ArgumentError
from .features import prepare
from .losses import loss_final, loss_pruning
from .model import GSFConfig, GSFNet, count_params
from .synthetic import package_images, split_images, synthetic_pair


@dataclass
class TrainOptions:
    """One training run."""

    config: GSFConfig = field(default_factory=GSFConfig)
    stage1_steps: int = 200
    stage2_steps: int = 200
    batch: int = 4
    lr: float = 1e-4
    seed: int = 0
    images: list[Path] | None = None       # synthetic pairs from these images (default: package images, train split)
    pairs: list[tuple[Path, Path]] | None = None  # real pairs (PF-PASCAL training split)
    train_backbone: bool = False
    pretrained_backbone: bool = True
    backbone_weights: Path | None = None
    log_every: int = 20
    m_temperature: float = 1.0             # L_M softmax temperature (1 = paper)
    device: str = "cpu"


def _to_tensor(bgr: np.ndarray, size: int) -> torch.Tensor:
    return prepare(cv2.resize(bgr, (size, size), interpolation=cv2.INTER_AREA), size).tensor[0]


def sample_batch(opts: TrainOptions, rng: np.random.Generator, cache: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of (source, target) ImageNet-normalised tensors at the model's image size."""
    size = opts.config.image_size
    srcs, tgts = [], []
    for _ in range(opts.batch):
        if opts.pairs:
            a, b = opts.pairs[rng.integers(len(opts.pairs))]
            srcs.append(_to_tensor(_read(a, cache), size))
            tgts.append(_to_tensor(_read(b, cache), size))
        else:
            path = opts.images[rng.integers(len(opts.images))]
            s, t, _ = synthetic_pair(_read(path, cache), rng, size)
            srcs.append(_to_tensor(s, size))
            tgts.append(_to_tensor(t, size))
    return torch.stack(srcs), torch.stack(tgts)


def _read(path: Path, cache: dict) -> np.ndarray:
    if path not in cache:
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is None:
            raise ArgumentError(f"{path}: not a readable image")
        cache[path] = img
    return cache[path]


def train(opts: TrainOptions, log=print) -> tuple[GSFNet, dict]:
    """Run stage 1 then stage 2; returns the model and a summary (losses, seconds, parameter counts)."""
    torch.manual_seed(opts.seed)
    rng = np.random.default_rng(opts.seed)
    if opts.images is None and not opts.pairs:
        opts.images = split_images(package_images())[0]
    model = GSFNet(opts.config, pretrained_backbone=opts.pretrained_backbone and opts.config.backbone == "lite0")
    if opts.backbone_weights is not None:
        state = torch.load(opts.backbone_weights, map_location="cpu", weights_only=True)
        model.backbone.net.load_state_dict(state, strict=False)
    dev = torch.device(opts.device)
    model.to(dev)
    cache: dict = {}
    t0 = time.time()
    history = []
    for stage, steps in ((1, opts.stage1_steps), (2, opts.stage2_steps)):
        if steps <= 0:
            continue
        train_bb = stage == 2 and opts.train_backbone
        for p in model.backbone.parameters():
            p.requires_grad_(train_bb)
        for p in model.matching.parameters():
            p.requires_grad_(stage == 2)
        groups = [{"params": list(model.pruning.parameters()), "lr": opts.lr}]
        if stage == 2:
            groups.append({"params": list(model.matching.parameters()), "lr": opts.lr})
        if train_bb:
            groups.append({"params": list(model.backbone.parameters()), "lr": opts.lr * 0.1})
        optim = torch.optim.Adam(groups)
        model.train()
        if not train_bb:
            model.backbone.eval()
        for step in range(steps):
            src, tgt = (x.to(dev) for x in sample_batch(opts, rng, cache))
            with torch.set_grad_enabled(train_bb):
                feats = (model.backbone(src), model.backbone(tgt))
            out = model(src, tgt, features=feats)
            if stage == 1:
                loss, parts = loss_pruning(out, rho=opts.config.rho)
            else:
                loss, parts = loss_final(out, rho=opts.config.rho, temperature=opts.m_temperature)
            optim.zero_grad()
            loss.backward()
            optim.step()
            history.append({"stage": stage, "step": step, "loss": loss.item(), **parts})
            if log and (step % opts.log_every == 0 or step == steps - 1):
                log(f"stage {stage} step {step + 1}/{steps} loss {loss.item():.4f} "
                    + " ".join(f"{k} {v:.4f}" for k, v in parts.items()))
    model.eval()
    summary = {"seconds": round(time.time() - t0, 1), "history": history[-5:],
               "params": {"pruning": count_params(model.pruning), "matching": count_params(model.matching),
                          "backbone": count_params(model.backbone)}}
    return model, summary


def head_state(model: GSFNet) -> dict[str, torch.Tensor]:
    """The learned heads' tensors (pruning + matching; a frozen packaged backbone is not re-shipped)."""
    state = {f"pruning.{k}": v for k, v in model.pruning.state_dict().items()}
    state.update({f"matching.{k}": v for k, v in model.matching.state_dict().items()})
    if model.config.backbone != "lite0":
        state.update({f"backbone.{k}": v for k, v in model.backbone.state_dict().items()})
    return {k: v.detach().cpu().contiguous() for k, v in state.items()}


def save_model(model: GSFNet, folder: Path, card: dict) -> Path:
    """Write weights.safetensors + card.json (config inside the card)."""
    card = {**card, "config": model.config.to_dict()}
    return save_asset(folder, head_state(model), card)


def run_recipe(out: Path, opts: TrainOptions, data: str = "synthetic", root: Path | None = None,
               command: str = "cvkit train semantic-flow", log=print) -> tuple[Path, dict]:
    """`cvkit train semantic-flow`: the training pairs of `data` (synthetic warps of the package images or of the
    images under `root`; pf-pascal: the training split under `root`), `train`, then weights + card into `out`."""
    from ..io.images import list_images
    from .data import read_pf_pascal

    if opts.config.backbone not in ("lite0", "resnet101"):
        raise ArgumentError(f"--backbone {opts.config.backbone!r}: use lite0 or resnet101")
    if opts.config.image_size % 16:
        raise ArgumentError(f"--image-size {opts.config.image_size}: must be a multiple of 16")
    if data == "pf-pascal":
        if root is None:
            raise ArgumentError("--data pf-pascal needs --root")
        opts.pairs = [(r.source, r.target) for r in read_pf_pascal(root, "trn")]
    elif data == "synthetic":
        if root is not None:
            opts.images = list_images(root)
    else:
        raise ArgumentError(f"--data {data!r}: use synthetic or pf-pascal")
    model, summary = train(opts, log=log)
    card = {"name": out.name, "task": "semantic-flow", "architecture": f"GSFNet ({opts.config.backbone})",
            "training": {"command": command, "data": data if root is None else f"{data}:{root}",
                         "seconds": summary["seconds"], "seed": opts.seed}, "metrics": [], "licence": "MIT"}
    return save_model(model, out, card), summary
