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
    assert g.shape == (3, 1280)
    assert all(not p.requires_grad for p in net.backbone.prefix.parameters())
    assert not any(k.startswith("backbone.prefix.") for k in net.asset_state())
    net1 = ReidNet(ReidConfig(last_stride=1), pretrained=False).eval()
    with torch.inference_mode():
        assert net1.feature_map(x).shape == (3, 1280, 8, 4)


def test_gmp_head_without_attention():
    net = ReidNet(ReidConfig(attention=False), pretrained=False).eval()
    assert net.attention is None
    f = torch.rand(2, 1280, 4, 2)
    with torch.inference_mode():
        assert torch.allclose(net.head(f), net.bn(f.amax((2, 3))))


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
