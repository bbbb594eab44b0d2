"""Dataset-layout readers: PubTabNet structure tokens, data specs, the ICDAR-2013 folder layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from cvkit.errors import ArgumentError, InputError
from cvkit.parse_table.data import parse_data_spec, pubtabnet_cells
from cvkit.parse_table.evaluate import icdar2013_items, pubtabnet_html
from cvkit.parse_table.metrics import teds

TOKENS = ["<thead>", "<tr>", "<td>", "</td>", "<td", ' colspan="2"', ">", "</td>", "</tr>", "</thead>", "<tbody>",
          "<tr>", "<td", ' rowspan="2"', ">", "</td>", "<td>", "</td>", "<td>", "</td>", "</tr>", "<tr>", "<td>",
          "</td>", "<td>", "</td>", "</tr>", "</tbody>"]
CELLS = [{"tokens": []}, {"tokens": list("Sales"), "bbox": [40, 0, 80, 10]}, {"tokens": list("North")},
         {"tokens": list("1")}, {"tokens": list("2")}, {"tokens": ["<b>", "3", "</b>"]}, {"tokens": list("4")}]


def test_pubtabnet_cells_follow_the_html_table_model() -> None:
    cells = pubtabnet_cells(TOKENS, CELLS)
    got = [(c.sr, c.er, c.sc, c.ec, c.text) for c in cells]
    assert got == [(0, 0, 0, 0, ""), (0, 0, 1, 2, "Sales"), (1, 2, 0, 0, "North"), (1, 1, 1, 1, "1"),
                   (1, 1, 2, 2, "2"), (2, 2, 1, 1, "3"), (2, 2, 2, 2, "4")]
    assert cells[1].bbox == (40, 0, 80, 10) and cells[0].bbox is None


def test_pubtabnet_html_is_teds_ready() -> None:
    html = pubtabnet_html({"structure": {"tokens": TOKENS}, "cells": CELLS})
    assert '<td colspan="2">Sales</td>' in html and "<b>3</b>" in html
    assert teds(html, html) == 1.0


def test_data_spec_parsing(tmp_path: Path) -> None:
    assert parse_data_spec("synthetic") == ("synthetic", None)
    assert parse_data_spec(f"scitsr:{tmp_path}") == ("scitsr", tmp_path)
    for bad in ("coco:/x", "scitsr:", f"pubtabnet:{tmp_path / 'missing'}"):
        with pytest.raises(ArgumentError):
            parse_data_spec(bad)


def test_icdar2013_layout_needs_complete_triples(tmp_path: Path) -> None:
    (tmp_path / "a-str.xml").write_text("<document/>")
    with pytest.raises(InputError):
        icdar2013_items(tmp_path)
    (tmp_path / "a.pdf").write_bytes(b"%PDF")
    (tmp_path / "a-reg.xml").write_text("<document/>")
    assert [p.name for p in icdar2013_items(tmp_path)[0]] == ["a.pdf", "a-reg.xml", "a-str.xml"]


@pytest.mark.slow
def test_tabstructnet_recipe_runs_on_a_pubtabnet_layout(tmp_path: Path) -> None:
    import json

    import cv2
    import numpy as np

    from cvkit.assets import asset_from_path
    from cvkit.parse_table.train import train_tabstructnet

    (tmp_path / "train").mkdir()
    img = np.full((96, 160, 3), 255, np.uint8)
    boxes = [[10, 10, 60, 25], [90, 10, 140, 25], [10, 50, 60, 65], [90, 50, 140, 65]]
    for x1, y1, x2, y2 in boxes:
        cv2.rectangle(img, (x1, y1), (x2, y2), (0, 0, 0), -1)
    cv2.imwrite(str(tmp_path / "train" / "t.png"), img)
    tokens = ["<tbody>", "<tr>", "<td>", "</td>", "<td>", "</td>", "</tr>", "<tr>", "<td>", "</td>", "<td>", "</td>",
              "</tr>", "</tbody>"]
    ann = {"filename": "t.png", "split": "train", "html": {"structure": {"tokens": tokens},
                                                           "cells": [{"tokens": ["x"], "bbox": b} for b in boxes]}}
    (tmp_path / "PubTabNet_2.0.0.jsonl").write_text(json.dumps(ann) + "\n")
    path = train_tabstructnet(f"pubtabnet:{tmp_path}", tmp_path / "out", epochs=1, backbone="tiny", image_size=128,
                              roi_train=32, max_steps=1, log=lambda s: None, backbone_width=8, fpn_channels=16,
                              graph_k=4)
    asset = asset_from_path(path)
    assert asset.card["architecture"] == "tabstructnet" and asset.card["training"]["steps"] == 1
    assert asset.card["config"]["backbone"] == "tiny"
    from cvkit.parse_table.pipeline import ParseOptions, parse_path
    from cvkit.parse_table.registry import build_parser

    parser = build_parser(str(path))  # --model PATH: the card names the architecture
    assert parser.name == "tabstructnet"
    tables = parse_path(tmp_path / "train" / "t.png", parser, ParseOptions(ocr="none", detect=False))  # a table crop
    assert len(tables) == 1
