"""The `cvkit` app: one command per task plus `train`, `evaluate`, `models` and `checks`."""

from __future__ import annotations

import os
import sys

# OpenMP threads that spin while waiting make torch many times slower on a busy machine (measured: 4x on a
# loaded 2-core box); passive waiting costs little when the machine is idle. Set before torch is imported;
# a value already in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import importlib  # noqa: E402
import pkgutil  # noqa: E402

import typer  # noqa: E402

from . import checks, models  # noqa: E402
from ._options import STATE, install_signal_handlers, run_guarded  # noqa: E402

app = typer.Typer(
    name="cvkit",
    help="Research-grade computer-vision models on your own files (PyTorch, CPU-first).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
train_app = typer.Typer(help="Train a task's model (the recipes that produced the shipped assets).",
                        no_args_is_help=True)
evaluate_app = typer.Typer(help="Evaluate a task's model on a standard dataset layout.", no_args_is_help=True)
app.add_typer(train_app, name="train")
app.add_typer(evaluate_app, name="evaluate")


def _print_version(value: bool) -> None:
    if value:
        from cvkit import __version__

        print(f"cvkit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks of internal errors."),
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """cvkit: research-grade computer-vision models on your own files."""
    STATE["debug"] = debug


def task_modules() -> list:
    """The CLI modules of the tasks: every module of this package that declares `TASK` (no list to edit)."""
    found = []
    for info in pkgutil.iter_modules([os.path.dirname(__file__)]):
        if info.name.startswith("_") or info.name in ("main", "models", "checks"):
            continue
        module = importlib.import_module(f"{__package__}.{info.name}")
        if hasattr(module, "TASK"):
            found.append(module)
    return sorted(found, key=lambda m: m.TASK)


for task in task_modules():
    task.register(app, train_app, evaluate_app)
models.register(app)
checks.register(app)


def main() -> None:
    """Console-script entry point with DESIGN.md's exit codes."""
    install_signal_handlers()
    sys.exit(run_guarded(lambda: app(standalone_mode=False)))


if __name__ == "__main__":
    main()
