"""The paper's losses (Sec. 4.2): L_P = L_sil + lambda L_geo (Eq. 10-12), L_M (Eq. 13-14, RTNs' weakly supervised
matching loss), L_sm (L1 smoothness of tau) and L_final (Eq. 15). Displacements are in grid cells; `fg` is an
optional (B,h,w) foreground weight (the paper back-propagates only inside the object masks).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def warp_features(ft: torch.Tensor, disp: torch.Tensor) -> torch.Tensor:
    """[disp o F^t]_i = F^t(i + disp_i), bilinear, border padding (the paper's bilinear sampler)."""
    b, _, h, w = ft.shape
    ys, xs = torch.meshgrid(torch.arange(h, device=ft.device, dtype=ft.dtype),
                            torch.arange(w, device=ft.device, dtype=ft.dtype), indexing="ij")
    x = xs[None] + disp[:, 0]
    y = ys[None] + disp[:, 1]
    grid = torch.stack([(x + 0.5) / w * 2 - 1, (y + 0.5) / h * 2 - 1], -1)
    return F.grid_sample(ft, grid, mode="bilinear", padding_mode="border", align_corners=False)


def _weighted_mean(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    return (x * weight).sum() / weight.sum().clamp_min(1.0)


def loss_geo(fs: torch.Tensor, ft: torch.Tensor, gp: torch.Tensor, s_mask: torch.Tensor, window: int = 5,
             fg: torch.Tensor | None = None) -> torch.Tensor:
    """Eq. 11: sum over i in S, l in N_i (window x window) of |F^s_l - [G' o F^t]_l|^2, averaged over the terms."""
    err = (fs - warp_features(ft, gp)).pow(2).sum(1)                         # (B,h,w)
    kernel = torch.ones(1, 1, window, window, device=fs.device, dtype=fs.dtype)
    count = F.conv2d(s_mask.float()[:, None], kernel, padding=window // 2)[:, 0]   # how many windows cover l
    weight = count if fg is None else count * fg
    return _weighted_mean(err, weight)


def loss_sil(p: torch.Tensor, q: torch.Tensor, rho: float = 0.9) -> torch.Tensor:
    """Eq. 12: sum over Q_ij > rho of |log(Q'_ij / Q_ij)| = |log F(Q; W_P)_ij| (averaged over those entries)."""
    mask = (q > rho).float()
    return _weighted_mean(torch.log(p.clamp_min(1e-12)).abs(), mask)


def loss_matching(fs: torch.Tensor, ft: torch.Tensor, tau: torch.Tensor, window: int = 5,
                  fg: torch.Tensor | None = None, temperature: float = 1.0) -> torch.Tensor:
    """Eq. 13-14: -log softmax over l in M_i (window x window) of <F^s_i, [tau o F^t]_l> / temperature, at l = i
    (temperature 1 = the paper; with L2-normalised features a smaller one sharpens the softmax)."""
    warped = warp_features(ft, tau)
    b, d, h, w = warped.shape
    patches = F.unfold(F.pad(warped, [window // 2] * 4, mode="replicate"), window).view(b, d, window * window, h, w)
    scores = (fs[:, :, None] * patches).sum(1) / temperature                              # (B, M, h, w)
    nll = -torch.log_softmax(scores, 1)[:, (window * window) // 2]
    return _weighted_mean(nll, torch.ones_like(nll) if fg is None else fg)


def loss_smooth(tau: torch.Tensor) -> torch.Tensor:
    """L_sm: L1 of the spatial gradients of tau."""
    return (tau[..., 1:, :] - tau[..., :-1, :]).abs().mean() + (tau[..., :, 1:] - tau[..., :, :-1]).abs().mean()


def loss_pruning(out: dict[str, torch.Tensor], lam: float = 3.0, rho: float = 0.9, window: int = 5,
                 fg: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """Eq. 10: L_P = L_sil + lambda L_geo (lambda = 3, S Sec. 1)."""
    sil = loss_sil(out["P"], out["Q"], rho)
    geo = loss_geo(out["fs"], out["ft"], out["Gp"], out["S"], window, fg)
    return sil + lam * geo, {"sil": sil.item(), "geo": geo.item()}


def loss_final(out: dict[str, torch.Tensor], lam: float = 3.0, lam_p: float = 1.0, lam_m: float = 5.0,
               lam_sm: float = 0.1, rho: float = 0.9, window: int = 5, fg: torch.Tensor | None = None,
               temperature: float = 1.0) -> tuple[torch.Tensor, dict[str, float]]:
    """Eq. 15: lambda_P L_P + lambda_M L_M + lambda_sm L_sm (lambda_M = 5, lambda_sm = 0.1; lambda_P not given: 1)."""
    lp, parts = loss_pruning(out, lam, rho, window, fg)
    lm = loss_matching(out["fs"], out["ft"], out["tau"], window, fg, temperature)
    ls = loss_smooth(out["tau"])
    parts.update(m=lm.item(), sm=ls.item())
    return lam_p * lp + lam_m * lm + lam_sm * ls, parts
