"""Every example command in README.md and in every command's --help runs and exits 0 (doc-test style).

The examples are extracted from the documents themselves (README ```bash blocks; the "Examples:" section of
each --help), so an edited or new example without a runnable set-up here fails `test_every_example_is_covered`.
Each example runs in a fresh folder holding tiny generated inputs under the names the example uses, in this
process (no interpreter start). Where an example names data a user has (a dataset root, ../shared/data), the
set-up generates a tiny folder in the same layout and the path is substituted; training examples run with their
step budget cut to a couple of steps (`subs`), and the lite track recipe scores its card on 2 clips, not 50
(`patch`). A pipe (`| jq ...`) is run with the real `jq` when installed,
else stdout must be JSON Lines. Examples that cannot run offline are in NOT_RUNNABLE with the reason.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.docs.setups import Ex
from tests.robustness.harness import invoke

ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------------------------------------ extraction
def readme_examples() -> list[str]:
    """`cvkit ...` lines of the README's ```bash blocks."""
    out, in_block = [], False
    for line in (ROOT / "README.md").read_text().splitlines():
        if line.startswith("```"):
            in_block = line.strip() == "```bash" if not in_block else False
            continue
        if in_block and line.strip().startswith("cvkit "):
            out.append(line.strip())
    return out


def help_examples() -> list[str]:
    """The lines after "Examples:" of every command's help text (backslash continuations joined)."""
    import typer.main

    from cvkit_cli.main import app

    out: list[str] = []

    def walk(cmd) -> None:
        text = cmd.help or ""
        if "Examples:" in text:
            body = text.split("Examples:", 1)[1]
            joined = re.sub(r"\\\n\s*", "", body)
            out.extend(ln.strip() for ln in joined.splitlines() if ln.strip().startswith("cvkit "))
        for sub in getattr(cmd, "commands", {}).values():
            walk(sub)

    walk(typer.main.get_command(app))
    return out


def all_examples() -> list[str]:
    """README and --help examples, each once, in document order."""
    return list(dict.fromkeys(readme_examples() + help_examples()))


def split_example(example: str) -> tuple[list[str], str | None]:
    """argv after `cvkit` (comment dropped) and the pipe's command, if any."""
    text = re.sub(r"\s+#\s.*$", "", example)
    cmd, _, pipe = text.partition(" | ")
    return shlex.split(cmd)[1:], pipe.strip() or None


# ------------------------------------------------------------------------------------------------ set-ups
def _collect() -> tuple[dict, dict]:
    """EXAMPLES and NOT_RUNNABLE of every `tests/docs/examples_*.py` (one module per task)."""
    import importlib
    import pkgutil

    examples, not_runnable = {}, {}
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name.startswith("examples_"):
            module = importlib.import_module(f"tests.docs.{info.name}")
            examples.update(module.EXAMPLES)
            not_runnable.update(module.NOT_RUNNABLE)
    return examples, not_runnable


EXAMPLES, NOT_RUNNABLE = _collect()


def test_every_example_is_covered() -> None:
    missing = [e for e in all_examples() if e not in EXAMPLES and e not in NOT_RUNNABLE]
    assert not missing, "examples without a set-up in tests/docs/test_examples.py:\n" + "\n".join(missing)
    stale = [e for e in [*EXAMPLES, *NOT_RUNNABLE] if e not in all_examples()]
    assert not stale, "set-ups for examples no longer in the docs:\n" + "\n".join(stale)
    assert len(NOT_RUNNABLE) <= 5


def _params():
    for example in all_examples():
        ex = EXAMPLES.get(example)
        if ex is None:
            continue
        yield pytest.param(example, ex, id=example[:80], marks=[pytest.mark.slow] if ex.slow else [])


@pytest.mark.parametrize(("example", "ex"), list(_params()))
def test_example_runs(example: str, ex: Ex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = example
    for old, new in ex.subs:
        assert old in text, f"substitution {old!r} not in the example"
        text = text.replace(old, new)
    argv, pipe = split_example(text)
    for rel, writer in ex.files.items():
        writer(tmp_path / rel)
    if ex.prepare is not None:
        ex.prepare(tmp_path)
    if ex.patch is not None:
        ex.patch(monkeypatch)
    r = invoke(argv, cwd=tmp_path)
    assert r.code == 0, f"{example}\nexit {r.code}\n{r.stderr[-3000:]}"
    assert "Traceback" not in r.stderr
    if pipe is not None or "--json" in argv:
        lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
        assert lines, f"{example}: nothing on stdout"
        for ln in lines:
            json.loads(ln)
    if pipe is not None and pipe.startswith("jq ") and shutil.which("jq"):
        jq = subprocess.run(shlex.split(pipe), input=r.stdout, capture_output=True, text=True, timeout=30)
        assert jq.returncode == 0 and jq.stdout.strip(), f"{example}: jq failed: {jq.stderr}"
