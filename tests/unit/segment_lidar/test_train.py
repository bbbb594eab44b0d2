"""The real-data recipe: heavy augmentation, the 3x3-attention small variant, LODO hooks of train()."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cvkit.segment_lidar.data import augment_heavy
from cvkit.segment_lidar.ssgv3 import CONFIGS, SqueezeSegV3, count_parameters


def _scan(n: int = 4000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    az = rng.uniform(-np.pi, np.pi, n)
    pitch = np.radians(rng.uniform(-24.0, 2.0, n))
    r = rng.uniform(3.0, 60.0, n)
    pts = np.stack([r * np.cos(pitch) * np.cos(az), r * np.cos(pitch) * np.sin(az), r * np.sin(pitch),
                    rng.uniform(0, 1, n)], 1)
    return pts.astype(np.float32)


def test_heavy_augmentation_keeps_labels_with_their_points():
    pts = _scan()
    ids = np.arange(len(pts))
    for seed in range(5):
        out, lab = augment_heavy(pts, ids, np.random.default_rng(seed))
        assert len(out) == len(lab) and 0.75 * len(pts) < len(out) <= len(pts)
        src = pts[lab]
        # rotation, flips and range jitter move points along or about the z axis: pitch is kept exactly
        p0 = np.arcsin(src[:, 2] / np.linalg.norm(src[:, :3], axis=1))
        p1 = np.arcsin(out[:, 2] / np.linalg.norm(out[:, :3], axis=1))
        assert np.abs(p0 - p1).max() < 1e-4
        ratio = np.linalg.norm(out[:, :3], axis=1) / np.linalg.norm(src[:, :3], axis=1)
        assert 0.9 < ratio.min() and ratio.max() < 1.1 and np.std(ratio) > 1e-4
        assert out[:, 3].min() >= 0 and out[:, 3].max() <= 1


def test_per_laser_jitter_is_shared_within_a_ring():
    pts = _scan(6000)
    out, lab = augment_heavy(pts, np.arange(len(pts)), np.random.default_rng(3), drop=0.0)
    src = pts[lab]
    r0 = np.linalg.norm(src[:, :3], axis=1)
    r1 = np.linalg.norm(out[:, :3], axis=1)
    ring = np.clip(((3.0 - np.degrees(np.arcsin(src[:, 2] / r0))) / 28.0 * 64).astype(int), 0, 63)
    # r1 = s * (gain_ring * r0 + offset_ring), s one global scale: linear in r0 inside each ring
    for k in np.unique(ring)[:10]:
        m = ring == k
        if m.sum() < 10:
            continue
        a, b = np.polyfit(r0[m], r1[m], 1)
        assert np.abs(a * r0[m] + b - r1[m]).max() < 1e-3


def test_small_attention_variant_keeps_the_mechanism():
    net = SqueezeSegV3("ssgv3-tiny-a3")
    assert CONFIGS["ssgv3-tiny-a3"].attention_kernel == 3
    sac = net.encoder[0].blocks[0].sac
    assert sac.variant == "isk" and sac.attention[0].kernel_size == (3, 3)
    assert count_parameters(net) < count_parameters(SqueezeSegV3("ssgv3-tiny")) < 700_000
    out = net.eval()(torch.zeros(1, 5, 64, 64))
    assert out.shape == (1, 20, 64, 64)
    # older cards have no attention_kernel field: the paper's 7x7 stays the default
    assert SqueezeSegV3("ssgv3-tiny").encoder[0].blocks[0].sac.attention[0].kernel_size == (7, 7)


@pytest.mark.slow
def test_train_on_chosen_sequences_with_checkpoints(tmp_path):
    from cvkit.io.pointcloud import write_label
    from cvkit.segment_lidar.train import TrainConfig, train

    for seq in ("01", "02", "03"):
        d = tmp_path / "sequences" / seq
        (d / "velodyne").mkdir(parents=True)
        (d / "labels").mkdir()
        pts = _scan(600, int(seq))
        pts.tofile(d / "velodyne" / "000000.bin")
        write_label(d / "labels" / "000000.label", np.where(pts[:, 2] < -1, 40, 50).astype(np.uint32))
    (tmp_path / "sequences" / "03" / "velodyne" / "000000.bin").write_bytes(b"bad")  # held out: never read
    seen = []
    model, summary = train(TrainConfig(data=f"semantickitti:{tmp_path}", arch="ssgv3-tiny-a3", steps=3, batch=1,
                                       width=64, optimizer="adamw", sequences=("01", "02")),
                           checkpoints=(1, 3), on_checkpoint=lambda s, m: seen.append((s, m.training)))
    assert seen == [(1, False), (3, False)]
    assert summary["class_weights"] == "paper" and summary["optimizer"] == "adamw" and not model.training


def test_bn_recalibration_averages_fresh_batches():
    from cvkit.segment_lidar.train import recalibrate_bn

    torch.manual_seed(0)
    net = SqueezeSegV3("ssgv3-tiny-a3")
    xs = [torch.randn(1, 5, 8, 64) * 3 + 1 for _ in range(3)]
    weight_before = net.stem[0].weight.clone()
    recalibrate_bn(net, iter([(x, None) for x in xs]), 3)
    with torch.no_grad():
        feats = torch.cat([net.stem[0](x) for x in xs])
    assert torch.allclose(net.stem[1].running_mean, feats.mean((0, 2, 3)), atol=1e-4)
    assert not net.training and net.stem[1].momentum == CONFIGS["ssgv3-tiny-a3"].bn_momentum
    assert torch.equal(net.stem[0].weight, weight_before)


@pytest.mark.slow
def test_fine_tuning_starts_from_the_shipped_simulation_weights(tmp_path):
    from cvkit.assets import find_asset
    from cvkit.io.pointcloud import write_label
    from cvkit.segment_lidar.train import TrainConfig, train

    asset = find_asset("segment-lidar", "ssgv3-tiny-sim")
    assert asset is not None, "shipped asset segment-lidar/ssgv3-tiny-sim is missing from assets/"
    d = tmp_path / "sequences" / "01"
    (d / "velodyne").mkdir(parents=True)
    (d / "labels").mkdir()
    pts = _scan(600)
    pts.tofile(d / "velodyne" / "000000.bin")
    write_label(d / "labels" / "000000.label", np.where(pts[:, 2] < -1, 40, 50).astype(np.uint32))
    model, summary = train(TrainConfig(data=f"semantickitti:{tmp_path}", arch="ssgv3-53", steps=1, batch=1,
                                       width=64, optimizer="adamw", lr=1e-7, init="ssgv3-tiny-sim", bn_recal=1))
    assert model.cfg.name == "ssgv3-tiny" and summary["init"] == "ssgv3-tiny-sim"
    start = asset.state_dict()["stem.0.weight"]
    assert torch.allclose(model.state_dict()["stem.0.weight"], start, atol=1e-4)
    with pytest.raises(Exception, match="no shipped asset"):
        train(TrainConfig(data=f"semantickitti:{tmp_path}", steps=1, init="no-such-model"))


def test_random_crops_wrap_round_the_azimuth():
    from cvkit.segment_lidar.train import random_crops

    x = torch.arange(64).float().expand(2, 5, 4, 64).clone()
    y = torch.arange(64).expand(2, 4, 64).clone()
    gen = torch.Generator().manual_seed(0)
    xc, yc = random_crops(x, y, 16, 3, gen)
    assert xc.shape == (6, 5, 4, 16) and yc.shape == (6, 4, 16)
    # each window is 16 consecutive columns modulo 64, labels cut with their pixels
    steps = (xc[:, 0, 0, 1:] - xc[:, 0, 0, :-1]) % 64
    assert torch.all(steps == 1) and torch.equal(xc[:, 0].long(), yc)
    with pytest.raises(ValueError):
        random_crops(x, y, 12, 1, gen)
