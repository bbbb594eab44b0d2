"""Every corpus case (corpus.py) through the real CLI, in this process: exit code, message, no partial output."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from .corpus import CASES, Case
from .harness import invoke

OUTPUT_OPTIONS = ("-o", "--output", "--boxes", "--overlay", "--range-image", "--out")
NATIVE_NOISE = re.compile(r"@ 0x[0-9a-f]+\]|\[ ?WARN|\[ ?ERROR|libpng|Corrupt JPEG|Premature end")


def _params():
    for c in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else []
        yield pytest.param(c, id=c.id, marks=marks)


def _fill(text: str, d: Path) -> str:
    return text.replace("{d}", str(d))


def _build(case: Case, d: Path) -> None:
    d.mkdir(parents=True, exist_ok=True)
    for rel, writer in case.inputs.items():
        writer(d / rel)
    if case.prepare is not None:
        case.prepare(d)


def _outputs(argv: list[str]) -> list[Path]:
    return [Path(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a in OUTPUT_OPTIONS and argv[i + 1] != "-"]


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 150
    assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"


@pytest.mark.parametrize("case", list(_params()))
def test_case(case: Case, tmp_path: Path) -> None:
    d = tmp_path / "case"
    _build(case, d)
    argv = [_fill(a, d) for a in case.argv]
    new_outputs = [p for p in _outputs(argv) if not p.exists()]
    before = {p for p in d.rglob("*")}
    r = invoke(argv, cwd=d)
    where = f"cvkit {' '.join(argv)}\n--- exit {r.code}\n--- stderr:\n{r.stderr}\n--- stdout:\n{r.stdout[:2000]}"
    assert r.code == case.code, where
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, where
    assert not NATIVE_NOISE.search(r.stderr), "native library log lines on stderr\n" + where
    left = [p for p in d.rglob("*") if ".part" in p.name and p not in before]
    assert not left, f"temp files left behind: {left}\n{where}"
    names = case.names
    if names is None:
        names = [str(d / next(iter(case.inputs)))] if case.code == 3 and case.inputs else []
    for name in names:
        assert _fill(name, d) in r.stderr, f"message does not name {_fill(name, d)}\n{where}"
    if case.code not in (0, 6):
        made = [p for p in new_outputs if p.exists() and not (p.is_dir() and not any(p.iterdir()))]
        assert not made, f"a failed run left outputs {made}\n{where}"
    for p in case.present:
        assert Path(_fill(p, d)).is_file(), f"missing output {_fill(p, d)}\n{where}"
    for p in case.absent:
        assert not Path(_fill(p, d)).exists(), f"unexpected output {_fill(p, d)}\n{where}"
    if case.stdout_json:
        lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
        assert lines, where
        for ln in lines:
            json.loads(ln)
