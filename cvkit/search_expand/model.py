"""LAttQE / LAttDBA (Gordo, Radenovic, Berg, ECCV 2020, Sect. 3.3-3.4, Fig. 2).

Tokens x_i = e(d_i) + p_i for the query (i = 0) and its k neighbours, p_i a learnable embedding per rank;
a stack of post-LN transformer encoders (Vaswani) transforms them; the weight of item i is the cosine between
the transformed query and the transformed item (w_0 = 1), and the expanded query is the L2-normalised weighted
sum of the ORIGINAL descriptors (Eq. 1). Padded neighbours are masked in attention and in the sum. An
auxiliary linear head on each transformed neighbour predicts "relevant to the query" (BCE, training only).
LAttDBA uses the same model with a tempered softmax over the weights (learnable temperature T).

Token content e(.) (`tokens`):
- "vector": the descriptor itself (the paper; width = D, e = identity) or a linear projection D -> width
  (the spec's LAttQE-small); the sum always uses the original D-dim vectors.
- "gram": our descriptor-agnostic deviation (spec 5.4): token i is row i of the (k+1)x(k+1) cosine matrix of
  {q, d_1..d_k} (zero-padded to k_max+1) projected to `width`, so one model serves any descriptor family.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class LAttQEConfig:
    """Architecture; the defaults are the paper's (D = 2048, 3 layers, 64 heads, FFN 2048, k_max = 64)."""

    dim: int = 2048
    width: int = 2048
    layers: int = 3
    heads: int = 64
    ffn: int = 2048
    k_max: int = 64
    dropout: float = 0.1
    tokens: str = "vector"

    def to_dict(self) -> dict:
        """Plain dict (for model cards)."""
        return asdict(self)


PAPER = LAttQEConfig()


def small_config(dim: int) -> LAttQEConfig:
    """LAttQE-small (spec 5.3): projection to 256, 3 layers, 8 heads, FFN 512."""
    return LAttQEConfig(dim=dim, width=256, heads=8, ffn=512)


def gram_config() -> LAttQEConfig:
    """LAttQE-gram (spec 5.4, narrowed to train on a shared 2-core CPU): similarity-row tokens of width 64,
    3 layers, 4 heads, FFN 128."""
    return LAttQEConfig(dim=0, width=64, heads=4, ffn=128, tokens="gram")


class LAttQE(nn.Module):
    """The aggregator: (q, neighbours, valid mask) -> expanded query, weights and auxiliary logits."""

    def __init__(self, cfg: LAttQEConfig) -> None:
        super().__init__()
        self.cfg = cfg
        if cfg.tokens == "vector":
            self.embed = nn.Identity() if cfg.width == cfg.dim else nn.Linear(cfg.dim, cfg.width)
        elif cfg.tokens == "gram":
            self.embed = nn.Linear(cfg.k_max + 1, cfg.width)
        else:
            raise ValueError(f"unknown token kind {cfg.tokens!r}")
        self.rank_embedding = nn.Parameter(torch.randn(cfg.k_max + 1, cfg.width) * 0.02)
        layer = nn.TransformerEncoderLayer(cfg.width, cfg.heads, cfg.ffn, cfg.dropout, batch_first=True,
                                           norm_first=False)
        self.encoder = nn.TransformerEncoder(layer, cfg.layers, enable_nested_tensor=False)
        self.aux = nn.Linear(cfg.width, 1)
        # LAttDBA: log T of the tempered softmax (used only with softmax=True)
        self.log_temperature = nn.Parameter(torch.zeros(()))

    def tokens(self, q: torch.Tensor, nbrs: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """(B, k+1, width) token contents before the rank embedding."""
        items = torch.cat([q[:, None], nbrs], 1)
        if self.cfg.tokens == "vector":
            return self.embed(items)
        x = F.normalize(items, dim=-1)
        gram = x @ x.transpose(1, 2)
        keep = torch.cat([torch.ones_like(valid[:, :1]), valid], 1)
        gram = gram * keep[:, None, :] * keep[:, :, None]
        pad = self.cfg.k_max + 1 - gram.shape[2]
        if pad > 0:
            gram = F.pad(gram, (0, pad))
        return self.embed(gram)

    def forward(self, q: torch.Tensor, nbrs: torch.Tensor, valid: torch.Tensor, softmax: bool = False
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """q (B,D), nbrs (B,k,D) best first, valid (B,k) in {0,1} -> (q_hat (B,D), w (B,k+1), aux (B,k))."""
        k = nbrs.shape[1]
        if k > self.cfg.k_max:
            raise ValueError(f"{k} neighbours but the model has rank embeddings for {self.cfg.k_max}")
        valid = valid.to(q.dtype)
        x = self.tokens(q, nbrs, valid) + self.rank_embedding[: k + 1]
        pad = torch.cat([torch.zeros_like(valid[:, :1]), 1 - valid], 1).bool()
        h = self.encoder(x, src_key_padding_mask=pad)
        cos = F.cosine_similarity(h[:, :1], h, dim=-1)  # (B, k+1); cos(q~, q~) = 1
        if softmax:
            w = torch.softmax((cos / self.log_temperature.exp()).masked_fill(pad, float("-inf")), dim=1)
        else:
            w = cos.masked_fill(pad, 0.0)
        items = torch.cat([q[:, None], nbrs], 1)
        q_hat = F.normalize((w[..., None] * items).sum(1), dim=-1)
        return q_hat, w, self.aux(h[:, 1:]).squeeze(-1)


def count_parameters(model: nn.Module) -> int:
    """Number of parameters."""
    return sum(p.numel() for p in model.parameters())


TASK = "search-expand"
SHIPPED = "lattqe-gram"


def load_lattqe(name: str = SHIPPED, dim: int | None = None, device: torch.device | str = "cpu") -> LAttQE:
    """A trained LAttQE on `device`: a shipped asset name or a weights path (card.json beside it gives the config);
    ModelError (exit 5) when unavailable or made for descriptors of another dimension."""
    from pathlib import Path

    from ..assets import asset_from_path, find_asset, load_into
    from ..errors import ModelError

    asset = find_asset(TASK, name)
    if asset is None:
        if not Path(name).exists():
            raise ModelError(f"no LAttQE weights named {name!r}: train them with `cvkit train search-expand` "
                             "or pass --model path/to/weights.safetensors (with its card.json)")
        asset = asset_from_path(name)
    asset.verify()
    cfg_dict = asset.card.get("config")
    if not cfg_dict:
        raise ModelError(f"{asset.weights}: card.json with the model config is needed beside the weights")
    cfg = LAttQEConfig(**cfg_dict)
    if cfg.tokens == "vector" and dim is not None and cfg.dim != dim:
        raise ModelError(f"{asset.weights}: model made for {cfg.dim}-d descriptors, the database holds {dim}-d")
    model = LAttQE(cfg)
    load_into(model, asset.state_dict(), asset.weights)
    return model.to(device).eval()
