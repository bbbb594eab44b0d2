"""One training harness: a steps-or-minutes budget, seeding, logging, and a model card written once.

A task's recipe supplies `step(i) -> {"loss": ...}` (one optimiser step, its own data and loss); `train_loop`
runs it until the budget is spent, logs on stderr, and `save_model` writes `weights.safetensors` + `card.json`
with the training command captured from the command line that ran it, so every card can be regenerated.
"""

from __future__ import annotations

import random
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .errors import ArgumentError


@dataclass(frozen=True)
class Budget:
    """Stop after `steps` optimiser steps or `minutes` of wall time, whichever comes first (one is required)."""

    steps: int | None = None
    minutes: float | None = None

    def __post_init__(self) -> None:
        if self.steps is None and self.minutes is None:
            raise ArgumentError("give a training budget: --steps N or --minutes M")
        if (self.steps is not None and self.steps < 1) or (self.minutes is not None and not self.minutes > 0):
            raise ArgumentError(f"training budget must be positive (steps={self.steps}, minutes={self.minutes})")

    def spent(self, step: int, seconds: float) -> bool:
        """Whether `step` finished steps after `seconds` use the budget up."""
        return (self.steps is not None and step >= self.steps) or \
            (self.minutes is not None and seconds >= 60 * self.minutes)


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a torch generator seeded the same (for data streams)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


@dataclass
class TrainLog:
    """What a run did: steps, wall seconds, and the logged values (one dict per logged step)."""

    steps: int = 0
    seconds: float = 0.0
    history: list[dict] = field(default_factory=list)

    @property
    def last(self) -> dict:
        """The last logged values."""
        return self.history[-1] if self.history else {}


def train_loop(step: Callable[[int], dict[str, float]], budget: Budget, *, log_every: int = 20,
               on_log: Callable[[dict], None] | None = None) -> TrainLog:
    """Call `step(i)` for i = 0, 1, ... until the budget is spent; log every `log_every` steps and the last."""
    log = TrainLog()
    start = time.perf_counter()
    i = 0
    while True:
        values = step(i)
        i += 1
        seconds = time.perf_counter() - start
        done = budget.spent(i, seconds)
        if i % log_every == 0 or done:
            entry = {"step": i, "seconds": round(seconds, 2), **{k: float(v) for k, v in values.items()}}
            log.history.append(entry)
            if on_log is not None:
                on_log(entry)
        if done:
            break
    log.steps, log.seconds = i, time.perf_counter() - start
    return log


def training_command(default: str = "") -> str:
    """The command line that is running now when it is `cvkit train ...` (what a card records), else `default`."""
    argv = sys.argv[1:]
    if "train" in argv:
        return "cvkit " + " ".join(shlex.quote(a) for a in argv[argv.index("train"):])
    return default


@dataclass
class ModelCard:
    """DESIGN.md section 5's card: what was trained, how, on what, and how well it measures."""

    name: str
    task: str
    architecture: str
    config: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)
    metrics: list[dict] = field(default_factory=list)
    licence: str = "MIT (weights trained by this recipe)"

    @classmethod
    def for_run(cls, name: str, task: str, architecture: str, config: dict, *, data: str, seed: int,
                log: TrainLog, command: str = "", **training: Any) -> ModelCard:
        """A card for a finished run; the command defaults to the `cvkit train ...` line that ran it."""
        return cls(name, task, architecture, config,
                   {"command": command or training_command(), "data": data, "seed": seed,
                    "seconds": round(log.seconds, 1), "steps": log.steps, **training})

    def as_dict(self) -> dict:
        """JSON-ready card."""
        return asdict(self)


def save_model(folder: str | Path, model: torch.nn.Module, card: ModelCard) -> Path:
    """Write the weights (safetensors) and the card (sha256 and parameter count filled in) atomically."""
    from .assets import save_asset

    return save_asset(folder, model.state_dict(), card.as_dict())


@dataclass(frozen=True)
class Distributed:
    """This process's place in a data-parallel run: rank and world size (rank 0 of 1 when alone)."""

    rank: int = 0
    world: int = 1

    @property
    def is_main(self) -> bool:
        """Whether this process logs and saves."""
        return self.rank == 0

    def mine(self, index: int) -> bool:
        """Whether sample `index` of a global batch is this process's share (round robin)."""
        return index % self.world == self.rank

    def sum_gradients(self, model: torch.nn.Module) -> None:
        """Sum every gradient over the processes (each process's loss is already scaled by the global batch)."""
        if self.world == 1:
            return
        import torch.distributed as dist

        for p in model.parameters():
            if p.requires_grad:
                if p.grad is None:
                    p.grad = torch.zeros_like(p)
                dist.all_reduce(p.grad)

    def sum(self, value: float) -> float:
        """A scalar summed over the processes."""
        if self.world == 1:
            return value
        import torch.distributed as dist

        t = torch.tensor([value], dtype=torch.float64, device=_collective_device())
        dist.all_reduce(t)
        return float(t)

    def from_main(self, value: float) -> float:
        """Rank 0's value in every process (its clock, so that all stop and schedule alike)."""
        if self.world == 1:
            return value
        import torch.distributed as dist

        t = torch.tensor([value], dtype=torch.float64, device=_collective_device())
        dist.broadcast(t, 0)
        return float(t)


def _collective_device() -> torch.device:
    """Where a scalar for a collective must live: the current GPU under nccl, else the CPU (gloo)."""
    import torch.distributed as dist

    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dp_entry(rank: int, world: int, port: int, backend: str, fn: Callable, args: tuple, results) -> None:
    import os

    import torch.distributed as dist

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group(backend, rank=rank, world_size=world)
    try:
        torch.set_num_threads(1)
        out = fn(Distributed(rank, world), *args)
        if rank == 0:
            results.put(out)
    finally:
        dist.destroy_process_group()


def run_data_parallel(nproc: int, fn: Callable[..., Any], *args: Any, backend: str | None = None) -> Any:
    """Run `fn(Distributed(rank, world), *args)` in `nproc` processes on this machine (gloo on CPU, nccl on
    CUDA) and return rank 0's result; `nproc` 1 runs it here. Under `torchrun`, use `Distributed` from its env."""
    if nproc <= 1:
        return fn(Distributed(), *args)
    import torch.multiprocessing as mp

    backend = backend or ("nccl" if torch.cuda.is_available() else "gloo")
    ctx = mp.get_context("spawn")
    results = ctx.SimpleQueue()
    mp.start_processes(_dp_entry, args=(nproc, _free_port(), backend, fn, args, results), nprocs=nproc,
                       start_method="spawn")
    return results.get()
