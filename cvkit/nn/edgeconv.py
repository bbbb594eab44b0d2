"""EdgeConv (dynamic graph CNN, Wang et al. 2019) on a single point set, in plain torch.

For each vertex, its k nearest neighbours in the current feature space give edge features
h([x_i, x_j - x_i]) that are max-aggregated: the interaction component of TIES-2.0 / TabStruct-Net.
"""

from __future__ import annotations

import torch
from torch import nn


def knn_indices(x: torch.Tensor, k: int) -> torch.Tensor:
    """N x k indices of each row's k nearest other rows (Euclidean), k clipped to N - 1 (self when N == 1)."""
    n = x.shape[0]
    if n == 1:
        return torch.zeros(1, 1, dtype=torch.long, device=x.device)
    k = min(k, n - 1)
    d = torch.cdist(x, x)
    d.fill_diagonal_(float("inf"))
    return d.topk(k, dim=1, largest=False).indices


class EdgeConv(nn.Module):
    """One EdgeConv layer: max_j MLP([x_i, x_j - x_i]) over the k nearest neighbours j of i."""

    def __init__(self, c_in: int, c_out: int, k: int = 20) -> None:
        super().__init__()
        self.k = k
        self.mlp = nn.Sequential(nn.Linear(2 * c_in, c_out), nn.ReLU(inplace=True), nn.Linear(c_out, c_out),
                                 nn.ReLU(inplace=True))

    def forward(self, x: torch.Tensor, space: torch.Tensor | None = None) -> torch.Tensor:
        """x: N x c_in features; `space` (default x) is where the neighbours are searched."""
        idx = knn_indices(x if space is None else space, self.k)
        xi = x[:, None, :].expand(-1, idx.shape[1], -1)
        xj = x[idx]
        return self.mlp(torch.cat([xi, xj - xi], -1)).amax(1)
