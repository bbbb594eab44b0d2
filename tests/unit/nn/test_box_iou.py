"""The one box IoU: formats, pairwise vs element-wise, torch vs numpy, VOC +1 widths, degenerate boxes."""

import numpy as np
import pytest
import torch

from cvkit.nn.detection import box_iou, to_xyxy


def test_formats_agree():
    xywh = np.array([[0.0, 0, 10, 10], [5, 5, 10, 10]])
    xyxy = to_xyxy(xywh, "xywh")
    cxcywh = np.c_[xywh[:, :2] + xywh[:, 2:] / 2, xywh[:, 2:]]
    expected = np.array([[1.0, 25 / 175], [25 / 175, 1.0]])
    for boxes, fmt in ((xyxy, "xyxy"), (xywh, "xywh"), (cxcywh, "cxcywh")):
        np.testing.assert_allclose(box_iou(boxes, boxes, fmt=fmt), expected)


def test_elementwise_broadcasts_and_matches_pairwise_diagonal():
    a = np.random.default_rng(0).uniform(0, 50, (7, 4))
    a[:, 2:] += a[:, :2]
    b = a[::-1] + 3.0
    np.testing.assert_allclose(box_iou(a, b, pairwise=False), np.diag(box_iou(a, b)))
    assert box_iou(a[0], b, pairwise=False).shape == (7,)


def test_torch_matches_numpy_and_keeps_gradients():
    a = torch.tensor([[0.0, 0, 10, 10], [2, 2, 6, 9]], requires_grad=True)
    b = torch.tensor([[5.0, 5, 15, 15]])
    out = box_iou(a, b)
    np.testing.assert_allclose(out.detach().numpy(), box_iou(a.detach().numpy(), b.numpy()), rtol=1e-6)
    out.sum().backward()
    assert a.grad is not None and torch.isfinite(a.grad).all()


def test_degenerate_nan_and_touching_boxes_give_zero():
    a = [[0.0, 0, 10, 10]]
    assert box_iou(a, [[10, 0, 20, 10]])[0, 0] == 0.0
    assert box_iou(a, [[np.nan] * 4])[0, 0] == 0.0
    assert box_iou([[0.0, 0, 0, 0]], [[0.0, 0, 0, 0]])[0, 0] == 0.0


def test_voc_inclusive_widths():
    assert box_iou([[0, 0, 9, 9]], [[0, 0, 9, 4]], plus_one=True)[0, 0] == pytest.approx(0.5)
    assert box_iou([[0, 0, 9, 9]], [[0, 0, 9, 4]])[0, 0] == pytest.approx(36 / 81)


def test_unknown_format_is_an_error():
    with pytest.raises(ValueError, match="box format"):
        box_iou([[0, 0, 1, 1]], [[0, 0, 1, 1]], fmt="yxhw")
