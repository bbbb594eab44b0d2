"""One evaluation harness: an evaluator accumulates per-item scores, `run_on_dataset` owns timing and progress.

An evaluator has `reset()`, `process(item, prediction)` and `summarise() -> dict` (detectron2's shape), so a
task writes only its metric; running the model over a dataset layout, timing it and showing progress on stderr is
done here once for every task.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sized
from typing import Any, Protocol


class Evaluator(Protocol):
    """Accumulates a benchmark's metric over items."""

    def reset(self) -> None:
        """Forget every processed item."""

    def process(self, item: Any, prediction: Any) -> None:
        """Score one item's prediction against its ground truth."""

    def summarise(self) -> dict:
        """The metric over every processed item (JSON-ready)."""


class MeanOf:
    """The simplest evaluator: the mean of a per-item score function, plus the per-item scores."""

    def __init__(self, score: Callable[[Any, Any], float], name: str = "score") -> None:
        self.score, self.name = score, name
        self.values: list[float] = []

    def reset(self) -> None:
        """Forget every processed item."""
        self.values = []

    def process(self, item: Any, prediction: Any) -> None:
        """Score one item."""
        self.values.append(float(self.score(item, prediction)))

    def summarise(self) -> dict:
        """Mean score and the per-item values."""
        n = len(self.values)
        return {self.name: sum(self.values) / n if n else float("nan"), "per_item": list(self.values)}


def run_on_dataset(items: Iterable[Any], predict: Callable[[Any], Any], evaluator: Evaluator, *,
                   quiet: bool = False, label: str = "evaluating") -> dict:
    """Predict every item, feed the evaluator, and return its summary with `items`, `seconds` and
    `seconds_per_item` (model time only: the evaluator's own time is excluded)."""
    evaluator.reset()
    total = len(items) if isinstance(items, Sized) else None
    model_seconds, n = 0.0, 0
    progress = None
    if not quiet:
        from rich.console import Console
        from rich.progress import Progress

        progress = Progress(console=Console(stderr=True), transient=True)
        progress.start()
        task = progress.add_task(label, total=total)
    try:
        for item in items:
            start = time.perf_counter()
            prediction = predict(item)
            model_seconds += time.perf_counter() - start
            evaluator.process(item, prediction)
            n += 1
            if progress is not None:
                progress.advance(task)
    finally:
        if progress is not None:
            progress.stop()
    summary = dict(evaluator.summarise())
    summary.update(items=n, seconds=round(model_seconds, 3),
                   seconds_per_item=round(model_seconds / n, 4) if n else None)
    return summary
