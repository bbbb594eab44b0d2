"""Shared CLI pieces: common options, the stderr console, and error -> exit code handling."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console

from cvkit.errors import CvkitError

err_console = Console(stderr=True, highlight=False)
STATE: dict[str, Any] = {"debug": False}

DeviceOpt = Annotated[str, typer.Option("--device", help="auto (CUDA when available), cpu or cuda[:N].")]
ThreadsOpt = Annotated[
    int, typer.Option("--threads", min=0, help="CPU threads for torch/OpenCV; 0 = all cores of this process.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON Lines on stdout (one object per record).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or tables on stderr.")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed (training, augmentation).")]


def run_guarded(fn: Callable[[], Any]) -> int:
    """Run the app: CvkitError -> its exit code with a one-line message; Ctrl-C -> 130; bugs -> 1."""
    from typer.exceptions import TyperException

    try:
        rv = fn()
        return rv if isinstance(rv, int) else 0
    except typer.Exit as e:
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
        err_console.print(f"[bold red]error:[/] {e}", markup=True, soft_wrap=True)
        return e.exit_code
    except BrokenPipeError:  # `cvkit ... | head`
        sys.stderr.close()
        return 0
    except Exception as e:  # noqa: BLE001 - last-resort handler of the CLI
        if STATE["debug"]:
            traceback.print_exc()
        err_console.print(
            f"[bold red]internal error:[/] {type(e).__name__}: {e} (rerun with --debug for the traceback)",
            markup=True,
            soft_wrap=True,
        )
        return 1
