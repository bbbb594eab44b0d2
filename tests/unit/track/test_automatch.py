"""AutoMatch: matching operators, BCM, RoIAlign, SOTS key names, training smoke run, tracker on a clip."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from cvkit.errors import ModelError
from cvkit.nn.roi_align import roi_align
from cvkit.track.automatch.automatch import AutoMatchLiteNet, AutoMatchNet, AutoMatchTracker, template_mask, zoom_boxes
from cvkit.track.automatch.automatch_ops import (
    LTM,
    OPERATORS,
    Concat,
    FiLM,
    PairRelation,
    PointAdd,
    PointDW,
    SimpleSelfAtt,
    TransGuide,
    gumbel_sigmoid,
)
from cvkit.track.automatch.automatch_train import (
    RecipeConfig,
    iou_loss,
    make_targets,
    train_automatch,
    weighted_bce,
)

C, HX, HZ = 8, 6, 4


def _inputs() -> tuple[torch.Tensor, ...]:
    torch.manual_seed(0)
    xf = torch.randn(2, C, HX, HX, requires_grad=True)
    zf = torch.randn(2, C, HZ, HZ, requires_grad=True)
    roi = torch.randn(2, C, 1, 1, requires_grad=True)
    mask = torch.zeros(2, 127, 127)
    mask[:, 40:90, 30:100] = 1
    return xf, zf, roi, mask


OPS = {
    "TransGuide": (lambda: TransGuide(C, 4), "mask"),
    "PointDW": (lambda: PointDW(C, C), "roi"),
    "PointAdd": (lambda: PointAdd(C, C), "roi"),
    "SimpleSelfAtt": (lambda: SimpleSelfAtt(C, C, 2), "z"),
    "FiLM": (lambda: FiLM(C, C), "roi"),
    "PairRelation": (lambda: PairRelation(C, 4, HZ * HZ, C), "z"),
    "Concat": (lambda: Concat(C, C), "roi"),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_operator_shape_and_gradients(name: str) -> None:
    make, kind = OPS[name]
    op = make()
    xf, zf, roi, mask = _inputs()
    out = op(xf, zf, mask) if kind == "mask" else op(xf, zf if kind == "z" else roi)
    assert out.shape == (2, C, HX, HX)
    out.square().sum().backward()
    assert xf.grad is not None and xf.grad.abs().sum() > 0
    tmpl = zf if kind in ("z", "mask") else roi
    assert tmpl.grad is not None and tmpl.grad.abs().sum() > 0
    unused = {"t_embed.weight", "t_embed.bias"} if name == "PairRelation" else set()  # SOTS leaves it unused
    for n, p in op.named_parameters():
        if n not in unused:
            assert p.grad is not None and p.grad.abs().sum() > 0, n


def test_ltm_all_operators_and_searched_pairs() -> None:
    xf, zf, roi, mask = _inputs()
    for used in (None, (5, 6), (4, 5)):
        ltm = LTM(C, used, HZ * HZ, 4, heads=2)
        out = ltm(xf, zf, roi, mask)
        assert out.shape == (2, C, HX, HX)
        assert ltm.merge2.shape == (1, ltm.branches * C, 1, 1)
        out.sum().backward()
        assert ltm.merge2.grad is not None


def test_bcm_is_gumbel_sigmoid_with_injected_noise() -> None:
    torch.manual_seed(1)
    w = torch.randn(1, 3 * C, 1, 1)
    g1, g2 = torch.randn_like(w), torch.randn_like(w)
    for tau in (1.0, 0.5):
        y = gumbel_sigmoid(w, tau, (g1, g2))
        assert torch.allclose(y, torch.sigmoid((w + g1 - g2) / tau))
    y0 = gumbel_sigmoid(w, 1e-6, (g1, g2))
    assert torch.all((y0 < 1e-6) | (y0 > 1 - 1e-6))  # tau -> 0: binary
    # sampled noise is Gumbel(0,1): P(y > 1/2) = P(w + g1 - g2 > 0) = sigmoid(w)
    gen = torch.Generator().manual_seed(0)
    ws = torch.full((20000,), 0.7)
    frac = float((gumbel_sigmoid(ws, 0.01, generator=gen) > 0.5).float().mean())
    assert abs(frac - 1 / (1 + math.exp(-0.7))) < 0.02


def test_ltm_gate_uses_bcm_in_search_training_and_ranks_operators() -> None:
    xf, zf, roi, mask = _inputs()
    ltm = LTM(C, None, HZ * HZ, 4, heads=2, bcm=True, tau=0.3).train()
    g1, g2 = torch.randn_like(ltm.merge2), torch.randn_like(ltm.merge2)
    ltm.noise = (g1, g2)
    assert torch.allclose(ltm.gate(), torch.sigmoid((ltm.merge2 + g1 - g2) / 0.3))
    ltm.eval()
    assert torch.allclose(ltm.gate(), torch.sigmoid(ltm.merge2))
    with torch.no_grad():
        ltm.merge2.view(7, C)[:] = torch.tensor([0.0, -1, -2, 3, 2, 1, -3])[:, None]
    assert ltm.top(2) == (4, 5)  # Simple-Transformer + FiLM: the searched classification pair
    assert set(ltm.importance()) == set(OPERATORS)


def test_roi_align_hand_computed() -> None:
    f = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    # x samples -0.5 (clamped to 0), 0.5; y samples 0.5, 1.5 (clamped to 1): mean(2, 3, 2.5, 3.5)
    out = roi_align(f, torch.tensor([[0.0, -1.0, 0.0, 1.0, 2.0]]), 1, 1.0, 2)
    assert torch.allclose(out, torch.tensor([[[[2.75]]]]))
    # samples beyond one cell outside the map read 0
    assert float(roi_align(f, torch.tensor([[0.0, -3.0, -3.0, -1.0, -1.0]]), 1)) == 0.0
    # linear map v = x + 10 y: bin averages are the values at the bins' sample centres
    g = (torch.arange(6.0)[None, :] + 10 * torch.arange(6.0)[:, None])[None, None].repeat(2, 1, 1, 1)
    g[1] *= 2
    out = roi_align(g, torch.tensor([[1.0, 1.0, 1.0, 3.0, 5.0]]), (2, 2), 1.0, 2)
    assert torch.allclose(out[0, 0], 2 * torch.tensor([[1.5 + 20.0, 2.5 + 20.0], [1.5 + 40.0, 2.5 + 40.0]]))
    # spatial scale and aligned (half-pixel shift)
    out = roi_align(g[:1], torch.tensor([[0.0, 2.0, 2.0, 6.0, 6.0]]), 1, 0.5, 2, aligned=True)
    assert torch.allclose(out, torch.tensor([[[[1.5 + 15.0]]]]))


def test_full_model_uses_sots_names_and_sizes() -> None:
    net = AutoMatchNet().eval()
    keys = set(net.state_dict())
    for k in ["backbone.conv1.weight", "backbone.layer2.0.downsample.0.weight", "backbone.layer3.5.conv3.weight",
              "neck.downsample.0.weight", "neck.downsample_s3.1.running_mean",
              "head.regression.reg_encode.matrix11_k.0.weight", "head.regression.roi_te.fea_encoder.3.weight",
              "head.regression.roi_te.spatial_conv.0.weight", "head.regression.LTM.FiLM.conv_g.0.weight",
              "head.regression.LTM.PC.down.weight", "head.regression.LTM.merge2", "head.regression.LTM.embed2.0.weight",
              "head.regression.bbox_tower.6.weight", "head.regression.bbox_pred.weight", "head.regression.adjust",
              "head.regression.bias", "head.classification.LTM.Transformer.trans.in_proj_weight",
              "head.classification.LTM.FiLM.s_embed.weight", "head.classification.roi_cls.fea_encoder_s3.4.weight",
              "head.classification.roi_cls.down_target_s4.0.weight",
              "head.classification.roi_cls.merge_s3s4_s2.2.weight",
              "head.classification.roi_cls.merge_s3s4_s1.4.weight", "head.classification.roi_cls.pred_s1.weight",
              "head.classification.roi_cls.pred_s2.weight"]:
        assert k in keys, k
    sd = net.state_dict()
    assert sd["head.regression.LTM.PC.down.weight"].shape == (256, 225, 1, 1)
    assert sd["head.regression.LTM.merge2"].shape == (1, 512, 1, 1)
    from cvkit.track.registry import KEY_PROBES

    assert KEY_PROBES["automatch"]({"module." + k for k in keys})
    assert not KEY_PROBES["automatch"]({"features.features.conv1.weight"})
    with torch.no_grad():
        zf = net.features(torch.zeros(1, 127, 127, 3, dtype=torch.uint8))
        xf = net.features(torch.zeros(1, 255, 255, 3, dtype=torch.uint8))
        assert zf[0].shape == (1, 256, 15, 15) and xf[1].shape == (1, 256, 31, 31)
        out = net.forward_features(zf, xf, torch.tensor([[40.0, 40.0, 86.0, 86.0]]))
    assert out["ltrb"].shape == (1, 4, 31, 31) and out["cls_score_s1"].shape == (1, 1, 31, 31)


def test_full_model_without_weights_says_how_to_train() -> None:
    from cvkit.track.registry import build_tracker

    with pytest.raises(ModelError, match="cvkit train track --model automatch --data got10k:DIR"):
        build_tracker("automatch")


def test_targets_and_losses() -> None:
    box = torch.tensor([[100.0, 110.0, 160.0, 150.0]])
    label, ltrb, inside = make_targets(box, 16, 16.0, 1.0)
    assert label.shape == (1, 16, 16) and 1 <= label.sum() <= 5
    assert inside.sum() > 0 and torch.all(ltrb.permute(0, 2, 3, 1)[inside > 0] > 0)
    assert float(iou_loss(ltrb, ltrb, inside)) < 1e-6
    assert float(iou_loss(ltrb * 2, ltrb, inside)) > 0.5
    lab = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
    assert math.isclose(float(weighted_bce(torch.zeros(1, 4), lab)), math.log(2), rel_tol=1e-6)


def test_three_step_training_saves_a_loadable_asset(tmp_path: Path) -> None:
    seen: list[dict] = []
    recipe = RecipeConfig(batch=2, n_jitter=4)
    res = train_automatch("automatch-lite", "synthetic:digits-s", 3, 0, tmp_path / "am", recipe=recipe,
                          pretrained=False, callback=seen.append, log_every=1)
    assert res.steps == 3 and len(seen) == 3 and all(math.isfinite(d["loss"]) for d in seen)
    card = json.loads((tmp_path / "am" / "card.json").read_text())
    assert card["architecture"] == "automatch-lite" and card["training"]["steps"] == 3
    from cvkit.track.registry import build_tracker

    tracker = build_tracker(str(tmp_path / "am" / "weights.safetensors"))
    assert isinstance(tracker, AutoMatchTracker)
    assert not any(k.startswith("trunk.") for k in res.net.state_dict())


def test_tracker_runs_on_a_short_clip() -> None:
    from cvkit.track.synthetic import synthetic_clip

    torch.manual_seed(0)
    tracker = AutoMatchTracker(AutoMatchLiteNet(pretrained=False))
    clip = synthetic_clip("digits-s", 3, 4)
    tracker.initialize(clip.render(0), tuple(clip.boxes[0]))
    for t in range(1, 4):
        box, score = tracker.track(clip.render(t))
        assert len(box) == 4 and all(math.isfinite(v) for v in box) and 0.0 <= score <= 1.0
        assert box[2] >= 1 and box[3] >= 1


def test_zoom_boxes_and_template_mask() -> None:
    b = np.array([10.0, 20.0, 50.0, 60.0])
    z = zoom_boxes(b, (4.0, 8.0, 12.0, 16.0))
    assert z.shape == (97, 4) and np.allclose(z[0], b)
    assert zoom_boxes(b, (4.0, 8.0), scale=True).shape == (53, 4)
    m = template_mask(torch.tensor([[40.0, 50.0, 80.0, 70.0]]))
    assert m.shape == (1, 127, 127) and m[0, 60, 60] == 1 and m[0, 10, 10] == 0


def test_bcm_search_smoke_ranks_all_operators() -> None:
    from cvkit.track.automatch.automatch_train import search_operators

    res = search_operators("synthetic:digits-s", steps=2, seed=0, pretrained=False,
                           recipe=RecipeConfig(batch=2, stage2=False))
    for branch in ("reg", "cls"):
        assert len(res["importance"][branch]) == 7 and len(res["top2"][branch]) == 2
        assert all(0.0 < v < 1.0 for v in res["importance"][branch].values())


def test_cli_training_hook_is_registered() -> None:
    from cvkit.track.train import load_trainer_plugins

    TRAINERS = load_trainer_plugins()
    assert {"automatch-lite", "automatch"} <= set(TRAINERS)
