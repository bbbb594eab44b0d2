"""LAttQE: paper size, masking, Eq. 1 output space, and a few training steps."""

import numpy as np
import torch

from cvkit.search_expand.model import PAPER, LAttQE, count_parameters, gram_config, small_config
from cvkit.search_expand.synthetic import synthetic_world
from cvkit.search_expand.train import TrainConfig, TrainSet, batch_loss, mine_negatives, sample_batch, train_lattqe


def test_paper_size():
    with torch.device("meta"):
        m = LAttQE(PAPER)
    # 3 encoder layers at width 2048 (4 D^2 attention + 2 D F FFN + norms/biases) + 65 rank embeddings + aux + T
    per_layer = 4 * 2048 * 2048 + 4 * 2048 + 2 * 2048 * 2048 + 2048 + 2048 + 4 * 2048
    assert count_parameters(m) == 3 * per_layer + 65 * 2048 + 2049 + 1
    assert m.encoder.layers[0].self_attn.num_heads == 64
    assert count_parameters(LAttQE(gram_config())) < 1_000_000
    assert count_parameters(LAttQE(small_config(2048))) < 3_000_000


def test_padding_is_masked_and_output_is_weighted_sum_of_originals():
    torch.manual_seed(0)
    m = LAttQE(small_config(16)).eval()
    q, n = torch.randn(2, 16), torch.randn(2, 6, 16)
    valid = torch.ones(2, 6)
    valid[:, 4:] = 0
    with torch.no_grad():
        a, w, _ = m(q, n, valid)
        n2 = n.clone()
        n2[:, 4:] = 100 * torch.randn(2, 2, 16)
        b, _, _ = m(q, n2, valid)
        c, _, _ = m(q, n[:, :4], valid[:, :4])
    assert torch.allclose(a, b, atol=1e-5) and torch.allclose(a, c, atol=1e-5)
    assert torch.allclose(w[:, 0], torch.ones(2))
    manual = torch.nn.functional.normalize(w[:, :1] * q + (w[:, 1:, None] * n).sum(1), dim=-1)
    assert torch.allclose(a, manual, atol=1e-5)
    with torch.no_grad():
        _, ws, _ = m(q, n, valid, softmax=True)
    assert torch.allclose(ws.sum(1), torch.ones(2), atol=1e-5) and (ws[:, 5] == 0).all()


def test_gram_model_is_descriptor_agnostic():
    m = LAttQE(gram_config()).eval()
    for d in (8, 100):
        with torch.no_grad():
            out, w, _ = m(torch.randn(3, d), torch.randn(3, 10, d), torch.ones(3, 10))
        assert out.shape == (3, d) and w.shape == (3, 11)


def test_training_steps_reduce_loss():
    rng = np.random.default_rng(0)
    x, y = synthetic_world(600, 32, rng)
    ts = TrainSet.build(x, y, k_max=16)
    negs = mine_negatives(ts, ts.queries, rng, pool_size=400)
    assert (ts.y[negs] != ts.y[ts.queries][:, None]).all() or (ts.y[negs] < 0).any()
    torch.manual_seed(0)
    cfg = small_config(32)
    cfg.k_max, cfg.width, cfg.ffn, cfg.dropout = 16, 32, 64, 0.0
    b = sample_batch(ts, ts.queries[:64], negs[:64], np.random.default_rng(1), k_range=(8, 16))
    m0 = LAttQE(cfg)
    with torch.no_grad():
        before = float(batch_loss(m0, b))
    m = train_lattqe(cfg, [ts], TrainConfig(epochs=3, updates_per_epoch=10, batch=32, lr=1e-3, dba_epochs=1))
    m.train()
    torch.manual_seed(0)
    with torch.no_grad():
        after = float(batch_loss(m, b))
    assert after < before
