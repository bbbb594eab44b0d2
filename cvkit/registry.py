"""One registry for every task and model: tasks register themselves, models register beside their builders.

A task package `cvkit/<pkg>/` that has a `registry.py` module is found by `discover()` (no shared file lists
the tasks). That module calls `register_task(...)` once and registers its models, either with the decorator

    @register_model("my-task", "my-model", description="...", needs_weights=True, train_hint="...")
    def build(device: torch.device, asset: Asset | None, **options) -> Predictor: ...

or, for a table of `ModelInfo`, with `add_model(task, info, builder)`. `resolve_model(task, name_or_path)` turns
what a user typed after `--model` into the model's spec and its weights (shipped asset or user file, sha256
verified); `build_model` then calls the builder. `find_weights(task, name, missing)` is the same lookup for a task
whose loader reads the card itself (asset by name, else a path, else ModelError).
A predictor is any object with a `name` attribute.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .assets import Asset, asset_from_path, find_asset
from .errors import ModelError

Builder = Callable[..., Any]
WEIGHT_SUFFIXES = (".safetensors", ".pt", ".pth")


@dataclass(frozen=True)
class ModelInfo:
    """What `--model NAME` is: its description, whether it needs trained weights and how to get them."""

    name: str
    description: str
    needs_weights: bool
    train_hint: str = ""
    lost_threshold: float | None = None
    asset: str = ""  # the shipped asset folder when it is another model's (an ablation sharing its weights)
    metric_suffix: str = ""  # with `asset`: this model's metrics in that card end with this suffix
    architecture: str = ""  # the card's "architecture" value that user weights of this model carry

    @property
    def asset_name(self) -> str:
        """Name of the asset folder holding this model's weights."""
        return self.asset or self.name


@dataclass(frozen=True)
class ModelSpec:
    """A registered model: its task, description and builder (None: the task builds it itself)."""

    task: str
    info: ModelInfo
    builder: Builder | None = None

    @property
    def name(self) -> str:
        """The name accepted by `--model`."""
        return self.info.name


@dataclass(frozen=True)
class TaskSpec:
    """A task: CLI name, default model, dataset layouts it evaluates on, its headline metric, extra checks."""

    name: str
    default_model: str
    description: str = ""
    datasets: tuple[str, ...] = ()
    headline_metric: str = ""
    checks: tuple[tuple[str, Callable[[], str]], ...] = ()
    registered: dict[str, ModelSpec] = field(default_factory=dict, compare=False, repr=False)
    table: dict[str, ModelInfo] | None = field(default=None, compare=False, repr=False)

    @property
    def models(self) -> dict[str, ModelSpec]:
        """Decorator-registered models, then those of the task's own `ModelInfo` table (read live)."""
        out = dict(self.registered)
        for name, info in (self.table or {}).items():
            out.setdefault(name, ModelSpec(self.name, info))
        return out


@dataclass(frozen=True)
class Resolved:
    """A `--model` value resolved: the registered spec and the weights to load (None: none needed)."""

    spec: ModelSpec
    asset: Asset | None


_TASKS: dict[str, TaskSpec] = {}
_DISCOVERED = False
_SKIP_PACKAGES = {"io", "nn"}


def register_task(name: str, *, default_model: str, description: str = "", datasets: Iterable[str] = (),
                  headline_metric: str = "", checks: Iterable[tuple[str, Callable[[], str]]] = (),
                  table: dict[str, ModelInfo] | None = None) -> TaskSpec:
    """Register a task (idempotent for the same name: a re-import keeps the models already registered).

    `table` is an optional live name -> ModelInfo dict of models the task builds with its own loader."""
    old = _TASKS.get(name)
    spec = TaskSpec(name, default_model, description, tuple(datasets), headline_metric, tuple(checks),
                    old.registered if old else {}, table)
    _TASKS[name] = spec
    return spec


def unregister_task(name: str) -> None:
    """Remove a task (tests that register throw-away tasks clean up with this)."""
    _TASKS.pop(name, None)


def add_model(task: str, info: ModelInfo, builder: Builder | None = None) -> ModelSpec:
    """Register one model of a registered task."""
    if task not in _TASKS:
        raise KeyError(f"task {task!r} is not registered; call register_task first")
    spec = ModelSpec(task, info, builder)
    _TASKS[task].registered[info.name] = spec
    return spec


def register_model(task: str, name: str, *, description: str, needs_weights: bool = False, train_hint: str = "",
                   architecture: str = "", **info: Any) -> Callable[[Builder], Builder]:
    """Decorator: register `builder(device, asset, **options)` as model `name` of `task`."""

    def wrap(builder: Builder) -> Builder:
        add_model(task, ModelInfo(name, description, needs_weights, train_hint, architecture=architecture, **info),
                  builder)
        return builder

    return wrap


def discover() -> None:
    """Import every task package's `registry` module once (each registers itself)."""
    global _DISCOVERED
    if _DISCOVERED:
        return
    _DISCOVERED = True
    import cvkit

    for mod in sorted(pkgutil.iter_modules(cvkit.__path__), key=lambda m: m.name):
        if not mod.ispkg or mod.name in _SKIP_PACKAGES:
            continue
        if importlib.util.find_spec(f"cvkit.{mod.name}.registry") is not None:
            importlib.import_module(f"cvkit.{mod.name}.registry")


def tasks() -> list[TaskSpec]:
    """Every registered task, by name."""
    discover()
    return [_TASKS[k] for k in sorted(_TASKS)]


def get_task(name: str) -> TaskSpec:
    """The task called `name` (KeyError with the known names otherwise)."""
    discover()
    if name not in _TASKS:
        raise KeyError(f"unknown task {name!r}; known: {', '.join(sorted(_TASKS))}")
    return _TASKS[name]


def models(task: str) -> dict[str, ModelSpec]:
    """The models registered for `task`, by name."""
    return get_task(task).models


def find_weights(task: str, name: str, missing: str) -> Asset:
    """The shipped asset of `task` named `name`, else the weights at the path `name`; ModelError(`missing`) (exit 5)
    when neither exists. Not verified here: the caller runs `asset.verify()` before loading."""
    asset = find_asset(task, name)
    if asset is not None:
        return asset
    if Path(name).exists():
        return asset_from_path(name)
    raise ModelError(missing)


def looks_like_path(value: str) -> bool:
    """Whether a `--model` value names a weights file or folder rather than a registered model."""
    path = Path(value)
    return path.exists() or path.suffix in WEIGHT_SUFFIXES


def resolve_model(task: str, name_or_path: str = "default") -> Resolved:
    """Spec + verified weights for a model name (`default` = the task's default) or a weights path.

    A path is matched to a registered model by its card's `architecture` (or `name`); ModelError (exit 5) when
    the weights are missing, fail their sha256, or belong to no registered model."""
    spec_task = get_task(task)
    table = spec_task.models
    name = spec_task.default_model if name_or_path == "default" else name_or_path
    if name in table:
        spec = table[name]
        asset = find_asset(task, spec.info.asset_name)
        if asset is None:
            if spec.info.needs_weights:
                raise ModelError(f"model {name!r} has no shipped weights. "
                                 f"{spec.info.train_hint or 'Train it'}, or point --model at a weights file "
                                 "(.safetensors with card.json, or .pt state dict)")
            return Resolved(spec, None)
        asset.verify()
        return Resolved(spec, asset)
    if not looks_like_path(name):
        raise ModelError(f"unknown model {name!r} for {task}; available: {', '.join(table)} (or a path to weights)")
    asset = asset_from_path(Path(name))
    asset.verify()
    arch = asset.card.get("architecture") or asset.card.get("name")
    for spec in table.values():
        if arch and arch in (spec.info.architecture, spec.name):
            return Resolved(spec, asset)
    raise ModelError(f"{asset.weights}: its card names no {task} model (card.json \"architecture\" should be one "
                     f"of {', '.join(table)})")


def build_model(task: str, name_or_path: str = "default", device: Any = "cpu", **options: Any) -> Any:
    """Resolve and build a predictor: `builder(device, asset, **options)`."""
    import torch

    resolved = resolve_model(task, name_or_path)
    if resolved.spec.builder is None:
        raise ModelError(f"model {resolved.spec.name!r} of {task} is built by the task's own loader")
    return resolved.spec.builder(torch.device(device), resolved.asset, **options)
