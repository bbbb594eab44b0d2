"""The paper's LAttQE recipe (Sect. 4, "Learning configuration") on descriptors + labels.

Per query: its top-64 neighbours in the training set (itself excluded); k ~ U{32..64} of them kept, each then
dropped with probability p ~ U(0, 0.6) drawn per query; 1 positive (a random item of the same label) and 5
hard negatives (the nearest items of other labels, one per label, mined from a random pool of up to 20,000
items refreshed every 2,000 updates); contrastive loss y z^2 + (1 - y) max(0, m - z)^2 with z = |q_hat - d|,
m = 0.1, plus the auxiliary BCE "neighbour is relevant" head; Adam, batch 64, weight decay 1e-6, lr 1e-4
decayed x0.99 per epoch. LAttDBA: then freeze everything and train only the softmax temperature T.
Labels < 0 are distractors (never a query, never positive).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .index import SearchIndex
from .model import LAttQE, LAttQEConfig


@dataclass
class TrainSet:
    """Descriptors, labels and precomputed neighbour lists of one training world."""

    x: np.ndarray
    y: np.ndarray
    nbr_ids: np.ndarray
    queries: np.ndarray

    @classmethod
    def build(cls, x: np.ndarray, y: np.ndarray, k_max: int = 64) -> TrainSet:
        """Index the descriptors and keep each item's top-k_max neighbours (itself excluded)."""
        index = SearchIndex(x, "flat")
        _, ids = index.search(x, k_max + 1)
        own = ids == np.arange(len(x))[:, None]
        order = np.argsort(own, axis=1, kind="stable")
        ids = np.take_along_axis(ids, order, 1)[:, :k_max]
        counts = np.bincount(np.maximum(y, 0), minlength=1)
        queries = np.flatnonzero((y >= 0) & (counts[np.maximum(y, 0)] >= 2))
        return cls(x.astype(np.float32), y, ids, queries)


def mine_negatives(ts: TrainSet, queries: np.ndarray, rng: np.random.Generator, pool_size: int = 20000,
                   n_neg: int = 5) -> np.ndarray:
    """For each query, the `n_neg` nearest pool items of other labels, one per label (cirtorch mining)."""
    pool = rng.choice(len(ts.x), min(pool_size, len(ts.x)), replace=False)
    index = SearchIndex(ts.x[pool], "flat")
    _, ids = index.search(ts.x[queries], min(len(pool), 20 * n_neg + 50))
    out = np.empty((len(queries), n_neg), dtype=np.int64)
    for i, q in enumerate(queries):
        seen, got = set(), []
        for j in pool[ids[i][ids[i] >= 0]]:
            lab = ts.y[j]
            if lab == ts.y[q] and lab >= 0:
                continue
            key = int(lab) if lab >= 0 else -1 - int(j)
            if key in seen:
                continue
            seen.add(key)
            got.append(j)
            if len(got) == n_neg:
                break
        while len(got) < n_neg:
            j = int(rng.integers(len(ts.x)))
            if ts.y[j] != ts.y[q] or ts.y[j] < 0:
                got.append(j)
        out[i] = got
    return out


def sample_batch(ts: TrainSet, qs: np.ndarray, negs: np.ndarray, rng: np.random.Generator, k_range=(32, 64)
                 ) -> dict[str, torch.Tensor]:
    """Tensors for one batch: query, augmented neighbour set, 1 positive + negatives, relevance labels."""
    k = int(rng.integers(k_range[0], k_range[1] + 1))
    k = min(k, ts.nbr_ids.shape[1])
    ids = ts.nbr_ids[qs, :k]
    p = rng.uniform(0.0, 0.6, (len(qs), 1))
    valid = (rng.random((len(qs), k)) >= p) & (ids >= 0)
    pos = np.empty(len(qs), dtype=np.int64)
    for i, q in enumerate(qs):
        same = np.flatnonzero(ts.y == ts.y[q])
        same = same[same != q]
        pos[i] = rng.choice(same)
    rel = (ts.y[np.maximum(ids, 0)] == ts.y[qs][:, None]) & (ts.y[qs][:, None] >= 0)
    return {
        "q": torch.from_numpy(ts.x[qs]),
        "nbrs": torch.from_numpy(ts.x[np.maximum(ids, 0)]),
        "valid": torch.from_numpy(valid.astype(np.float32)),
        "rel": torch.from_numpy(rel.astype(np.float32)),
        "targets": torch.from_numpy(ts.x[np.concatenate([pos[:, None], negs], 1)]),
    }


def contrastive_loss(q_hat: torch.Tensor, targets: torch.Tensor, margin: float = 0.1) -> torch.Tensor:
    """y z^2 + (1 - y) max(0, m - z)^2 with targets[:, 0] positive and the rest negative; mean over pairs."""
    z = torch.linalg.vector_norm(q_hat[:, None] - targets, dim=-1)
    y = torch.zeros_like(z)
    y[:, 0] = 1
    return (y * z.pow(2) + (1 - y) * F.relu(margin - z).pow(2)).sum(1).mean()


def batch_loss(model: LAttQE, b: dict[str, torch.Tensor], aux_weight: float = 1.0, softmax: bool = False,
               margin: float = 0.1) -> torch.Tensor:
    """Contrastive loss on the expanded query + weighted auxiliary BCE on neighbour relevance."""
    q_hat, _, logits = model(b["q"], b["nbrs"], b["valid"], softmax=softmax)
    loss = contrastive_loss(q_hat, b["targets"], margin)
    if aux_weight:
        bce = F.binary_cross_entropy_with_logits(logits, b["rel"], reduction="none")
        loss = loss + aux_weight * (bce * b["valid"]).sum() / b["valid"].sum().clamp(min=1)
    return loss


@dataclass
class TrainConfig:
    """Recipe hyper-parameters (paper values as defaults)."""

    epochs: int = 50
    batch: int = 64
    lr: float = 1e-4
    weight_decay: float = 1e-6
    decay: float = 0.99
    updates_per_epoch: int = 100
    refresh_every: int = 2000
    pool_size: int = 20000
    margin: float = 0.1
    aux_weight: float = 1.0
    dba_epochs: int = 0
    seed: int = 0
    minutes: float | None = None  # wall-clock budget of the QE phase (the LAttDBA epochs follow it)


def train_lattqe(cfg: LAttQEConfig, sets: Callable[[int], TrainSet] | list[TrainSet], tc: TrainConfig,
                 log: Callable[[str], None] | None = None, device: str = "cpu") -> LAttQE:
    """Train LAttQE on one or more training sets (a list, or a function epoch -> set for fresh synthetic
    worlds); then, if `dba_epochs`, the LAttDBA temperature alone."""
    torch.manual_seed(tc.seed)
    rng = np.random.default_rng(tc.seed)
    model = LAttQE(cfg).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, tc.decay)
    t0, step = time.time(), 0
    negs_cache: dict[int, np.ndarray] = {}

    def get_set(epoch: int) -> tuple[int, TrainSet]:
        if callable(sets):
            return epoch, sets(epoch)
        return epoch % len(sets), sets[epoch % len(sets)]

    for phase, n_epochs in (("qe", tc.epochs), ("dba", tc.dba_epochs)):
        if phase == "dba":
            for p in model.parameters():
                p.requires_grad_(False)
            model.log_temperature.requires_grad_(True)
            opt = torch.optim.Adam([model.log_temperature], lr=1e-2)
            negs_cache.clear()
        for epoch in range(n_epochs):
            if phase == "qe" and tc.minutes is not None and time.time() - t0 >= 60 * tc.minutes:
                if log:
                    log(f"--minutes {tc.minutes:g} spent after {epoch} epochs")
                break
            key, ts = get_set(epoch)
            model.train()
            total = 0.0
            for _ in range(tc.updates_per_epoch):
                if key not in negs_cache or step % tc.refresh_every == 0:
                    negs_cache[key] = mine_negatives(ts, ts.queries, rng, tc.pool_size)
                pick = rng.integers(0, len(ts.queries), tc.batch)
                b = sample_batch(ts, ts.queries[pick], negs_cache[key][pick], rng)
                b = {n: t.to(device) for n, t in b.items()}
                loss = batch_loss(model, b, tc.aux_weight if phase == "qe" else 0.0, softmax=phase == "dba",
                                  margin=tc.margin)
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss.detach())
                step += 1
            if phase == "qe":
                sched.step()
            if log:
                log(f"{phase} epoch {epoch + 1}/{n_epochs} loss {total / tc.updates_per_epoch:.5f} "
                    f"({time.time() - t0:.0f} s)")
            if callable(sets):
                negs_cache.pop(key, None)
    model.train_seconds = time.time() - t0  # type: ignore[attr-defined]
    return model.eval()


def lattqe_weight_fn(model: LAttQE, softmax: bool = False, batch: int = 1024):
    """A numpy weight function for `qe.Expander` backed by a trained model."""

    def fn(q: np.ndarray, nbrs: np.ndarray, sims: np.ndarray, valid: np.ndarray) -> np.ndarray:
        k = min(nbrs.shape[1], model.cfg.k_max)
        out = np.zeros((q.shape[0], nbrs.shape[1] + 1), dtype=np.float32)
        dev = next(model.parameters()).device
        with torch.inference_mode():
            for s in range(0, q.shape[0], batch):
                _, w, _ = model(torch.from_numpy(q[s:s + batch]).to(dev),
                                torch.from_numpy(np.ascontiguousarray(nbrs[s:s + batch, :k])).to(dev),
                                torch.from_numpy(valid[s:s + batch, :k]).to(dev), softmax=softmax)
                out[s:s + batch, : k + 1] = w.cpu().numpy()
        return out

    return fn


def synthetic_sets(seed: int = 0) -> Callable[[int], TrainSet]:
    """A fresh synthetic descriptor world per epoch (2,000-6,000 items, D in {64, 128, 256, 512})."""
    from .synthetic import synthetic_world

    def make(epoch: int) -> TrainSet:
        r = np.random.default_rng(seed * 100_003 + 1000 + epoch)
        x, y = synthetic_world(int(r.integers(2000, 6000)), int(r.choice([64, 128, 256, 512])), r)
        return TrainSet.build(x, y)

    return make


def save_model(model: LAttQE, out, card_extra: dict) -> object:
    """weights.safetensors + card.json (cvkit.assets format) into `out`."""
    from ..assets import save_asset

    card = {"name": card_extra.pop("name", "lattqe"), "task": "search-expand",
            "architecture": f"LAttQE ({model.cfg.tokens} tokens, {model.cfg.layers} post-LN encoder layers, "
                            f"{model.cfg.heads} heads, width {model.cfg.width}, FFN {model.cfg.ffn}, "
                            f"k_max {model.cfg.k_max}, rank embeddings, cosine weights, aux head, LAttDBA T)",
            "config": model.cfg.to_dict(), "licence": "Apache-2.0", **card_extra}
    return save_asset(out, model.state_dict(), card)


def recipe(data: str, features, labels, folders, arch: str, epochs: int, updates: int, dba_epochs: int, out,
           seed: int = 0, device: str = "cpu", log: Callable[[str], None] | None = None, command: str = "",
           steps: int | None = None, minutes: float | None = None):
    """`cvkit train search-expand`: synthetic worlds (gram only), descriptors + labels, or labelled folders.
    `steps` (QE updates, rounded up to whole epochs of `updates`) replaces `epochs`; `minutes` caps the QE phase."""
    from pathlib import Path

    from ..errors import ArgumentError, InputError
    from .features import read_descriptors
    from .model import gram_config, small_config

    t0 = time.time()
    if features is not None or folders is not None:
        if folders is not None:
            from .data import read_folders
            from .descriptor import GemDescriptor
            from .evaluate import describe_all

            rs = read_folders(folders, max_queries=1)
            x = describe_all(rs.db_images, GemDescriptor(device=device))
            y = np.concatenate([[c] * n for c, n in enumerate(_class_sizes(rs.db_images))])
            source = f"folders {folders}"
        else:
            if labels is None:
                raise ArgumentError("--features needs --labels (an .npy of integer labels, one per row)")
            x, _ = read_descriptors(features)
            y = np.load(labels, allow_pickle=False).astype(np.int64).ravel()
            if len(y) != len(x):
                raise InputError(labels, f"{len(y)} labels for {len(x)} descriptors")
            source = f"features {Path(features).name} + labels {Path(labels).name}"
        from .index import l2n

        sets: Callable[[int], TrainSet] | list[TrainSet] = [TrainSet.build(l2n(x), y)]
        dim = int(x.shape[1])
    elif data == "synthetic":
        if arch != "gram":
            raise ArgumentError("--data synthetic trains the descriptor-agnostic --arch gram only")
        sets, dim, source = synthetic_sets(seed), 0, "synthetic descriptor worlds (cvkit.search_expand.synthetic)"
    else:
        raise ArgumentError(f"--data {data!r}: use synthetic, or --features/--labels, or --folders")
    cfg = {"gram": gram_config, "small": lambda: small_config(dim), "paper": lambda: _paper(dim)}.get(arch)
    if cfg is None:
        raise ArgumentError(f"--arch {arch!r}: use gram, small or paper")
    if arch != "gram" and dim == 0:
        raise ArgumentError("--arch small/paper need descriptors (--features/--labels or --folders)")
    if steps is not None:
        epochs = -(-steps // updates)
    tc = TrainConfig(epochs=epochs, updates_per_epoch=updates, dba_epochs=dba_epochs, seed=seed, minutes=minutes)
    model = train_lattqe(cfg(), sets, tc, log=log, device=device)
    name = {"gram": "lattqe-gram", "small": "lattqe-small", "paper": "lattqe"}[arch]
    return save_model(model.cpu(), out, {"name": name, "training": {
        "command": command, "data": source, "seconds": round(time.time() - t0, 1), "seed": seed,
        "recipe": {k: v for k, v in tc.__dict__.items()}}, "metrics": []})


def _paper(dim: int):
    from .model import PAPER, LAttQEConfig

    heads = PAPER.heads if dim % PAPER.heads == 0 else 1
    return LAttQEConfig(dim=dim, width=dim, heads=heads, ffn=PAPER.ffn)


def _class_sizes(paths: list) -> list[int]:
    from itertools import groupby

    return [len(list(g)) for _, g in groupby(p.parent for p in paths)]
