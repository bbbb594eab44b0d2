"""parse-table's shared options: --device reaches the model (main, evaluate and train commands; no CUDA needed:
a mocked device resolution hands out torch's "meta" device), and `train parse-table --nproc` trains data-parallel."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import cvkit.device
from cvkit.parse_table import registry
from cvkit.parse_table import train as train_mod
from tests.cli.helpers import cli
from tests.robustness import files as F

META = torch.device("meta")


@pytest.fixture
def meta_for_cuda1(monkeypatch):
    """`--device cuda:1` resolves to the meta device (everything else to the CPU)."""
    monkeypatch.setattr(cvkit.device, "select_device", lambda name: META if name == "cuda:1" else torch.device("cpu"))


@pytest.fixture
def built_on(monkeypatch) -> list:
    """The devices build_parser was asked for; the parser itself is built on the CPU so that the command runs."""
    real, seen = registry.build_parser, []

    def spy(model: str = "graph-lite", device=None):
        seen.append(device)
        return real(model, "cpu")

    monkeypatch.setattr(registry, "build_parser", spy)
    return seen


def test_parse_table_device_reaches_the_model(tmp_path: Path, meta_for_cuda1, built_on: list) -> None:
    F.pdf()(tmp_path / "t.pdf")
    assert cli("parse-table", tmp_path / "t.pdf", "--no-detect", "-o", tmp_path / "t.json", "-q",
               "--device", "cuda:1")[0] == 0
    assert cli("parse-table", tmp_path / "t.pdf", "--no-detect", "-o", tmp_path / "u.json", "-q")[0] == 0
    assert built_on == [META, torch.device("cpu")]
    assert json.loads((tmp_path / "t.json").read_text()) == json.loads((tmp_path / "u.json").read_text())


def test_evaluate_device_reaches_the_model(tmp_path: Path, meta_for_cuda1, built_on: list) -> None:
    F.pdf()(tmp_path / "icdar" / "t.pdf")
    F.reg_xml()(tmp_path / "icdar" / "t-reg.xml")
    F.str_xml()(tmp_path / "icdar" / "t-str.xml")
    code, out = cli("evaluate", "parse-table", "--dataset", "icdar2013", "--root", tmp_path / "icdar", "--json",
                    "-q", "--device", "cuda:1")
    assert code == 0 and json.loads(out)["dataset"] == "icdar2013" and built_on == [META]


def test_train_device_reaches_the_recipe(tmp_path: Path, meta_for_cuda1, monkeypatch) -> None:
    seen = []
    monkeypatch.setattr(train_mod, "train_graph_lite", lambda out, **kw: seen.append(kw) or Path(out))
    assert cli("train", "parse-table", "--steps", "3", "-o", tmp_path / "gl", "-q", "--device", "cuda:1")[0] == 0
    assert len(seen) == 1 and seen[0]["device"] == META and seen[0]["max_steps"] == 3


@pytest.mark.slow
def test_train_nproc_2_trains_data_parallel_and_the_card_says_so(tmp_path: Path) -> None:
    out = tmp_path / "gl"
    assert cli("train", "parse-table", "--steps", "2", "--nproc", "2", "-o", out, "-q", "--device", "cpu")[0] == 0
    card = json.loads((out / "card.json").read_text())
    assert card["training"]["world_size"] == 2 and card["training"]["steps"] == 2
    assert card["training"]["command"].endswith("--nproc 2")


def test_tabstructnet_refuses_nproc(tmp_path: Path, capsys) -> None:
    (tmp_path / "scitsr").mkdir()
    code, _ = cli("train", "parse-table", "--model", "tabstructnet", "--data", f"scitsr:{tmp_path / 'scitsr'}",
                  "--nproc", "2", "-o", tmp_path / "run")
    assert code == 4 and "--nproc" in capsys.readouterr().err


def test_detector_choice_reaches_detection_and_a_bad_one_is_exit_4(tmp_path: Path) -> None:
    F.pdf()(tmp_path / "t.pdf")
    for det in ("learned", "combined", "rcnn"):
        assert cli("parse-table", tmp_path / "t.pdf", "--detector", det, "-o", tmp_path / f"{det}.json", "-q")[0] == 0
    assert cli("parse-table", tmp_path / "t.pdf", "--detector", "nope", "-o", tmp_path / "x.json", "-q")[0] == 4


@pytest.mark.parametrize(("model", "module", "trainer"), [("table-heat", "table_detector", "train_table_detector"),
                                                        ("table-rcnn", "table_rcnn", "train_table_rcnn")])
def test_page_detectors_train_on_synthetic_pages_only(tmp_path: Path, monkeypatch, model, module, trainer) -> None:
    import importlib

    seen = []
    monkeypatch.setattr(importlib.import_module(f"cvkit.parse_table.{module}"), trainer,
                        lambda out, **kw: seen.append(kw) or Path(out))
    assert cli("train", "parse-table", "--model", model, "--data", "synthetic", "-o", tmp_path / "t")[0] == 4
    assert cli("train", "parse-table", "--model", model, "--data", "synthetic-pages", "--steps", "3", "-o",
               tmp_path / "t", "-q")[0] == 0
    assert len(seen) == 1 and seen[0]["steps"] == 3 and model in seen[0]["command"]
