"""`cvkit train reid-cluster --minutes M`: the shared wall-clock budget caps the ADTC rounds."""

from __future__ import annotations

import json

from cvkit.reid_cluster.data import synthetic_pedestrians, write_crop_folder
from tests.robustness.harness import invoke


def test_minutes_budget_stops_the_rounds(tmp_path) -> None:
    images, ids, cams = synthetic_pedestrians(3, 4, (128, 64), n_cameras=1, seed=0)
    write_crop_folder(images, ids, cams, tmp_path / "crops")
    r = invoke(["train", "reid-cluster", "--data", str(tmp_path / "crops"), "--model", "lite0-imagenet",
                "--rounds", "100000", "--epochs", "1", "--clusters", "3", "--p", "3", "--k", "3", "--minutes", "0.01",
                "--threads", "1", "--device", "cpu", "-o", str(tmp_path / "run")])
    assert r.code == 0, r.stderr
    assert "--minutes 0.01 spent after" in r.stderr
    card = json.loads((tmp_path / "run" / "card.json").read_text())
    assert card["training"]["adapt"]["minutes"] == 0.01 and card["training"]["adapt"]["rounds"] == 100000
