"""Model catalogue shared by all tasks: each task's `cvkit.<task>.registry.MODELS` maps names to ModelInfo."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from .assets import find_asset

# task name (CLI spelling) -> package holding `registry.MODELS`
TASK_PACKAGES: dict[str, str] = {
    "track": "cvkit.track",
    "segment-lidar": "cvkit.segment_lidar",
    "reid-cluster": "cvkit.reid_cluster",
    "parse-table": "cvkit.parse_table",
    "retrieve-moment": "cvkit.retrieve_moment",
}


@dataclass(frozen=True)
class ModelInfo:
    """A registered model: how it is described and whether it needs trained weights to run."""

    name: str
    description: str
    needs_weights: bool
    train_hint: str = ""
    lost_threshold: float | None = None
    asset: str = ""  # the shipped asset folder when it is another model's (an ablation sharing its weights)
    metric_suffix: str = ""  # with `asset`: this model's metrics in that card end with this suffix

    @property
    def asset_name(self) -> str:
        """Name of the asset folder holding this model's weights."""
        return self.asset or self.name


def list_models() -> list[dict]:
    """One dict per model of every task: task, name, description, weights status, card metrics."""
    rows = []
    for task, package in TASK_PACKAGES.items():
        registry = importlib.import_module(f"{package}.registry")
        for info in registry.MODELS.values():
            asset = find_asset(task, info.asset_name)
            if asset is not None:
                weights = "shipped"
            elif info.needs_weights:
                weights = "missing: " + (info.train_hint or "train it or pass --model PATH")
            else:
                weights = "none needed"
            rows.append({"task": task, "name": info.name, "description": info.description, "weights": weights,
                         "metrics": _own_metrics(info, asset.card.get("metrics", [])) if asset else []})
    return rows


def _own_metrics(info: ModelInfo, metrics: list[dict]) -> list[dict]:
    """The card metrics that describe this model (an ablation's carry its suffix, which is dropped here)."""
    if not info.metric_suffix:
        return metrics
    return [{**m, "metric": m["metric"][: -len(info.metric_suffix)]} for m in metrics
            if str(m.get("metric", "")).endswith(info.metric_suffix)]
