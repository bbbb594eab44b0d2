"""Shared CLI pieces: common options, the stderr console, and error -> exit code handling."""

from __future__ import annotations

import functools
import inspect
import os
import signal
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from cvkit.errors import CvkitError, Interrupted, clear_pending, interrupt, raise_pending

err_console = Console(stderr=True, highlight=False)
STATE: dict[str, Any] = {"debug": False}

DeviceOpt = Annotated[str, typer.Option("--device", help="auto (CUDA when available), cpu or cuda[:N].")]
ThreadsOpt = Annotated[
    int, typer.Option("--threads", min=0, help="CPU threads for torch/OpenCV; 0 = all cores of this process.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON Lines on stdout (one object per record).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or tables on stderr.")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed (training, augmentation).")]
ExecutorOpt = Annotated[str | None, typer.Option(
    "--executor", help="Batch: run items here (local) or on a Ray cluster (ray; pip install 'cvkit\\[ray]'). "
    "Default: $CVKIT_EXECUTOR, else local.", show_default=False)]
RayAddressOpt = Annotated[str | None, typer.Option(
    "--ray-address", help="With --executor ray: auto (a running cluster), HOST:PORT, or unset for a local "
    "cluster on this machine.", show_default=False)]
WorkersOpt = Annotated[int | None, typer.Option(
    "--workers", min=1, help="With --executor ray: number of workers (default: the cluster's CPUs).",
    show_default=False)]


SkipExistingOpt = Annotated[bool, typer.Option(
    "--skip-existing", help="Batch: skip inputs whose outputs exist (resume an interrupted run).")]


@dataclass(frozen=True)
class RunOptions:
    """The options every main command shares (device, threads, output style, batch execution), gathered by
    `run_options` so that no command module repeats them."""

    device: str = "auto"
    threads: int = 0
    json_out: bool = False
    quiet: bool = False
    skip_existing: bool = False
    executor: str | None = None
    ray_address: str | None = None
    workers: int | None = None

    def select_device(self) -> Any:
        """Apply --threads and resolve --device (auto: CUDA when available) to a torch.device."""
        from cvkit.device import select_device, set_threads

        set_threads(self.threads)
        return select_device(self.device)

    def batch(self) -> dict[str, Any]:
        """Keyword arguments of `cvkit.io.batch.run_batch` taken from these options."""
        return {"skip_existing": self.skip_existing, "json_out": self.json_out, "quiet": self.quiet,
                "executor": self.executor, "ray_address": self.ray_address, "workers": self.workers}


_RUN_PARAMS: dict[str, tuple[Any, Any]] = {
    "skip_existing": (SkipExistingOpt, False),
    "executor": (ExecutorOpt, None),
    "ray_address": (RayAddressOpt, None),
    "workers": (WorkersOpt, None),
    "device": (DeviceOpt, "auto"),
    "threads": (ThreadsOpt, 0),
    "json_out": (JsonOpt, False),
    "quiet": (QuietOpt, False),
}
_BATCH_ONLY = ("skip_existing", "executor", "ray_address", "workers")


def _with_options(params: list[tuple[str, Any, Any]], make: Callable[[dict[str, Any]], Any], arg: str) -> Callable:
    """Decorator: append `params` (name, Annotated option, default) to a command's signature and pass their values
    to the command as one object `make(values)` in its keyword argument `arg`."""
    names = [n for n, _, _ in params]

    def decorate(fn: Callable) -> Callable:
        sig = inspect.signature(fn, eval_str=True)
        own = [p for p in sig.parameters.values() if p.name != arg]
        extra = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=d, annotation=a) for n, a, d in params]

        @functools.wraps(fn)
        def command(**kwargs: Any) -> Any:
            shared = {n: kwargs.pop(n) for n in names if n in kwargs}
            return fn(**kwargs, **{arg: make(shared)})

        command.__signature__ = sig.replace(parameters=own + extra)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in own + extra}
        return command

    return decorate


def run_options(*, batch: bool = True, device: bool = True, json_out: bool = True) -> Callable:
    """Decorator for a command `fn(..., run: RunOptions)`: adds the shared options to its command line (batch:
    --skip-existing/--executor/--ray-address/--workers; --device; --threads; --json; --quiet) and hands them to
    `fn` as one RunOptions. Typer reads the wrapper's signature, so `--help` lists them like any other option."""
    wanted = [n for n in _RUN_PARAMS if (batch or n not in _BATCH_ONLY) and (device or n != "device")
              and (json_out or n != "json_out")]
    return _with_options([(n, *_RUN_PARAMS[n]) for n in wanted], lambda v: RunOptions(**v), "run")


@dataclass(frozen=True)
class TrainOptions:
    """The options every `cvkit train TASK` shares: where the model goes, the budget, seed, device and threads."""

    out: Path
    steps: int | None = None
    minutes: float | None = None
    seed: int = 0
    device: str = "auto"
    threads: int = 0
    quiet: bool = False
    nproc: int = 1

    def select_device(self) -> Any:
        """Apply --threads and resolve --device to a torch.device."""
        from cvkit.device import select_device, set_threads

        set_threads(self.threads)
        return select_device(self.device)

    def command(self, task: str) -> str:
        """The `cvkit train TASK ...` line running now, as a card records it (cvkit.training.training_command)."""
        from cvkit.training import training_command

        return training_command(f"cvkit train {task}")

    def budget(self) -> Any:
        """The --steps/--minutes budget as a cvkit.training.Budget (exit 4 when neither is given)."""
        from cvkit.training import Budget

        return Budget(self.steps, self.minutes)


def train_options(*, out: str, steps: int | None = None, minutes: float | None = None,
                  budget: tuple[str, ...] = ("steps", "minutes"), threads: int = 0, device: bool = True,
                  nproc: bool = False) -> Callable:
    """Decorator for a `cvkit train TASK` command `fn(..., opts: TrainOptions)`: adds --out/-o (default `out`),
    the budget options named in `budget` (--steps, --minutes; the task's defaults), --seed, --device, --threads
    (default `threads`), --quiet, and --nproc for recipes that train data-parallel: the same names in every task."""
    params: list[tuple[str, Any, Any]] = [("out", Annotated[Path, typer.Option(
        "--out", "--output", "-o", help="Output folder for weights.safetensors + card.json.")], Path(out))]
    if "steps" in budget:
        params.append(("steps", Annotated[int | None, typer.Option(
            "--steps", min=1, help="Optimiser steps (training budget).")], steps))
    if "minutes" in budget:
        params.append(("minutes", Annotated[float | None, typer.Option(
            "--minutes", min=0.01, help="Wall-clock minutes (training budget; the first limit reached stops).")],
            minutes))
    params.append(("seed", SeedOpt, 0))
    if nproc:
        params.append(("nproc", Annotated[int, typer.Option(
            "--nproc", min=1, help="Data-parallel training processes on this machine (torch.distributed).")], 1))
    if device:
        params.append(("device", DeviceOpt, "auto"))
    params += [("threads", ThreadsOpt, threads), ("quiet", QuietOpt, False)]
    return _with_options(params, lambda v: TrainOptions(**v), "opts")

def _raise_interrupted(signum: int, frame: object) -> None:
    interrupt(signum)


def install_signal_handlers() -> None:
    """SIGINT, SIGTERM (timeout, kill, systemd, docker) and SIGHUP unwind the command like Ctrl-C: the output in
    progress is removed (atomic writes), finished items stay, and the exit code is 128 + the signal number."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_interrupted)


def _quiet_stdout() -> None:
    """After the reader of stdout went away (`| head`): send what is still buffered nowhere, without errors."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def run_guarded(fn: Callable[[], Any]) -> int:
    """Run the app: CvkitError -> its exit code with a one-line message; signals -> 128 + n with a message;
    a closed stdout pipe -> 0, quietly; bugs -> 1."""
    from typer.exceptions import TyperException

    clear_pending()
    try:
        rv = fn()
        raise_pending()  # a signal whose Interrupted a finalizer swallowed still ends the command as interrupted
        return rv if isinstance(rv, int) else 0
    except Interrupted as e:
        err_console.print(f"interrupted ({e}): finished items are kept, the item in progress left no partial file")
        return e.exit_code
    except typer.Exit as e:
        if e.exit_code == 130:  # Typer turns a KeyboardInterrupt raised outside our handler into Exit(130)
            err_console.print("interrupted")
        return e.exit_code
    except typer.Abort:
        err_console.print("interrupted")
        return 130
    except TyperException as e:  # usage errors (exit 2) carry their own formatting
        e.show()
        return e.exit_code
    except KeyboardInterrupt:
        err_console.print("interrupted: finished items are kept, the item in progress left no partial file")
        return 130
    except CvkitError as e:
        err_console.print(f"[bold red]error:[/] {escape(str(e))}", markup=True, soft_wrap=True)
        return e.exit_code
    except BrokenPipeError:  # `cvkit ... | head`: the reader closed on purpose
        _quiet_stdout()
        return 0
    except SystemExit:
        if type(sys.stdout).__name__ == "PacifyFlushWrapper":  # Typer's (vendored click's) closed-pipe exit
            _quiet_stdout()
            return 0
        raise
    except Exception as e:  # noqa: BLE001 - last-resort handler of the CLI
        if STATE["debug"]:
            traceback.print_exc()
        err_console.print(
            f"[bold red]internal error:[/] {type(e).__name__}: {escape(str(e))} (rerun with --debug for the traceback)",
            markup=True,
            soft_wrap=True,
        )
        return 1
