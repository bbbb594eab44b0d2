"""MLS propagation, PCK conventions and the .flo format."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cvkit.errors import InputError
from cvkit.semantic_flow.flo import read_flow, write_flow
from cvkit.semantic_flow.gsf import mutual_consistency, mutual_nn
from cvkit.semantic_flow.metrics import homography_grid, mean_pck, pck, pck_threshold, sample_flow
from cvkit.semantic_flow.mls import mls_dense, mls_propagate


def test_mls_reproduces_exact_affine_field():
    g = torch.Generator().manual_seed(0)
    a = torch.tensor([[0.9, -0.3], [0.2, 1.1]]) - torch.eye(2)
    b = torch.tensor([3.0, -2.0])
    anchors = torch.rand(25, 2, generator=g) * 20
    disp = anchors @ a.t() + b
    dense = mls_dense(20, 24, anchors, disp, sigma=5.0, order=1)
    ys, xs = torch.meshgrid(torch.arange(20.0), torch.arange(24.0), indexing="ij")
    want = torch.stack([xs, ys], -1) @ a.t() + b
    assert torch.allclose(dense, want, atol=1e-3)


def test_mls_order0_is_papers_weighted_mean():
    anchors = torch.tensor([[0.0, 0.0], [4.0, 0.0]])
    disp = torch.tensor([[1.0, 0.0], [3.0, 0.0]])
    mid = mls_propagate(torch.tensor([[2.0, 0.0]]), anchors, disp, sigma=7.0, order=0)
    assert torch.allclose(mid, torch.tensor([[2.0, 0.0]]))
    near = mls_propagate(torch.tensor([[0.0, 0.0]]), anchors, disp, sigma=7.0, order=0)
    w = np.exp(-16 / 98)
    assert near[0, 0].item() == pytest.approx((1 + 3 * w) / (1 + w), rel=1e-5)


def test_mls_far_query_and_no_anchor():
    anchors = torch.tensor([[0.0, 0.0]])
    out = mls_propagate(torch.tensor([[500.0, 0.0]]), anchors, torch.tensor([[2.0, 1.0]]), sigma=1.0)
    assert torch.allclose(out, torch.tensor([[2.0, 1.0]]))
    assert mls_propagate(torch.zeros(3, 2), torch.zeros(0, 2), torch.zeros(0, 2), 1.0).abs().sum() == 0


def test_mls_is_differentiable():
    anchors = torch.rand(10, 2) * 10
    disp = torch.rand(10, 2, requires_grad=True)
    mls_dense(8, 8, anchors, disp, 3.0, order=1).sum().backward()
    assert disp.grad is not None and torch.isfinite(disp.grad).all()


def test_pck_hand_computed():
    gt = np.array([[10, 10], [20, 20], [30, 30], [40, 40]], float)
    pred = gt + np.array([[0, 5], [3, 4], [6, 8], [0, 20.01]])  # distances 5, 5, 10, 20.01
    assert pck(pred, gt, thres=100, alpha=0.05) == 0.5   # <= 5 counts (official code uses <=)
    assert pck(pred, gt, thres=100, alpha=0.1) == 0.75
    assert pck(pred, gt, thres=201, alpha=0.1) == 1.0
    assert mean_pck([0.5, 1.0, float("nan")]) == 0.75


def test_pck_thresholds_per_benchmark():
    assert pck_threshold("img", image_hw=(300, 500)) == 500  # PF-PASCAL
    kps = np.array([[10, 20], [110, 60], [-1, -1]])  # PF-WILLOW keypoint box, padding ignored
    assert pck_threshold("kpbox", keypoints=kps) == 100
    assert pck_threshold("bbox", bbox=(5, 5, 55, 85)) == 80  # SPair-71k trg_bndbox


def test_sample_flow_and_homography_grid():
    flow = np.zeros((10, 10, 2), np.float32)
    flow[..., 0] = 2.0
    flow[:, 5:, 1] = 1.0
    out = sample_flow(flow, np.array([[4.5, 3.0]]))
    assert np.allclose(out, [[6.5, 3.5]])
    src, tgt = homography_grid(np.diag([1.0, 1.0, 1.0]) + np.array([[0, 0, 50], [0, 0, 0], [0, 0, 0]]),
                               (100, 100), (100, 100), step=10)
    assert (tgt[:, 0] <= 99).all() and len(src) == 50


def test_mutual_consistency_is_one_only_for_mutual_nn():
    c = torch.tensor([[0.9, 0.2], [0.8, 0.3], [0.1, 0.25]])
    q = mutual_consistency(c)
    assert q[0, 0] == pytest.approx(1.0) and q[1, 1] < 1 and q[1, 0] < 1
    si, tj = mutual_nn(c)
    assert si.tolist() == [0] and tj.tolist() == [0]


@pytest.mark.parametrize("suffix", [".flo", ".npy"])
def test_flow_round_trip(tmp_path, suffix):
    flow = np.random.default_rng(0).normal(size=(7, 11, 2)).astype(np.float32)
    path = tmp_path / f"f{suffix}"
    write_flow(path, flow)
    assert np.array_equal(read_flow(path), flow)
    assert not list(tmp_path.glob(".*part*"))


def test_flo_header_and_bad_file(tmp_path):
    flow = np.zeros((3, 5, 2), np.float32)
    write_flow(tmp_path / "a.flo", flow)
    raw = (tmp_path / "a.flo").read_bytes()
    assert np.frombuffer(raw[:4], np.float32)[0] == np.float32(202021.25)
    assert np.frombuffer(raw[4:12], np.int32).tolist() == [5, 3] and len(raw) == 12 + 3 * 5 * 8
    (tmp_path / "b.flo").write_bytes(raw[:20])
    with pytest.raises(InputError):
        read_flow(tmp_path / "b.flo")
