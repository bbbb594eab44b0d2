"""table-rcnn, the paper's Mask R-CNN route for whole pages: shapes, a loss that falls on one page, the paper-size
build, post-processing, and the shipped asset plugged into page detection (`--detector rcnn`)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cvkit.parse_table.metrics import match_boxes
from cvkit.parse_table.table_detector import input_scale, page_tensor
from cvkit.parse_table.table_rcnn import LITE, RATIOS, SCALES, TableRCNN, postprocess
from tests.unit.parse_table.pages import page_with_tables


def _small(**kw) -> TableRCNN:
    torch.manual_seed(0)
    return TableRCNN(LITE, 16, 16, 32, pretrained=False, roi_train=32, **kw)


def test_small_variant_shapes_and_anchors_match_the_rpn() -> None:
    net = _small()
    x = torch.rand(1, 1, 256, 192)
    taps = net.features(x)
    feats = net.pyramid(taps)
    assert [tuple(f.shape[-2:]) for f in feats] == [(256 // s, 192 // s) for s in net.strides]
    assert all(f.shape[1] == 16 for f in feats)
    for f, a in zip(feats, net.anchors(feats), strict=True):
        logits, deltas = net.rpn(f)
        assert len(a) == len(logits) == len(deltas) == f.shape[-2] * f.shape[-1] * len(RATIOS) * len(SCALES)
    boxes, scores = net.detect(x, max_det=5)
    assert boxes.shape[1:] == (4,) and len(boxes) == len(scores) <= 5
    assert not any(k.startswith("trunk.") for k in net.trainable_state())  # the frozen trunk is not stored


def test_loss_falls_on_a_synthetic_page() -> None:
    import cv2

    page, gray = page_with_tables()
    x = page_tensor(cv2.resize(gray, (gray.shape[1] // 2, gray.shape[0] // 2), interpolation=cv2.INTER_AREA))
    s = input_scale(*page.size) / 2  # the page at half the network scale: a quarter of the compute
    gt = torch.tensor([[v * s for v in t] for t in page.tables], dtype=torch.float32)
    net = _small()
    taps = net.features(x)
    opt = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], 3e-3)
    totals = []
    for _ in range(8):
        parts = net.loss(taps, gt, tuple(x.shape[-2:]), np.random.default_rng(0))
        assert {"rpn_class", "rpn_bbox", "class"} <= set(parts)
        loss = sum(parts.values())
        opt.zero_grad()
        loss.backward()
        opt.step()
        totals.append(float(loss.detach()))
    assert np.isfinite(totals).all() and totals[-1] < 0.9 * totals[0]  # same RoI sampling each step: it falls


def test_a_page_without_tables_has_a_loss_too() -> None:
    net = _small()
    x = torch.rand(1, 1, 128, 96)
    parts = net.loss(net.features(x), torch.zeros(0, 4), (128, 96), np.random.default_rng(0))
    assert "mask" not in parts and all(torch.isfinite(v) for v in parts.values())


def test_paper_size_builds_and_runs_forward() -> None:
    torch.manual_seed(0)
    net = TableRCNN("resnet101")
    n = sum(p.numel() for p in net.parameters())
    assert net.strides == (4, 8, 16, 32, 64) and net.pyramid.lateral[0].out_channels == 256
    assert n > 50_000_000  # ResNet-101 (42.5 M) + pyramid, RPN, box and mask heads
    boxes, scores = net.detect(torch.rand(1, 1, 128, 96))
    assert boxes.shape[1:] == (4,) and len(boxes) == len(scores)


def test_postprocess_thresholds_snaps_and_drops_duplicates() -> None:
    page, _ = page_with_tables()
    t = page.tables[0]
    h = float(np.median([w.y2 - w.y1 for w in page.words]))
    loose = (t[0] - 0.3 * h, t[1] - 0.3 * h, t[2] + 0.3 * h, t[3] + 0.3 * h)
    scored = [(loose, 0.9), (t, 0.8), ((0.0, 0.0, 5.0, 5.0), 0.95), (loose, 0.1)]
    out = postprocess(scored, page.words, 0.5)  # the empty box has no words; the second repeats the first
    assert len(out) == 1 and len(match_boxes(out, [t], 0.8)) == 1
    assert len(postprocess(scored, None, 0.5)) == 2  # no words: thresholded and de-duplicated only


def test_the_shipped_rcnn_is_a_page_detector() -> None:
    import cv2

    from cvkit.errors import ModelError
    from cvkit.parse_table.pipeline import page_tables, resolve_detector
    from cvkit.parse_table.registry import build_parser

    page, gray = page_with_tables(3000)
    big = cv2.cvtColor(cv2.resize(gray, page.size, interpolation=cv2.INTER_LINEAR), cv2.COLOR_GRAY2BGR)
    boxes = page_tables(page.words, big, "rcnn")  # fails (ModelError) when the asset is missing
    assert len(match_boxes(boxes, page.tables, 0.5)) >= 1
    assert resolve_detector("rcnn", True, page.words, big) == "rcnn"
    with pytest.raises(ModelError):
        build_parser("table-rcnn")
