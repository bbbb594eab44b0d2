"""Shared detection ops used by the detector: RoIAlign (hand-computed bilinear), NMS (brute force), box coder."""

import torch

from cvkit.nn.detection import box_iou, decode_boxes, encode_boxes, nms, roi_align


def test_roi_align_matches_hand_computed_bilinear_value():
    feat = torch.tensor([[0.0, 1.0], [2.0, 4.0]])[None]  # 1 x 2 x 2, not bilinear-separable (has an xy term)
    out = roi_align(feat, torch.tensor([[0.0, 0.0, 1.0, 1.0]]), 1, 1.0, sampling_ratio=1)
    # aligned: box -> [-0.5, 0.5], one sample at its centre (0, 0) -> f(0, 0) = 0
    assert out.shape == (1, 1, 1, 1) and abs(float(out) - 0.0) < 1e-6
    out = roi_align(feat, torch.tensor([[0.5, 0.5, 1.5, 1.5]]), 1, 1.0, sampling_ratio=1)
    # centre (0.5, 0.5): (0 + 1 + 2 + 4) / 4 = 1.75
    assert abs(float(out) - 1.75) < 1e-6
    out = roi_align(feat, torch.tensor([[0.25, 0.75, 1.25, 1.75]]), 1, 1.0, sampling_ratio=1)
    # centre x = 0.25, y = 0.75: (1-y)[(1-x) 0 + x 1] + y[(1-x) 2 + x 4] = 0.25 * 0.25 + 0.75 * 2.5
    assert abs(float(out) - (0.25 * 0.25 + 0.75 * 2.5)) < 1e-6


def test_roi_align_two_by_two_bins_average_samples():
    feat = (torch.arange(16.0).view(4, 4) * 1.0)[None]  # f = 4y + x, linear: a bin's mean = f(bin centre)
    out = roi_align(feat, torch.tensor([[1.0, 1.0, 3.0, 3.0]]), 2, 1.0, sampling_ratio=2)
    # aligned box [0.5, 2.5]^2, bin centres at 1.0 and 2.0
    expect = torch.tensor([[4 * 1 + 1, 4 * 1 + 2], [4 * 2 + 1, 4 * 2 + 2]], dtype=torch.float32)
    assert torch.allclose(out[0, 0], expect, atol=1e-5)


def _brute_nms(boxes, scores, thr):
    iou = box_iou(boxes, boxes).tolist()
    order = sorted(range(len(boxes)), key=lambda i: -float(scores[i]))
    keep = []
    for i in order:
        if all(iou[i][k] <= thr for k in keep):  # a box survives iff it overlaps no kept higher-scoring box
            keep.append(i)
    return keep


def test_nms_matches_brute_force():
    g = torch.Generator().manual_seed(0)
    for _trial in range(20):
        xy = torch.rand(40, 2, generator=g) * 50
        wh = torch.rand(40, 2, generator=g) * 30 + 2
        boxes = torch.cat([xy, xy + wh], 1)
        scores = torch.rand(40, generator=g)
        for thr in (0.3, 0.5, 0.7):
            assert nms(boxes, scores, thr).tolist() == _brute_nms(boxes, scores, thr)


def test_box_coder_round_trip():
    g = torch.Generator().manual_seed(1)
    ref = torch.cat([torch.rand(50, 2, generator=g) * 100, torch.zeros(50, 2)], 1)
    ref[:, 2:] = ref[:, :2] + torch.rand(50, 2, generator=g) * 60 + 4
    gt = torch.cat([torch.rand(50, 2, generator=g) * 100, torch.zeros(50, 2)], 1)
    gt[:, 2:] = gt[:, :2] + torch.rand(50, 2, generator=g) * 60 + 4
    assert torch.allclose(decode_boxes(ref, encode_boxes(ref, gt)), gt, atol=1e-3)
    assert torch.allclose(encode_boxes(ref, ref), torch.zeros(50, 4), atol=1e-6)
