"""A signal whose Interrupted is raised inside a finalizer (where Python prints and drops it, as when the garbage
collector releases a PDF page) still stops a batch at the next item boundary and ends the command as interrupted."""

from __future__ import annotations

import io
import signal
import weakref
from pathlib import Path

import pytest

from cvkit.errors import Interrupted, clear_pending, interrupt
from cvkit.io.batch import discover, run_batch


class _Held:
    """An object whose finalizer receives the signal."""


def _signal_in_a_finalizer() -> None:
    obj = _Held()
    weakref.finalize(obj, interrupt, signal.SIGHUP)
    del obj  # the finalizer runs here and its Interrupted is printed and dropped


@pytest.fixture(autouse=True)
def _no_pending_signal():
    clear_pending()
    yield
    clear_pending()


def test_batch_stops_after_the_item_whose_finalizer_took_the_signal(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.txt").write_text(name)
    done = []

    def work(item) -> dict:
        done.append(item.path.name)
        if len(done) == 1:
            _signal_in_a_finalizer()
        return {}

    out = io.StringIO()
    with pytest.raises(Interrupted) as e:
        run_batch(discover(tmp_path, {".txt"}), work, lambda i: [], json_out=True, quiet=True, stream=out)
    assert e.value.exit_code == 129
    assert done == ["a.txt"] and out.getvalue().count("\n") == 1  # the finished item is still reported


def test_a_single_command_ends_interrupted(capsys) -> None:
    from cvkit_cli._options import run_guarded

    assert run_guarded(lambda: _signal_in_a_finalizer()) == 129
    assert run_guarded(lambda: 0) == 0  # a later command in the same process starts clean
