"""ADTC feature extractor: voxel attention properties, shapes and parameter counts against the paper, losses."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cvkit.assets import Asset, save_asset
from cvkit.errors import ModelError
from cvkit.nn.resnet import ResNet50
from cvkit.reid_cluster.model import PAPER_CONFIG, ReidConfig, ReidNet, VoxelAttention, count_params
from cvkit.reid_cluster.registry import net_from_asset
from cvkit.reid_cluster.train import AdaptConfig, batch_hard_triplet, pk_batches, round_lr


def test_voxel_attention_parameters_and_kernel():
    va = VoxelAttention(2048, 800)
    assert count_params(va) == 2 * 2048 * 800  # "only 2cd" parameters, no biases
    f = torch.rand(2, 16, 4, 3)
    va = VoxelAttention(16, 4)
    s = va.spatial_map(f)
    assert s.shape == (2, 1, 4, 3)
    assert torch.allclose(s.sum((1, 2, 3)), torch.full((2,), 12.0))  # softmax over positions, times h*w
    c = va.channel_gate(f)
    assert c.shape == (2, 16, 1, 1) and ((c > 0) & (c < 1)).all()
    assert torch.allclose(va(f), s * c * f)


def test_spatial_attention_is_competitive_and_uniform_map_is_neutral():
    va = VoxelAttention(8, 2, channel=False)
    flat = torch.ones(1, 8, 4, 2)
    assert torch.allclose(va(flat), flat)  # equal activations: S' = 1 everywhere
    f = torch.zeros(1, 8, 4, 2)
    f[0, :, 1, 1] = 3.0
    s = va.spatial_map(f)[0, 0]
    assert s.argmax() == 1 * 2 + 1 and s[1, 1] > 1 > s[0, 0]


@pytest.mark.slow
def test_paper_model_shapes_and_parameter_counts():
    assert count_params(ResNet50()) == 23_508_032  # torchvision resnet50 minus its fc layer
    net = ReidNet(PAPER_CONFIG, pretrained=False).eval()
    assert net.attention is not None and count_params(net.attention) == 2 * 2048 * 800
    x = torch.rand(2, 3, 256, 128)
    with torch.inference_mode():
        assert net.feature_map(x).shape == (2, 2048, 8, 4)
        assert net(x).shape == (2, 2048)


def test_lite_model_shapes_and_frozen_prefix():
    net = ReidNet(ReidConfig(), pretrained=False).eval()
    x = torch.rand(3, 3, 128, 64)
    with torch.inference_mode():
        assert net.feature_map(x).shape == (3, 1280, 4, 2)
        g = net(x)
    # global + 2 stripes of the last map; 6 stripes of the stride-8 (block 4, 40 ch) and stride-16 (block 7, 80 ch)
    assert g.shape == (3, 1280 * 3 + 40 * 6 + 80 * 6) == (3, net.dim) and net.branch_dims == [3840, 240, 480]
    assert torch.allclose(g.norm(dim=1), torch.full((3,), 3**0.5), atol=1e-5)  # three unit-norm branches
    assert all(not p.requires_grad for p in net.backbone.prefix.parameters())
    assert not any(k.startswith("backbone.prefix.") for k in net.asset_state())
    net1 = ReidNet(ReidConfig(last_stride=1), pretrained=False).eval()
    with torch.inference_mode():
        assert net1.feature_map(x).shape == (3, 1280, 8, 4)


def test_gmp_head_without_attention():
    net = ReidNet(ReidConfig(attention=False, parts=0, low_stripes=0), pretrained=False).eval()
    assert net.attention is None and len(net.bn_low) == 0 and net.dim == 1280 and net.branch_dims == [1280]
    f = torch.rand(2, 1280, 4, 2)
    with torch.inference_mode():
        assert torch.allclose(net.head(f), net.bn(f.amax((2, 3))))


def test_stripe_gmp_hand_computed():
    a = torch.arange(2 * 1 * 4 * 2, dtype=torch.float32).reshape(2, 1, 4, 2)  # sample 0: rows 0-1, 2-3, 4-5, 6-7
    assert ReidNet.stripe_gmp(a, 2)[0].tolist() == [3.0, 7.0]  # top band rows 0-1, bottom band rows 2-3
    assert ReidNet.stripe_gmp(a, 4)[1].tolist() == [9.0, 11.0, 13.0, 15.0]
    assert ReidNet.stripe_gmp(a, 1)[0].tolist() == [7.0]


def test_packed_prefix_carries_the_tapped_maps_exactly():
    net = ReidNet(ReidConfig(va_d=16), pretrained=False).eval()
    trunk = net.backbone.prefix
    x = torch.rand(2, 3, 128, 64)
    with torch.inference_mode():
        packed = net.backbone.run_prefix(x)
        main, lows = net.backbone.split_prefix(packed)
        assert packed.shape == (2, 112 + 40 * 4 + 80, 8, 4)
        assert torch.equal(main, trunk.features(trunk.normalize(x), 10))
        assert torch.equal(lows[0], trunk.features(trunk.normalize(x), 4))  # (2, 40, 16, 8), stride 8
        assert torch.equal(lows[1], trunk.features(trunk.normalize(x), 7))  # (2, 80, 8, 4), stride 16
        assert torch.equal(net.backbone.run_tail(packed), net.backbone.run_tail(main))
    old = ReidNet(ReidConfig(va_d=16, low_blocks=(2,), low_pool="max"), pretrained=False).eval()
    with torch.inference_mode():
        main, lows = old.backbone.split_prefix(old.backbone.run_prefix(x))
        t = old.backbone.prefix
        assert torch.equal(lows[0], t.features(t.normalize(x), 2))  # (2, 24, 32, 16), stride 4
    with pytest.raises(ModelError, match="frozen prefix"):
        ReidNet(ReidConfig(low_blocks=(12,)), pretrained=False)


def test_multi_level_head_matches_its_definition():
    torch.manual_seed(0)
    net = ReidNet(ReidConfig(va_d=16), pretrained=False).eval()
    with torch.no_grad():
        for bn in (net.bn, *net.bn_low):
            bn.running_mean.normal_()
            bn.running_var.uniform_(0.5, 2.0)
    f, l4, l7 = torch.rand(2, 1280, 4, 2), torch.rand(2, 40, 16, 8), torch.rand(2, 80, 8, 4)
    with torch.inference_mode():
        g = net.head(f, [l4, l7])
        a = net.attention(f)  # voxel attention on the last map only (the paper applies it once)
        last = net.bn(torch.cat([a.amax((2, 3)), a[:, :, :2].amax((2, 3)), a[:, :, 2:].amax((2, 3))], 1))
        rows4, rows7 = torch.arange(16).tensor_split(6), torch.arange(8).tensor_split(6)
        m4 = net.bn_low[0](torch.cat([l4[:, :, r].mean((2, 3)) for r in rows4], 1))  # stripe average pooling
        m7 = net.bn_low[1](torch.cat([l7[:, :, r].mean((2, 3)) for r in rows7], 1))
    ref = torch.cat([v / v.norm(dim=1, keepdim=True) for v in (last, m4, m7)], 1)
    assert torch.allclose(g, ref, atol=1e-5)
    with pytest.raises(ValueError, match="low-level map"):
        net.head(f)


def test_center_branches_removes_each_branch_mean():
    from cvkit.reid_cluster.model import center_branches

    rng = np.random.default_rng(0)
    shared = rng.normal(size=(1, 6)) * 10  # a background common to every crop
    f = (shared + rng.normal(size=(5, 6))).astype(np.float32)
    g = center_branches(f, [4, 2])
    assert g.shape == (5, 6) and np.allclose(np.linalg.norm(g, axis=1), 1.0, atol=1e-5)
    a, b = f[:, :4] - f[:, :4].mean(0), f[:, 4:] - f[:, 4:].mean(0)
    ref = np.concatenate([a / np.linalg.norm(a, axis=1, keepdims=True), b / np.linalg.norm(b, axis=1, keepdims=True)],
                         1) / 2**0.5
    assert np.allclose(g, ref, atol=1e-5)
    assert np.allclose(center_branches(f[:1], [4, 2]) * 2**0.5,
                       np.concatenate([f[:1, :4] / np.linalg.norm(f[:1, :4]), f[:1, 4:] / np.linalg.norm(f[:1, 4:])],
                                      1), atol=1e-5)  # one crop: nothing to centre on
    with pytest.raises(ValueError, match="add up"):
        center_branches(f, [4, 3])


def test_old_cards_load_as_the_papers_global_head():
    cfg = ReidConfig.from_dict({"backbone": "lite0", "input_size": [128, 64], "va_d": 500})
    assert cfg.parts == 0 and cfg.low_stripes == 0
    assert PAPER_CONFIG.parts == 0 and PAPER_CONFIG.low_stripes == 0
    one_tap = ReidConfig.from_dict({"backbone": "lite0", "va_d": 500, "parts": 2, "low_stripes": 6})
    assert one_tap.low_blocks == (2,) and one_tap.low_pool == "max"  # the stride-4 GMP head of the earlier asset
    assert ReidConfig.from_dict(ReidConfig().as_dict()) == ReidConfig()  # new cards keep their head
    with pytest.raises(ModelError, match="lite0 only"):
        ReidNet(ReidConfig(backbone="resnet50"), pretrained=False)


def test_asset_round_trip_and_mismatch(tmp_path):
    torch.manual_seed(0)
    net = ReidNet(ReidConfig(va_d=16), pretrained=False).eval()
    with torch.no_grad():
        net.bn.running_mean.normal_()
    save_asset(tmp_path / "a", net.asset_state(), {"name": "t", "config": net.config.as_dict()})
    asset = Asset(tmp_path / "a" / "weights.safetensors", {"config": net.config.as_dict()})
    net2 = net_from_asset(asset)
    x = torch.rand(2, 3, 128, 64)
    with torch.inference_mode():
        # the prefix differs only when pretrained differs; both nets here share the packaged prefix weights
        ref = net.forward_prefix(net2.backbone.run_prefix(x))
        assert torch.allclose(net2(x), ref, atol=1e-5)
    bad = Asset(tmp_path / "a" / "weights.safetensors", {"config": {**net.config.as_dict(), "va_d": 32}})
    with pytest.raises(ModelError, match="shape mismatch"):
        net_from_asset(bad)


def test_batch_hard_triplet_hand_computed():
    g = torch.tensor([[0.0], [2.0], [1.0], [5.0]])
    lab = torch.tensor([0, 0, 1, 1])
    # anchors: (2-1+.3), (2-1+.3), (4-1+.3), (4-3+.3)
    assert batch_hard_triplet(g, lab, 0.3).item() == pytest.approx(1.8)
    assert batch_hard_triplet(g, lab, 0.3, squared=True).item() == pytest.approx((3.3 + 3.3 + 15.3 + 7.3) / 4)
    assert batch_hard_triplet(g, torch.tensor([0, 1, 2, 3])).item() == 0.0  # no positives: no loss
    # classes 0 and 1 neutral to each other: anchors 0, 1 have no negative left; 2, 3 none either -> no loss
    neutral = torch.ones(4, 4, dtype=torch.bool)
    assert batch_hard_triplet(g, lab, 0.3, neutral=neutral).item() == 0.0
    g3 = torch.tensor([[0.0], [2.0], [1.0], [5.0], [9.0], [9.5]])
    lab3 = torch.tensor([0, 0, 1, 1, 2, 2])
    n3 = (lab3[:, None] <= 1) & (lab3[None] <= 1) & (lab3[:, None] != lab3[None])  # 0 <-> 1 neutral
    # anchors 0,1 (class 0): closest negative now class 2 at 9 / 7; anchors 2,3 (class 1): 8 / 4; class 2 unchanged
    ref = [max(0, 2 - 9 + .3), max(0, 2 - 7 + .3), max(0, 4 - 8 + .3), max(0, 4 - 4 + .3), max(0, .5 - 4 + .3),
           max(0, .5 - 4.5 + .3)]
    assert batch_hard_triplet(g3, lab3, 0.3, neutral=n3).item() == pytest.approx(sum(ref) / 6)


def test_mutual_nearest_centroids():
    from cvkit.reid_cluster.train import mutual_nearest_centroids

    c = np.array([[0.0], [1.0], [5.0], [5.5], [20.0]])
    m = mutual_nearest_centroids(c)
    assert m.sum() == 4 and m[0, 1] and m[1, 0] and m[2, 3] and m[3, 2]  # 4's nearest is 3, not mutual
    assert (m == m.T).all() and not m.diagonal().any()
    assert not mutual_nearest_centroids(c[:1]).any()


def test_pk_batches_and_lr_schedule():
    labels = np.repeat(np.arange(10), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    rng = np.random.default_rng(0)
    for b in pk_batches(labels, P=4, K=4, n_batches=5, rng=rng):
        assert len(b) == 16
        counts = np.unique(labels[b], return_counts=True)[1]
        assert counts.tolist() == [4, 4, 4, 4]
    cfg = AdaptConfig()
    assert round_lr(cfg, 0) == round_lr(cfg, 5) == 1e-4
    assert round_lr(cfg, 10) == pytest.approx(1e-5)


def test_inference_copy_matches_the_trainable_net():
    from cvkit.reid_cluster.registry import inference_copy

    torch.manual_seed(0)
    net = ReidNet(ReidConfig(va_d=16), pretrained=False).eval()
    with torch.no_grad():
        for m in net.backbone.blocks.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 2.0)
    fast = inference_copy(net)
    x = torch.rand(4, 3, 128, 64)
    with torch.inference_mode():
        assert torch.allclose(fast(x.contiguous(memory_format=torch.channels_last)), net(x), atol=1e-4)
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in net.backbone.blocks.modules())  # original untouched


def test_one_tap_assets_of_the_earlier_head_still_load(tmp_path):
    torch.manual_seed(0)
    cfg = ReidConfig(va_d=16, low_blocks=(2,), low_pool="max")
    net = ReidNet(cfg, pretrained=False).eval()
    with torch.no_grad():
        net.bn_low[0].running_mean.normal_()
    state = {k.replace("bn_low.0.", "bn_low."): v for k, v in net.asset_state().items()}  # the earlier key names
    card = {k: v for k, v in cfg.as_dict().items() if k not in ("low_blocks", "low_pool")}  # an earlier card
    save_asset(tmp_path / "old", state, {"name": "t", "config": card})
    net2 = net_from_asset(Asset(tmp_path / "old" / "weights.safetensors", {"config": card}))
    assert net2.config.low_blocks == (2,) and torch.equal(net2.bn_low[0].running_mean, net.bn_low[0].running_mean)
