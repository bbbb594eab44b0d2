"""Training recipes: `cvkit train parse-table --data synthetic` (the shipped graph-lite) and the paper model.

graph-lite: procedurally generated tables (cvkit.parse_table.synthetic), random pairs per table (all
same-cell positives plus a uniform sample), binary cross-entropy on the three relations, Adam with a
cosine schedule, one CPU thread; the time budget, not an epoch count, bounds the run (under 30 minutes).
The table detectors train on rendered synthetic pages: table-heat (table_detector.py) and table-rcnn
(table_rcnn.py, the paper's Mask R-CNN route for whole pages).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..training import Distributed
from .features import pair_features, vertex_features
from .graphnet import RELATIONS, GraphStructureNet
from .synthetic import chunk_targets, synth_table
from .words import boxes_array

MAX_PAIRS = 3000


def sample_graph(rng: np.random.Generator, max_pairs: int = MAX_PAIRS) -> dict | None:
    """One synthetic table as tensors: vertex/pair features, pair indices and the three targets."""
    s = synth_table(rng)
    n = len(s.chunks)
    if n < 2:
        return None
    boxes = boxes_array(s.chunks)
    same_cell, same_row, same_col = chunk_targets(s)
    iu, ju = np.triu_indices(n, 1)
    if len(iu) > max_pairs:
        pos = np.flatnonzero(same_cell[iu, ju])[: max_pairs // 4]
        rest = rng.choice(len(iu), max_pairs - len(pos), replace=False)
        sel = np.unique(np.concatenate([pos, rest]))
        iu, ju = iu[sel], ju[sel]
    v = vertex_features(boxes, s.masks, [c.text for c in s.chunks])
    pf = pair_features(boxes, iu, ju, s.masks)
    pr = pair_features(boxes, ju, iu, s.masks)
    t = {"cell": same_cell[iu, ju], "row": same_row[iu, ju], "col": same_col[iu, ju]}
    return {"v": torch.from_numpy(v), "i": torch.from_numpy(iu), "j": torch.from_numpy(ju),
            "pf": torch.from_numpy(pf), "pr": torch.from_numpy(pr),
            "t": {k: torch.from_numpy(x.astype(np.float32)) for k, x in t.items()}}


def graph_loss(net: GraphStructureNet, g: dict) -> tuple[torch.Tensor, dict[str, float]]:
    """Sum of the three relations' BCE losses and their pair accuracies."""
    out = net(g["v"], g["i"], g["j"], g["pf"], g["pr"])
    loss = torch.zeros((), device=g["v"].device)
    acc = {}
    for r in RELATIONS:
        loss = loss + F.binary_cross_entropy_with_logits(out[r], g["t"][r])
        acc[r] = float(((out[r] > 0).float() == g["t"][r]).float().mean())
    return loss, acc


def to_device(g: dict, device: torch.device | str | None) -> dict:
    """A sampled graph with every tensor on `device` (None: left where it is)."""
    if device is None:
        return g
    return {k: to_device(v, device) if isinstance(v, dict) else v.to(device) for k, v in g.items()}


def train_graph_lite(out_dir: str | Path, minutes: float = 25.0, seed: int = 0, batch: int = 4, lr: float = 2e-3,
                     max_steps: int | None = None, log: Callable[[str], None] = print,
                     command: str = "cvkit train parse-table --data synthetic", save_every: int = 400,
                     dist: Distributed = Distributed(), history: list[float] | None = None,
                     device: torch.device | str | None = None) -> Path | None:
    """Train graph-lite on synthetic tables within a time budget and save it as an asset in `out_dir`.

    Data-parallel with `dist` (see `cvkit.training.run_data_parallel`): every process draws the same global
    batch and back-propagates its round-robin share; summed gradients equal the one-process step, and only rank 0
    validates and saves (other ranks return None). `history` receives each step's global-batch loss."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    val_rng = np.random.default_rng(seed + 10_000)
    val = [to_device(g, device) for g in (sample_graph(val_rng) for _ in range(40)) if g is not None]
    net = GraphStructureNet().to(device)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    t0, c0 = time.time(), time.process_time()
    budget = minutes * 60.0
    step = 0
    est_steps = max_steps or 10**9
    while True:
        elapsed = dist.from_main(time.time() - t0)  # one clock for every process: same stop, same schedule
        if (max_steps is not None and step >= max_steps) or elapsed > budget:
            break
        frac = min(1.0, elapsed / budget) if max_steps is None else step / max(est_steps, 1)
        for group in opt.param_groups:
            group["lr"] = lr * 0.5 * (1 + np.cos(np.pi * frac))
        net.train()
        opt.zero_grad()
        total = 0.0
        for i in range(batch):
            g = sample_graph(rng)
            if g is None or not dist.mine(i):
                continue
            loss, _ = graph_loss(net, to_device(g, device))
            (loss / batch).backward()
            total += float(loss.detach()) / batch
        dist.sum_gradients(net)
        total = dist.sum(total)
        if history is not None:
            history.append(total)
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()
        step += 1
        if not dist.is_main:
            continue
        if step % 50 == 0:
            log(f"step {step} {elapsed:.0f}s loss {total:.4f} lr {opt.param_groups[0]['lr']:.2e}")
        if step % save_every == 0:
            metrics = validate(net, val)
            log(f"val {metrics}")
            _save_graph_lite(out_dir, net, metrics, time.time() - t0, step, seed, batch, lr, command,
                             time.process_time() - c0, dist.world)
    if not dist.is_main:
        return None
    seconds = time.time() - t0
    metrics = validate(net, val)
    log(f"final val {metrics} after {step} steps, {seconds:.0f}s wall, {time.process_time() - c0:.0f}s CPU")
    return _save_graph_lite(out_dir, net, metrics, seconds, step, seed, batch, lr, command,
                            time.process_time() - c0, dist.world)


def _save_graph_lite(out_dir, net, metrics, seconds, step, seed, batch, lr, command, cpu_seconds,
                     world_size: int = 1) -> Path:
    """Write the asset (also used for the periodic checkpoints of a long run)."""
    from ..assets import save_asset

    card = {
        "name": "graph-lite", "task": "parse-table", "architecture": "graph-lite", "config": net.config,
        "training": {"command": command, "data": "synthetic (cvkit.parse_table.synthetic)", "seconds": round(seconds),
                     "cpu_seconds": round(cpu_seconds), "seed": seed, "steps": step, "batch": batch, "lr": lr,
                     "world_size": world_size},
        "metrics": [{"data": "synthetic-val-40", "metric": f"pair-accuracy-{k}", "value": round(v, 4)}
                    for k, v in metrics.items()],
        "licence": "Apache-2.0",
    }
    return save_asset(out_dir, {k: v.cpu() for k, v in net.state_dict().items()}, card)


def _graph_lite_rank(dist: Distributed, out_dir: str, kwargs: dict, device: torch.device | None) -> Path | None:
    """One process of a data-parallel graph-lite run (a module-level function: spawned processes import it)."""
    if device is not None and device.type == "cuda":
        device = torch.device("cuda", dist.rank % torch.cuda.device_count())
    return train_graph_lite(out_dir, dist=dist, device=device, **kwargs)


def train_graph_lite_parallel(nproc: int, out_dir: str | Path, *, device: torch.device | None = None,
                              **kwargs) -> Path | None:
    """`train_graph_lite` data-parallel over `nproc` processes on this machine (`cvkit train parse-table --nproc`):
    the same loss curve as one process, the card records the world size. `kwargs` (and `log`) must pickle.

    Gloo in every case: `Distributed` reduces its scalars as CPU tensors (gloo also reduces CUDA gradients); on
    CUDA each rank trains on GPU rank % count."""
    from ..training import run_data_parallel

    if nproc <= 1:
        return train_graph_lite(out_dir, device=device, **kwargs)
    return run_data_parallel(nproc, _graph_lite_rank, str(out_dir), kwargs, device, backend="gloo")


@torch.no_grad()
def validate(net: GraphStructureNet, graphs: list[dict]) -> dict[str, float]:
    """Mean pair accuracy per relation on held-out synthetic tables."""
    net.eval()
    accs = [graph_loss(net, g)[1] for g in graphs]
    return {r: float(np.mean([a[r] for a in accs])) for r in RELATIONS}


def _stderr(message: str) -> None:
    """Training log line on stderr (module-level, so data-parallel processes can unpickle it)."""
    import sys

    print(message, file=sys.stderr, flush=True)


def _silent(message: str) -> None:
    pass


def train_recipe(model: str, data: str, out_dir: str | Path, *, device: torch.device | None = None, nproc: int = 1,
                 seed: int = 0, steps: int | None = None, minutes: float = 60.0, epochs: int = 20,
                 backbone: str = "resnet101", quiet: bool = False) -> Path | None:
    """`cvkit train parse-table`: graph-lite on synthetic tables (time or step budget, `nproc` data-parallel
    processes) or TabStruct-Net on a dataset layout; ArgumentError (exit 4) for a combination that cannot run."""
    from ..errors import ArgumentError
    from ..training import training_command
    from .data import parse_data_spec

    log = _silent if quiet else _stderr
    if model in ("table-heat", "table-rcnn"):  # the page table detectors
        if data != "synthetic-pages" or nproc > 1:
            raise ArgumentError(f"{model} trains on --data synthetic-pages in one process")
        if model == "table-heat":
            from .table_detector import train_table_detector as trainer

            n = steps or 3000
        else:
            from .table_rcnn import train_table_rcnn as trainer

            n = steps or 1600
        return trainer(out_dir, steps=n, minutes=minutes, seed=seed, log=log, command=training_command(
            f"cvkit train parse-table --model {model} --data synthetic-pages --steps {n} --seed {seed}"))
    parse_data_spec(data)
    if model == "graph-lite":
        if data != "synthetic":
            raise ArgumentError("graph-lite trains on --data synthetic (content boxes with exact labels)")
        cmd = training_command(f"cvkit train parse-table --data synthetic --max-steps {steps} --seed {seed}"
                               + (f" --nproc {nproc}" if nproc > 1 else ""))
        return train_graph_lite_parallel(nproc, out_dir, minutes=minutes, seed=seed, max_steps=steps, log=log,
                                         command=cmd, device=device)
    if model == "tabstructnet":
        if nproc > 1:
            raise ArgumentError("--nproc: tabstructnet trains in one process (batch 1, as in the paper)")
        return train_tabstructnet(data, out_dir, epochs=epochs, seed=seed, backbone=backbone, max_steps=steps,
                                  log=log, device=device)
    raise ArgumentError(f"--model {model!r}: use graph-lite, tabstructnet, table-heat or table-rcnn")


def train_tabstructnet(data: str, out_dir: str | Path, epochs: int = 1, seed: int = 0, backbone: str = "resnet101",
                       image_size: int = 1536, roi_train: int = 512, max_steps: int | None = None,
                       log: Callable[[str], None] = print, device: torch.device | str | None = None,
                       **net_kw) -> Path:
    """The paper's recipe: batch 1, SGD lr 0.001, momentum 0.9, weight decay 1e-4, gradient clip 5.

    `data` is LAYOUT:DIR (scitsr, pubtabnet, icdar2013). Stage 1 of the paper uses 512 RoIs, stage 2 2048
    (rerun with `roi_train=2048` from the stage-1 weights via `init`).
    """
    from ..assets import save_asset
    from .data import parse_data_spec, read_layout
    from .tabstructnet import TabStructNet, Targets, letterbox

    device = torch.device(device or "cpu")
    layout, root = parse_data_spec(data)
    if layout == "synthetic" or root is None:
        raise ValueError("TabStruct-Net trains on table images: use scitsr:DIR, pubtabnet:DIR or icdar2013:DIR")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = TabStructNet(backbone, image_size=image_size, roi_train=roi_train, **net_kw).to(device)
    opt = torch.optim.SGD(net.parameters(), lr=1e-3, momentum=0.9, weight_decay=1e-4)
    t0, step = time.time(), 0
    for epoch in range(epochs):
        for sample in read_layout(layout, root):
            cells = [c for c in sample.table.cells if c.bbox is not None]
            if len(cells) < 2:
                continue
            x, s = letterbox(sample.image, image_size)
            boxes = torch.tensor([c.bbox for c in cells], dtype=torch.float32) * s
            t = Targets(boxes.to(device), *(torch.tensor([getattr(c, a) for c in cells], device=device)
                                            for a in ("sr", "er", "sc", "ec")))
            net.train()
            for m in net.modules():  # BN frozen (paper / Mask R-CNN config)
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.eval()
            losses = net.loss(x.to(device), t, rng)
            loss = sum(losses.values())
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            opt.step()
            step += 1
            if step % 20 == 0:
                log(f"epoch {epoch} step {step} " + " ".join(f"{k} {float(v):.3f}" for k, v in losses.items()))
            if max_steps is not None and step >= max_steps:
                break
        if max_steps is not None and step >= max_steps:
            break
    card = {"name": "tabstructnet", "task": "parse-table", "architecture": "tabstructnet", "config": net.config,
            "training": {"command": f"cvkit train parse-table --model tabstructnet --data {data} --epochs {epochs}",
                         "data": data, "seconds": round(time.time() - t0), "seed": seed, "steps": step},
            "metrics": [], "licence": "Apache-2.0"}
    return save_asset(out_dir, {k: v.cpu() for k, v in net.state_dict().items()}, card)
