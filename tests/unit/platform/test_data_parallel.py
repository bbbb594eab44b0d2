"""Data-parallel training (torch.distributed, gloo on CPU): 2 processes give the 1-process loss curve."""

from __future__ import annotations

import json

import pytest
from safetensors.torch import load_file

from cvkit.training import Distributed, run_data_parallel


def _train(dist: Distributed, out_dir: str, steps: int) -> list[float]:
    from cvkit.parse_table.train import train_graph_lite

    history: list[float] = []
    train_graph_lite(out_dir, seed=3, batch=4, max_steps=steps, log=lambda msg: None, dist=dist, history=history)
    return history


@pytest.mark.slow
def test_two_gloo_processes_follow_the_single_process_loss_curve(tmp_path) -> None:
    one = _train(Distributed(), str(tmp_path / "one"), 4)
    two = run_data_parallel(2, _train, str(tmp_path / "two"), 4)
    assert len(one) == len(two) == 4
    assert two == pytest.approx(one, rel=1e-4, abs=1e-5)
    a, b = (load_file(str(tmp_path / run / "weights.safetensors")) for run in ("one", "two"))
    assert a.keys() == b.keys() and all(a[k].shape == b[k].shape for k in a)  # same layout: no "module." prefix
    assert json.loads((tmp_path / "two" / "card.json").read_text())["training"]["world_size"] == 2
