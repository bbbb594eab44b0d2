"""The shared CLI rendering (cvkit_cli._render): JSON Lines on stdout, tables and log lines on stderr."""

from __future__ import annotations

import json

import pytest

from cvkit_cli._options import err_console
from cvkit_cli._render import cell, print_grid, print_json, print_metrics, stderr_log


def test_print_json_writes_one_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    print_json({"a": 1}, {"b": [2, 3]})
    print_json()  # nothing to print: nothing written
    out = capsys.readouterr().out
    assert [json.loads(line) for line in out.splitlines()] == [{"a": 1}, {"b": [2, 3]}]


def test_cells_format_floats_only() -> None:
    assert cell(0.123456) == "0.1235"
    assert cell(0.5, 2) == "0.50"
    assert cell(3) == "3"
    assert cell(None) == "None"


def test_tables_print_names_and_values() -> None:
    with err_console.capture() as cap:
        print_metrics("scores", [("mAP", 0.51234), ("queries", 7)])
        print_grid("per tracker", "tracker", {"a": {"auc": 0.5, "frames": 10}, "b": {"auc": 0.25}}, ["auc", "frames"])
    text = cap.get()
    for expected in ("scores", "metric", "mAP", "0.5123", "queries", "7", "tracker", "0.500", "0.250", "10"):
        assert expected in text


def test_stderr_log_is_none_when_quiet() -> None:
    assert stderr_log(True) is None
    log = stderr_log(False, markup=False)
    assert log is not None
    with err_console.capture() as cap:
        log("[bold]kept as typed")
    assert "[bold]kept as typed" in cap.get()
