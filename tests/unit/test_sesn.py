"""Scale-equivariant convolutions (cvkit.nn.sesn): basis, layer semantics and equivariance to rescaling."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.ndimage import map_coordinates

from cvkit.nn.ops import xcorr
from cvkit.nn.sesn import (
    SESConv_H_H,
    SESConv_H_H_1x1,
    SESConv_Z2_H,
    SESMaxProjection,
    default_scales,
    hermite_gaussian_basis,
    scale_xcorr,
    ses_max_projection,
    set_padding_mode,
)

STEP = 1.4  # ratio of neighbouring basis scales


pytestmark = pytest.mark.usefixtures("one_thread")


# ---------------------------------------------------------------------------------------------------- basis


def test_default_scales() -> None:
    assert default_scales() == pytest.approx([0.9, 1.26, 1.764])


@pytest.mark.parametrize("k, e", [(9, 7), (5, 3), (7, 3)])
def test_basis_shape_support_and_normalisation(k: int, e: int) -> None:
    scales = default_scales()
    basis = hermite_gaussian_basis(k, scales, e)
    assert basis.shape == (e * e, 3, k, k) and basis.dtype == torch.float32
    # unit L2 norm at the smallest scale, for every function
    torch.testing.assert_close(basis[:, 0].pow(2).sum((1, 2)), torch.ones(e * e), atol=1e-5, rtol=0)
    for s, sigma in enumerate(scales):
        support = int(k * sigma / max(scales)) // 2 * 2 + 1
        pad = (k - support) // 2
        mask = torch.zeros(k, k, dtype=torch.bool)
        mask[pad:k - pad, pad:k - pad] = True
        assert torch.all(basis[:, s][:, ~mask] == 0)  # zero-padded outside the per-scale support
        assert basis[:, s][:, mask].abs().amax(1).min() > 0


def test_basis_functions_are_hermite_gaussian_products() -> None:
    k, e = 9, 3
    scales = default_scales()
    basis = hermite_gaussian_basis(k, scales, e).double()
    he = [lambda t: np.ones_like(t), lambda t: t, lambda t: t**2 - 1]  # probabilists' Hermite He_0..He_2

    def g(n: int, u: np.ndarray, sigma: float) -> np.ndarray:
        return np.exp(-(u**2) / (2 * sigma**2)) / sigma * he[n](u / sigma)

    u = np.arange(k) - k // 2
    for f in range(e * e):
        raw = [np.outer(g(f % e, u, s), g(f // e, u, s)) for s in scales]
        s_last = raw[-1]  # the largest scale has the full k×k support: no truncation
        s0_support = int(k * scales[0] / max(scales)) // 2 * 2 + 1
        c = k // 2
        r = s0_support // 2
        norm0 = np.linalg.norm(raw[0][c - r:c + r + 1, c - r:c + r + 1])
        np.testing.assert_allclose(basis[f, -1].numpy(), s_last / norm0, atol=1e-6)


def test_degenerate_basis_is_rejected() -> None:
    # kernel 3 at σ_min/σ_max = 0.51 leaves a 1×1 support where odd Hermite functions vanish
    with pytest.raises(ValueError, match="degenerate basis"):
        hermite_gaussian_basis(3, default_scales(), 3)


def test_basis_is_a_buffer_and_weights_have_release_shapes() -> None:
    z2h = SESConv_Z2_H(3, 8, 9, 7, stride=2, padding=4)
    hh = SESConv_H_H(8, 6, 2, 5, 3, padding=2)
    assert "basis" in dict(z2h.named_buffers()) and "basis" in z2h.state_dict()
    assert [n for n, _ in z2h.named_parameters()] == ["weight"]
    assert z2h.weight.shape == (8, 3, 49) and z2h.basis.shape == (49, 3, 9, 9)
    assert hh.weight.shape == (6, 8, 2, 9) and hh.basis.shape == (9, 3, 5, 5)
    assert SESConv_H_H_1x1(8, 4).weight.shape == (4, 8, 1, 1)
    assert SESConv_H_H_1x1(8, 4, scale_size=2).weight.shape == (4, 8, 2, 1, 1)


def test_he_normal_init() -> None:
    torch.manual_seed(0)
    layer = SESConv_H_H(64, 64, 1, 5, 3)
    n = layer.weight.numel() / 64
    assert layer.weight.std().item() == pytest.approx(math.sqrt(2 / n), rel=0.05)
    assert abs(layer.weight.mean().item()) < 0.01


# ----------------------------------------------------------------------------------------- layer semantics


def test_z2h_output_is_one_conv2d_per_scale() -> None:
    torch.manual_seed(0)
    layer = SESConv_Z2_H(3, 4, 5, 3, stride=2, padding=2, bias=True).double()
    with torch.no_grad():
        layer.bias.normal_()
    x = torch.randn(2, 3, 17, 17, dtype=torch.float64)
    y = layer(x)
    assert y.shape == (2, 4, 3, 9, 9)
    kern = (layer.weight @ layer.basis.reshape(9, -1)).reshape(4, 3, 3, 5, 5)
    for s in range(3):
        ref = F.conv2d(x, kern[:, :, s], layer.bias, stride=2, padding=2)
        torch.testing.assert_close(y[:, :, s], ref)


def test_hh_mixes_next_scales_with_zero_padding_along_scale() -> None:
    torch.manual_seed(0)
    layer = SESConv_H_H(4, 5, 2, 5, 3, padding=2).double()
    x = torch.randn(2, 4, 3, 11, 11, dtype=torch.float64)
    y = layer(x)
    kern = (layer.weight @ layer.basis.reshape(9, -1)).reshape(5, 4, 2, 3, 5, 5)
    ref = torch.zeros_like(y)
    for s in range(3):
        for i in range(2):
            if s + i < 3:  # scale s + i beyond the largest scale is zero
                ref[:, :, s] += F.conv2d(x[:, :, s + i], kern[:, :, i, s], padding=2)
    torch.testing.assert_close(y, ref)


def test_hh_1x1_is_a_conv3d_along_scale() -> None:
    torch.manual_seed(0)
    layer = SESConv_H_H_1x1(4, 5, scale_size=2, stride=2).double()
    x = torch.randn(1, 4, 3, 8, 8, dtype=torch.float64)
    y = layer(x)
    assert y.shape == (1, 5, 3, 4, 4)
    w = layer.weight[:, :, :, 0, 0]
    xs = x[..., ::2, ::2]
    ref = torch.einsum("oc,bcshw->boshw", w[:, :, 0], xs)
    ref[:, :, :2] += torch.einsum("oc,bcshw->boshw", w[:, :, 1], xs[:, :, 1:])
    torch.testing.assert_close(y, ref)
    plain = SESConv_H_H_1x1(4, 5).double()
    torch.testing.assert_close(plain(x), torch.einsum("oc,bcshw->boshw", plain.weight[:, :, 0, 0], x))


def test_padding_modes() -> None:
    torch.manual_seed(0)
    layer = SESConv_H_H(2, 2, 1, 5, 3, padding=2).double()
    x = torch.randn(1, 2, 3, 12, 12, dtype=torch.float64)
    y_const = layer(x)
    set_padding_mode(layer, "circular")
    y_circ = layer(x)
    assert layer.padding_mode == "circular"
    torch.testing.assert_close(y_const[..., 2:-2, 2:-2], y_circ[..., 2:-2, 2:-2])  # interior unaffected
    assert (y_const[..., :2, :] - y_circ[..., :2, :]).abs().max() > 1e-3
    # circular padding commutes with cyclic shifts of the input
    torch.testing.assert_close(layer(x.roll(3, -1)), y_circ.roll(3, -1))
    with pytest.raises(ValueError, match="padding_mode"):
        SESConv_Z2_H(1, 1, 5, 3, padding_mode="reflect")


def test_max_projection() -> None:
    x = torch.randn(2, 3, 4, 5, 5)
    assert torch.equal(ses_max_projection(x), x.max(2).values)
    assert torch.equal(SESMaxProjection()(x), x.max(2).values)


def test_scale_xcorr() -> None:
    torch.manual_seed(0)
    x, z = torch.randn(3, 4, 21, 21), torch.randn(1, 4, 5, 5)
    torch.testing.assert_close(scale_xcorr(x, z, (1.0,)), xcorr(x, z))
    out = scale_xcorr(x, z)
    assert out.shape == (3, 1, 17, 17)
    assert torch.all(out >= xcorr(x, z) - 1e-5)  # the max over s includes s = 1
    assert scale_xcorr(x, torch.randn(3, 4, 5, 5)).shape == (3, 1, 17, 17)  # paired templates


# --------------------------------------------------------------------------------------- scale equivariance


def _smooth_field(seed: int, n_waves: int = 30, max_freq: float = 0.35):
    """A smooth random image as a continuous function, so a rescaled copy can be sampled exactly."""
    rng = np.random.default_rng(seed)
    k = rng.uniform(-max_freq, max_freq, size=(n_waves, 2))
    phase = rng.uniform(0, 2 * np.pi, n_waves)
    amp = rng.normal(size=n_waves)

    def f(yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
        return sum(amp[i] * np.cos(k[i, 0] * yy + k[i, 1] * xx + phase[i]) for i in range(n_waves))

    return f


def _equivariance_errors(layer, seed: int, channels: int = 1, n: int = 97, shift: int = 1,
                         radius: int = 20) -> list[float]:
    """Relative error between layer(downscaled f)[s] and downscaled(layer(f)[s + shift]), central region.

    The input is sampled on a centred grid u (original) and 1.4·u (downscaled by the scale step), the
    original output is resampled at 1.4·u (bicubic spline), and both are compared inside |u| <= radius.
    """
    fields = [_smooth_field(seed * 10 + c) for c in range(channels)]
    c = (n - 1) / 2
    u = np.arange(n) - c
    yy, xx = np.meshgrid(u, u, indexing="ij")
    img = torch.from_numpy(np.stack([f(yy, xx) for f in fields]))[None]
    img_down = torch.from_numpy(np.stack([f(STEP * yy, STEP * xx) for f in fields]))[None]
    with torch.no_grad():
        y, y_down = layer(img)[0].numpy(), layer(img_down)[0].numpy()
    centre = slice(int(c) - radius, int(c) + radius + 1)
    coords = np.stack([STEP * yy + c, STEP * xx + c])
    errors = []
    for s in range(y.shape[1] - shift):
        got = y_down[:, s, centre, centre]
        want = np.stack([map_coordinates(y[ch, s + shift], coords, order=3)[centre, centre]
                         for ch in range(y.shape[0])])
        errors.append(float(np.linalg.norm(got - want) / np.linalg.norm(want)))
    return errors


@pytest.mark.parametrize("seed", [0, 1])
def test_lifting_conv_commutes_with_rescaling(seed: int) -> None:
    """Downscaling the input by 1.4 moves the output one scale down: measured 0.6–3.2 % (tolerance 5 %)."""
    torch.manual_seed(seed)
    layer = SESConv_Z2_H(1, 8, 11, 3, padding=5).double()  # a basis well sampled at every scale
    errors = _equivariance_errors(layer, seed)
    print(f"Z2->H k=11 E=3 equivariance error per scale: {errors}")
    assert len(errors) == 2 and max(errors) < 0.05


@pytest.mark.parametrize("seed", [0, 1])
def test_lifting_then_hh_commutes_with_rescaling(seed: int) -> None:
    """Z2->H, ReLU, H->H with 2 inter-scale taps: scale 0 of the rescaled input = scale 1 (measured 2.3–3.2 %)."""
    torch.manual_seed(seed)
    lift = SESConv_Z2_H(1, 8, 11, 3, padding=5).double()
    hh = SESConv_H_H(8, 8, 2, 11, 3, padding=5).double()
    # only s = 0 is fully determined: the output at s = 1 would need input scale 3 of the original
    errors = _equivariance_errors(lambda t: hh(torch.relu(lift(t))), seed)[:1]
    print(f"Z2->H->H k=11 E=3 equivariance error at s=0: {errors}")
    assert errors[0] < 0.05


def test_release_kernels_equivariance_error() -> None:
    """The release's 9×9 E=7 conv1 is close to equivariant (measured 1.3–2.0 % / 5–9 %); its 5×5 E=3 is not.

    For 5×5 the smallest scales have 3×3 supports, which truncate the Gaussian envelope differently per
    scale; the one-step error is 16–70 %, worse than assuming no scale shift at all. Printed, not asserted.
    """
    torch.manual_seed(0)
    conv1 = SESConv_Z2_H(3, 8, 9, 7, padding=4).double()
    equi = _equivariance_errors(conv1, 0, channels=3)
    no_shift = _equivariance_errors(conv1, 0, channels=3, shift=0)[:2]
    small = SESConv_Z2_H(1, 8, 5, 3, padding=2).double()
    small_equi = _equivariance_errors(small, 0)
    print(f"9x9 E=7: equivariant {equi}, no-shift control {no_shift}; 5x5 E=3: {small_equi}")
    assert max(equi) < 0.12
    assert all(e < c for e, c in zip(equi, no_shift, strict=True))
