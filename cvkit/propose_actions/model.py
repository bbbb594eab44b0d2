"""BC-GNN (Bai et al., ECCV 2020): boundary-content graph, edge features, graph reasoning blocks, output module.

Paper-size defaults (spec 2.2-2.5, 8): base module 2 x conv1d k3 (256 ch, groups 4, as BMN), D_g = 256 start/end
node features, D_c = 128 content features, N = 32 interpolated samples per edge, 2 graph reasoning blocks.
Edge features use the exact factorisation of fc_1 over the N linear-interpolation samples (spec 2.3): A_n = W_n F_c
is computed once per window and each edge gathers its interpolated columns with a sparse matrix, instead of
materialising the D_c x N content of every edge. Choices where the paper is silent are fields of BCGNNConfig.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

EPS = 1e-6


@dataclass
class BCGNNConfig:
    """Sizes of a BC-GNN; the defaults are the paper-size ActivityNet model."""

    in_dim: int = 400  # D_i (TSN two-stream: 200 RGB + 200 flow scores)
    tscale: int = 100  # l_w: positions per window (ANet: whole video rescaled to 100; THUMOS: 128)
    base_dim: int = 256  # D_b
    graph_dim: int = 256  # D_g
    content_dim: int = 128  # D_c
    samples: int = 32  # N interpolation samples per edge
    blocks: int = 2  # graph reasoning blocks
    groups: int = 4  # grouped base convs (BMN's base module)
    max_len: int = 0  # longest edge in positions (THUMOS: 64); 0 = all pairs i < j

    def to_dict(self) -> dict:
        """Plain dict for a model card."""
        return asdict(self)


def edge_index(tscale: int, max_len: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Start and end positions of every edge (i < j, j - i <= max_len when set), row-major in i."""
    i, j = torch.triu_indices(tscale, tscale, offset=1)
    if max_len > 0:
        keep = (j - i) <= max_len
        i, j = i[keep], j[keep]
    return i, j


def interpolation_matrix(starts: torch.Tensor, ends: torch.Tensor, tscale: int, samples: int) -> torch.Tensor:
    """Sparse [E, N * T]: row e linearly interpolates sample n of edge e from the T positions of block n."""
    n = torch.arange(samples, dtype=torch.float64)
    pos = starts[:, None].double() + (ends - starts)[:, None].double() * n[None, :] / max(samples - 1, 1)
    lo = pos.floor().clamp(0, tscale - 1)
    frac = pos - lo
    hi = (lo + 1).clamp(max=tscale - 1)
    e = torch.arange(len(starts))[:, None].expand(-1, samples)
    col_base = (n.long() * tscale)[None, :]
    rows = torch.cat([e.reshape(-1), e.reshape(-1)])
    cols = torch.cat([(col_base + lo.long()).reshape(-1), (col_base + hi.long()).reshape(-1)])
    vals = torch.cat([(1 - frac).reshape(-1), frac.reshape(-1)]).float()
    return torch.sparse_coo_tensor(torch.stack([rows, cols]), vals, (len(starts), samples * tscale),
                                   check_invariants=False).coalesce()


class GraphReasoningBlock(nn.Module):
    """One GRB: directed edge update (Eq. 1) then edge-normalised node update (Eq. 2-3)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.theta_s2e = nn.Linear(dim, dim)
        self.theta_e2s = nn.Linear(dim, dim)
        self.theta_start = nn.Linear(dim, dim)
        self.theta_end = nn.Linear(dim, dim)

    def forward(self, fs: torch.Tensor, fe: torch.Tensor, d_se: torch.Tensor, d_es: torch.Tensor,
                ei: torch.Tensor, ej: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """fs, fe [B, T, D] nodes; d_se, d_es [B, E, D] directed edges; ei/ej [E] their start/end positions."""
        b, t, d = fs.shape
        prod = fs[:, ei] * fe[:, ej]  # f_{s,i} (.) f_{e,j}
        d_se = F.relu(self.theta_s2e(d_se * prod) + d_se)
        d_es = F.relu(self.theta_e2s(d_es * prod) + d_es)
        # s2e edges: head = start i; normalise per channel over all edges leaving i; tail end j aggregates
        den_s = torch.zeros(b, t, d, dtype=fs.dtype, device=fs.device).index_add_(1, ei, d_se)
        w_se = d_se / (den_s[:, ei] + EPS)
        agg_e = torch.zeros_like(fe).index_add_(1, ej, w_se * fs[:, ei])
        # e2s edges: head = end j; normalise over all edges leaving j; tail start i aggregates
        den_e = torch.zeros(b, t, d, dtype=fs.dtype, device=fs.device).index_add_(1, ej, d_es)
        w_es = d_es / (den_e[:, ej] + EPS)
        agg_s = torch.zeros_like(fs).index_add_(1, ei, w_es * fe[:, ej])
        fe_new = F.relu(self.theta_end(agg_e) + fe)
        fs_new = F.relu(self.theta_start(agg_s) + fs)
        return fs_new, fe_new, d_se, d_es


class BCGNN(nn.Module):
    """Boundary Content Graph Neural Network: features [B, D_i, T] -> p_s [B, T], p_e [B, T], p_c [B, E]."""

    def __init__(self, cfg: BCGNNConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or BCGNNConfig()
        g = cfg.groups
        self.base = nn.Sequential(
            nn.Conv1d(cfg.in_dim, cfg.base_dim, 3, padding=1, groups=g), nn.ReLU(inplace=True),
            nn.Conv1d(cfg.base_dim, cfg.base_dim, 3, padding=1, groups=g), nn.ReLU(inplace=True))
        self.start_conv = nn.Conv1d(cfg.base_dim, cfg.graph_dim, 3, padding=1)
        self.end_conv = nn.Conv1d(cfg.base_dim, cfg.graph_dim, 3, padding=1)
        self.content_conv = nn.Conv1d(cfg.base_dim, cfg.content_dim, 3, padding=1)
        self.fc1 = nn.Linear(cfg.content_dim * cfg.samples, cfg.graph_dim)  # input ordered (sample n, channel)
        self.grbs = nn.ModuleList(GraphReasoningBlock(cfg.graph_dim) for _ in range(cfg.blocks))
        self.start_out = nn.Linear(cfg.graph_dim, 1)
        self.end_out = nn.Linear(cfg.graph_dim, 1)
        self.content_out = nn.Linear(2 * cfg.graph_dim, 1)
        ei, ej = edge_index(cfg.tscale, cfg.max_len)
        self.register_buffer("ei", ei, persistent=False)
        self.register_buffer("ej", ej, persistent=False)
        self._interp: torch.Tensor | None = None

    @property
    def n_edges(self) -> int:
        """Number of undirected start-end edges per window."""
        return int(self.ei.numel())

    def interp(self) -> torch.Tensor:
        """The sparse edge-interpolation matrix (built once, on the model's device)."""
        dev = self.ei.device
        if self._interp is None or self._interp.device != dev:
            self._interp = interpolation_matrix(self.ei.cpu(), self.ej.cpu(), self.cfg.tscale,
                                                self.cfg.samples).to(dev)
        return self._interp

    def edge_features(self, fc: torch.Tensor) -> torch.Tensor:
        """fc_1 over the N-sample interpolation of F_c between i and j, factorised: [B, D_c, T] -> [B, E, D_g]."""
        b, dc, t = fc.shape
        n, dg = self.cfg.samples, self.cfg.graph_dim
        w = self.fc1.weight.view(dg, n, dc)  # W_n blocks
        a = torch.einsum("gnc,bct->bntg", w, fc).reshape(b, n * t, dg)  # A_n = W_n F_c, [B, N*T, D_g]
        dense = a.permute(1, 0, 2).reshape(n * t, b * dg)
        out = torch.sparse.mm(self.interp(), dense).view(-1, b, dg).permute(1, 0, 2)
        return out + self.fc1.bias

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x [B, D_i, T] -> (p_s [B, T], p_e [B, T], p_c [B, E]) as probabilities."""
        fb = self.base(x)
        fs = F.relu(self.start_conv(fb)).transpose(1, 2)
        fe = F.relu(self.end_conv(fb)).transpose(1, 2)
        fc = F.relu(self.content_conv(fb))
        d = F.relu(self.edge_features(fc))  # non-negative, as the per-channel normalisation needs
        d_se, d_es = d, d
        for grb in self.grbs:
            fs, fe, d_se, d_es = grb(fs, fe, d_se, d_es, self.ei, self.ej)
        ps = torch.sigmoid(self.start_out(fs)).squeeze(-1)
        pe = torch.sigmoid(self.end_out(fe)).squeeze(-1)
        pc = torch.sigmoid(self.content_out(torch.cat([d_se, d_es], dim=-1))).squeeze(-1)
        return ps, pe, pc


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def weighted_bce(p: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L_bl of the paper: -(1/N) sum[a+ b log p + a- (1-b) log(1-p)], a+ = N / sum b, a- = N / sum(1-b)."""
    p = p.clamp(EPS, 1 - EPS)
    target = target.float()
    n = float(target.numel())
    pos = target.sum()
    neg = n - pos
    a_pos = n / pos if pos > 0 else torch.zeros((), device=p.device)
    a_neg = n / neg if neg > 0 else torch.zeros((), device=p.device)
    loss = a_pos * target * torch.log(p) + a_neg * (1 - target) * torch.log(1 - p)
    return -loss.mean()


def bcgnn_loss(out: tuple[torch.Tensor, torch.Tensor, torch.Tensor], labels: tuple[torch.Tensor, ...]
               ) -> tuple[torch.Tensor, dict[str, float]]:
    """L = L_bl(start) + L_bl(end) + L_bl(content) (paper section 3.4)."""
    ls = weighted_bce(out[0], labels[0])
    le = weighted_bce(out[1], labels[1])
    lc = weighted_bce(out[2], labels[2])
    return ls + le + lc, {"start": float(ls.detach()), "end": float(le.detach()), "content": float(lc.detach())}


def make_labels(gt: torch.Tensor | list, tscale: int, ei: torch.Tensor, ej: torch.Tensor, region: float = 0.1,
                min_half: float = 1.0, iou_thr: float = 0.5) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Start/end/content labels of one window from GT segments in position units (node i sits at position i).

    Regions r_s = [t_s - d/10, t_s + d/10], r_e = [t_e - d/10, t_e + d/10] with the half-width floored at
    `min_half` positions; content b_c(i, j) = i in r_s and j in r_e and max tIoU([i, j], g) > iou_thr.
    """
    g = torch.as_tensor(gt, dtype=torch.float32).reshape(-1, 2)
    pos = torch.arange(tscale, dtype=torch.float32)
    if len(g) == 0:
        z = torch.zeros(tscale)
        return z, z.clone(), torch.zeros(len(ei))
    half = torch.clamp(region * (g[:, 1] - g[:, 0]), min=min_half)
    in_s = (pos[:, None] - g[None, :, 0]).abs() <= half[None, :]  # [T, G]
    in_e = (pos[:, None] - g[None, :, 1]).abs() <= half[None, :]
    bs = in_s.any(1).float()
    be = in_e.any(1).float()
    si, sj = ei.float(), ej.float()
    inter = (torch.minimum(sj[:, None], g[None, :, 1]) - torch.maximum(si[:, None], g[None, :, 0])).clamp(min=0)
    union = (sj - si)[:, None] + (g[:, 1] - g[:, 0])[None, :] - inter
    iou = (inter / union.clamp(min=1e-9)).amax(1)
    bc = (bs[ei] > 0) & (be[ej] > 0) & (iou > iou_thr)
    return bs, be, bc.float()
