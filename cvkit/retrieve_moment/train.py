"""Weakly supervised VLANet training (only video-sentence pairs) on Synth-STA or on the Charades-STA layout with
precomputed features, and the localisation read-out used by evaluation."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .metrics import recall_table
from .model import VLANet, VLANetConfig, make_proposals, pad_batch, pool_proposals, ranking_loss
from .rank import rank_windows


@dataclass
class Item:
    """One video for training/evaluation: pooled proposals, their spans (steps) and sentences with times."""

    props: torch.Tensor          # K x L x C
    valid: torch.Tensor          # K x L bool
    spans: np.ndarray            # K x L x 2 steps
    sentences: list[str]
    times: list[tuple[float, float]]
    duration: float


def make_item(feats: np.ndarray, cfg: VLANetConfig, sentences: list[str], times: list[tuple[float, float]],
              duration: float) -> Item | None:
    """Proposals of one video; None when it is shorter than the smallest window."""
    spans, valid = make_proposals(len(feats), cfg.windows, cfg.stride)
    if len(spans) == 0:
        return None
    props = pool_proposals(torch.from_numpy(np.ascontiguousarray(feats, np.float32)), spans)
    return Item(props, torch.from_numpy(valid), spans, sentences, times, duration)


def train_vlanet(items: list[Item], cfg: VLANetConfig, text_tokens: dict[str, torch.Tensor], epochs: int = 30,
                 batch: int = 32, lr: float = 1e-3, margin: float = 0.5, n_neg: int = 7, seed: int = 0,
                 budget_s: float | None = None, log=print, val=None, val_every: int = 5) -> tuple[VLANet, dict]:
    """Adam on the ranking loss; each epoch pairs every video with one of its sentences (drawn at random)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    model = VLANet(cfg)
    allp = torch.cat([it.props[it.valid] for it in items])
    model.feat_mean.copy_(allp.mean(0))
    model.feat_std.copy_(allp.std(0).clamp(min=1e-3))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    t0 = time.time()
    history = []
    for ep in range(epochs):
        model.train()
        order = rng.permutation(len(items))
        losses = []
        for i in range(0, len(order) - 1, batch):
            idx = order[i:i + batch]
            if len(idx) < 2:
                continue
            props, _ = pad_batch([items[j].props for j in idx])
            valid, _ = pad_batch([items[j].valid for j in idx])
            sents = [items[j].sentences[rng.integers(len(items[j].sentences))] for j in idx]
            toks, tmask = pad_batch([text_tokens[s] for s in sents])
            p = model.encode_video(props)
            loss = ranking_loss(model, p, valid, toks, tmask, margin, n_neg, gen)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        history.append(float(np.mean(losses)) if losses else 0.0)
        msg = f"epoch {ep + 1}/{epochs} loss {history[-1]:.4f} ({time.time() - t0:.0f} s)"
        if val is not None and (ep + 1) % val_every == 0:
            model.eval()
            msg += f" val R@1,IoU=0.5 {evaluate_items(model, val, text_tokens)[0]['R@1,IoU=0.5']:.1f}"
        log(msg)
        if budget_s is not None and time.time() - t0 > budget_s:
            log(f"time budget reached after {ep + 1} epochs")
            break
    return model.eval(), {"epochs": len(history), "loss": history, "seconds": time.time() - t0}


@torch.inference_mode()
def localise(model: VLANet, item: Item, tokens: torch.Tensor, top: int = 5, nms: float = 0.5,
             extra=None) -> list[tuple[float, float, float]]:
    """Ranked (start, end, score) in seconds for one sentence: the surrogate windows ranked by attention."""
    cfg = model.cfg
    dev = next(model.parameters()).device
    p = model.encode_video(item.props[None].to(dev))
    tm = torch.ones(1, tokens.shape[0], device=dev)
    q, w_last = model.encode_text(tokens[None].to(dev), tm)
    out = model.pair_forward(p, item.valid[None].to(dev), q, tm, w_last)
    sc = model.moment_scores(out)[0].cpu().numpy()
    choice = out["choice"][0].cpu().numpy()
    spans = item.spans[np.arange(len(choice)), choice] / cfg.feature_rate
    spans[:, 1] = np.minimum(spans[:, 1], item.duration)
    if extra is not None:   # e.g. the log prior of each surrogate window
        sc = sc + extra(spans)
    return rank_windows(spans, sc, top, nms)


def evaluate_items(model: VLANet, items: list[Item], text_tokens: dict[str, torch.Tensor], nms: float = 0.5
                   ) -> tuple[dict[str, float], list[list[tuple[float, float, float]]]]:
    """R@n/IoU table over the first sentence of every item."""
    preds = [localise(model, it, text_tokens[it.sentences[0]], 5, nms) for it in items]
    return recall_table([[(s, e) for s, e, _ in p] for p in preds], [it.times[0] for it in items]), preds


INFERENCE_MODES = ("product", "cross", "last", "align")
SMALL_CONFIG = dict(video_dim=110, text_dim=384, hidden=128, cascades=2, energy="sum", windows=(24, 32, 40),
                    stride=4, feature_rate=4.0, inference="product", extra={"features": "cheap"})


def synth_items(n: int, seed: int, cfg: VLANetConfig, shuffle_first: bool = True) -> list[Item]:
    """Synth-STA videos as Items; the first sentence of each (the evaluation query) is drawn at random."""
    from .synthetic import make_split

    rng = np.random.default_rng(seed + 7919)
    items = []
    for v in make_split(n, seed):
        evs = list(v.events)
        if shuffle_first:
            k = int(rng.integers(len(evs)))
            evs = [evs[k]] + evs[:k] + evs[k + 1:]
        it = make_item(v.features, cfg, [e.sentence for e in evs], [(e.start, e.end) for e in evs], v.duration)
        if it is not None:
            items.append(it)
    return items


def prior_table(prior, items: list[Item], nms: float = 0.5) -> dict[str, float]:
    """R@n/IoU of the blind prior on the items' first sentences."""
    preds = [prior.rank(it.duration, 5, nms) for it in items]
    return recall_table([[(s, e) for s, e, _ in p] for p in preds], [it.times[0] for it in items])


def random_table(items: list[Item], cfg: VLANetConfig, seed: int = 0) -> dict[str, float]:
    """R@n/IoU of 5 proposals drawn uniformly from the sliding windows (the paper's Random baseline)."""
    rng = np.random.default_rng(seed)
    preds = []
    for it in items:
        w = it.spans[it.valid.numpy()] / cfg.feature_rate
        preds.append([tuple(x) for x in w[rng.permutation(len(w))[:5]]])
    return recall_table(preds, [it.times[0] for it in items])


def synth_splits(n_train: int, n_test: int, seed: int, cfg: VLANetConfig, encoder=None):
    """Train / test / validation Synth-STA items (distinct seeds) and MiniLM tokens of all their sentences."""
    from .text import TextEncoder

    train = synth_items(n_train, 1000 + seed, cfg)
    test = synth_items(n_test, 2_000_000 + seed, cfg)
    val = synth_items(max(n_test // 2, 2), 3_000_000 + seed, cfg)
    enc = encoder or TextEncoder()
    sents = sorted({s for it in train + test + val for s in it.sentences})
    return train, test, val, dict(zip(sents, enc.tokens(sents), strict=True))


def train_synth(out_dir: str | None, n_train: int = 800, n_test: int = 300, epochs: int = 40,
                budget_s: float | None = None, seed: int = 0, encoder=None, n_neg: int = 4, batch: int = 16,
                lr: float = 2e-3, log=print) -> dict:
    """The shipped-asset recipe: weak training on Synth-STA, the read-out picked on the validation split, then
    test-split R@n/IoU beside the prior fitted on the training split's annotations (same run); asset + card."""
    t0 = time.time()
    cfg = VLANetConfig(**SMALL_CONFIG)
    train, test, val, toks = synth_splits(n_train, n_test, seed, cfg, encoder)
    log(f"{len(train)} train / {len(test)} test videos, {len(toks)} sentences ({time.time() - t0:.0f} s)")
    model, hist = train_vlanet(items=train, cfg=cfg, text_tokens=toks, epochs=epochs, batch=batch, lr=lr,
                               seed=seed, budget_s=budget_s, n_neg=n_neg, log=log, val=val)
    hist["seconds_total"] = time.time() - t0
    return finish_synth(model, hist, train, test, val, toks, out_dir, n_train, n_test, epochs, seed, log)


def finish_synth(model: VLANet, hist: dict, train: list[Item], test: list[Item], val: list[Item],
                 toks: dict[str, torch.Tensor], out_dir: str | None, n_train: int, n_test: int, epochs: int,
                 seed: int, log=print) -> dict:
    """Pick the inference read-out on the validation split, report test beside prior and random, save."""
    from .data import Query
    from .prior import fit_prior

    cfg = model.cfg
    val_scores = {}
    for mode in INFERENCE_MODES:
        cfg.inference = mode
        val_scores[mode] = evaluate_items(model, val, toks)[0]["R@1,IoU=0.5"]
    cfg.inference = max(INFERENCE_MODES, key=lambda m: (val_scores[m], -INFERENCE_MODES.index(m)))
    log(f"validation R@1,IoU=0.5 per read-out {val_scores} -> {cfg.inference}")
    table, _ = evaluate_items(model, test, toks)
    prior = fit_prior([Query("", "", s, e, it.duration) for it in train for s, e in it.times],
                      name="synth-sta", source="Synth-STA training split annotations (seed "
                      f"{1000 + seed}, {n_train} videos)")
    ptable = prior_table(prior, test)
    rtable = random_table(test, cfg, seed)
    result = {"model": table, "prior": ptable, "random": rtable, "train": hist, "validation": val_scores,
              "config": cfg.to_dict()}
    log(f"test R@1,IoU=0.5: model {table['R@1,IoU=0.5']:.1f} prior {ptable['R@1,IoU=0.5']:.1f} "
        f"random {rtable['R@1,IoU=0.5']:.1f}")
    if out_dir:
        from ..assets import save_asset

        prior.save(f"{out_dir}/prior-synth-sta.json")
        metrics = [{"data": f"Synth-STA test ({n_test} videos, seed {2_000_000 + seed})", "metric": f"{k} ({who})",
                    "value": round(v, 2)} for who, t in (("model", table), ("blind prior", ptable),
                                                          ("random", rtable)) for k, v in t.items()]
        card = {"name": "vlanet-small-synth", "task": "retrieve-moment", "architecture": "vlanet",
                "config": cfg.to_dict(),
                "training": {"command": f"cvkit train retrieve-moment --synthetic --epochs {hist['epochs']} "
                                        f"--videos {n_train} --seed {seed} --threads 1 -o {out_dir}",
                             "data": f"Synth-STA: {n_train} procedurally generated videos (seed {1000 + seed}), "
                                     "video-sentence pairs only (weak supervision); read-out picked on "
                                     f"{len(val)} validation videos (seed {3_000_000 + seed})",
                             "seconds": round(hist.get("seconds_total", hist["seconds"]), 1), "seed": seed,
                             "epochs": hist["epochs"]},
                "metrics": metrics, "licence": "Apache-2.0 (weights trained by cvkit on synthetic data)"}
        save_asset(out_dir, model.state_dict(), card)
    return result


def train_on_layout(ann: str, features: str, out_dir: str, cfg: VLANetConfig, epochs: int = 30, batch: int = 64,
                    lr: float = 1e-4, n_neg: int = 63, seed: int = 0, durations: str | None = None,
                    encoder=None, log=print) -> dict:
    """The paper-size recipe on a Charades-STA-style layout: annotations (times ignored: weak supervision) and
    precomputed features per video (.npy folder or .h5). Writes weights.safetensors + card.json to out_dir."""
    from ..errors import InputError
    from .data import FeatureStore, read_annotations, read_charades_durations
    from .text import TextEncoder

    dur = read_charades_durations(durations) if durations else None
    queries = read_annotations(ann, dur)
    store = FeatureStore(features)
    by_vid: dict[str, list[str]] = {}
    for q in queries:
        if q.vid in store:
            by_vid.setdefault(q.vid, []).append(q.sentence)
    items = []
    for vid, sents in by_vid.items():
        f = store[vid]
        if f.shape[1] != cfg.video_dim:
            raise InputError(features, f"features of {vid} are {f.shape[1]}-d, --video-dim is {cfg.video_dim}")
        it = make_item(f, cfg, sents, [(0.0, 0.0)] * len(sents), len(f) / cfg.feature_rate)
        if it is not None:
            items.append(it)
    if len(items) < 2:
        raise InputError(ann, f"only {len(items)} annotated videos with features found under {features}")
    enc = encoder or TextEncoder()
    sents = sorted({s for it in items for s in it.sentences})
    toks = dict(zip(sents, enc.tokens(sents), strict=True))
    log(f"{len(items)} videos, {len(sents)} sentences")
    model, hist = train_vlanet(items, cfg, toks, epochs, batch, lr, n_neg=n_neg, seed=seed, log=log)
    from ..assets import save_asset

    card = {"name": Path(out_dir).name, "task": "retrieve-moment", "architecture": "vlanet",
            "config": cfg.to_dict(),
            "training": {"command": f"cvkit train retrieve-moment --data {ann} --features {features} "
                                    f"--epochs {epochs} --seed {seed} -o {out_dir}",
                         "data": f"{ann} (weak: video-sentence pairs only)", "seconds": round(hist["seconds"], 1),
                         "seed": seed, "epochs": hist["epochs"]},
            "metrics": [], "licence": "weights trained by the user; dataset terms apply"}
    save_asset(out_dir, model.state_dict(), card)
    return hist


def synth_eval(model_name: str = "vlanet-small-synth", n_test: int = 300, seed: int = 0, device: str = "cpu") -> dict:
    """The acceptance table on the Synth-STA test split: model, the prior shipped beside it (fitted on the
    training split's annotations), random windows."""
    from ..errors import ModelError
    from .predict import load_vlanet
    from .prior import load_prior
    from .text import TextEncoder

    model = load_vlanet(model_name, device)
    from ..assets import find_asset

    asset = find_asset("retrieve-moment", model_name)
    folder = asset.weights.parent if asset else Path(model_name).parent
    if not (folder / "prior-synth-sta.json").is_file():
        raise ModelError(f"{folder}: no prior-synth-sta.json beside the weights (written by the --synthetic recipe)")
    prior = load_prior(str(folder / "prior-synth-sta.json"))
    test = synth_items(n_test, 2_000_000 + seed, model.cfg)
    enc = TextEncoder(device)
    sents = sorted({it.sentences[0] for it in test})
    toks = dict(zip(sents, enc.tokens(sents), strict=True))
    table, _ = evaluate_items(model, test, toks)
    return {"model": table, "prior": prior_table(prior, test), "random": random_table(test, model.cfg, seed)}


def run_recipe(out: str | Path, model: str = "vlanet", data: str | None = None, features: str | Path | None = None,
               durations: str | Path | None = None, videos: int = 800, test_videos: int = 300, epochs: int = 10,
               seed: int = 0, log=print, windows: str = "11,13,15", **config) -> dict:
    """`cvkit train retrieve-moment`: --model prior fits the blind prior on the annotations `data` (-> `out`, a
    .json, or OUT/prior.json); --data synthetic is the Synth-STA recipe of the shipped model; annotations with
    precomputed `features` train the paper-size VLANet (`windows` "a,b,c" and `config`: VLANetConfig fields).
    Returns a summary; `log` None is silent."""
    from ..errors import ArgumentError
    from .data import read_annotations, read_charades_durations
    from .prior import fit_prior

    out, log = Path(out), log or (lambda m: None)
    if model == "prior":
        if data is None or data == "synthetic":
            raise ArgumentError("--model prior needs --data ANNOTATIONS (.txt/.jsonl/.json)")
        target = out if out.suffix.lower() == ".json" else out / "prior.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        qs = read_annotations(data, read_charades_durations(durations) if durations else None)
        fit_prior(qs, name=target.stem, source=str(data)).save(target)
        return {"prior": str(target)}
    if model != "vlanet":
        raise ArgumentError(f"--model {model!r}: use vlanet or prior")
    if data == "synthetic":
        r = train_synth(str(out), n_train=videos, n_test=test_videos, epochs=epochs, seed=seed, log=log)
        return {k: r[k] for k in ("model", "prior", "random")}
    if data is None or features is None:
        raise ArgumentError("give --data synthetic, or --data ANNOTATIONS with --features, or --model prior")
    try:
        wins = tuple(int(w) for w in windows.split(","))
    except ValueError:
        raise ArgumentError(f"--windows {windows!r}: comma-separated integers") from None
    return train_on_layout(str(data), str(features), str(out), VLANetConfig(windows=wins, **config), epochs,
                           seed=seed, durations=str(durations) if durations else None, log=log)
