"""The paper's GSF model: parameter counts at paper size, module initialisation, losses, a few training steps."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from cvkit.nn.resnet import ResNet101
from cvkit.semantic_flow.losses import loss_final, loss_matching, loss_pruning, warp_features
from cvkit.semantic_flow.model import (
    GSFConfig,
    GSFNet,
    MatchingNet,
    PruningNet,
    count_params,
    mls_guidance,
    mutual_consistency_volume,
)
from cvkit.semantic_flow.synthetic import synthetic_pair
from cvkit.semantic_flow.train import TrainOptions, head_state, train


def table1_params(cin: int, cout: int) -> int:
    """Parameters of S Table 1 counted layer by layer: conv weights + bias, BatchNorm scale + shift."""
    layers = [(5, cin, 64), (3, 64, 64), (3, 64, 128), (3, 128, 128), (3, 128, 256), (3, 256, 256), (3, 256, 512),
              (3, 512, 512), (3, 512, 512), (3, 768, 256), (3, 256, 256), (3, 256, 256), (3, 384, 128),
              (3, 128, 128), (3, 128, 128), (3, 192, 64), (3, 64, 64)]
    n = sum(k * k * i * o + o + 2 * o for k, i, o in layers)
    return n + 5 * 5 * 64 * cout + cout  # conv8: no BatchNorm


def test_paper_size_parameter_counts():
    cells = GSFConfig().grid ** 2
    assert cells == 400  # 320 px input, stride 16 -> 20 x 20 (S: 20x20x400 pruning output)
    pruning, matching = PruningNet(cells), MatchingNet(cells)
    assert count_params(pruning) == table1_params(400, 400)
    assert count_params(matching) == table1_params(400, 2)
    assert round(count_params(pruning) / 1e6, 1) == 12.2 and round(count_params(matching) / 1e6, 1) == 11.5


def test_resnet101_trunk_size_and_taps():
    net = ResNet101()
    assert count_params(net) == 42_500_160  # torchvision resnet101 without the fc layer
    assert len(net.layer3) == 23


def test_initialisation_follows_the_supplement():
    torch.manual_seed(0)
    model = GSFNet(GSFConfig(backbone="lite0", image_size=64, width=4), pretrained_backbone=False).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        out = model(x, x.flip(-1))
    assert out["P"].min() > 0.9999                        # sigmoid(10)
    assert torch.allclose(out["tau"], out["Gp"])          # matching residual starts at 0
    assert out["C"].shape == (1, 16, 4, 4) and out["tau"].shape == (1, 2, 4, 4)


def test_mutual_consistency_and_guidance():
    c = torch.rand(1, 16, 4, 4)
    q = mutual_consistency_volume(c)
    assert q.max() <= 1 + 1e-6
    grid = torch.stack(torch.meshgrid(torch.arange(4.0), torch.arange(4.0), indexing="xy"), -1).reshape(-1, 2)
    g = torch.zeros(1, 16, 2)
    g[0, 3] = torch.tensor([2.0, 1.0])
    s = torch.zeros(1, 16, dtype=torch.bool)
    s[0, 3] = True
    gp = mls_guidance(g, s, grid, 7.0)
    assert torch.allclose(gp[0], torch.tensor([2.0, 1.0]).expand(16, 2))  # one anchor -> everywhere


def test_warp_and_matching_loss_prefer_the_true_shift():
    torch.manual_seed(0)
    ft = torch.nn.functional.normalize(torch.randn(1, 32, 8, 8), dim=1)
    fs = torch.roll(ft, shifts=-1, dims=3)  # source i sees target i + (1, 0)
    true = torch.zeros(1, 2, 8, 8)
    true[:, 0] = 1.0
    assert torch.allclose(warp_features(ft, true)[..., :-1], fs[..., :-1], atol=1e-6)
    assert loss_matching(fs, ft, true, temperature=0.1) < loss_matching(fs, ft, torch.zeros_like(true), temperature=0.1)


def test_losses_are_finite_and_differentiable():
    torch.manual_seed(0)
    model = GSFNet(GSFConfig(backbone="lite0", image_size=64, width=4), pretrained_backbone=False)
    x = torch.randn(2, 3, 64, 64)
    out = model(x, x)
    lp, parts = loss_pruning(out)
    lf, parts2 = loss_final(out)
    lf.backward()
    assert torch.isfinite(lp) and torch.isfinite(lf) and set(parts2) == {"sil", "geo", "m", "sm"}
    assert any(p.grad is not None for p in model.matching.parameters())


def test_synthetic_pair_flow_is_exact():
    rng = np.random.default_rng(0)
    img = cv2.GaussianBlur(rng.integers(0, 255, (200, 240, 3), dtype=np.uint8), (0, 0), 2)
    src, tgt, flow = synthetic_pair(img, rng, 96)
    ys, xs = np.mgrid[10:86:7, 10:86:7]
    tx, ty = xs + flow[ys, xs, 0], ys + flow[ys, xs, 1]
    inside = (tx >= 0) & (tx <= 95) & (ty >= 0) & (ty <= 95)
    got = cv2.remap(tgt, tx.astype(np.float32), ty.astype(np.float32), cv2.INTER_LINEAR)
    assert np.abs(got.astype(float) - src[ys, xs].astype(float))[inside].mean() < 3


@pytest.mark.slow
def test_two_stage_training_steps(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for i in range(2):
        p = tmp_path / f"im{i}.png"
        cv2.imwrite(str(p), cv2.GaussianBlur(rng.integers(0, 255, (120, 140, 3), dtype=np.uint8), (0, 0), 2))
        paths.append(p)
    opts = TrainOptions(config=GSFConfig(backbone="lite0", image_size=64, width=4), stage1_steps=2, stage2_steps=2,
                        batch=2, images=paths, pretrained_backbone=False, log_every=100)
    model, summary = train(opts, log=None)
    after = head_state(model)
    assert after["matching.conv8.weight"].abs().sum() > 0   # zero-initialised, moved by stage 2
    assert not any(k.startswith("backbone.") for k in after)  # the packaged trunk is not re-shipped
    assert summary["params"]["pruning"] == count_params(model.pruning)
