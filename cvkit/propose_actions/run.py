"""Run one item and batches: inputs (video or feature files, or a folder of them) -> proposals; model resolution.

Models: `bcgnn-small-synth` (the shipped asset; default), `bcgnn` (paper size: needs weights, exit 5 without),
a trained asset folder or weights file (BC-GNN or prior, with card.json beside it), `sliding-window`
(content-free multi-scale windows; needs only the duration).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..assets import Asset, find_asset, load_into
from ..errors import ArgumentError, InputError, ModelError
from ..io.batch import Inputs, Item, mirrored
from ..io.video import VIDEO_SUFFIXES
from ..registry import find_weights
from .data import strip_v
from .model import BCGNN, BCGNNConfig
from .predict import PostConfig, Proposals, propose_bcgnn, propose_prior, sliding_windows
from .prior import PriorModel
from .readers import read_features

TASK = "propose-actions"
DEFAULT_MODEL = "bcgnn-small-synth"


@dataclass
class Proposer:
    """A ready model: kind ('bcgnn', 'prior', 'sliding-window'), the network or table, and its card."""

    name: str
    kind: str
    net: BCGNN | None = None
    prior: PriorModel | None = None
    input: str = "profile"
    card: dict | None = None
    device: torch.device = torch.device("cpu")

    @property
    def expect_dim(self) -> int | None:
        """Feature width a raw-input network needs (None: any width)."""
        return self.net.cfg.in_dim if self.net is not None and self.input == "raw" else None


def _from_asset(asset: Asset, device: torch.device) -> Proposer:
    asset.verify()
    card = asset.card
    state = asset.state_dict()
    if card.get("architecture") == "prior" or set(state) == {"table"}:
        return Proposer(asset.name, "prior", prior=PriorModel.from_state_dict(state), card=card)
    if "config" not in card:
        raise ModelError(f"{asset.weights}: BC-GNN weights need card.json with its config beside them")
    net = BCGNN(BCGNNConfig(**card["config"]))
    load_into(net, state, asset.weights)
    return Proposer(asset.name, "bcgnn", net=net.to(device).eval(), input=card.get("input", "raw"), card=card,
                    device=device)


def load_proposer(model: str, device: torch.device | None = None) -> Proposer:
    """Resolve --model: a shipped asset name, `bcgnn` (paper size), `sliding-window`, or a path."""
    device = device or torch.device("cpu")
    if model in ("default", DEFAULT_MODEL):
        asset = find_asset(TASK, DEFAULT_MODEL)
        if asset is None:
            raise ModelError(f"shipped asset {DEFAULT_MODEL} not found (assets/{TASK}/{DEFAULT_MODEL}); train it "
                             "with `cvkit train propose-actions --data synthetic` or pass --model PATH")
        return _from_asset(asset, device)
    if model == "sliding-window":
        return Proposer("sliding-window", "sliding-window")
    if model in ("bcgnn", "prior"):
        how = ("cvkit train propose-actions --model prior --data anet:DIR -o runs/prior" if model == "prior" else
               "cvkit train propose-actions --data anet:DIR --features csv_mean_100 --size paper -o runs/bcgnn")
        raise ModelError(f"--model {model}: no weights ship for it (trained on annotations/features we may not "
                         f"redistribute); train with `{how}` and pass --model runs/...")
    return _from_asset(find_weights(TASK, model, f"--model {model!r}: not a shipped asset ({DEFAULT_MODEL}), bcgnn, "
                                    "prior, sliding-window, or an existing weights path"), device)


def read_durations(path: Path) -> dict[str, float]:
    """video -> seconds from a CSV with `video` and `seconds` (BSN video_info_new.csv) or `duration` columns."""
    out = {}
    try:
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                sec = row.get("seconds") or row.get("duration") or row.get("duration_second")
                ff, nf = row.get("featureFrame"), row.get("numFrame")
                val = float(sec)
                if ff and nf and float(nf) > 0:  # BSN's corrected duration
                    val = float(ff) / float(nf) * val
                out[strip_v(row["video"])] = val
    except (OSError, KeyError, ValueError, TypeError) as e:
        raise InputError(path, f"cannot read durations (video,seconds|duration): {e}") from None
    return out


@dataclass
class ItemOptions:
    """Per-run options of `propose_one`."""

    duration: float | None = None
    durations: dict[str, float] | None = None
    fps: float = 30.0
    stride_frames: int = 16
    mode: str = "anet"
    window_stride: int = 64
    post: PostConfig | None = None


def propose_one(proposer: Proposer, path: Path, opts: ItemOptions) -> tuple[Proposals, dict]:
    """Proposals of one video or feature file, and a summary (seconds, snippets, source of the duration)."""
    t0 = time.time()
    path = Path(path)
    video = strip_v(path.stem)
    if path.suffix.lower() in VIDEO_SUFFIXES:
        from .video import extract_video_features

        vf = extract_video_features(path, opts.stride_frames, proposer.device)
        feats, duration, dsrc = vf.features, vf.duration, "video"
    else:
        feats = read_features(path, proposer.expect_dim)
        if feats.shape[1] < 2 and proposer.input == "profile":
            raise InputError(path, f"features have {feats.shape[1]} column(s); the profile model needs >= 2")
        if opts.duration is not None:
            duration, dsrc = opts.duration, "--duration"
        elif opts.durations and video in opts.durations:
            duration, dsrc = opts.durations[video], "--durations"
        elif opts.durations is not None:
            raise InputError(path, f"video {video!r} is not in the --durations file")
        else:
            duration, dsrc = len(feats) * opts.stride_frames / opts.fps, "snippets x stride / fps"
    if not duration or duration <= 0 or not np.isfinite(duration):
        raise ArgumentError(f"{path}: duration must be positive seconds, got {duration}")
    post = opts.post or PostConfig()
    if proposer.kind == "bcgnn":
        if opts.mode == "thumos" and len(feats) < 2:
            raise InputError(path, "THUMOS mode needs at least 2 snippets")
        props = propose_bcgnn(proposer.net, feats, duration, proposer.input, video, post, opts.mode,
                              opts.window_stride, proposer.device)
    elif proposer.kind == "prior":
        props = propose_prior(proposer.prior, duration, video, post.top_k)
    else:
        props = sliding_windows(duration, video, post.top_k)
    summary = {"input": str(path), "video": video, "model": proposer.name, "duration": round(float(duration), 3),
               "duration_from": dsrc, "snippets": int(len(feats)), "proposals": int(len(props.scores)),
               "seconds": round(time.time() - t0, 3)}
    return props, summary


def is_durations_csv(path: Path) -> bool:
    """True for a CSV whose header names a `video` column (a duration list, not features)."""
    path = Path(path)
    if not path.is_file() or path.suffix.lower() != ".csv":
        return False
    with open(path, newline="") as f:
        head = f.readline().strip().split(",")
    return "video" in head


def propose_from_durations(proposer: Proposer, path: Path, subset: str = "", top_k: int = 100) -> list[Proposals]:
    """Content-free models (prior, sliding windows) over every video of a duration CSV (optionally one subset)."""
    if proposer.kind == "bcgnn":
        raise ArgumentError(f"{path}: a duration list has no features; use --model PRIOR_DIR or sliding-window")
    durs = read_durations(path)
    if subset:
        with open(path, newline="") as f:
            keep = {strip_v(r["video"]) for r in csv.DictReader(f) if r.get("subset", "") == subset}
        durs = {v: d for v, d in durs.items() if v in keep}
    if not durs:
        raise InputError(path, f"no videos{' in subset ' + subset if subset else ''}")
    out = []
    for v, d in durs.items():
        if d > 0:
            out.append(propose_prior(proposer.prior, d, v, top_k) if proposer.kind == "prior"
                       else sliding_windows(d, v, top_k))
    return out


def item_options(duration: float | None = None, durations: Path | None = None, fps: float = 30.0,
                 stride_frames: int = 16, mode: str = "anet", nms: str = "soft", top_k: int = 100) -> ItemOptions:
    """The per-item options of `cvkit propose-actions`, checked (ArgumentError for an unknown mode or NMS)."""
    if mode not in ("anet", "thumos"):
        raise ArgumentError(f"--mode {mode!r}: use anet or thumos")
    if nms not in ("soft", "hard", "none"):
        raise ArgumentError(f"--nms {nms!r}: use soft, hard or none")
    return ItemOptions(duration, read_durations(durations) if durations else None, fps, stride_frames, mode,
                       post=PostConfig(nms=nms, top_k=top_k))


def check_result_path(output: Path, batch: bool) -> None:
    """-o is a result .json for one input and a folder for a batch (ArgumentError otherwise)."""
    if batch and output.suffix.lower() == ".json":
        raise ArgumentError(f"{output}: a folder of inputs needs -o DIR (one result per video + proposals.json)")
    if not batch and output.suffix.lower() != ".json":
        raise ArgumentError(f"{output}: the result file must end in .json (the CSV and PNG go beside it)")


@dataclass
class ProposeJob:
    """One `cvkit propose-actions` run over its inputs: each item's outputs (result JSON, CSV ranking, timeline
    PNG; mirrored under -o DIR for a batch), the work for one item, its progress line, and the merged
    DIR/proposals.json of a batch. A single CSV with a `video` column is a duration list (`listing`)."""

    proposer: Proposer
    inputs: Inputs
    output: Path
    opts: ItemOptions
    subset: str = ""
    timeline: bool = True

    @property
    def listing(self) -> bool:
        """True when the one input is a duration list for the content-free models."""
        return not self.inputs.batch and is_durations_csv(self.inputs.items[0].path)

    def targets(self, item: Item) -> list[Path]:
        """The files written for `item`: result JSON, CSV and (with the timeline, not for a list) PNG."""
        base = mirrored(item, self.output, ".json") if self.inputs.batch else self.output
        png = [base.with_suffix(".png")] if self.timeline and not self.listing else []
        return [base, base.with_suffix(".csv"), *png]

    def work(self, item: Item) -> dict:
        """Propose for one input and write its outputs; the JSON Lines record."""
        if self.listing:
            return propose_list_and_write(self.proposer, item.path, self.subset, self.opts.post.top_k,
                                          self.targets(item))
        return propose_and_write(self.proposer, item.path, self.opts, self.targets(item))

    def describe(self, item: Item, rec: dict) -> str:
        """The progress line of a finished item."""
        if self.listing:
            return f"{rec['videos']} videos -> {rec['output']} and {Path(rec['output']).with_suffix('.csv')}"
        top = ", ".join(f"{s:.1f}-{e:.1f}s ({c:.2f})" for s, e, c in rec["proposals"][:3])
        return f"{item.path}: {rec['snippets']} snippets, {rec['duration']} s -> {rec['output']}; top: {top}"

    def merge(self) -> int:
        """Batch: one ActivityNet file DIR/proposals.json of the finished (and skipped) videos; their count."""
        from .results import merge_anet_json

        done = [self.targets(i)[0] for i in self.inputs.items if self.targets(i)[0].is_file()] \
            if self.inputs.batch else []
        if done:
            merge_anet_json(done, self.output / "proposals.json")
        return len(done)


def plan_job(input: str, output: Path, opts: ItemOptions, model: str, device: Callable[[], torch.device],
             subset: str = "", timeline: bool = True) -> ProposeJob:
    """`cvkit propose-actions`: find the videos / feature files, check -o against them and load the model
    (`device()` resolved once the inputs are found)."""
    from ..io.batch import discover
    from .readers import FEATURE_SUFFIXES

    inputs = discover(input, (*VIDEO_SUFFIXES, *FEATURE_SUFFIXES), what="video or feature")
    check_result_path(output, inputs.batch)
    return ProposeJob(load_proposer(model, device()), inputs, output, opts, subset, timeline)


def propose_and_write(proposer: Proposer, path: Path, opts: ItemOptions, out: list[Path]) -> dict:
    """Propose for one input and write `out`: the ActivityNet result JSON, the CSV ranking and, when a third path
    is given, the timeline PNG; returns the JSON Lines record (top 10 proposals)."""
    from . import results as R

    props, summary = propose_one(proposer, path, opts)
    R.write_anet_json([props], out[0], proposer.name)
    R.write_csv([props], out[1])
    if len(out) > 2:
        R.write_timeline(props, out[2])
    return {**summary, **R.jsonl_record(props, 10), "output": str(out[0])}


def propose_list_and_write(proposer: Proposer, path: Path, subset: str, top_k: int, out: list[Path]) -> dict:
    """A duration list (CSV with a `video` column) through a content-free model: result JSON `out[0]` and CSV
    `out[1]` for all its videos; returns a record naming the count."""
    from . import results as R

    items = propose_from_durations(proposer, path, subset, top_k)
    R.write_anet_json(items, out[0], proposer.name)
    R.write_csv(items, out[1])
    return {"videos": len(items), "model": proposer.name, "output": str(out[0])}
