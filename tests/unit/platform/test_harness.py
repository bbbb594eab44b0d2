"""The shared evaluation and training harnesses on a throw-away problem."""

from __future__ import annotations

import json
import sys

import pytest
import torch

from cvkit.errors import ArgumentError
from cvkit.evaluation import MeanOf, run_on_dataset
from cvkit.training import Budget, ModelCard, save_model, seed_everything, train_loop, training_command


def test_run_on_dataset_feeds_the_evaluator_and_times_the_model() -> None:
    items = [(x, 2 * x) for x in range(5)]
    out = run_on_dataset(items, lambda item: 2 * item[0] + (item[0] == 4), MeanOf(lambda i, p: p == i[1], "acc"),
                         quiet=True)
    assert out["acc"] == pytest.approx(0.8) and out["per_item"] == [1, 1, 1, 1, 0]
    assert out["items"] == 5 and out["seconds"] >= 0


def test_budget_needs_steps_or_minutes() -> None:
    with pytest.raises(ArgumentError, match="--steps N or --minutes M"):
        Budget()
    with pytest.raises(ArgumentError):
        Budget(steps=0)
    assert Budget(steps=3).spent(3, 0.0) and not Budget(steps=3).spent(2, 1e9)
    assert Budget(minutes=0.5).spent(1, 30.0) and not Budget(minutes=0.5).spent(10**6, 29.0)


def test_train_loop_fits_a_line_and_the_card_records_the_command(tmp_path, monkeypatch) -> None:
    seed_everything(0)
    net = torch.nn.Linear(1, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    x = torch.linspace(-1, 1, 32)[:, None]
    y = 3 * x + 1

    def step(i: int) -> dict:
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(net(x), y)
        loss.backward()
        opt.step()
        return {"loss": loss.item()}

    logged: list[dict] = []
    log = train_loop(step, Budget(steps=200), log_every=50, on_log=logged.append)
    assert log.steps == 200 and [e["step"] for e in logged] == [50, 100, 150, 200]
    assert logged[-1]["loss"] < 0.01 * logged[0]["loss"]

    monkeypatch.setattr(sys, "argv", ["cvkit", "train", "toy", "--steps", "200", "-o", "my dir"])
    assert training_command() == "cvkit train toy --steps 200 -o 'my dir'"
    card = ModelCard.for_run("toy", "toy-task", "linear", {"in": 1}, data="synthetic line", seed=0, log=log)
    save_model(tmp_path / "toy", net, card)
    saved = json.loads((tmp_path / "toy" / "card.json").read_text())
    assert saved["training"]["command"].startswith("cvkit train toy") and saved["training"]["steps"] == 200
    assert saved["params"] == 2 and len(saved["sha256"]) == 64
