"""A throw-away task registered from this test module: listed by `cvkit models`, resolved by name and by path,
built, and run through the batch runner, without touching any shared file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from cvkit import registry
from cvkit.assets import save_asset
from cvkit.errors import BatchError, ModelError
from cvkit.io.batch import discover, mirrored, run_batch

TASK = "count-words"


class Counter:
    """The throw-away predictor: counts words, scaled by a weight from its asset."""

    def __init__(self, name: str, scale: float) -> None:
        self.name = name
        self.scale = scale

    def predict(self, text: str) -> float:
        return self.scale * len(text.split())


@pytest.fixture
def task():
    registry.register_task(TASK, default_model="plain", headline_metric="accuracy",
                           checks=(("always", lambda: "fine"),))

    @registry.register_model(TASK, "plain", description="counts words")
    def _plain(device: torch.device, asset, **options) -> Counter:
        return Counter("plain", 1.0)

    @registry.register_model(TASK, "scaled", description="counts words, scaled", needs_weights=True,
                             train_hint="Train it with `cvkit train count-words`", architecture="scaled")
    def _scaled(device: torch.device, asset, **options) -> Counter:
        return Counter(asset.name, float(asset.state_dict()["scale"]))

    yield TASK
    registry.unregister_task(TASK)


def test_listed_resolved_and_built(task, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cvkit.checks import run_checks
    from cvkit_cli.main import app

    assert registry.get_task(task).default_model == "plain"
    assert set(registry.models(task)) == {"plain", "scaled"}
    assert registry.build_model(task, "default").name == "plain"
    with pytest.raises(ModelError, match="no shipped weights.*cvkit train count-words"):
        registry.resolve_model(task, "scaled")
    with pytest.raises(ModelError, match="unknown model 'nope'"):
        registry.resolve_model(task, "nope")

    folder = tmp_path / "mine"
    save_asset(folder, {"scale": torch.tensor(2.0)}, {"name": "mine", "task": task, "architecture": "scaled"})
    for given in (folder, folder / "weights.safetensors"):
        counter = registry.build_model(task, str(given))
        assert counter.name == "mine" and counter.predict("a b c") == 6.0
    (folder / "weights.safetensors").write_bytes(b"changed")
    with pytest.raises(ModelError, match="sha256"):
        registry.resolve_model(task, str(folder))

    result = CliRunner().invoke(app, ["models", task, "--json"])
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert {r["name"] for r in rows} == {"plain", "scaled"} and all(r["task"] == task for r in rows)
    assert [r["name"] for r in rows if r["default"]] == ["plain"]
    assert {"check": f"{task}: always", "ok": True, "detail": "fine"} in run_checks()


def test_batch_runner_mirrors_skips_and_collects_failures(task, tmp_path: Path) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("one two")
    (src / "sub" / "b.txt").write_text("three")
    (src / "bad.txt").write_bytes(b"\xff\xfe")
    (src / ".hidden.txt").write_text("never read")
    counter = registry.build_model(task)
    inputs = discover(src, {".txt"})
    assert inputs.batch and [i.rel.as_posix() for i in inputs.items] == ["a.txt", "bad.txt", "sub/b.txt"]

    def work(item):
        from cvkit.errors import InputError
        from cvkit.io.atomic import write_text_atomic

        try:
            text = item.path.read_text()
        except UnicodeDecodeError:
            raise InputError(item.path, "not UTF-8 text") from None
        write_text_atomic(mirrored(item, out, ".json"), json.dumps({"words": counter.predict(text)}))
        return {"words": counter.predict(text)}

    lines: list[str] = []

    class Sink:
        def write(self, s: str) -> None:
            lines.append(s)

        def flush(self) -> None:
            pass

    with pytest.raises(BatchError) as err:
        run_batch(inputs, work, lambda i: [mirrored(i, out, ".json")], out_dir=out, json_out=True, quiet=True,
                  stream=Sink())
    assert err.value.exit_code == 6 and "bad.txt: not UTF-8 text" in str(err.value)
    assert json.loads((out / "sub" / "b.json").read_text()) == {"words": 1.0}
    assert [json.loads(line)["words"] for line in lines] == [2.0, 1.0]
    assert not list(out.rglob(".*part*"))

    (src / "bad.txt").unlink()
    result = run_batch(discover(src, {".txt"}), work, lambda i: [mirrored(i, out, ".json")], out_dir=out,
                       skip_existing=True, quiet=True)
    assert result.records == [] and len(result.skipped) == 2


def test_discover_file_glob_and_errors(tmp_path: Path) -> None:
    from cvkit.errors import InputError, OutputError

    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "a.png").write_bytes(b"")
    (tmp_path / "x" / "b.jpg").write_bytes(b"")
    one = discover(tmp_path / "x" / "a.png", {".png"})
    assert not one.batch and one.items[0].rel == Path("a.png")
    glob = discover(str(tmp_path / "x" / "*.jpg"), {".jpg"})
    assert glob.batch and [i.rel for i in glob.items] == [Path("b.jpg")]
    with pytest.raises(InputError, match="no such file or folder"):
        discover(tmp_path / "missing.png")
    with pytest.raises(InputError, match="holds no"):
        discover(tmp_path / "x", {".mp4"})
    with pytest.raises(OutputError, match="output path is the same as an input"):
        run_batch(one, lambda i: {}, lambda i: [i.path], quiet=True)
    with pytest.raises(OutputError, match="is a folder"):
        run_batch(one, lambda i: {}, lambda i: [tmp_path / "x"], quiet=True)
