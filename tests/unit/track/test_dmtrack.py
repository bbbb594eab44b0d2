"""DMTrack/DuML: head shapes, ATSS_MaxIoU, score voting, the ONR Gauss–Newton filter, tracking and training smoke."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cvkit.errors import ModelError
from cvkit.track.dmtrack.dmtrack import (
    DMTrackLiteNet,
    DMTrackNet,
    DMTrackParams,
    atss_maxiou_assign,
    build_dmtrack_tracker,
    decode,
    encode,
    make_anchors,
    score_vote,
)
from cvkit.track.dmtrack.dmtrack_online import (
    OnlineRegressor,
    ONRParams,
    gauss_newton_step,
    gaussian_label,
    initial_filter,
    onr_objective,
    onr_residual,
    regression_loss,
    second_peak_ratio,
    unrolled_fit,
)
from cvkit.track.synthetic import HELDOUT_SEED_BASE, synthetic_clip

from .test_data import _write_got10k

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def lite_net() -> DMTrackLiteNet:
    torch.manual_seed(0)
    return DMTrackLiteNet(pretrained=False).eval()


def _crops(n: int, side: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, side, side, 3), dtype=torch.uint8, generator=g)


# ------------------------------------------------------------------------------------------------ heads


def test_lite_heads_shapes_and_trunk_not_saved(lite_net: DMTrackLiteNet) -> None:
    with torch.no_grad():
        cls, loc, iou = lite_net(_crops(2, 127), _crops(2, 255, 1))
        xs = lite_net.embed(_crops(1, 255, 2))
    assert cls.shape == (2, 5, 9, 9) and loc.shape == (2, 5, 4, 9, 9) and iou.shape == (2, 5, 9, 9)
    assert [tuple(x.shape) for x in xs] == [(1, 64, 16, 16)] * 2  # two stride-16 levels, 64-ch necks
    assert lite_net.head.fuse(xs).shape == (1, 64, 16, 16)
    head = lite_net.head.box[0].head[-1]
    assert head.out_channels == 5 * 5  # (Δcx, Δcy, Δw, Δh, o) × A
    assert not any(k.startswith("trunk.") for k in lite_net.state_dict())


def test_full_model_shapes() -> None:
    torch.manual_seed(0)
    net = DMTrackNet().eval()
    with torch.no_grad():
        feats = net.backbone(_crops(1, 255))
        cls, loc, iou = net(_crops(1, 127), _crops(1, 255, 1))
    # layer2..4 of ResNet-50 at the layer2 (stride 8) resolution, reduced to 256 channels each
    assert [tuple(f.shape[1:]) for f in feats] == [(512, 32, 32), (1024, 32, 32), (2048, 32, 32)]
    assert cls.shape == (1, 5, 25, 25) and loc.shape == (1, 5, 4, 25, 25) and iou.shape == (1, 5, 25, 25)
    assert len(net.neck) == 3 and net.neck[0][0].out_channels == 256


def test_anchor_coding_round_trip() -> None:
    a = make_anchors(9, 16)
    assert a.shape == (5, 9, 9, 4)
    assert torch.allclose(a[2, 4, 4], torch.tensor([0.0, 0.0, 64.0, 64.0]))
    assert torch.allclose(a[:, 0, 0, :2], torch.tensor([-64.0, -64.0]))
    assert torch.allclose(a[..., 2] * a[..., 3], torch.full((5, 9, 9), 64.0 * 64.0), rtol=1e-5)
    gt = torch.tensor([10.0, -7.0, 50.0, 80.0])
    torch.testing.assert_close(decode(a, encode(a, gt)), gt.expand_as(a), rtol=1e-5, atol=1e-3)


# ------------------------------------------------------------------------------------------------ ATSS


def _shifted(ds: list[float]) -> torch.Tensor:
    return torch.tensor([[d, 0.0, 64.0, 64.0] for d in ds])


def test_atss_maxiou_hand_case() -> None:
    gt = torch.tensor([0.0, 0.0, 64.0, 64.0])
    ds = [0.0, 4.0, 40.0, 48.0, 56.0, -56.0, 200.0]
    anchors = _shifted(ds)
    ious = np.array([(64 - abs(d)) / (64 + abs(d)) if abs(d) < 64 else 0.0 for d in ds])
    top = np.sort(ious)[::-1][:6]
    thr = top.mean() + top.std(ddof=1)  # 0.398 + 0.426
    assert 0.8 < thr < 0.85
    pos = atss_maxiou_assign(anchors, gt, topk=6)
    assert pos.tolist() == [True, True, False, False, False, False, False]
    assert np.all(ious[pos.numpy()] >= thr)


def test_atss_keeps_one_positive_and_requires_centre_inside() -> None:
    gt = torch.tensor([0.0, 0.0, 20.0, 20.0])
    anchors = torch.tensor([[30.0, 0.0, 64.0, 64.0], [-31.0, 0.0, 64.0, 64.0], [0.0, 40.0, 64.0, 64.0]])
    pos = atss_maxiou_assign(anchors, gt, topk=3)
    assert pos.sum() == 1 and bool(pos[0])  # no centre inside the GT: fall back to the best anchor


# ------------------------------------------------------------------------------------------------ score voting


def test_score_vote_is_the_direct_box_when_only_it_passes() -> None:
    boxes = torch.tensor([[0.0, 0.0, 64.0, 64.0], [200.0, 0.0, 64.0, 64.0], [0.0, 300.0, 30.0, 30.0]])
    out = score_vote(boxes, torch.tensor([0.9, 1.0, 1.0]), torch.tensor([0.7, 1.0, 1.0]), best=0)
    assert torch.equal(out, boxes[0])


def test_score_vote_hand_case() -> None:
    b1, b2, b3 = [0.0, 0.0, 64.0, 64.0], [4.0, 0.0, 64.0, 64.0], [0.0, 0.0, 60.0, 60.0]
    boxes = torch.tensor([b1, b2, b3])
    s, o = [1.0, 0.5, 0.8], [1.0, 0.8, 0.6]
    iou = [1.0, 60 / 68, 3600 / 4096]
    w = [s[i] * math.exp(-((1 - iou[i]) ** 2) / 0.0025) * o[i] for i in range(3)]
    want = sum(w[i] * np.array([b1, b2, b3][i]) for i in range(3)) / sum(w)
    out = score_vote(boxes, torch.tensor(s), torch.tensor(o), best=0, eps=0.01, sigma=0.0025)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-5)
    assert 0 < float(out[0]) < 4 and float(out[2]) < 64


# ------------------------------------------------------------------------------------------------ ONR


def _toy_memory(seed: int = 0, n: int = 6, c: int = 8, size: int = 12):
    g = torch.Generator().manual_seed(seed)
    feats = torch.randn(n, c, size, size, generator=g)
    centres = [tuple(float(v) for v in torch.randint(3, size - 3, (2,), generator=g)) for _ in range(n)]
    ys = torch.stack([gaussian_label((size, size), ctr, 1.0) for ctr in centres])
    ms = (ys > 0.3).float()
    return feats, ys, ms, torch.full((n,), 1.0 / n)


def test_gauss_newton_steps_reduce_the_onr_objective() -> None:
    feats, ys, ms, w = _toy_memory()
    filt = torch.randn(8, 5, 5, generator=torch.Generator().manual_seed(1)) * 0.1
    losses = [float(onr_objective(filt, feats, ys, ms, w, 0.01))]
    for _ in range(6):
        filt, alpha, before = gauss_newton_step(lambda f: onr_residual(f, feats, ys, ms), filt, w, 0.01)
        assert alpha > 0 and math.isclose(before, losses[-1], rel_tol=1e-5)
        losses.append(float(onr_objective(filt, feats, ys, ms, w, 0.01)))
    assert all(b < a for a, b in zip(losses, losses[1:], strict=False)), losses
    assert losses[-1] < 0.5 * losses[0]


def test_gauss_newton_alpha_matches_the_closed_form_on_a_quadratic() -> None:
    g = torch.Generator().manual_seed(3)
    a = torch.randn(4, 5, 7, generator=g, dtype=torch.float64)  # 4 samples x 5 residuals, 7 parameters
    b = torch.randn(4, 5, generator=g, dtype=torch.float64)
    gamma = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64)
    lam = 0.05
    theta = torch.randn(7, generator=g, dtype=torch.float64)
    new, alpha, loss = gauss_newton_step(lambda t: torch.einsum("nrp,p->nr", a, t) - b, theta, gamma, lam)
    # closed form: L = ½Σγ_j‖A_jθ − b_j‖² + ½λ‖θ‖², g = Σγ_j A_jᵀ(A_jθ − b_j) + λθ, α = gᵀg / gᵀ(Σγ_j A_jᵀA_j + λI)g
    h = torch.einsum("n,nrp,nrq->pq", gamma, a, a) + lam * torch.eye(7, dtype=torch.float64)
    grad = torch.einsum("n,nrp,nr->p", gamma, a, torch.einsum("nrp,p->nr", a, theta) - b) + lam * theta
    want = float(grad @ grad / (grad @ h @ grad))
    assert math.isclose(alpha, want, rel_tol=1e-9)
    torch.testing.assert_close(new, theta - want * grad)
    # on a quadratic the GN step is the exact line minimum along −g: L(θ − α g) ≤ L(θ − t g) for nearby t
    def L(t: torch.Tensor) -> float:
        r = torch.einsum("nrp,p->nr", a, t) - b
        return float(0.5 * (gamma[:, None] * r * r).sum() + 0.5 * lam * t @ t)
    assert math.isclose(loss, L(theta), rel_tol=1e-9)
    assert L(new) <= min(L(theta - 0.9 * want * grad), L(theta - 1.1 * want * grad))



def test_unrolled_fit_matches_the_run_time_gauss_newton_steps() -> None:
    """The differentiable inner loop takes the same steps as `gauss_newton_step` (autograd gradient + jvp)."""
    g = torch.Generator().manual_seed(3)
    feats = torch.randn(3, 8, 12, 12, generator=g)
    y = torch.stack([gaussian_label((12, 12), (5.0 + i, 6.0), 1.5) for i in range(3)])
    m = (y > 0.3).float()
    w = torch.tensor([0.5, 0.3, 0.2])
    filt = torch.randn(8, 5, 5, generator=g) * 0.05
    its = unrolled_fit(filt.clone(), feats, y, m, w, 0.01, 4)
    ref = filt.clone()
    for k in range(4):
        ref, _, _ = gauss_newton_step(lambda f: onr_residual(f, feats, y, m), ref, w, 0.01)
        assert torch.allclose(its[k + 1].detach(), ref, atol=1e-5, rtol=1e-4), k
    assert onr_objective(its[-1].detach(), feats, y, m, w, 0.01) < onr_objective(filt, feats, y, m, w, 0.01)


def test_meta_loss_reaches_the_features_through_the_inner_loop() -> None:
    """The query loss of the fitted filter back-propagates into the support/query features and the template."""
    g = torch.Generator().manual_seed(4)
    feats = torch.randn(5, 8, 12, 12, generator=g).requires_grad_(True)
    template = torch.randn(8, 8, 8, generator=g).requires_grad_(True)
    y = torch.stack([gaussian_label((12, 12), (6.0, 6.0), 1.5)] * 5)
    m = (y > 0.3).float()
    f0 = initial_filter(template, feats[0])
    assert torch.isclose(filter_peak := F.conv2d(feats[:1], f0[None], padding=2).max(), torch.tensor(1.0)), filter_peak
    fitted = unrolled_fit(f0, feats[:3], y[:3], m[:3], torch.full((3,), 1 / 3), 0.01, 3)[-1]
    loss = regression_loss(fitted, feats[3:], y[3:], m[3:])
    loss.backward()
    assert feats.grad[:3].abs().sum() > 0 and feats.grad[3:].abs().sum() > 0 and template.grad.abs().sum() > 0
    # the hinge: negative responses off the target cost nothing
    assert float(regression_loss(torch.zeros(8, 5, 5), feats[3:].detach(), torch.zeros(2, 12, 12),
                                 torch.zeros(2, 12, 12))) == 0.0


def test_online_regressor_memory_and_updates() -> None:
    feats, ys, ms, _ = _toy_memory(n=3, size=16)
    p = ONRParams(memory=6, update_every=2, init_iters=3, sample_every_update=False)  # every frame stored
    onr = OnlineRegressor(p)
    onr.initialize(feats[0, :, 4:12, 4:12], feats, [(8.0, 8.0)] * 3, [(4.0, 4.0)] * 3)
    assert onr.filter.shape == (8, 5, 5) and len(onr.losses) == 4
    assert all(b < a for a, b in zip(onr.losses, onr.losses[1:], strict=False))
    f = torch.randn(8, 16, 16)
    assert onr.step(f, (7.0, 9.0), (4.0, 4.0), lost=True, distractor=False) == "lost"
    assert len(onr.weights) == 3  # lost frames are not stored
    assert onr.step(f, (7.0, 9.0), (4.0, 4.0), lost=False, distractor=False) == "stored"
    assert onr.step(f, (7.0, 9.0), (4.0, 4.0), lost=False, distractor=False) == "update"
    import copy

    twin = copy.deepcopy(onr)
    w_prev = float(onr.weights[-1])
    assert onr.step(f, (7.0, 9.0), (4.0, 4.0), lost=False, distractor=True) == "distractor"
    twin.add_sample(f, (7.0, 9.0), (4.0, 4.0), p.update_lr)
    assert float(onr.weights[-1]) > float(twin.weights[-1])  # a distractor frame enters with lr 0.2, not 0.1
    # DiMP's rule: new weight lr, older ones decayed by (1 - lr), then a common normalisation
    assert math.isclose(float(onr.weights[-1] / onr.weights[-2]), 0.2 / (0.8 * w_prev), rel_tol=1e-4)
    for _ in range(4):
        onr.step(f, (7.0, 9.0), (4.0, 4.0), lost=False, distractor=False)
    assert len(onr.weights) == 6 and math.isclose(float(onr.weights.sum()), 1.0, rel_tol=1e-5)
    assert float(onr.weights[:3].sum()) >= 0.25 * 0.9 - 1e-6  # initial samples keep their share


def test_uncertain_and_off_schedule_frames_leave_the_memory_alone() -> None:
    """A frame flagged uncertain (DiMP: two equally strong peaks, the label may sit on a look-alike) is not stored
    and does not move the filter; with `sample_every_update` only the update frames enter the memory."""
    feats, _, _, _ = _toy_memory(n=3, size=16)
    onr = OnlineRegressor(ONRParams(memory=8, update_every=3, init_iters=2))
    onr.initialize(feats[0, :, 4:12, 4:12], feats, [(8.0, 8.0)] * 3, [(4.0, 4.0)] * 3)
    filt = onr.filter.clone()
    polluted = torch.randn(8, 16, 16)
    assert onr.step(polluted, (2.0, 3.0), (4.0, 4.0), lost=False, distractor=True, uncertain=True) == "uncertain"
    assert len(onr.weights) == 3 and torch.equal(onr.filter, filt)
    sparse = OnlineRegressor(ONRParams(memory=8, update_every=3, init_iters=2, sample_every_update=True))
    sparse.initialize(feats[0, :, 4:12, 4:12], feats, [(8.0, 8.0)] * 3, [(4.0, 4.0)] * 3)
    f = torch.randn(8, 16, 16)
    events = [sparse.step(f, (8.0, 8.0), (4.0, 4.0), lost=False, distractor=False) for _ in range(6)]
    assert events == ["skipped", "skipped", "update"] * 2 and len(sparse.weights) == 5


def test_second_peak_ratio() -> None:
    s = torch.zeros(16, 16)
    s[4, 4], s[4, 12], s[5, 5] = 1.0, 0.9, 0.95
    assert math.isclose(second_peak_ratio(s, 3.0), 0.9, rel_tol=1e-6)  # (5,5) is inside the radius
    assert second_peak_ratio(s, 20.0) == 0.0


# ------------------------------------------------------------------------------------------------ tracking


@pytest.mark.parametrize("use_onr", [True, False])
def test_tracker_runs_on_a_short_synthetic_clip(lite_net: DMTrackLiteNet, use_onr: bool) -> None:
    clip = synthetic_clip("distractors", 11, 4)
    params = DMTrackParams(onr=ONRParams(update_every=2))
    tracker = build_dmtrack_tracker(lite_net, params, use_onr=use_onr)
    tracker.initialize(clip.render(0), tuple(clip.box(0)))
    for t in range(1, 4):
        box, score = tracker.track(clip.render(t))
        assert np.isfinite(box).all() and box[2] > 0 and box[3] > 0 and math.isfinite(score)
    assert tracker.name == ("dmtrack-lite" if use_onr else "dmtrack-lite-ofc")
    assert (tracker.onr is not None) == use_onr
    if use_onr:
        assert len(tracker.events) == 3 and tracker.onr.n_init == 13


def test_distractors_clip_kind_crosses_the_target() -> None:
    clip = synthetic_clip("distractors", HELDOUT_SEED_BASE + 5, 60)
    assert clip.kind == "distractors" and 2 <= len(clip.distractors) <= 3 and len(clip.occluders) >= 1
    side = max(clip.box(0)[2:])
    t = np.arange(60)
    gaps = [np.hypot(d.cx[t] - clip.target.cx[t], d.cy[t] - clip.target.cy[t]).min() for d in clip.distractors]
    assert min(gaps) < side  # at least one look-alike passes over the target
    a, b = synthetic_clip("distractors", 3, 5), synthetic_clip("distractors", 3, 5)
    assert np.array_equal(a.render(4), b.render(4)) and np.array_equal(a.boxes, b.boxes)


# ------------------------------------------------------------------------------------------------ training, registry


def test_three_training_steps_save_a_loadable_asset(tmp_path: Path) -> None:
    from cvkit.assets import asset_from_path
    from cvkit.track.dmtrack.dmtrack_train import MetaConfig, load_dmtrack, train_dmtrack
    from cvkit.track.registry import build_tracker

    seen: list[dict] = []
    res = train_dmtrack("dmtrack-lite", "synthetic", 3, 0, tmp_path / "a", batch=4, pretrained=False,
                        callback=seen.append, log_every=1, meta=MetaConfig())  # first stage only
    assert res.steps == 3 and len(seen) == 3 and all(math.isfinite(d["loss"]) for d in seen)
    card = json.loads((tmp_path / "a" / "card.json").read_text())
    assert card["architecture"] == "dmtrack-lite" and card["training"]["steps"] == 3
    assert card["training"]["data_mixture"] == "synthetic:sprites+distractors"
    assert card["tracker_params"]["mu"] == 0.8 and card["tracker_params"]["onr"]["memory"] == 50
    state = asset_from_path(tmp_path / "a").state_dict()
    assert state and not any(k.startswith("trunk.") for k in state)
    net = load_dmtrack(tmp_path / "a", pretrained=False)
    for k, v in res.net.state_dict().items():
        assert torch.equal(net.state_dict()[k], v), k
    tracker = build_tracker(str(tmp_path / "a"))  # user weights by path: the card names the architecture
    assert type(tracker).__name__ == "DMTrackTracker" and tracker.p.use_onr



def test_onr_layer_starts_as_the_paper_feature_and_round_trips(tmp_path: Path) -> None:
    """A fresh learned ONR layer leaves f = Σβφ unchanged; a net with one saves and reloads through its card."""
    from cvkit.track.dmtrack.dmtrack_train import load_dmtrack

    torch.manual_seed(0)
    net = DMTrackLiteNet(pretrained=False).eval()
    with torch.no_grad():
        xs, f = net.embed_all(_crops(2, 255, 5))
        zs, fz = net.embed_all(_crops(1, 127, 6), template=True)
    net.add_onr_layer(16)
    assert net.config()["onr_hidden"] == 16
    with torch.no_grad():
        assert torch.equal(net.embed_all(_crops(2, 255, 5))[1], f)
        assert torch.equal(net.embed_all(_crops(1, 127, 6), template=True)[1], fz)
        net.onr_layer.mix.bias.fill_(0.5)
        assert torch.allclose(net.embed_all(_crops(2, 255, 5))[1], f + 0.5)
    from cvkit.track.train import make_card, save_net

    save_net(net, tmp_path / "a", make_card("dmtrack-lite", net, "synthetic", 1.0, 0, 1.0, []))
    back = load_dmtrack(tmp_path / "a", pretrained=False)
    assert back.onr_layer is not None and torch.equal(back.onr_layer.mix.bias, net.onr_layer.mix.bias)


def test_meta_stage_trains_the_onr_feature_only(tmp_path: Path) -> None:
    """Second stage from a saved first stage: OFC weights untouched (train_ofc=False), the ONR layer and β move."""
    from cvkit.track.dmtrack.dmtrack_train import MetaConfig, load_dmtrack, train_dmtrack

    first = train_dmtrack("dmtrack-lite", "synthetic", 1, 0, tmp_path / "s1", batch=2, pretrained=False,
                          meta=MetaConfig())
    meta = MetaConfig(steps=2, batch=2, support=2, query=1, iters=2, train_ofc=False, onr_hidden=8, lr=1e-2)
    seen: list[dict] = []
    res = train_dmtrack("dmtrack-lite", "synthetic", None, 0, tmp_path / "s2", pretrained=False, meta=meta,
                        init_from=tmp_path / "s1", callback=seen.append, log_every=1)
    assert res.steps == 0 and [d["step"] for d in seen if d.get("stage") == "meta"] == [1, 2]
    assert all(math.isfinite(d["onr"]) for d in seen)
    card = json.loads((tmp_path / "s2" / "card.json").read_text())
    assert card["config"]["onr_hidden"] == 8 and card["training"]["meta"]["steps_done"] == 2
    assert card["tracker_params"]["mu"] == 0.5  # the meta recipe's fusion weight (chosen on validation clips)
    net = load_dmtrack(tmp_path / "s2", pretrained=False)
    before = first.net.state_dict()
    after = net.state_dict()
    for k, v in before.items():
        if k != "head.onr_weight":
            assert torch.equal(after[k], v), k
    assert not torch.equal(after["head.onr_weight"], before["head.onr_weight"])
    assert net.onr_layer.mix.weight.abs().sum() > 0
    assert net.tracker_params["mu"] == 0.5 and build_dmtrack_tracker(net, net.tracker_params).p.mu == 0.5


def test_lite_recipe_includes_the_meta_stage() -> None:
    from cvkit.track.dmtrack.dmtrack_train import DEFAULT_META, DEFAULT_STEPS

    m = DEFAULT_META["dmtrack-lite"]
    assert DEFAULT_STEPS["dmtrack-lite"] == 1500 and m.steps == 300 and m.onr_hidden == 64 and not m.train_ofc
    assert "dmtrack" not in DEFAULT_META  # the paper-size recipe is unchanged


def test_paper_size_dmtrack_trains_a_step_on_a_got10k_fixture(tmp_path: Path) -> None:
    from cvkit.track.dmtrack.dmtrack_train import train_dmtrack

    root, _ = _write_got10k(tmp_path / "got10k")
    res = train_dmtrack("dmtrack", f"got10k:{root}", 1, 0, tmp_path / "full", batch=1, device="cpu")
    assert res.steps == 1 and math.isfinite(res.losses[-1])
    card = json.loads((tmp_path / "full" / "card.json").read_text())
    assert card["architecture"] == "dmtrack" and card["training"]["optimizer"] == "sgd"
    assert card["training"]["pairs_config"]["stride"] == 8 and card["training"]["pairs_config"]["response_size"] == 25


@pytest.mark.parametrize("name", ["dmtrack", "duml"])
def test_paper_model_without_weights_says_how_to_train(name: str) -> None:
    from cvkit.track.registry import MODELS, build_tracker

    assert MODELS[name].needs_weights
    with pytest.raises(ModelError, match="cvkit train track --model dmtrack --data got10k:DIR"):
        build_tracker(name)


# ------------------------------------------------------------------------------------------------ shipped asset


def _shipped():
    from cvkit.assets import find_asset

    asset = find_asset("track", "dmtrack-lite")
    assert asset is not None, "the tracked dmtrack-lite asset is missing"
    return asset


@pytest.mark.slow
@pytest.mark.quality
def test_online_branch_does_not_break_the_tracker_on_held_out_distractor_clips() -> None:
    """Regression guard for the shipped asset (mu = 0.5, meta-trained ONR feature) that holds on any CPU and thread
    count: on the first 6 held-out distractor clips, fusing the online regression (ONR) with the offline classifier
    (OFC) keeps the tracker on its targets and within a small tolerance of OFC alone. The sign of the difference is
    not asserted: it flips with the float kernels (measured +0.025 AUC at 2 threads, -0.036 at 1 thread on one
    machine), and on the fresh 100-clip set the two tie (CARD.md)."""
    from cvkit.track.dmtrack.dmtrack_train import evaluate_clips, load_dmtrack

    net = load_dmtrack(_shipped().weights.parent)
    assert net.onr_layer is not None and net.tracker_params["mu"] == 0.5
    ofc = evaluate_clips(net, "distractors", 6, 0, use_onr=False)
    fused = evaluate_clips(net, "distractors", 6, 0, use_onr=True)
    print(f"OFC alone AUC {ofc['auc']:.3f} lost {ofc['frames_lost']}; ONR+OFC AUC {fused['auc']:.3f} "
          f"lost {fused['frames_lost']} (of {ofc['frames']} frames)")
    assert fused["auc"] >= ofc["auc"] - 0.1
    assert min(fused["auc"], ofc["auc"]) > 0.45
    assert fused["frames_lost"] <= 0.25 * fused["frames"]


@pytest.mark.slow
def test_cli_tracks_an_image_folder_with_dmtrack_lite(tmp_path: Path) -> None:
    import subprocess
    import sys

    import cv2

    _shipped()
    clip = synthetic_clip("sprites", HELDOUT_SEED_BASE + 77, 8)
    for t in range(clip.n_frames):
        cv2.imwrite(str(tmp_path / f"{t:04d}.png"), clip.render(t))
    x, y, w, h = clip.box(0)
    r = subprocess.run([sys.executable, "-m", "cvkit_cli.main", "track", str(tmp_path), "--init-box",
                        f"{x:g},{y:g},{w:g},{h:g}", "--model", "dmtrack-lite", "--json", "--quiet", "--threads", "1"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    frames = [json.loads(line) for line in r.stdout.splitlines() if '"frame"' in line]
    assert len(frames) == clip.n_frames and all(np.isfinite(f["box"]).all() for f in frames)
