"""Where the batch runner's per-item work runs: in this process (`local`) or on a Ray cluster (`ray`).

An executor maps `work(item) -> record` over items and yields `(item, record, error)` as each finishes, error
being the CvkitError message of a failed item. With Ray, `work` (and the model it holds) is shipped once to each
worker, an actor that keeps it resident; workers write their outputs atomically into the shared output folder
exactly as a local run does, and the driver prints the records. Ray is an optional extra (`pip install
'cvkit[ray]'`), imported only when asked for.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import CvkitError, ModelError

EXECUTORS = ("local", "ray")
RAY_INSTALL = "pip install 'cvkit[ray]'  (or: pip install ray==2.60.0)"
Outcome = tuple[Any, dict | None, str | None]


def executor_name(name: str | None) -> str:
    """The executor asked for: `--executor`, else $CVKIT_EXECUTOR, else local."""
    name = (name or os.environ.get("CVKIT_EXECUTOR") or "local").lower()
    if name not in EXECUTORS:
        from ..errors import ArgumentError

        raise ArgumentError(f"--executor {name!r}: use one of {', '.join(EXECUTORS)}")
    return name


def run_local(work: Callable[[Any], dict], items: Sequence[Any]) -> Iterator[Outcome]:
    """Run each item in this process, in order."""
    for item in items:
        try:
            yield item, work(item), None
        except CvkitError as e:
            yield item, None, str(e)


def _reachable(address: str, timeout: float = 10.0) -> None:
    """Fail fast (exit 5) when HOST:PORT of a Ray cluster does not answer, instead of Ray's long retries."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
            pass
    except (OSError, ValueError) as e:
        raise ModelError(f"cannot reach the Ray cluster at {address} ({e}); start it with `ray start --head` "
                         "or pass --ray-address auto") from None


def _start_ray(address: str | None, workers: int | None):
    try:
        import ray
    except ImportError:
        raise ModelError(f"--executor ray needs Ray, which is not installed: {RAY_INSTALL}") from None
    if ray.is_initialized():
        return ray
    kwargs: dict[str, Any] = {"ignore_reinit_error": True, "log_to_driver": False, "include_dashboard": False,
                              "configure_logging": False}
    if address and address not in ("auto", "local"):
        if "://" not in address:
            _reachable(address)
        kwargs["address"] = address
    elif address == "auto":
        kwargs["address"] = "auto"
    else:  # a cluster of this machine only, on loopback
        kwargs["num_cpus"] = workers or os.cpu_count() or 1
    try:
        ray.init(**kwargs)
    except ConnectionError as e:
        raise ModelError(f"cannot connect to the Ray cluster at {address}: {e}") from None
    return ray


def _remove_partial(targets: Sequence[Path]) -> None:
    """Remove temp files a cancelled worker may have left beside these targets (the atomic writer's names)."""
    for target in targets:
        folder = Path(target).parent
        if folder.is_dir():
            for leftover in folder.glob(f".{Path(target).stem}.*.part*"):
                leftover.unlink(missing_ok=True)


def run_ray(work: Callable[[Any], dict], items: Sequence[Any], targets: Callable[[Any], Sequence[Path]], *,
            address: str | None = None, workers: int | None = None) -> Iterator[Outcome]:
    """Run items on Ray actors that each hold `work` resident; yields outcomes as they finish.

    Interrupted (Ctrl-C, SIGTERM): the outstanding tasks are cancelled, the actors killed, and the temp files of
    unfinished items removed, so only complete outputs remain."""
    ray = _start_ray(address, workers)

    @ray.remote(num_cpus=1)
    class Worker:  # noqa: D401 - a Ray actor
        def __init__(self, fn: Callable[[Any], dict]) -> None:
            self.fn = fn

        def run(self, item: Any) -> tuple[dict | None, str | None]:
            try:
                return self.fn(item), None
            except CvkitError as e:
                return None, str(e)

    n_workers = max(1, min(len(items), workers or int(ray.cluster_resources().get("CPU", 1))))
    shared = ray.put(work)
    actors = [Worker.remote(shared) for _ in range(n_workers)]
    pending: dict[Any, Any] = {}
    queue = list(items)
    try:
        for actor in actors:
            if queue:
                item = queue.pop(0)
                pending[actor.run.remote(item)] = (actor, item)
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            ref = done[0]
            actor, item = pending.pop(ref)
            record, error = ray.get(ref)
            if queue:
                nxt = queue.pop(0)
                pending[actor.run.remote(nxt)] = (actor, nxt)
            yield item, record, error
    finally:
        if pending or queue:
            for actor in actors:
                ray.kill(actor)
            for _, item in pending.values():
                _remove_partial(targets(item))
