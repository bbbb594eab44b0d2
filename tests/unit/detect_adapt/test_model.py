"""The detector and MCAR's parts: shapes, paper-size backbones, losses' definitions, a few training steps."""

import pytest
import torch

from cvkit.detect_adapt.adapt import AdaptConfig, AdaptiveDetector, step_losses
from cvkit.detect_adapt.backbones import ResNet101Backbone, VGG16Backbone
from cvkit.detect_adapt.detector import FasterRCNN
from cvkit.detect_adapt.mcar import (
    DomainDiscriminator,
    consistency_loss,
    focal_domain_loss,
    grad_reverse,
    multilabel_targets,
)
from cvkit.detect_adapt.synthetic import sample


def _batch(split, n):
    scenes = [sample(split, i, 96) for i in range(n)]
    return ([torch.from_numpy(s.image).permute(2, 0, 1) for s in scenes], [torch.from_numpy(s.boxes) for s in scenes],
            [torch.from_numpy(s.labels) for s in scenes])


def test_paper_backbones_have_paper_shapes():
    vgg = VGG16Backbone()
    assert sum(p.numel() for p in vgg.parameters()) == 14_714_688  # VGG-16 conv1_1 .. conv5_3
    assert vgg(torch.rand(1, 3, 64, 96)).shape == (1, 512, 4, 6)
    res = ResNet101Backbone()
    assert len(res.layer3) == 23 and res(torch.rand(1, 3, 64, 64)).shape == (1, 1024, 4, 4)


def test_anchor_order_matches_rpn_outputs(tiny_cfg):
    det = FasterRCNN(tiny_cfg)
    a = det.anchors(3, 4, "cpu")
    assert a.shape == (3 * 4 * 9, 4)
    centre = (a[:, :2] + a[:, 2:]) / 2
    assert torch.allclose(centre[:9], torch.tensor([[4.0, 4.0]]).expand(9, 2))  # first cell's 9 anchors
    assert torch.allclose(centre[9], torch.tensor([12.0, 4.0]))  # then the next x


def test_grl_and_losses_follow_their_definitions():
    x = torch.ones(3, requires_grad=True)
    grad_reverse(x, 0.5).sum().backward()
    assert torch.allclose(x.grad, torch.full((3,), -0.5))
    z_s, z_t = torch.tensor([0.3, -1.0]), torch.tensor([0.2, 2.0])
    bce = 0.5 * (torch.nn.functional.binary_cross_entropy_with_logits(z_s, torch.ones(2))
                 + torch.nn.functional.binary_cross_entropy_with_logits(z_t, torch.zeros(2)))
    assert torch.allclose(focal_domain_loss(z_s, z_t, 0.0), bce)
    assert focal_domain_loss(z_s, z_t, 5.0) < focal_domain_loss(z_s, z_t, 0.0)
    p = torch.rand(4, 5)
    assert float(consistency_loss(p, p)) == pytest.approx(0.0, abs=1e-7)
    assert float(consistency_loss(p, p.flip(1))) > 0
    assert multilabel_targets([torch.tensor([0, 2, 2]), torch.tensor([], dtype=torch.long)], 3).tolist() == \
        [[1, 0, 1], [0, 0, 0]]


def test_conditional_discriminator_uses_the_outer_product():
    d = DomainDiscriminator(8, 3, 4)
    f = torch.rand(2, 8, 5, 5)
    assert d.fc.in_features == 12
    out = d(f, torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]))
    assert out.shape == (2,)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["source-only", "photometric", "image-adv", "mcar"])
def test_each_method_trains_a_few_steps(tiny_cfg, method):
    torch.manual_seed(0)
    model = AdaptiveDetector(tiny_cfg, head_channels=16)
    model.train()
    acfg = AdaptConfig(method=method, head_channels=16)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01, momentum=0.9)
    imgs, boxes, labels = _batch("source-train", 2)
    tgt, _, _ = _batch("target-train", 2)
    g = torch.Generator().manual_seed(0)
    for _ in range(2):
        losses = step_losses(model, acfg, imgs, boxes, labels, tgt, g)
        opt.zero_grad()
        losses["total"].backward()
        opt.step()
    assert all(torch.isfinite(v) for v in losses.values())
    assert {"rpn_cls", "rpn_reg", "roi_cls", "roi_reg", "multi"} <= set(losses)
    if method == "mcar":
        assert {"adv", "kl"} <= set(losses)
        assert model.disc_cond.reduce.weight.grad.abs().sum() > 0
    if method == "image-adv":
        assert model.disc_image.reduce.weight.grad.abs().sum() > 0
    model.eval()
    det = model.detector.detect([imgs[0]], 0.0)[0]
    assert det["boxes"].shape[1] == 4 and len(det["boxes"]) == len(det["scores"]) == len(det["labels"])
    assert (det["boxes"][:, 2] <= 96 + 1e-3).all()
