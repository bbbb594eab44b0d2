"""`cvkit train track` and what every tracker family's recipe shares: the recipe table, the run's result, the
guarded optimiser step, cards and saving, and the held-out evaluations (synthetic clips, a VOT-style folder).

The recipes live with their families: `siamfc/train.py` (sesiamfc-lite, siamfc-lite-plain, sesiamfc),
`automatch/automatch_train.py`, `dmtrack/dmtrack_train.py`; the last two add themselves to TRAINERS when
imported (`load_trainer_plugins`), so tracking never imports training code.
"""

from __future__ import annotations

import importlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..training import Budget, train_loop
from .base import Tracker
from .synthetic import HELDOUT_SEED_BASE

# `cvkit train track` given neither --steps nor --minutes: a SiamFC run's wall-clock budget, DMTrack's time cap
DEFAULT_MINUTES = 25.0
# held-out evaluation clips start here (training clips are drawn below HELDOUT_SEED_BASE)
EVAL_SEED_BASE = HELDOUT_SEED_BASE + 1_000_000


@dataclass
class TrainResult:
    """What a training run did and where it wrote the asset."""

    kind: str
    steps: int
    pairs: int
    seconds: float
    losses: list[float] = field(default_factory=list)  # mean loss per logging interval
    folder: Path | None = None
    card: dict = field(default_factory=dict)
    net: Any = None
    skipped: int = 0  # steps `guarded_step` skipped (non-finite or huge loss)


# Tracker families plug their recipes in here: name -> fn(model, data, minutes, seed, out_dir, device, log)
TRAINERS: dict[str, Callable[..., TrainResult]] = {}
# modules that add to TRAINERS when imported (only `cvkit train` imports them, not tracking)
TRAINER_PLUGINS: tuple[str, ...] = ("automatch.automatch_train", "dmtrack.dmtrack_train")


def load_trainer_plugins() -> dict[str, Callable[..., TrainResult]]:
    """Import the recipe modules of the plug-in tracker families (they add themselves to TRAINERS)."""
    for module in TRAINER_PLUGINS:
        importlib.import_module(f"{__package__}.{module}")
    return TRAINERS


def train_cli(
    model: str, data: str, minutes: float | None, out_dir: str | Path, device: str | torch.device | None = None,
    seed: int = 0, log: Callable[[str], None] | None = None, steps: int | None = None,
    scale_label: float = 0.0, scale_wide: float = 0.0, layout: str = "deep",
) -> TrainResult:
    """Entry point of `cvkit train track`: train `model`, write its asset, report progress lines to `log`.

    `steps` (reproducible) and `minutes` of wall-clock: the first limit reached stops the run; with neither, the
    family's default (SiamFC: DEFAULT_MINUTES; AutoMatch and DMTrack: their step budgets, DMTrack's capped at
    DEFAULT_MINUTES). Threads are left as the caller set them (`--threads`). `scale_label`, `scale_wide` and
    `layout` are options of the SiamFC lite recipe (`siamfc.train.train_lite_cli`), rejected for other models."""
    from .siamfc.train import lite_option_problem, train_lite_cli

    problem = lite_option_problem(model, scale_label, scale_wide, layout)
    if problem:
        raise ValueError(f"{problem[0]}: {problem[1]}")
    load_trainer_plugins()
    if model in TRAINERS:
        extra = {"steps": steps} if steps else {}
        return TRAINERS[model](model, data, minutes, seed, out_dir, device, log, **extra)
    return train_lite_cli(model, data, minutes, out_dir, device, seed, log, steps, scale_label, scale_wide, layout)


@dataclass
class StepOutcome:
    """What one optimiser step of a recipe did: its loss value (None: skipped by `guarded_step`), the loss parts to
    average for the log, the pairs it consumed and the learning rate it used."""

    loss: float | None
    pairs: int
    lr: float
    parts: dict[str, float] = field(default_factory=dict)


def run_steps(step: Callable[[int], StepOutcome], budget: Budget, *, log_every: int = 20,
              callback: Callable[[dict], None] | None = None, callback_at_end: bool = False) -> TrainResult:
    """Every family's loop: `cvkit.training.train_loop` calls `step(i)` until `budget` is spent; the loss (and its
    parts) are averaged over the steps since the last log, each average goes to `losses`, and `callback` gets
    {step, pairs, seconds, lr, skipped, loss, parts...} at every multiple of `log_every` (and at the last step with
    `callback_at_end`). Returns a TrainResult without kind, card or net (the recipe fills them in)."""
    t0 = time.monotonic()
    acc: dict[str, float] = {}
    run = {"n": 0, "pairs": 0, "skipped": 0, "lr": 0.0}
    losses: list[float] = []

    def one(i: int) -> dict[str, float]:
        out = step(i)
        run["pairs"] += out.pairs
        run["lr"] = out.lr
        if out.loss is None:
            run["skipped"] += 1
        else:
            for k, v in {"loss": out.loss, **out.parts}.items():
                acc[k] = acc.get(k, 0.0) + float(v)
            run["n"] += 1
        return {}

    def on_log(entry: dict) -> None:
        if not run["n"]:
            return
        means = {k: v / run["n"] for k, v in acc.items()}
        losses.append(means["loss"])
        if callback is not None and (entry["step"] % log_every == 0 or callback_at_end):
            callback({"step": entry["step"], "pairs": run["pairs"], "seconds": time.monotonic() - t0, "lr": run["lr"],
                      "skipped": run["skipped"], **means})
        acc.clear()
        run["n"] = 0

    log = train_loop(one, budget, log_every=log_every, on_log=on_log)
    return TrainResult("", log.steps, int(run["pairs"]), time.monotonic() - t0, losses, skipped=int(run["skipped"]))


def guarded_step(opt: torch.optim.Optimizer, loss: torch.Tensor, params: list[torch.nn.Parameter],
                 max_loss: float = 1e4, max_norm: float = 10.0) -> float | None:
    """One optimiser step with the SE-SiamFC release's guards: a non-finite or > `max_loss` loss is skipped
    (returns None), otherwise backward, gradient-norm clip at `max_norm`, step; returns the loss value."""
    lv = float(loss.detach())
    opt.zero_grad(set_to_none=True)
    if not math.isfinite(lv) or lv > max_loss:
        return None
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, max_norm)
    opt.step()
    return lv


def net_config(net: torch.nn.Module) -> dict:
    """JSON-serialisable constructor arguments of a net (empty when it has none)."""
    cfg = getattr(net, "config", None)
    return dict(cfg()) if callable(cfg) else {}


def trainable_state(net: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The net's state dict without the frozen packaged trunk (lite nets already drop it)."""
    return {k: v for k, v in net.state_dict().items() if not k.startswith("trunk.")}


def make_card(
    kind: str, net: torch.nn.Module, data: str, minutes: float, seed: int, seconds: float, metrics: list[dict],
    command: str | None = None, details: dict | None = None,
) -> dict:
    """A model card (DESIGN.md section 5) for a trained net; sha256 is filled in by save_asset."""
    n_params = sum(p.numel() for n, p in net.named_parameters() if not n.startswith("trunk."))
    return {
        "name": kind,
        "task": "track",
        "architecture": kind,
        "config": net_config(net),
        "params": int(n_params),
        "training": {
            "command": command or f"cvkit train track --model {kind} --data {data} --minutes {minutes:g} --seed {seed}",
            "data": data,
            "seconds": round(float(seconds), 1),
            "seed": int(seed),
            **(details or {}),
        },
        "metrics": metrics,
        "licence": "MIT",
    }


def save_net(net: torch.nn.Module, out_dir: str | Path, card: dict) -> Path:
    """Write the net's trainable tensors and its card into `out_dir` (an asset folder)."""
    from ..assets import save_asset

    save_asset(out_dir, trainable_state(net), card)
    return Path(out_dir)


# --------------------------------------------------------------------------------------------------------
# held-out evaluation (one implementation for every family; the families only build their tracker)


def ope_auc(pred: np.ndarray, gt: np.ndarray) -> float:
    """Success AUC (21 thresholds, IoU strictly above) over frames 2..N (the init frame excluded)."""
    from .metrics import ope_sequence

    return float(ope_sequence(np.asarray(pred), np.asarray(gt), include_first=False)["auc"])


def track_sequence(tracker: Tracker, frames: Any, init_box: tuple[float, float, float, float]) -> np.ndarray:
    """Run a tracker over frames (init on the first); returns (N, 4) boxes with the init box first."""
    out = []
    for i, frame in enumerate(frames):
        if i == 0:
            tracker.initialize(frame, init_box)
            out.append(np.asarray(init_box, dtype=np.float64))
        else:
            out.append(np.asarray(tracker.track(frame)[0], dtype=np.float64))
    return np.stack(out)


def _lost(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Frames 2..N whose predicted box does not overlap the ground truth (IoU 0)."""
    from ..nn.detection import box_iou

    known = np.isfinite(gt[1:]).all(-1)  # a frame without ground truth is not counted as lost
    return (box_iou(pred[1:], gt[1:], fmt="xywh", pairwise=False) <= 0) & known


def evaluate_clips(tracker: Tracker, kind: str = "digits-s", n_clips: int = 50, seed: int = 0,
                   n_frames: int | None = None) -> dict:
    """Success AUC per clip (and their mean) and frames lost (IoU 0) of `tracker` on held-out synthetic clips.

    Clip seeds are `EVAL_SEED_BASE + 1000*seed + i` (training draws below HELDOUT_SEED_BASE); each clip starts
    from its exact frame-1 box and is scored over frames 2..N (OTB success AUC: 21 thresholds, IoU > t)."""
    from .synthetic import synthetic_clip

    aucs, lost, frames = [], 0, 0
    for i in range(n_clips):
        clip = synthetic_clip(kind, EVAL_SEED_BASE + 1000 * seed + i, n_frames)
        gt = clip.boxes
        pred = track_sequence(tracker, (clip.render(t) for t in range(clip.n_frames)), tuple(gt[0]))
        aucs.append(ope_auc(pred, gt))
        is_lost = _lost(pred, gt)
        lost += int(is_lost.sum())
        frames += len(is_lost)
    return {"auc": float(np.mean(aucs)), "frames_lost": lost, "frames": frames, "clips": n_clips,
            "auc_per_clip": aucs}


def evaluate_vot_folder(tracker: Tracker, folder: str | Path) -> dict:
    """Success AUC / mean IoU / P@20 / frames lost of `tracker` on a VOT-style folder (images + polygon
    groundtruth.txt): it starts from the min/max box of the first polygon and is scored against the min/max boxes
    of every polygon over frames 2..N (evaluation only)."""
    from ..io.boxes import read_box_file
    from ..io.images import list_images, read_image
    from .metrics import ope_sequence

    folder = Path(folder)
    img_dir = next((d for d in (folder / "color", folder / "imgs", folder) if d.is_dir() and list_images(d)), folder)
    files = list_images(img_dir)
    gt = read_box_file(folder / "groundtruth.txt", polygon="minmax")
    n = min(len(files), len(gt))
    t0 = time.monotonic()
    pred = track_sequence(tracker, (read_image(f) for f in files[:n]), tuple(gt[0]))
    seconds = time.monotonic() - t0
    r = ope_sequence(pred, gt[:n], include_first=False)
    return {"auc": float(r["auc"]), "mean_iou": float(r["mean_iou"]), "p20": float(r["p20"]), "frames": n,
            "lost": int(_lost(pred, gt[:n]).sum()), "fps": (n - 1) / seconds if seconds > 0 else float("nan")}
