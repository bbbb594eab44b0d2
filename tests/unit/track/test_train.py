"""Training recipe: balanced logistic loss, short seeded runs, saved assets and cards, real-layout data."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from cvkit.assets import asset_from_path, sha256_file
from cvkit.track.base import Tracker
from cvkit.track.siamfc.se_siamfc_lite import LAYOUTS
from cvkit.track.siamfc.train import (
    balanced_bce,
    evaluate_synthetic,
    load_trained,
    scale_pair_config,
    synthetic_aucs,
    train_command,
    train_siamfc_lite,
)
from cvkit.track.train import train_cli

from .test_data import _write_got10k

CARD_KEYS = {"name", "task", "architecture", "config", "params", "training", "metrics", "licence", "sha256"}


def test_balanced_bce_weights_positives_and_negatives_equally() -> None:
    label = torch.zeros(2, 9, 9)
    label[:, 4, 4] = 1
    weight = torch.where(label > 0, 0.5, 0.5 / 80)
    zero = balanced_bce(torch.zeros(2, 9, 9), label, weight)
    assert math.isclose(float(zero), math.log(2), rel_tol=1e-6)
    good = balanced_bce(torch.where(label > 0, 5.0, -5.0), label, weight)
    bad = balanced_bce(torch.where(label > 0, -5.0, 5.0), label, weight)
    assert float(good) < 0.01 < 4 < float(bad)


def test_train_command_is_the_cli_line() -> None:
    assert train_command("sesiamfc-lite", "synthetic", 20, 0) == \
        "cvkit train track --model sesiamfc-lite --data synthetic --minutes 20 --seed 0"
    assert train_command("siamfc-lite-plain", "synthetic", 2.5, 3).endswith("--minutes 2.5 --seed 3")
    assert train_command("siamfc-lite-plain", "synthetic", 1, 0, 1600, 0.1, 0.5) == (
        "python experiments/track/train_lite_variant.py --model siamfc-lite-plain --data synthetic --steps 1600 "
        "--seed 0 --scale-label 0.1 --scale-wide 0.5")
    assert train_command("sesiamfc-lite", "synthetic", 1, 0, 1600, layout="s4").endswith("--seed 0 --layout s4")


def test_s4_layout_trains_and_its_card_rebuilds_it(tmp_path: Path) -> None:
    """`--layout s4`: trunk blocks 0-2 and strided neck layers; the card's config and trunk line say so."""
    res = train_siamfc_lite("sesiamfc-lite", "synthetic:digits-s", 1.0, 0, tmp_path / "s4", max_steps=1, batch=2,
                            pretrained=False, config=LAYOUTS["s4"])
    card = json.loads((tmp_path / "s4" / "card.json").read_text())
    assert {k: card["config"][k] for k in LAYOUTS["s4"]} == LAYOUTS["s4"]
    assert card["trunk"].startswith("EfficientNet-Lite0 blocks 0-2 (stride 4)")
    net = load_trained(tmp_path / "s4", pretrained=False)
    assert net.trunk.upto == 2 and net.config() == res.net.config()
    with pytest.raises(ValueError, match="layout"):
        train_cli("sesiamfc-lite", "synthetic", 1.0, tmp_path / "x", layout="s99")
    with pytest.raises(ValueError, match="lite recipe"):  # checked before another family's recipe runs
        train_cli("automatch-lite", "synthetic", 1.0, tmp_path / "y", layout="s4")
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_scale_label_is_off_by_default() -> None:
    """The scale-aware label is opt-in: no flags, no pair config (the default recipe)."""
    assert scale_pair_config() is None
    cfg = scale_pair_config(0.1, 0.5)
    assert cfg is not None and cfg.scale_label == 0.1 and cfg.scale_wide_frac == 0.5


def test_soft_positive_labels_give_a_finite_balanced_loss() -> None:
    """Soft (scale-aware) positives: the loss is minimal where sigmoid(logit) equals the soft label."""
    label = torch.zeros(1, 9, 9)
    label[:, 4, 4] = 0.3
    weight = torch.where(label > 0, 0.5, 0.5 / 80)
    at = torch.full((1, 9, 9), -8.0)
    losses = []
    for v in (0.1, 0.3, 0.9):
        at[:, 4, 4] = math.log(v / (1 - v))
        losses.append(float(balanced_bce(at, label, weight)))
    assert losses[1] < losses[0] and losses[1] < losses[2]


def test_unknown_model_is_rejected() -> None:
    with pytest.raises(ValueError):
        train_siamfc_lite("resnet-9000", "synthetic", 0.1, 0, None, max_steps=1)


@pytest.mark.parametrize("kind", ["sesiamfc-lite", "siamfc-lite-plain"])
def test_short_run_saves_a_loadable_asset_with_a_valid_card(kind: str, tmp_path: Path) -> None:
    seen: list[dict] = []
    res = train_siamfc_lite(kind, "synthetic", 1.0, 7, tmp_path / kind, max_steps=3, batch=2, pretrained=False,
                            callback=seen.append, log_every=1)
    assert res.steps == 3 and res.pairs == 6 and len(seen) == 3
    assert all(math.isfinite(d["loss"]) and d["lr"] > 0 for d in seen)
    card = json.loads((tmp_path / kind / "card.json").read_text())
    assert CARD_KEYS <= set(card)
    assert card["name"] == card["architecture"] == kind and card["task"] == "track" and card["licence"] == "MIT"
    assert card["sha256"] == sha256_file(tmp_path / kind / "weights.safetensors")
    assert card["training"]["command"] == f"cvkit train track --model {kind} --data synthetic --minutes 1 --seed 7"
    assert card["training"]["seed"] == 7 and card["training"]["data"] == "synthetic"
    assert card["training"]["seconds"] >= 0 and card["training"]["steps"] == 3
    assert isinstance(card["metrics"], list) and card["params"] > 0
    state = asset_from_path(tmp_path / kind).state_dict()
    assert state and not any(k.startswith("trunk.") for k in state)  # the packaged trunk is not shipped
    net = load_trained(tmp_path / kind, pretrained=False)
    for k, v in res.net.state_dict().items():
        assert torch.equal(net.state_dict()[k], v), k
    assert (tmp_path / kind / "weights.safetensors").stat().st_size < 20 * 2**20


def test_same_seed_same_weights() -> None:
    a = train_siamfc_lite("siamfc-lite-plain", "synthetic", 1.0, 3, None, max_steps=2, batch=2, pretrained=False)
    b = train_siamfc_lite("siamfc-lite-plain", "synthetic", 1.0, 3, None, max_steps=2, batch=2, pretrained=False)
    c = train_siamfc_lite("siamfc-lite-plain", "synthetic", 1.0, 4, None, max_steps=2, batch=2, pretrained=False)
    sa, sb, sc = a.net.state_dict(), b.net.state_dict(), c.net.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)


def test_wall_clock_budget_stops_the_run() -> None:
    res = train_siamfc_lite("siamfc-lite-plain", "synthetic:digits-s", 0.05, 0, None, batch=2, pretrained=False)
    assert res.steps >= 1 and res.seconds < 3 * 60 * 0.05 + 10


class _Replay(Tracker):
    """Reports given boxes frame by frame (one box list per clip, in evaluation order)."""

    def __init__(self, clips: list[np.ndarray]) -> None:
        self.clips, self.n = iter(clips), 0

    def initialize(self, frame: np.ndarray, box: tuple[float, float, float, float]) -> None:
        self.boxes, self.n = next(self.clips), 0

    def track(self, frame: np.ndarray) -> tuple[tuple[float, float, float, float], float]:
        self.n += 1
        return tuple(self.boxes[self.n]), 1.0


def test_held_out_evaluation_scores_a_perfect_and_a_lost_tracker() -> None:
    """The one synthetic-clip evaluator: exact boxes give the OTB maximum (IoU > t for 20 of the 21 thresholds) and
    no lost frame; boxes far off give 0 with every tracked frame lost; a SiamFC net's score lies between."""
    from cvkit.track.synthetic import synthetic_clip
    from cvkit.track.train import EVAL_SEED_BASE, evaluate_clips

    truth = [synthetic_clip("digits-s", EVAL_SEED_BASE + 1000 * 2 + i, 5).boxes for i in range(2)]
    perfect = evaluate_clips(_Replay(truth), "digits-s", n_clips=2, seed=2, n_frames=5)
    assert perfect["auc"] == pytest.approx(20 / 21) and perfect["frames_lost"] == 0 and perfect["frames"] == 8
    off = [b + np.array([500.0, 500.0, 0.0, 0.0]) for b in truth]
    lost = evaluate_clips(_Replay(off), "digits-s", n_clips=2, seed=2, n_frames=5)
    assert lost["auc"] == 0.0 and lost["frames_lost"] == lost["frames"] == 8
    res = train_siamfc_lite("siamfc-lite-plain", "synthetic:digits-s", 1.0, 0, None, max_steps=1, batch=2,
                            pretrained=False)
    aucs = synthetic_aucs(res.net, "digits-s", n_clips=2, seed=2, n_frames=5)
    assert evaluate_synthetic(res.net, "digits-s", n_clips=2, seed=2, n_frames=5) == pytest.approx(np.mean(aucs))
    assert all(0.0 <= a <= 20 / 21 + 1e-12 for a in aucs)


@pytest.mark.slow
def test_training_reduces_the_loss() -> None:
    res = train_siamfc_lite("siamfc-lite-plain", "synthetic:digits-s", 5.0, 0, None, max_steps=60, batch=4,
                            log_every=10)
    assert len(res.losses) == 6
    assert min(res.losses[-2:]) < res.losses[0]


def test_lite_training_reads_a_got10k_layout(tmp_path: Path) -> None:
    root, _ = _write_got10k(tmp_path / "got10k")
    res = train_siamfc_lite("siamfc-lite-plain", f"got10k:{root}", 1.0, 0, tmp_path / "asset", max_steps=2,
                            batch=2, pretrained=False)
    assert res.steps == 2
    assert json.loads((tmp_path / "asset" / "card.json").read_text())["training"]["data"] == f"got10k:{root}"


@pytest.mark.slow
def test_paper_size_sesiamfc_trains_a_step_on_a_got10k_fixture(tmp_path: Path) -> None:
    root, _ = _write_got10k(tmp_path / "got10k")
    res = train_siamfc_lite("sesiamfc", f"got10k:{root}", 1.0, 0, tmp_path / "asset", max_steps=1, batch=1,
                            device="cpu")
    assert res.steps == 1 and math.isfinite(res.losses[-1])
    card = json.loads((tmp_path / "asset" / "card.json").read_text())
    assert card["architecture"] == "sesiamfc" and card["training"]["optimizer"] == "sgd"
    assert card["training"]["pairs_config"]["stride"] == 8 and card["training"]["pairs_config"]["response_size"] == 17
    net = load_trained(tmp_path / "asset")
    assert net.connect_model.head == "corr"
