"""`cvkit models`: every registered model of every task, with weights status and its card's metrics."""

from __future__ import annotations

from .assets import find_asset
from .registry import ModelInfo, tasks

__all__ = ["ModelInfo", "list_models", "headline"]


def list_models() -> list[dict]:
    """One dict per model of every task: task, name, description, weights status, card metrics, headline."""
    rows = []
    for task in tasks():
        for spec in task.models.values():
            info = spec.info
            asset = find_asset(task.name, info.asset_name)
            if asset is not None:
                weights = "shipped"
            elif info.needs_weights:
                weights = "missing: " + (info.train_hint or "train it or pass --model PATH")
            else:
                weights = "none needed"
            metrics = _own_metrics(info, asset.card.get("metrics", [])) if asset else []
            rows.append({"task": task.name, "name": info.name, "default": info.name == task.default_model,
                         "description": info.description, "weights": weights, "metrics": metrics,
                         "headline": headline(metrics, task.headline_metric)})
    return rows


def headline(metrics: list[dict], metric: str) -> dict | None:
    """The card's first metric named like the task's headline metric, measured on real data when one is."""
    if not metric:
        return None
    def name(m: dict) -> str:
        return str(m.get("metric", "")).lower()

    exact = [m for m in metrics if name(m) == metric.lower()]  # a peer's "success_auc_siam_lite" is not ours
    named = exact or [m for m in metrics if name(m).startswith(metric.lower())]
    real = [m for m in named if "synthetic" not in str(m.get("data", "")).lower()]
    return (real or named or [None])[0]


def _own_metrics(info: ModelInfo, metrics: list[dict]) -> list[dict]:
    """The card metrics that describe this model (an ablation's carry its suffix, which is dropped here)."""
    if not info.metric_suffix:
        return metrics
    return [{**m, "metric": m["metric"][: -len(info.metric_suffix)]} for m in metrics
            if str(m.get("metric", "")).endswith(info.metric_suffix)]
