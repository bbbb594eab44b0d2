"""VLANet (Ma et al., ECCV 2020): multi-scale sliding-window proposals, Surrogate Proposal Selection (SPS),
Cascaded Cross-modal Attention (CCA) built from Dense Attention units, the weakly supervised ranking loss on
(video, sentence) pairs, and inference from the attention the surrogate proposals receive.

Choices where the paper is silent (spec section 2): A(X, Y)_n = N * alpha_n * x_n (row re-weighting kept at a
constant scale), E sums the tanh terms over words as written (`energy="mean"` bounds it to [-1, 1], but then the
softmax over proposals cannot get sharper than e^2 between extremes and weak training does not localise), input
features standardised with training-set statistics (buffers saved with the weights), separate W1/W2 per
unit, 2 cross-attention repetitions, v_comp L2-normalised before scoring (the raw sum saturates tanh
and the loss stalls at 2 x margin), MiniLM token states + 1-layer GRU replace GloVe + GRU.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class VLANetConfig:
    """Architecture and proposal layout; windows and stride are in feature steps."""

    video_dim: int = 4096
    text_dim: int = 384
    hidden: int = 512
    cascades: int = 2
    energy: str = "sum"
    windows: tuple[int, ...] = (11, 13, 15)   # 176/208/240 frames on the 16-frame C3D grid
    stride: int = 1                            # 8 frames, rounded up to one 16-frame step
    feature_rate: float = 1.5                  # feature steps per second (24 fps / 16 frames)
    inference: str = "product"                 # product of the alphas of all V-side units, "cross" (cross units
                                               # only: the self unit is query-independent), "last", or
                                               # "align": E(s_k, Q) of each surrogate alone (our extension)
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-safe dict (card `config`)."""
        d = asdict(self)
        d["windows"] = list(self.windows)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> VLANetConfig:
        """Inverse of to_dict; unknown keys are ignored."""
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        if "windows" in known:
            known["windows"] = tuple(int(w) for w in known["windows"])
        return cls(**known)


def make_proposals(n_steps: int, windows: tuple[int, ...], stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Proposal groups: starts every `stride` steps, each with one window per length (clipped to the end).

    Returns (K x L x 2 int [start, end) step indices, K x L bool valid); a clipped window that duplicates a
    shorter one of its group is marked invalid. Empty (K = 0) when the video is shorter than the smallest window."""
    wmin = min(windows)
    if n_steps < wmin:
        return np.zeros((0, len(windows), 2), np.int64), np.zeros((0, len(windows)), bool)
    starts = np.arange(0, n_steps - wmin + 1, max(int(stride), 1))
    ends = np.minimum(starts[:, None] + np.asarray(windows)[None, :], n_steps)
    spans = np.stack([np.broadcast_to(starts[:, None], ends.shape), ends], -1)
    valid = np.ones(ends.shape, bool)
    for j in range(1, len(windows)):
        valid[:, j] = ~np.any(ends[:, :j] == ends[:, j:j + 1], axis=1)
    return spans.astype(np.int64), valid


def pool_proposals(feats: torch.Tensor, spans: np.ndarray) -> torch.Tensor:
    """Mean feature inside each proposal (K x L x C) by cumulative sums."""
    c = torch.cat([feats.new_zeros(1, feats.shape[1]), feats.cumsum(0)])
    s = torch.as_tensor(spans[..., 0])
    e = torch.as_tensor(spans[..., 1])
    return (c[e] - c[s]) / (e - s).clamp(min=1).unsqueeze(-1).to(feats.dtype)


class DenseAttention(nn.Module):
    """A(X, Y): E(x_n, Y) = agg_m tanh((W1 x_n) . (W2 y_m)); alpha = softmax_n E; A(X, Y)_n = N alpha_n x_n."""

    def __init__(self, dim: int, energy: str = "mean") -> None:
        super().__init__()
        self.w1 = nn.Linear(dim, dim, bias=False)
        self.w2 = nn.Linear(dim, dim, bias=False)
        self.energy_mode = energy

    def energy(self, x: torch.Tensor, y: torch.Tensor, ymask: torch.Tensor) -> torch.Tensor:
        """VLA function E(x_n, Y) for every row of x: (B, N, D), (B, M, D), (B, M) -> (B, N)."""
        t = torch.tanh(torch.einsum("bnd,bmd->bnm", self.w1(x), self.w2(y))) * ymask[:, None, :]
        e = t.sum(-1)
        return e / ymask.sum(-1, keepdim=True).clamp(min=1) if self.energy_mode == "mean" else e

    def forward(self, x: torch.Tensor, xmask: torch.Tensor, y: torch.Tensor, ymask: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Re-weighted X and the attention alpha (B, N) (zero on padding)."""
        e = self.energy(x, y, ymask).masked_fill(xmask == 0, float("-inf"))
        alpha = torch.softmax(e, -1).nan_to_num(0.0)
        n = xmask.sum(-1, keepdim=True)
        return x * (alpha * n).unsqueeze(-1), alpha


class VLANet(nn.Module):
    """The paper's network: FC-projected proposals and GRU word states, SPS, CCA, and the score E(v_comp, Q)."""

    def __init__(self, cfg: VLANetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.hidden
        self.video_fc = nn.Linear(cfg.video_dim, d)
        self.gru = nn.GRU(cfg.text_dim, d, batch_first=True)
        self.text_fc = nn.Linear(d, d)
        self.self_v = DenseAttention(d, cfg.energy)
        self.self_q = DenseAttention(d, cfg.energy)
        self.cross_v = nn.ModuleList(DenseAttention(d, cfg.energy) for _ in range(cfg.cascades))
        self.cross_q = nn.ModuleList(DenseAttention(d, cfg.energy) for _ in range(cfg.cascades))
        self.score_unit = DenseAttention(d, cfg.energy)
        # per-dimension standardisation of the input features (training-set statistics, saved with the weights)
        self.register_buffer("feat_mean", torch.zeros(cfg.video_dim))
        self.register_buffer("feat_std", torch.ones(cfg.video_dim))

    def encode_text(self, tokens: torch.Tensor, tmask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, M, text_dim) word states -> Q (B, M, D) L2-normalised, and w_M (B, D) the last valid state."""
        h, _ = self.gru(tokens)
        q = F.normalize(self.text_fc(h), dim=-1) * tmask.unsqueeze(-1)
        last = (tmask.sum(1).long() - 1).clamp(min=0)
        return q, q[torch.arange(q.shape[0]), last]

    def encode_video(self, props: torch.Tensor) -> torch.Tensor:
        """(B, K, L, video_dim) pooled proposals -> (B, K, L, D) L2-normalised."""
        return F.normalize(self.video_fc((props - self.feat_mean) / self.feat_std), dim=-1)

    def pair_forward(self, p: torch.Tensor, pvalid: torch.Tensor, q: torch.Tensor, tmask: torch.Tensor,
                     w_last: torch.Tensor) -> dict[str, torch.Tensor]:
        """One (video, sentence) pair per row: SPS, CCA, score c and the attentions on the surrogates."""
        sim = torch.einsum("bkld,bd->bkl", p, w_last).masked_fill(pvalid == 0, float("-inf"))
        choice = sim.argmax(-1)                                           # hard argmax: SPS
        s = torch.gather(p, 2, choice[..., None, None].expand(-1, -1, 1, p.shape[-1])).squeeze(2)
        kmask = pvalid.any(-1).to(s.dtype)
        s = s * kmask.unsqueeze(-1)
        alphas = []
        v, a = self.self_v(s, kmask, s, kmask)
        alphas.append(a)
        qq, _ = self.self_q(q, tmask, q, tmask)
        for cv, cq in zip(self.cross_v, self.cross_q, strict=True):
            v, a = cv(v, kmask, qq, tmask)
            alphas.append(a)
            qq, _ = cq(qq, tmask, v, kmask)
        v_comp = F.normalize(v.sum(1, keepdim=True), dim=-1)   # sum as in the paper, unit length (our choice)
        score = self.score_unit.energy(v_comp, qq, tmask).squeeze(1)
        out = {"score": score, "alphas": torch.stack(alphas, 1), "choice": choice, "kmask": kmask}
        if self.cfg.inference == "align":   # our extension: each surrogate alone through the trained score E
            out["align"] = self.score_unit.energy(F.normalize(s, dim=-1), qq, tmask)
        return out

    def moment_scores(self, out: dict[str, torch.Tensor]) -> torch.Tensor:
        """Per surrogate proposal: sum of log alphas over the V-side units ("product"), the cross units ("cross")
        or the last unit ("last"); or the trained score E of each surrogate alone ("align")."""
        al = out["alphas"].clamp(min=1e-12).log()   # (B, 1 + cascades, K): self unit, then the cross units
        if self.cfg.inference == "align":
            sc = out["align"]

        elif self.cfg.inference == "last":
            sc = al[:, -1]
        elif self.cfg.inference == "cross":
            sc = al[:, 1:].sum(1)
        else:
            sc = al.sum(1)
        return sc.masked_fill(out["kmask"] == 0, float("-inf"))


def ranking_loss(model: VLANet, p: torch.Tensor, pvalid: torch.Tensor, tokens: torch.Tensor,
                 tmask: torch.Tensor, margin: float = 0.5, n_neg: int = 7,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Weak-supervision hinge: own sentence above other videos' sentences, and own video above other videos.

    p: (B, K, L, D) encoded proposals; tokens: (B, M, text_dim). Negatives are other items of the batch
    (n_neg per positive and direction); the whole pair forward is recomputed per pair (SPS/CCA depend on Q)."""
    b = p.shape[0]
    q, w_last = model.encode_text(tokens, tmask)
    k = min(n_neg, b - 1)
    offs = torch.stack([torch.randperm(b - 1, generator=generator)[:k] + 1 for _ in range(b)])  # (B, k)
    neg = (torch.arange(b)[:, None] + offs) % b
    vi = torch.cat([torch.arange(b), torch.arange(b).repeat_interleave(k), neg.reshape(-1)])
    ti = torch.cat([torch.arange(b), neg.reshape(-1), torch.arange(b).repeat_interleave(k)])
    out = model.pair_forward(p[vi], pvalid[vi], q[ti], tmask[ti], w_last[ti])
    c = out["score"]
    pos = c[:b]
    neg_t = c[b:b + b * k].view(b, k)
    neg_v = c[b + b * k:].view(b, k)
    return (F.relu(margin - pos[:, None] + neg_t) + F.relu(margin - pos[:, None] + neg_v)).mean()


def pad_batch(items: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack variable-length (N_i, ...) tensors into (B, N_max, ...) plus a (B, N_max) float mask."""
    n = max(t.shape[0] for t in items)
    out = items[0].new_zeros((len(items), n, *items[0].shape[1:]))
    mask = torch.zeros(len(items), n)
    for i, t in enumerate(items):
        out[i, : t.shape[0]] = t
        mask[i, : t.shape[0]] = 1
    return out, mask
