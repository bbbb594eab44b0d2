"""TabStruct-Net (paper model) and graph-lite: shapes, parameter counts and properties."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cvkit.nn.detection import box_iou, decode_boxes, encode_boxes, nms, roi_align
from cvkit.nn.edgeconv import EdgeConv, knn_indices
from cvkit.parse_table.features import N_VERTEX
from cvkit.parse_table.graphnet import GraphStructureNet
from cvkit.parse_table.tabstructnet import (
    ResNet,
    TabStructNet,
    Targets,
    alignment_loss,
    letterbox,
    line_samples,
    monte_carlo_pairs,
    snap_targets,
)


def test_resnet_trunks_have_the_standard_parameter_counts() -> None:
    # torchvision's resnet101 / resnet50 without the 1000-way fc layer
    assert sum(p.numel() for p in ResNet("resnet101").parameters()) == 42_500_160
    assert sum(p.numel() for p in ResNet("resnet50").parameters()) == 23_508_032


def _tiny() -> TabStructNet:
    torch.manual_seed(0)
    return TabStructNet("tiny", backbone_width=8, fpn_channels=16, graph_k=4, image_size=128, roi_train=32,
                        rpn_post_nms_test=100)


def test_pyramid_levels_rpn_and_paper_choices() -> None:
    net = _tiny()
    feats = net.features(torch.rand(1, 3, 128, 128))
    assert [f.shape[-1] for f in feats] == [32, 16, 8, 4, 2]  # strides 4..64
    assert all(f.shape[1] == 16 for f in feats)
    assert net.rpn.conv.kernel_size == (2, 2) and net.rpn.conv.dilation == (2, 2)
    assert net.pyramid.out[0].h.kernel_size == (1, 7) and net.pyramid.out[0].h.dilation == (2, 2)
    anchors = net.anchors(feats)
    assert [len(a) for a in anchors] == [32 * 32 * 3, 16 * 16 * 3, 8 * 8 * 3, 4 * 4 * 3, 2 * 2 * 3]
    widths = (anchors[0][:, 2] - anchors[0][:, 0])[:3]
    heights = (anchors[0][:, 3] - anchors[0][:, 1])[:3]
    assert torch.allclose(widths * heights, torch.full((3,), 64.0))  # size 8 at P2
    assert torch.allclose(heights / widths, torch.tensor([0.5, 1.0, 2.0]))
    # structure branch: two LSTMs with hidden 128, two parallel (row, col) DGCNN pathways
    assert net.structure.lstm_h.hidden_size == 128 and set(net.structure.paths) == {"row", "col"}


def _targets() -> Targets:
    b = torch.tensor([[10, 10, 40, 20], [50, 10, 90, 20], [10, 30, 40, 40], [50, 30, 90, 40.0], [10, 50, 90, 60.0]])
    return Targets(b, torch.tensor([0, 0, 1, 1, 2]), torch.tensor([0, 0, 1, 1, 2]), torch.tensor([0, 1, 0, 1, 0]),
                   torch.tensor([0, 1, 0, 1, 1]))


def test_joint_loss_terms_and_gradients() -> None:
    net = _tiny()
    losses = net.loss(torch.rand(1, 3, 128, 128), _targets(), np.random.default_rng(0))
    assert {"rpn_class", "rpn_bbox", "class", "bbox", "mask", "alignment", "row_adj", "col_adj"} <= set(losses)
    total = sum(losses.values())
    total.backward()
    assert net.structure.lstm_h.weight_ih_l0.grad is not None
    assert net.rpn.conv.weight.grad is not None
    out = net.detect(torch.rand(1, 3, 128, 128))
    n = len(out["boxes"])
    assert out["row"].shape == (n, n) and torch.allclose(out["row"], out["row"].T)


def test_alignment_loss_hand_computed() -> None:
    boxes = torch.tensor([[0.0, 10, 10, 20], [20, 12, 30, 20], [0, 30, 10, 40]])
    same = [torch.tensor([0, 0, 1]), torch.tensor([0, 0, 1]), torch.tensor([0, 1, 0]), torch.tensor([0, 1, 0])]
    # start row 0 holds cells 0 and 1: (10 - 12)^2 / 100^2; end rows agree; start col 0 holds cells 0 and 2 (x1
    # equal), end col 0 holds 0 and 2 (x2 equal)
    got = alignment_loss(boxes, same, (100, 100))
    assert float(got) == pytest.approx((0.1 - 0.12) ** 2)
    snapped = snap_targets(Targets(boxes, *same))
    assert float(alignment_loss(snapped.boxes, same, (100, 100))) == 0.0


def test_detection_ops() -> None:
    a = torch.tensor([[0.0, 0, 10, 10], [5, 5, 15, 15]])
    assert box_iou(a, a)[0, 1] == pytest.approx(25 / 175)
    assert nms(a, torch.tensor([0.5, 0.9]), 0.1).tolist() == [1]
    r = torch.tensor([[0.0, 0, 10, 20]])
    g = torch.tensor([[2.0, 3, 12, 18]])
    assert torch.allclose(decode_boxes(r, encode_boxes(r, g)), g, atol=1e-5)
    f = torch.arange(64.0).reshape(1, 8, 8)  # f[y, x] = 8y + x is linear: RoIAlign returns the bin centres
    out = roi_align(f, torch.tensor([[0.0, 0, 8, 8]]), 2, 1.0)
    assert out[0, 0].tolist() == [[13.5, 17.5], [45.5, 49.5]]


def test_line_samples_and_pair_sampling() -> None:
    h, v = line_samples(torch.tensor([[0.0, 0, 30, 10]]), 4)
    assert h[0, :, 1].tolist() == [5.0] * 4 and h[0, [0, -1], 0].tolist() == [0.0, 30.0]
    assert v[0, :, 0].tolist() == [15.0] * 4
    target = np.eye(6, dtype=bool) | np.kron(np.eye(2, dtype=bool), np.ones((3, 3), bool))
    i, j = monte_carlo_pairs(target, np.random.default_rng(0), per_vertex=2)
    assert (i != j).all() and target[i, j].sum() == 12 and (~target[i, j]).sum() == 12


def test_letterbox_keeps_aspect_ratio() -> None:
    x, s = letterbox(np.zeros((50, 100, 3), np.uint8), 64)
    assert x.shape == (1, 3, 64, 64) and s == 0.64
    assert float(x[0, :, 40:, :].min()) == 1.0  # padding is white


def test_edgeconv_is_permutation_equivariant() -> None:
    torch.manual_seed(0)
    ec = EdgeConv(5, 8, k=3)
    x = torch.randn(10, 5)
    perm = torch.randperm(10)
    assert torch.allclose(ec(x)[perm], ec(x[perm]), atol=1e-6)
    assert knn_indices(torch.randn(1, 3), 4).shape == (1, 1)


def test_graph_lite_is_symmetric_and_small() -> None:
    torch.manual_seed(0)
    net = GraphStructureNet()
    n_params = sum(p.numel() for p in net.parameters())
    assert 100_000 < n_params < 500_000  # < 2 MB as float32
    v = torch.rand(6, N_VERTEX)
    i, j = torch.triu_indices(6, 6, 1)
    pf, pr = torch.randn(len(i), 14), torch.randn(len(i), 14)
    a = net(v, i, j, pf, pr)
    b = net(v, j, i, pr, pf)
    for r in ("cell", "row", "col"):
        assert torch.allclose(a[r], b[r], atol=1e-6)


def test_graph_lite_weights_without_text_cues_still_run() -> None:
    # a checkpoint from before the text cues reads only the first 19 vertex features
    net = GraphStructureNet(vertex_features=19)
    assert net.paths["cell"].inp[0].weight.shape[1] == 19
    v = torch.rand(5, N_VERTEX)
    i, j = torch.triu_indices(5, 5, 1)
    pf = torch.randn(len(i), 14)
    out = net(v, i, j, pf, pf)
    assert out["row"].shape == (len(i),) and torch.equal(out["row"], net(v[:, :19], i, j, pf, pf)["row"])
