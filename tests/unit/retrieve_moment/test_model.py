import numpy as np
import pytest
import torch

from cvkit.retrieve_moment.model import (
    DenseAttention,
    VLANet,
    VLANetConfig,
    make_proposals,
    pad_batch,
    pool_proposals,
    ranking_loss,
)


def test_proposals_groups_windows_and_clipping():
    spans, valid = make_proposals(20, (4, 6, 8), 2)
    assert spans.shape == (9, 3, 2)              # starts 0, 2, ..., 16
    assert (spans[:, :, 1] <= 20).all()
    assert tuple(spans[-1, 0]) == (16, 20) and not valid[-1, 1:].any()   # clipped duplicates dropped
    assert make_proposals(3, (4, 6), 1)[0].shape[0] == 0                 # shorter than the smallest window


def test_pool_proposals_is_window_mean():
    f = torch.arange(10, dtype=torch.float32)[:, None]
    spans, _ = make_proposals(10, (4,), 3)
    p = pool_proposals(f, spans)
    assert torch.allclose(p[:, 0, 0], torch.tensor([1.5, 4.5, 7.5]))


def test_paper_size_parameter_count():
    d, v, t = 512, 4096, 384
    expected = (v * d + d) + 3 * (t * d + d * d + 2 * d) + (d * d + d) + 7 * 2 * d * d
    assert sum(p.numel() for p in VLANet(VLANetConfig()).parameters()) == expected


def test_dense_attention_masks_and_normalises():
    a = DenseAttention(8)
    x, y = torch.randn(2, 5, 8), torch.randn(2, 3, 8)
    xm = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.float32)
    out, alpha = a(x, xm, y, torch.ones(2, 3))
    assert torch.allclose(alpha.sum(-1), torch.ones(2))
    assert alpha[0, 3:].abs().sum() == 0 and out.shape == x.shape


@pytest.mark.slow
def test_weak_training_steps_reduce_loss():
    torch.manual_seed(0)
    cfg = VLANetConfig(video_dim=6, text_dim=5, hidden=16, windows=(3, 4), stride=1)
    model = VLANet(cfg)
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    props, valid = [], []
    for i in range(6):
        feats = torch.randn(10, 6) * 0.1
        feats[2:6, i % 6] += 2.0
        spans, v = make_proposals(10, cfg.windows, 1)
        props.append(pool_proposals(feats, spans))
        valid.append(torch.from_numpy(v))
    toks = [torch.randn(4, 5) * 0.1 + torch.eye(5)[i % 5] for i in range(6)]
    p, _ = pad_batch(props)
    pv, _ = pad_batch(valid)
    tk, tm = pad_batch(toks)
    losses = []
    for _ in range(20):
        gen = torch.Generator().manual_seed(0)
        loss = ranking_loss(model, model.encode_video(p), pv, tk, tm, n_neg=3, generator=gen)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    out = model.pair_forward(model.encode_video(p[:1]), pv[:1], *model.encode_text(tk[:1], tm[:1])[:1], tm[:1],
                             model.encode_text(tk[:1], tm[:1])[1])
    assert model.moment_scores(out).shape == (1, props[0].shape[0])
