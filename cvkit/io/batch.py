"""The batch runner every task's main command uses: inputs -> per-item work -> mirrored outputs.

`discover` turns what the user typed (a file, a folder, or a glob pattern) into items; `mirrored` maps an item to
its output under `-o DIR` (the input tree is mirrored); `run_batch` checks every output path before any work,
skips finished items with `skip_existing`, runs the task's "run one item" function, prints one JSON Lines record
per item on stdout when asked, shows progress on stderr, and collects per-item failures into one BatchError
(exit 6) at the end, so one bad file never stops a cron job. A single input (not a batch) raises its own error.
Writes inside `work` go through `cvkit.io.atomic`, so an interrupted item leaves no partial file.
"""

from __future__ import annotations

import glob
import json
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BatchError, InputError, OutputError, raise_pending
from .atomic import check_output, check_output_dir

GLOB_CHARS = set("*?[")


@dataclass(frozen=True)
class Item:
    """One input: its path and its path relative to the input root (used to mirror the tree)."""

    path: Path
    rel: Path


@dataclass(frozen=True)
class Inputs:
    """What the user gave: the items, and whether it was a batch (folder or glob) rather than one file."""

    items: list[Item]
    batch: bool
    root: Path


@dataclass
class BatchResult:
    """Per-item records of the finished items, the failures (input, message) and the skipped inputs."""

    records: list[dict] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)


def _wanted(rel: Path, suffixes: set[str]) -> bool:
    """A folder member to take: not hidden (nor inside a hidden folder), with one of the suffixes."""
    hidden = any(part.startswith(".") for part in rel.parts)
    return not hidden and (not suffixes or rel.suffix.lower() in suffixes)


def discover(source: str | Path, suffixes: Iterable[str] = (), *, what: str = "input") -> Inputs:
    """Items of a file, a folder (recursive, sorted, hidden files skipped) or a glob pattern.

    `suffixes` (lower case, with the dot) filters folder and glob members; a single file is taken as given and
    its reader judges it. InputError (exit 3) names the path when nothing usable is there."""
    wanted = {s.lower() for s in suffixes}
    path = Path(source)
    if path.is_file():
        return Inputs([Item(path, Path(path.name))], False, path.parent)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if _wanted(p.relative_to(path), wanted) and p.is_file())
        if not files:
            kinds = f" ({', '.join(sorted(wanted))})" if wanted else ""
            raise InputError(path, f"folder holds no {what} files{kinds}")
        return Inputs([Item(p, p.relative_to(path)) for p in files], True, path)
    text = str(source)
    if GLOB_CHARS & set(text):
        matches = sorted(Path(p) for p in glob.glob(text, recursive=True))
        files = [p for p in matches if p.is_file() and (not wanted or p.suffix.lower() in wanted)]
        if not files:
            raise InputError(text, f"pattern matches no {what} files")
        root = _glob_root(text)
        return Inputs([Item(p, _relative(p, root)) for p in files], True, root)
    if path.exists():
        raise InputError(path, "not a regular file or folder")
    raise InputError(path, "no such file or folder")


def _glob_root(pattern: str) -> Path:
    """The folder part of a glob pattern before its first wildcard (outputs mirror the tree below it)."""
    parts = Path(pattern).parts
    fixed = parts[: next(i for i, p in enumerate(parts) if GLOB_CHARS & set(p))]
    return Path(*fixed) if fixed else Path(".")


def _relative(path: Path, root: Path) -> Path:
    try:
        return path.relative_to(root)
    except ValueError:
        return Path(path.name)


def mirrored(item: Item, out_dir: Path, suffix: str) -> Path:
    """The output of `item` under `out_dir`: the input's relative path with `suffix` ('.json', '.xml', ...)."""
    return out_dir / item.rel.with_suffix(suffix)


def check_targets(targets: Iterable[Path], inputs: Sequence[Path]) -> None:
    """Every output path is writable and none is an input (before any work starts): each folder is probed once
    and the inputs are resolved once, so a batch of many items costs little."""
    resolved_inputs = {Path(p).resolve() for p in inputs}
    probed: set[Path] = set()
    for target in map(Path, targets):
        if target.parent not in probed:
            check_output(target)
            probed.add(target.parent)
        elif target.is_dir():
            raise OutputError(f"{target}: is a folder; give a file name")
        if target.resolve() in resolved_inputs:
            raise OutputError(f"{target}: output path is the same as an input file")


def run_batch(
    inputs: Inputs,
    work: Callable[[Item], dict],
    targets: Callable[[Item], Sequence[Path]],
    *,
    out_dir: Path | None = None,
    skip_existing: bool = False,
    json_out: bool = False,
    quiet: bool = False,
    describe: Callable[[Item, dict], str] | None = None,
    stream=None,
    executor: str | None = None,
    ray_address: str | None = None,
    workers: int | None = None,
) -> BatchResult:
    """Run `work(item) -> record` over the inputs; see the module docstring for the contract.

    `targets(item)` lists the files `work` writes for the item (checked up front, used by `skip_existing`);
    `describe(item, record)` is the line shown on stderr per finished item (quiet: none). `executor` is local
    (this process) or ray (`cvkit.io.executors`: one resident copy of `work` per worker; same outputs)."""
    from rich.console import Console
    from rich.markup import escape

    from .executors import executor_name, run_local, run_ray

    console = Console(stderr=True, highlight=False)
    stream = stream or sys.stdout
    if out_dir is not None:
        check_output_dir(out_dir)
    input_paths = [i.path for i in inputs.items]
    plan = [(item, list(targets(item))) for item in inputs.items]
    check_targets((t for _, outs in plan for t in outs), input_paths)
    result = BatchResult()
    todo = []
    for item, outs in plan:
        if skip_existing and outs and all(t.exists() for t in outs):
            result.skipped.append(item.path)
        else:
            todo.append(item)
    if result.skipped and not quiet:
        console.print(f"skipped {len(result.skipped)} item(s) whose outputs exist (--skip-existing)")

    def timed(item: Item) -> dict:
        start = time.perf_counter()
        record = work(item)
        return {**record, "seconds": record.get("seconds", round(time.perf_counter() - start, 3))}

    if not inputs.batch:  # one input: its own error and exit code, never exit 6
        outcomes = ((item, timed(item), None) for item in todo)
    elif executor_name(executor) == "ray":
        outcomes = run_ray(timed, todo, targets, address=ray_address, workers=workers)
    else:
        outcomes = run_local(timed, todo)
    for n, (item, record, error) in enumerate(outcomes, 1):
        if error is not None:
            result.failures.append((str(item.path), error))
            console.print(f"[red]failed[/] ({n}/{len(todo)}) {escape(error)}", soft_wrap=True)
        else:
            record = {"input": str(item.path), **record}
            result.records.append(record)
            if json_out:
                stream.write(json.dumps(record) + "\n")
                stream.flush()
            if not quiet and describe is not None:
                prefix = f"({n}/{len(todo)}) " if inputs.batch else ""
                console.print(prefix + escape(describe(item, record)), soft_wrap=True)
        raise_pending()  # stop at the item boundary after a signal, also one whose Interrupted a finalizer swallowed
    if result.failures:
        raise BatchError(result.failures)
    return result
