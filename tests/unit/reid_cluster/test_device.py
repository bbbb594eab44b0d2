"""`--device` of `reid-cluster`, `evaluate reid-cluster` and `train reid-cluster` reaches the ReidNet, proved
without CUDA: the device the option asks for resolves to torch's `meta` device, and the net's parameters must end
up there (the run then stops, as meta tensors hold no data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cvkit.reid_cluster.data import synthetic_pedestrians, write_crop_folder
from tests.robustness.harness import invoke


@pytest.fixture(scope="module")
def crops(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("crops")
    images, ids, cams = synthetic_pedestrians(3, 3, (128, 64), n_cameras=1, seed=0)
    write_crop_folder(images, ids, cams, d)
    return d


_small = ["--model", "lite0-imagenet", "--clusters", "3", "--p", "3", "--k", "3", "--threads", "1", "--quiet"]


@pytest.mark.parametrize("argv", [
    ["reid-cluster", "{crops}", "-o", "{tmp}/out", "--rounds", "0", "--no-html", *_small],
    ["reid-cluster", "cluster", "{crops}", "-o", "{tmp}/out", "--rounds", "1", "--epochs", "1", *_small],
    ["evaluate", "reid-cluster", "--dataset", "folder", "--root", "{crops}", "--rounds", "1", *_small[:4], "--quiet"],
    ["train", "reid-cluster", "--data", "{crops}", "--rounds", "1", "--epochs", "1", "--out", "{tmp}/run", *_small],
], ids=["cluster", "cluster-adapt", "evaluate", "train"])
def test_device_reaches_the_net(argv, crops, tmp_path, on_meta) -> None:
    asked, moved = on_meta
    r = invoke([a.format(crops=crops, tmp=tmp_path) for a in [*argv, "--device", "cuda:1"]])
    assert asked == ["cuda:1"]
    assert "ReidNet" in moved, r.stderr
    assert r.code != 0  # meta tensors hold no values: the run cannot finish, and must not pretend to
    assert not (tmp_path / "run" / "weights.safetensors").exists()


def test_recipe_trains_on_the_requested_device(monkeypatch, tmp_path, on_meta) -> None:
    """`train reid-cluster --data synthetic` (the asset recipe) builds its net on the device asked for."""
    asked, moved = on_meta
    r = invoke(["train", "reid-cluster", "--data", "synthetic", "--out", str(tmp_path / "run"), "--device", "cuda",
                "--threads", "1", "--quiet"])
    assert asked == ["cuda"] and "ReidNet" in moved and r.code != 0
