"""SE-SiamFC (paper size) and the lite nets: shapes, parameter counts, checkpoint keys, training and tracking."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from cvkit.assets import load_into, read_state_dict
from cvkit.errors import ModelError
from cvkit.nn.sesn import SESConv_H_H, SESConv_Z2_H
from cvkit.track.siamfc.se_siamfc import SE_SIAMFC_PRESETS, SESiamFCNet, SESiamFCParams, official_state_dict
from cvkit.track.siamfc.se_siamfc_lite import (
    PlainSiamLiteNet,
    ScaleAxisTracker,
    SESiamLiteNet,
    build_lite_net,
    count_parameters,
)
from cvkit.track.siamfc.siamfc import SiamFCParams, SiamFCTracker

PAPER_PARAMS = 1.45e6  # supp. Table 2
SPEC_PARAMS = 1_449_024  # the release's architecture, counted


pytestmark = pytest.mark.usefixtures("one_thread")


def _crops(n: int, side: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, side, side, 3), dtype=torch.uint8, generator=g)


@pytest.fixture(scope="module")
def se_net() -> SESiamFCNet:
    torch.manual_seed(0)
    return SESiamFCNet().eval()


# --------------------------------------------------------------------------------------------- SE-SiamFC


def test_se_siamfc_parameter_count(se_net: SESiamFCNet) -> None:
    n = count_parameters(se_net)
    print(f"SE-SiamFC parameters: {n:,} (paper: 1.45 M, release architecture: {SPEC_PARAMS:,})")
    assert n == SPEC_PARAMS
    assert abs(n - PAPER_PARAMS) / PAPER_PARAMS < 0.01


def test_se_siamfc_shapes_and_heads(se_net: SESiamFCNet) -> None:
    with torch.inference_mode():
        z = se_net.embed(_crops(1, 127))
        x = se_net.embed(_crops(1, 255, seed=1))
        assert z.shape == (1, 512, 3, 5, 5)
        assert x.shape == (1, 512, 3, 21, 21)
        r = se_net.respond(z, x)
        assert r.shape == (1, 17, 17) and torch.isfinite(r).all()
        # the "corr" head is 0.1 · xcorr of the scale-max-projected features
        ref = torch.nn.functional.conv2d(x.amax(2), z.amax(2))[:, 0] * 0.1
        torch.testing.assert_close(r, ref)
        # scale pyramid: one template, 3 search maps; paired: 3 templates, 3 search maps
        x3 = x.expand(3, -1, -1, -1, -1)
        assert se_net.respond(z, x3).shape == (3, 17, 17)
        assert se_net.respond(z.expand(3, -1, -1, -1, -1), x3).shape == (3, 17, 17)
        se_net.connect_model.head = "scaleconv"
        try:
            rs = se_net.respond(z, x)
        finally:
            se_net.connect_model.head = "corr"
        assert rs.shape == (1, 17, 17)
        assert torch.all(rs >= r - 1e-4)  # the max over s ∈ {1/1.2, 1, 1.2} includes s = 1


def test_se_siamfc_official_key_names(se_net: SESiamFCNet) -> None:
    """Keys and shapes of the release's state dict (lib/models/*.py of ISosnovik/SiamSE)."""
    sd = se_net.state_dict()
    expected = {
        "features.mean": (3,),
        "features.std": (3,),
        "features.features.conv1.weight": (64, 3, 49),
        "features.features.conv1.basis": (49, 3, 9, 9),
        "features.features.bn1.running_var": (64,),
        "features.features.layer1.0.conv1.weight": (64, 64, 2, 1, 1),  # inter-scale 1×1
        "features.features.layer1.0.conv2.weight": (64, 64, 1, 9),
        "features.features.layer1.0.conv2.basis": (9, 3, 5, 5),
        "features.features.layer1.0.downsample.0.weight": (256, 64, 1, 1),
        "features.features.layer1.0.downsample.1.weight": (256,),
        "features.features.layer1.2.conv3.weight": (256, 64, 1, 1),
        "features.features.layer2.0.conv1.weight": (128, 256, 1, 1),  # plain conv2d after scale pooling
        "features.features.layer2.0.bn1.weight": (128,),
        "features.features.layer2.0.conv2.weight": (128, 128, 9),  # Z2->H re-lift
        "features.features.layer2.0.downsample.0.weight": (512, 256, 1, 1),
        "features.features.layer2.2.conv1.weight": (128, 512, 1, 1),  # index 1 is the spatial max-pool
        "features.features.layer2.4.conv2.weight": (128, 128, 1, 9),
        "features.features.layer2.4.bn3.num_batches_tracked": (),
    }
    for k, shape in expected.items():
        assert k in sd, k
        assert tuple(sd[k].shape) == shape, k
    assert not any(k.startswith("features.features.layer2.1.") for k in sd)
    assert not any(k.startswith("features.features.layer2.5.") for k in sd)
    assert not any(k.startswith("connect_model.") for k in sd)  # the head has no state
    assert len(sd) == 154


def test_se_siamfc_state_dict_round_trip(se_net: SESiamFCNet, tmp_path) -> None:
    state = {k: v.clone() for k, v in se_net.state_dict().items()}
    state["features.features.layer2.3.bn2.running_mean"] += 1.0
    path = tmp_path / "weights.safetensors"
    save_file(state, str(path))
    other = SESiamFCNet()
    load_into(other, read_state_dict(path), path)
    for k, v in other.state_dict().items():
        torch.testing.assert_close(v, state[k], msg=k)
    # a checkpoint as the release's training script writes it: {"state_dict": ...} with "module." keys
    wrapped = tmp_path / "checkpoint_e50.pth"
    torch.save({"epoch": 50, "state_dict": {f"module.{k}": v for k, v in state.items()}}, wrapped)
    third = SESiamFCNet().load_official(wrapped)
    torch.testing.assert_close(third.state_dict()["features.features.conv1.weight"],
                               state["features.features.conv1.weight"])
    assert official_state_dict({"module.a": 1, "b": 2}) == {"a": 1, "b": 2}


def test_se_siamfc_wrong_shape_names_the_key(se_net: SESiamFCNet) -> None:
    state = dict(se_net.state_dict())
    bad = "features.features.layer1.1.conv2.weight"
    state[bad] = torch.zeros(64, 64, 1, 49)
    with pytest.raises(ModelError, match=bad.replace(".", r"\.")):
        load_into(SESiamFCNet(), state, "ckpt.pth")
    state = dict(se_net.state_dict())
    del state["features.features.conv1.basis"]
    with pytest.raises(ModelError, match="conv1.basis"):
        load_into(SESiamFCNet(), state, "ckpt.pth")


def test_se_siamfc_padding_modes() -> None:
    net = SESiamFCNet(padding_mode="circular")
    layers = [m for m in net.modules() if isinstance(m, SESConv_Z2_H | SESConv_H_H)]
    assert len(layers) == 8 and all(m.padding_mode == "circular" for m in layers)
    net.set_padding_mode("constant")
    assert all(m.padding_mode == "constant" for m in layers)
    with pytest.raises(ValueError):
        net.set_padding_mode("reflect")
    with pytest.raises(ValueError):
        SESiamFCNet(head="dw")


def test_se_siamfc_params() -> None:
    p = SESiamFCParams()
    assert isinstance(p, SiamFCParams)
    assert (p.total_stride, p.scale_step, p.scale_lr, p.scale_penalty, p.window_influence) == (
        8, 1.1633, 0.171, 0.9995, 0.251)
    assert SESiamFCParams.preset("OTB2015") == p
    vot = SESiamFCParams.preset("vot2017")
    assert (vot.scale_step, vot.scale_lr, vot.scale_penalty, vot.window_influence) == (1.0633, 0.349, 0.9725, 0.224)
    assert vot.total_stride == 8 and vot.response_up == 16
    assert set(SE_SIAMFC_PRESETS) == {"OTB2013", "OTB2015", "VOT2016", "VOT2017", "DEFAULT"}
    with pytest.raises(ValueError):
        SESiamFCParams.preset("LaSOT")


# ------------------------------------------------------------------------------------------------ lite nets


@pytest.fixture(scope="module", params=["sesiamfc-lite", "siamfc-lite-plain"])
def lite(request):
    torch.manual_seed(0)
    return build_lite_net(request.param, pretrained=False)


def test_lite_parameter_counts() -> None:
    se, plain = SESiamLiteNet(pretrained=False), PlainSiamLiteNet(pretrained=False)
    n_se, n_plain = count_parameters(se, trainable_only=True), count_parameters(plain, trainable_only=True)
    print(f"trainable parameters: sesiamfc-lite {n_se:,}, siamfc-lite-plain {n_plain:,}")
    # Z2->H E=3 has 9 weights per filter like a 3×3 conv; the SE neck's extra weights are its inter-scale taps
    assert n_se - n_plain == 64 * 64 * 9
    assert se.neck.conv1.weight.numel() == plain.neck.conv1.weight.numel()
    assert n_plain < 150_000 and n_se < 150_000


def test_lite_paired_batch_logits_and_gradients(lite) -> None:
    lite.train()
    assert not lite.trunk.training  # the frozen trunk keeps its eval-mode statistics
    z, x = _crops(3, 127), _crops(3, 255, seed=1)
    logits = lite(z, x)
    assert logits.shape == (3, 9, 9)  # 8×8 template over 16×16 search features, stride 16
    labels = torch.zeros_like(logits)
    labels[:, 3:6, 3:6] = 1
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
    lite.zero_grad()
    loss.backward()
    assert all(p.grad is None for p in lite.trunk.parameters())
    assert all(not p.requires_grad for p in lite.trunk.parameters())
    trainable = dict((n, p) for n, p in lite.named_parameters() if p.requires_grad)
    assert set(trainable) == {n for n, _ in lite.named_parameters() if not n.startswith("trunk.")}
    for name in ("neck.conv1.weight", "neck.conv2.weight", "adjust.weight", "adjust.bias"):
        assert trainable[name].grad is not None and trainable[name].grad.abs().sum() > 0, name
    assert len(lite.trainable_parameters()) == len(trainable)
    lite.eval()


def test_lite_state_dict_and_config_round_trip(lite, tmp_path) -> None:
    state = lite.state_dict()
    assert state and not any(k.startswith("trunk.") for k in state)  # the trunk comes from its package
    cfg = lite.config()
    assert {"channels", "kernel_size", "padding_mode", "head"} <= set(cfg)
    path = tmp_path / "weights.safetensors"
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    other = build_lite_net(lite.kind, pretrained=False, **cfg)
    trunk_before = {k: v.clone() for k, v in other.trunk.state_dict().items()}
    load_into(other, read_state_dict(path), path)
    other.load_state_dict(state)  # plain torch loading works strictly too
    for k, v in other.state_dict().items():
        torch.testing.assert_close(v, state[k], msg=k)
    for k, v in other.trunk.state_dict().items():
        assert torch.equal(v, trunk_before[k]), k
    bad = dict(state)
    bad["neck.conv1.weight"] = bad["neck.conv1.weight"][:32]
    with pytest.raises(ModelError, match=r"neck\.conv1\.weight"):
        load_into(other, bad, path)
    with pytest.raises(ValueError):
        build_lite_net("siamfc-huge")


def test_lite_scaleconv_head_and_config() -> None:
    net = SESiamLiteNet(pretrained=False, head="scaleconv").eval()
    assert net.config()["head"] == "scaleconv"
    assert net.config()["scales"] == pytest.approx([0.9, 1.26, 1.764])
    with torch.inference_mode():
        z, x = net.embed(_crops(1, 127)), net.embed(_crops(3, 255, seed=2))
        assert net.respond(z, x).shape == (3, 9, 9)
    rebuilt = SESiamLiteNet.from_config(net.config(), pretrained=False)
    assert rebuilt.config() == net.config()


@pytest.mark.parametrize("kind", ["sesiamfc-lite", "siamfc-lite-plain"])
def test_lite_shallow_trunk_layout_keeps_stride_16(kind: str) -> None:
    """A shallower frozen trunk (stride 4) with strided neck layers still gives the 9x9 stride-16 response."""
    layout = dict(trunk_blocks=2, neck_widths=[16, 24, 24], neck_strides=[2, 2, 1])
    net = build_lite_net(kind, pretrained=False, **layout).eval()
    assert net.trunk.upto == 2 and net.neck.depth == 3
    with torch.inference_mode():
        assert net(_crops(2, 127), _crops(2, 255, seed=3)).shape == (2, 9, 9)
    cfg = net.config()
    assert {k: cfg[k] for k in layout} == layout
    assert build_lite_net(kind, pretrained=False, **cfg).config() == cfg
    assert {"neck.conv3.weight", "neck.bn3.weight"} <= set(net.state_dict())
    # the default layout writes none of these keys, so older cards and weights are unchanged
    assert not set(layout) & set(build_lite_net(kind, pretrained=False).config())
    with pytest.raises(ValueError, match="equal length"):
        build_lite_net(kind, pretrained=False, neck_widths=[8, 8], neck_strides=[1])


def _synthetic_clip(n: int = 5) -> tuple[list[np.ndarray], tuple[float, float, float, float]]:
    rng = np.random.default_rng(0)
    background = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    frames = []
    for t in range(n):
        f = background.copy()
        x0 = 50 + 4 * t
        f[40:70, x0:x0 + 30] = (40, 60, 230)
        f[50:60, x0 + 10:x0 + 20] = (250, 250, 250)
        frames.append(f)
    return frames, (50.0, 40.0, 30.0, 30.0)


@pytest.mark.parametrize("cls", [SESiamLiteNet, PlainSiamLiteNet])
def test_lite_tracks_with_siamfc_tracker(cls) -> None:
    torch.manual_seed(0)
    tracker = SiamFCTracker(cls(pretrained=False))
    frames, box = _synthetic_clip()
    tracker.initialize(frames[0], box)
    for frame in frames[1:]:
        (x, y, w, h), score = tracker.track(frame)
        assert np.isfinite([x, y, w, h, score]).all()
        assert w > 0 and h > 0 and 0 <= x < 160 and 0 <= y < 120


def test_lite_scale_aligned_head_sums_per_scale_correlations() -> None:
    """projection="none": the head's xcorr equals the sum over scales of xcorr(x_s, z_s) (H-correlation at k=0)."""
    from cvkit.nn.ops import xcorr

    torch.manual_seed(0)
    net = SESiamLiteNet(pretrained=False, projection="none").eval()
    assert net.config()["projection"] == "none"
    fz, fx = torch.randn(1, 112, 8, 8), torch.randn(2, 112, 16, 16)
    with torch.inference_mode():
        z, x = net.embed_features(fz), net.embed_features(fx)
        assert z.shape == (1, 64 * 3, 8, 8) and x.shape == (2, 64 * 3, 16, 16)
        neck = net.neck
        hz = neck.bn2(neck.conv2(torch.relu(neck.bn1(neck.conv1(fz)))))
        hx = neck.bn2(neck.conv2(torch.relu(neck.bn1(neck.conv1(fx)))))
        per_scale = sum(xcorr(hx[:, :, s], hz[:, :, s]) for s in range(3))
        torch.testing.assert_close(xcorr(x, z), per_scale, rtol=1e-4, atol=1e-3)
        assert net.respond(z, x).shape == (2, 9, 9)
    assert SESiamLiteNet.from_config(net.config(), pretrained=False).config() == net.config()
    with pytest.raises(ValueError):
        SESiamLiteNet(pretrained=False, projection="mean")


@pytest.mark.parametrize("projection", ["max", "none"])
def test_lite_scale_shift_correlation(projection: str) -> None:
    """embed_h + project is embed; shift 0 is the mean per-scale correlation; shifts pair scale s with s+k."""
    from cvkit.nn.ops import xcorr

    torch.manual_seed(0)
    net = SESiamLiteNet(pretrained=False, projection=projection).eval()
    z_crop, x_crops = _crops(1, 127), _crops(2, 255, seed=3)
    with torch.inference_mode():
        zh, xh = net.embed_h(z_crop), net.embed_h(x_crops)
        assert zh.shape == (1, 64, 3, 8, 8) and xh.shape == (2, 64, 3, 16, 16)
        torch.testing.assert_close(net.project(xh), net.embed(x_crops))
        r0 = net.shift_correlation(zh, xh, 0)
        per_scale = sum(xcorr(xh[:, :, s].contiguous(), zh[:, :, s].contiguous()) for s in range(3))[:, 0] / 3
        torch.testing.assert_close(r0, per_scale, rtol=1e-4, atol=1e-3)
        up = net.shift_correlation(zh, xh, 1)
        pairs = (xcorr(xh[:, :, 1].contiguous(), zh[:, :, 0].contiguous())
                 + xcorr(xh[:, :, 2].contiguous(), zh[:, :, 1].contiguous()))[:, 0] / 2
        torch.testing.assert_close(up, pairs, rtol=1e-4, atol=1e-3)
        with pytest.raises(ValueError):
            net.shift_correlation(zh, xh, 3)


def test_scale_axis_tracker_gain_zero_is_siamfc_and_needs_a_scale_axis() -> None:
    torch.manual_seed(0)
    net = SESiamLiteNet(pretrained=False).eval()
    frames, box = _synthetic_clip()
    runs = []
    for tracker in (SiamFCTracker(net), ScaleAxisTracker(net, gain=0.0), ScaleAxisTracker(net, gain=1.0),
                    ScaleAxisTracker(net, gain=1.0, slope=-0.5), ScaleAxisTracker(net, combine="mean")):
        tracker.initialize(frames[0], box)
        runs.append(np.array([tracker.track(f)[0] for f in frames[1:]]))
        assert np.isfinite(runs[-1]).all()
    np.testing.assert_array_equal(runs[0], runs[1])  # gain 0: the pyramid alone, bit for bit
    # the read-out changes the size by at most exp(±max_residual) a frame (plus a different pyramid pick)
    for run in runs[2:]:
        ratio = run[:, 2] / runs[0][:, 2]
        assert np.all(np.abs(np.log(ratio)) <= (0.05 + 2 * np.log(SiamFCParams().scale_step)) * len(frames))
    with pytest.raises(TypeError):
        ScaleAxisTracker(PlainSiamLiteNet(pretrained=False))
    with pytest.raises(ValueError):
        ScaleAxisTracker(net, combine="median")
