"""BC-GNN: paper-size shapes and parameters, exact factorised edge features, labels, loss, a few training steps
on tiny ActivityNet/BSN- and THUMOS/G-TAD-layout fixtures."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cvkit.propose_actions.model import BCGNN, BCGNNConfig, bcgnn_loss, count_parameters, make_labels, weighted_bce
from cvkit.propose_actions.train import (
    TrainConfig,
    anet_samples,
    build_model_config,
    thumos_samples,
    train_bcgnn,
)


def test_paper_size_graph_and_parameters(one_thread):
    m = BCGNN()
    assert m.n_edges == 4950  # every pair i < j of 100 positions
    assert BCGNN(BCGNNConfig(tscale=128, max_len=64)).n_edges == 6112
    assert 2.1e6 < count_parameters(m) < 2.3e6  # spec section 8: 2.2 M
    with torch.no_grad():
        ps, pe, pc = m(torch.randn(1, 400, 100))
    assert ps.shape == (1, 100) and pe.shape == (1, 100) and pc.shape == (1, 4950)
    assert float(pc.min()) >= 0 and float(pc.max()) <= 1


def test_factorised_edge_features_equal_naive_interpolation(one_thread):
    cfg = BCGNNConfig(in_dim=8, tscale=20, base_dim=8, graph_dim=12, content_dim=6, samples=5, groups=1)
    m = BCGNN(cfg)
    fc = torch.rand(2, 6, 20)
    fast = m.edge_features(fc)
    n = torch.arange(5).float()
    pos = m.ei[:, None].float() + (m.ej - m.ei)[:, None].float() * n / 4
    lo = pos.floor().long()
    hi = (lo + 1).clamp(max=19)
    fr = pos - lo.float()
    samp = fc[:, :, lo] * (1 - fr) + fc[:, :, hi] * fr  # [B, C, E, N]
    naive = m.fc1(samp.permute(0, 2, 3, 1).reshape(2, m.n_edges, -1))
    assert torch.allclose(fast, naive, atol=1e-5)


def test_labels_regions_and_content():
    ei, ej = torch.triu_indices(50, 50, offset=1)
    bs, be, bc = make_labels([[10.0, 30.0]], 50, ei, ej)
    assert bs.nonzero().flatten().tolist() == [8, 9, 10, 11, 12]  # +- d/10 = 2 positions
    assert be.nonzero().flatten().tolist() == [28, 29, 30, 31, 32]
    on = bc.bool()
    assert on.any() and ((ei[on] >= 8) & (ei[on] <= 12) & (ej[on] >= 28) & (ej[on] <= 32)).all()
    bs2, _, _ = make_labels([[20.0, 22.0]], 50, ei, ej)
    assert bs2.nonzero().flatten().tolist() == [19, 20, 21]  # half-width floored at 1 position


def test_weighted_bce_balances_classes_and_guards_empty_positives():
    p = torch.tensor([0.9, 0.1, 0.1, 0.1])
    b = torch.tensor([1.0, 0.0, 0.0, 0.0])
    expected = -(4 / 1 * np.log(0.9) + 3 * 4 / 3 * np.log(0.9)) / 4
    assert float(weighted_bce(p, b)) == pytest.approx(expected, rel=1e-5)
    assert np.isfinite(float(weighted_bce(p, torch.zeros(4))))


def _write_anet_fixture(root, n=3, dim=400):
    rng = np.random.default_rng(0)
    feats = root / "csv_mean_100"
    feats.mkdir(parents=True)
    anno, info = {}, ["video,numFrame,seconds,fps,rfps,subset,featureFrame"]
    for k in range(n):
        vid = f"v_fake{k}"
        x = rng.normal(0, 1, (100, dim)).astype(np.float32)
        x[30 + k:70] += 2.0
        header = ",".join(f"f{i}" for i in range(dim))
        np.savetxt(feats / f"{vid}.csv", x, delimiter=",", header=header, comments="", fmt="%.4f")
        anno[vid] = {"duration_second": 100.0, "duration_frame": 3000, "feature_frame": 2992,
                     "annotations": [{"segment": [30.0 + k, 70.0], "label": "x"}]}
        info.append(f"{vid},3000,100.0,30.0,30.0,training,2992")
    (root / "anet_anno_action.json").write_text(json.dumps(anno))
    (root / "video_info_new.csv").write_text("\n".join(info) + "\n")
    return feats


@pytest.mark.slow
def test_paper_size_model_trains_on_tiny_anet_layout(tmp_path, one_thread):
    feats = _write_anet_fixture(tmp_path)
    samples = anet_samples(tmp_path, feats, "raw")
    assert len(samples) == 3 and samples[0][0].shape == (400, 100)
    cfg = TrainConfig(data=f"anet:{tmp_path}", size="paper", input="raw", steps=2, batch=2, lr=1e-4,
                      weight_decay=5e-3)
    losses = []
    model, summary = train_bcgnn(cfg, samples, build_model_config(cfg, 400, 100),
                                 lambda s, t, loss, e: losses.append(loss))
    assert summary["params"] == count_parameters(BCGNN())
    assert len(losses) == 2 and all(np.isfinite(losses))


@pytest.mark.slow
def test_small_model_trains_on_tiny_thumos_layout(tmp_path, one_thread):
    rng = np.random.default_rng(1)
    (tmp_path / "feats").mkdir()
    np.save(tmp_path / "feats" / "video_test_1.npy", rng.normal(0, 1, (200, 32)).astype(np.float32))
    csv = tmp_path / "test_Annotation.csv"
    csv.write_text("video,type,type_idx,start,end,startFrame,endFrame\n"
                   "video_test_1,Diving,1,2.0,4.0,60,120\nvideo_test_1,Diving,1,30.0,33.0,900,990\n")
    cfg = TrainConfig(data=f"thumos:{csv}", size="small", input="raw", steps=2, batch=1, fps=30.0,
                      stride_frames=5)
    samples = thumos_samples(csv, tmp_path / "feats", cfg)
    assert samples and all(s[0].shape == (32, 128) for s in samples)
    mcfg = build_model_config(cfg, 32, 128)
    assert mcfg.max_len == 64
    model, _ = train_bcgnn(cfg, samples, mcfg)
    assert model.n_edges == 6112
    with torch.no_grad():
        out = model(torch.from_numpy(samples[0][0][None]))
    loss, parts = bcgnn_loss(out, tuple(t[None] for t in make_labels(samples[0][1], 128, model.ei, model.ej)))
    assert np.isfinite(float(loss))
