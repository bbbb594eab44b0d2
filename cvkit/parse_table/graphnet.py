"""The bottom-up structure network on content boxes (the shipped default, "graph-lite").

The paper's structure-recognition half (TabStruct-Net section 3.2) with the cell detector replaced by
content boxes (PDF text chunks or OCR lines): per relation a separate pathway (paper: the visual features
are duplicated into parallel row/column pathways) of input projection -> 2 EdgeConv layers (dynamic kNN,
k=20, 64 channels) -> dense 64 + ReLU, then a pair classifier on concat(f_i, f_j, pair features) ->
64 -> 64 -> 1. Relations: same-row, same-column (the paper's) and same-cell (SciTSR/TIES), which groups
chunks into cells. The pair classifier is symmetrised by averaging the logits of (i, j) and (j, i).
"""

from __future__ import annotations

import torch
from torch import nn

from ..nn.edgeconv import EdgeConv
from .features import N_PAIR, N_VERTEX

RELATIONS = ("cell", "row", "col")


class Pathway(nn.Module):
    """Vertex features -> interaction features (DGCNN) -> pair logits for one relation."""

    def __init__(self, c_in: int = N_VERTEX, c_pair: int = N_PAIR, width: int = 64, k: int = 20) -> None:
        super().__init__()
        self.inp = nn.Sequential(nn.Linear(c_in, width), nn.ReLU(inplace=True))
        self.ec1 = EdgeConv(width, width, k)
        self.ec2 = EdgeConv(width, width, k)
        self.dense = nn.Sequential(nn.Linear(3 * width, width), nn.ReLU(inplace=True))
        self.a = nn.Linear(width, width)  # first classifier layer, split so it runs once per vertex
        self.b = nn.Linear(width, width, bias=False)
        self.p = nn.Linear(c_pair, width, bias=False)
        self.head = nn.Sequential(nn.ReLU(inplace=True), nn.Linear(width, width), nn.ReLU(inplace=True),
                                  nn.Linear(width, 1))

    def vertices(self, v: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        """N x width interaction features; the first kNN graph is built on the centres `pos`."""
        x0 = self.inp(v)
        x1 = self.ec1(x0, pos)
        x2 = self.ec2(x1)
        return self.dense(torch.cat([x0, x1, x2], 1))

    def pairs(self, f: torch.Tensor, i: torch.Tensor, j: torch.Tensor, pf: torch.Tensor,
              pf_rev: torch.Tensor) -> torch.Tensor:
        """Symmetrised logits of pairs (i, j) with their features in both orders."""
        fa, fb = self.a(f), self.b(f)
        l1 = self.head(fa[i] + fb[j] + self.p(pf))
        l2 = self.head(fa[j] + fb[i] + self.p(pf_rev))
        return 0.5 * (l1 + l2).squeeze(-1)


class GraphStructureNet(nn.Module):
    """Three pathways (same-cell, same-row, same-column) over the content-box graph."""

    def __init__(self, width: int = 64, k: int = 20, vertex_features: int = N_VERTEX) -> None:
        super().__init__()
        self.config = {"width": width, "k": k}
        # weights trained before the text cues read only the first 19 vertex features (geometry + rules)
        self.n_vertex = vertex_features
        self.paths = nn.ModuleDict({r: Pathway(vertex_features, N_PAIR, width, k) for r in RELATIONS})

    def inputs(self, v: torch.Tensor) -> torch.Tensor:
        """The vertex features this net reads (N x N_VERTEX -> N x n_vertex)."""
        return v[:, :self.n_vertex]

    def forward(self, v: torch.Tensor, i: torch.Tensor, j: torch.Tensor, pf: torch.Tensor,
                pf_rev: torch.Tensor) -> dict[str, torch.Tensor]:
        """Logits per relation for the pairs (i, j); v = N x N_VERTEX, pf/pf_rev = P x N_PAIR."""
        v = self.inputs(v)
        pos = v[:, 4:6]
        return {r: p.pairs(p.vertices(v, pos), i, j, pf, pf_rev) for r, p in self.paths.items()}
