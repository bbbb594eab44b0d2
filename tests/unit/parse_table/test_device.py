"""`--device` reaches the networks: built on the device, inputs moved there (checked on torch's "meta" device,
so no CUDA is needed); line-grid is classical and has no network."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cvkit.parse_table import train as train_mod
from cvkit.parse_table.features import RuleMasks
from cvkit.parse_table.registry import build_parser
from cvkit.parse_table.tabstructnet import TabStructNet, TabStructNetParser
from cvkit.parse_table.words import Word

META = torch.device("meta")


def _grid_words() -> list[Word]:
    return [Word(10 + 50 * c, 10 + 20 * r, 40 + 50 * c, 22 + 20 * r, f"{r}{c}") for r in range(3) for c in range(3)]


def test_graph_lite_is_built_on_the_device_and_gets_its_inputs_there() -> None:
    parser = build_parser("graph-lite", META)
    assert parser.device == META and {p.device for p in parser.net.parameters()} == {META}
    seen: list[set[str]] = []
    for path in parser.net.paths.values():  # the pair classifier sees vertex features, indices and pair features
        def pairs(f, i, j, pf, pr, _seen=seen):
            _seen.append({t.device.type for t in (f, i, j, pf, pr)})
            return torch.zeros(len(i))
        path.pairs = pairs
    probs = parser.probabilities(_grid_words(), RuleMasks.empty())
    assert seen == [{"meta"}] * 3
    assert probs["row"].shape == (9, 9) and isinstance(probs["row"], np.ndarray)


def test_graph_lite_defaults_to_the_cpu() -> None:
    parser = build_parser("graph-lite")
    assert {p.device.type for p in parser.net.parameters()} == {"cpu"}


def test_tabstructnet_is_built_on_the_device_and_gets_the_image_there() -> None:
    net = TabStructNet("tiny", backbone_width=8, fpn_channels=16, graph_k=4, image_size=64, roi_train=32,
                       rpn_post_nms_test=50)
    parser = TabStructNetParser(net, device=META)
    assert {p.device for p in parser.net.parameters()} == {META}
    seen = []

    def detect(x):  # what the network returns, here on the CPU (a meta tensor has no data to copy back)
        seen.append(x.device)
        return {"boxes": torch.zeros(0, 4), "scores": torch.zeros(0), "row": torch.eye(0), "col": torch.eye(0)}

    parser.net.detect = detect
    table = parser.parse_image(np.full((40, 60, 3), 255, np.uint8), [])
    assert seen == [META] and table.cells == []


def test_line_grid_has_no_network_and_ignores_the_device() -> None:
    parser = build_parser("line-grid", META)
    assert not hasattr(parser, "net")


def test_graph_lite_training_runs_on_the_device(tmp_path, monkeypatch) -> None:
    seen = []

    class Stop(Exception):
        pass

    def graph_loss(net, g):
        seen.append((next(net.parameters()).device, g["v"].device, g["t"]["row"].device))
        raise Stop

    monkeypatch.setattr(train_mod, "graph_loss", graph_loss)
    with pytest.raises(Stop):
        train_mod.train_graph_lite(tmp_path, max_steps=1, log=lambda s: None, device=META)
    assert seen == [(META, META, META)]
