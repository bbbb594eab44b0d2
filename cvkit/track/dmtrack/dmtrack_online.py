"""DMTrack/DuML online regression (ONR): a 5×5 filter on the fused feature, fitted by Gauss–Newton steepest descent.

Paper (App. A, after DiMP): the robust map is `s^r = φ ∗ f(x)` with `f = Σ_l β_l φ_l(x)`; the filter φ starts as the
fused template feature adaptively pooled to 5×5 and is fitted online to a support memory of M = 50 search features
with Gaussian pseudo-labels, minimising Σ_j γ_j‖r_j‖² + λ‖φ‖² with the residual
`r(p, c) = v_c·(m_c·p + (1 − m_c)·max(0, p) − y_c)` by steepest descent with the Gauss–Newton step
`α = ‖∇L‖² / (∇Lᵀ JᵀJ ∇L)` (JᵀJ including the ridge term's λI). Init: 10 iterations on augmented first-frame
samples; update every 20 frames (learning rate 0.1, 2 iterations) or at once when a distractor is detected (0.2, 1
iteration); frames judged lost are not stored. Our choices where the paper defers to DiMP's meta-learned parts
v = 1, y = Gaussian of σ = ¼ of the target size (in feature cells), m = 1 inside the target box
and 0 outside, ridge λ = 0.01, `L = ½Σ_j γ_j Σ_c r_jc² + ½λ‖φ‖²` with sample weights γ summing to 1. The paper's
"learning rate" is read as DiMP's: the weight a new sample enters the memory with (older samples decay by 1 − lr,
then the initial ones are lifted to at least 25 % of the total); a full memory replaces its lowest-weight non-initial
sample. "Updated with a learning rate of 0.1 and 2 iterations every 20 frames" is read literally
(`sample_every_update`, default): one tracked frame enters the memory every 20 frames (then 2 steps), a frame with a
detected distractor enters at once (0.2, 1 step); storing every frame at 0.1 (the earlier reading) left ~88 % of the
weight on the last 20 frames and lost more frames to look-alikes on validation clips. `step(..., uncertain=True)`
(DiMP's 'uncertain' flag, used when `DMTrackParams.skip_uncertain`) stores nothing. ∇L comes from autograd and
JᵀJ∇L from a Jacobian-vector product (`torch.func.jvp`) of the residual, so the step is exact for this piecewise-
linear residual. The initial filter is rescaled so that its peak response on the first search feature is 1 (the
labels' scale). `unrolled_fit` takes the same steps with the graph kept (the meta-training stage in
`dmtrack_train`), `regression_loss` is the outer (query-frame) loss.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class ONRParams:
    """Online-regression hyper-parameters (paper App. A; our fixed choices)."""

    filter_size: int = 5
    memory: int = 50
    init_iters: int = 10
    update_every: int = 20
    update_lr: float = 0.1
    update_iters: int = 2
    distractor_lr: float = 0.2
    distractor_iters: int = 1
    ridge: float = 0.01
    sigma_factor: float = 0.25  # Gaussian label σ = sigma_factor · sqrt(w·h), in feature cells
    init_min_weight: float = 0.25  # the initial (augmented first-frame) samples keep at least this share
    sample_every_update: bool = True  # paper: a frame enters every `update_every` frames (distractor frames at once)


def gaussian_label(size: tuple[int, int], centre: tuple[float, float], sigma: float) -> torch.Tensor:
    """(H, W) Gaussian pseudo-label peaking at `centre` = (u, v) in feature cells (column, row)."""
    h, w = size
    ys = torch.arange(h, dtype=torch.float32)[:, None] - centre[1]
    xs = torch.arange(w, dtype=torch.float32)[None, :] - centre[0]
    return torch.exp(-(xs * xs + ys * ys) / (2 * max(sigma, 1e-3) ** 2))


def box_mask(size: tuple[int, int], centre: tuple[float, float], box_wh: tuple[float, float]) -> torch.Tensor:
    """(H, W) target mask m: 1 on cells whose centre lies inside the box (feature cells), else 0."""
    h, w = size
    ys = (torch.arange(h, dtype=torch.float32)[:, None] - centre[1]).abs() <= box_wh[1] / 2
    xs = (torch.arange(w, dtype=torch.float32)[None, :] - centre[0]).abs() <= box_wh[0] / 2
    m = (ys & xs).float()
    if m.sum() == 0:  # a box smaller than a cell still marks its nearest cell
        m[min(max(round(centre[1]), 0), h - 1), min(max(round(centre[0]), 0), w - 1)] = 1.0
    return m


def filter_response(feats: torch.Tensor, filt: torch.Tensor) -> torch.Tensor:
    """Responses (N, H, W) of one filter (C, k, k) on features (N, C, H, W), same-size ('same' padding)."""
    k = filt.shape[-1]
    return F.conv2d(feats, filt[None], padding=k // 2)[:, 0]


def onr_residual(filt: torch.Tensor, feats: torch.Tensor, y: torch.Tensor, m: torch.Tensor,
                 v: torch.Tensor | float = 1.0) -> torch.Tensor:
    """The paper's residual r = v·(m·p + (1 − m)·max(0, p) − y) for every sample and cell, (N, H, W)."""
    p = filter_response(feats, filt)
    return v * (m * p + (1 - m) * F.relu(p) - y)


def onr_objective(filt: torch.Tensor, feats: torch.Tensor, y: torch.Tensor, m: torch.Tensor,
                  weights: torch.Tensor, ridge: float) -> torch.Tensor:
    """L(φ) = ½ Σ_j γ_j Σ_c r_jc² + ½ λ ‖φ‖²."""
    r = onr_residual(filt, feats, y, m)
    return 0.5 * (weights * r.pow(2).flatten(1).sum(1)).sum() + 0.5 * ridge * filt.pow(2).sum()


def gauss_newton_step(
    residual: Callable[[torch.Tensor], torch.Tensor], theta: torch.Tensor, weights: torch.Tensor, ridge: float
) -> tuple[torch.Tensor, float, float]:
    """One steepest-descent step with the Gauss–Newton step length; returns (θ_new, α, L(θ)).

    `residual(θ)` gives (N, ...) residuals; L = ½Σ_j γ_j‖r_j‖² + ½λ‖θ‖². α = gᵀg / (gᵀ(JᵀΓJ + λI)g) with
    g = ∇L (autograd) and Jg from a Jacobian-vector product, i.e. the exact minimiser along −g of the
    Gauss–Newton model (exact line search when r is linear).
    """
    th = theta.detach().requires_grad_(True)
    with torch.enable_grad():
        r = residual(th)
        w = weights.view(-1, *([1] * (r.dim() - 1)))
        loss = 0.5 * (w * r.pow(2)).sum() + 0.5 * ridge * th.pow(2).sum()
        (g,) = torch.autograd.grad(loss, th)
    _, jg = torch.func.jvp(residual, (theta.detach(),), (g,))
    gg = float(g.pow(2).sum())
    denom = float((w * jg.pow(2)).sum()) + ridge * gg
    alpha = gg / denom if denom > 0 else 0.0
    return (theta.detach() - alpha * g).detach(), alpha, float(loss.detach())


class OnlineRegressor:
    """ONR state for one sequence: the filter, the support memory (features, labels, masks, weights)."""

    def __init__(self, params: ONRParams | None = None) -> None:
        self.p = params or ONRParams()
        self.filter: torch.Tensor | None = None
        self.feats: torch.Tensor | None = None  # (M, C, H, W)
        self.labels: torch.Tensor | None = None  # (M, H, W)
        self.masks: torch.Tensor | None = None
        self.weights: torch.Tensor | None = None  # (M,)
        self.n_init = 0
        self.frames_since_update = 0
        self.losses: list[float] = []

    # ---------------------------------------------------------------- memory
    def sample_targets(self, size: tuple[int, int], centre: tuple[float, float],
                       box_wh: tuple[float, float]) -> tuple[torch.Tensor, torch.Tensor]:
        """Label y and mask m for a target at `centre` of size `box_wh` (feature cells)."""
        sigma = self.p.sigma_factor * math.sqrt(max(box_wh[0] * box_wh[1], 1e-6))
        return gaussian_label(size, centre, sigma), box_mask(size, centre, box_wh)

    def initialize(self, template_feat: torch.Tensor, feats: torch.Tensor, centres: list[tuple[float, float]],
                   sizes: list[tuple[float, float]]) -> None:
        """Filter from the pooled template feature (C, h, w); memory from augmented first-frame samples; fit."""
        k = self.p.filter_size
        filt = F.adaptive_avg_pool2d(template_feat[None].float(), k)[0]
        peak = float(filter_response(feats[:1].float(), filt).max())
        self.filter = filt / peak if peak > 1e-6 else filt / (filt.pow(2).sum() + 1e-6)
        size = (feats.shape[-2], feats.shape[-1])
        ys, ms = zip(*(self.sample_targets(size, c, s) for c, s in zip(centres, sizes, strict=True)), strict=True)
        self.feats = feats.detach().float().clone()
        self.labels = torch.stack(ys)
        self.masks = torch.stack(ms)
        self.n_init = len(feats)
        self.weights = torch.full((self.n_init,), 1.0 / self.n_init)
        self.optimize(self.p.init_iters)

    def add_sample(self, feat: torch.Tensor, centre: tuple[float, float], box_wh: tuple[float, float],
                   lr: float) -> None:
        """Store a tracked frame's feature (C, H, W) with weight `lr`; older weights decay (DiMP's rule)."""
        y, m = self.sample_targets((feat.shape[-2], feat.shape[-1]), centre, box_wh)
        w = self.weights * (1 - lr)
        if len(w) < self.p.memory:
            self.feats = torch.cat([self.feats, feat[None].float()])
            self.labels = torch.cat([self.labels, y[None]])
            self.masks = torch.cat([self.masks, m[None]])
            w = torch.cat([w, torch.tensor([lr])])
        else:
            rest = w[self.n_init:]
            i = self.n_init + int(torch.argmin(rest)) if len(rest) else int(torch.argmin(w))
            self.feats[i], self.labels[i], self.masks[i], w[i] = feat.float(), y, m, lr
        k, floor = self.n_init, self.p.init_min_weight
        if k and float(w[:k].sum()) < floor * float(w.sum()):  # DiMP: initial samples keep a minimum share
            w[k:] *= (1 - floor) / float(w[k:].sum())
            w[:k] *= floor / float(w[:k].sum())
        self.weights = w / w.sum()

    # ---------------------------------------------------------------- optimisation
    def objective(self, filt: torch.Tensor | None = None) -> float:
        """Current value of L on the memory."""
        f = self.filter if filt is None else filt
        return float(onr_objective(f, self.feats, self.labels, self.masks, self.weights, self.p.ridge))

    def optimize(self, iters: int) -> list[float]:
        """Run `iters` Gauss–Newton steepest-descent steps; returns L before each step (and after the last)."""
        feats, labels, masks = self.feats, self.labels, self.masks

        def residual(f: torch.Tensor) -> torch.Tensor:
            return onr_residual(f, feats, labels, masks)

        trace = []
        for _ in range(int(iters)):
            self.filter, _, loss = gauss_newton_step(residual, self.filter, self.weights, self.p.ridge)
            trace.append(loss)
        trace.append(self.objective())
        self.losses = trace
        return trace

    def response(self, feat: torch.Tensor) -> torch.Tensor:
        """Robust map (N, H, W) of search features (N, C, H, W)."""
        return filter_response(feat.float(), self.filter)

    def step(self, feat: torch.Tensor, centre: tuple[float, float], box_wh: tuple[float, float], lost: bool,
             distractor: bool, uncertain: bool = False) -> str:
        """Per-frame memory/filter update; returns what was done ('lost', 'uncertain', 'distractor', 'update',
        'stored', or 'skipped' between update frames). Lost and uncertain frames (DiMP: a second peak as strong as
        the main one, so the label may sit on a distractor) are not stored."""
        if lost:
            return "lost"
        if uncertain:
            return "uncertain"
        self.frames_since_update += 1
        if distractor:
            self.add_sample(feat, centre, box_wh, self.p.distractor_lr)
            self.optimize(self.p.distractor_iters)
            self.frames_since_update = 0
            return "distractor"
        due = self.frames_since_update >= self.p.update_every
        if self.p.sample_every_update and not due:
            return "skipped"
        self.add_sample(feat, centre, box_wh, self.p.update_lr)
        if due:
            self.optimize(self.p.update_iters)
            self.frames_since_update = 0
            return "update"
        return "stored"


def second_peak_ratio(score: torch.Tensor, exclude_radius: float) -> float:
    """Ratio of the highest local maximum outside `exclude_radius` cells of the main peak to the main peak."""
    s = score.float()
    h, w = s.shape
    top = float(s.max())
    if top <= 0:
        return 0.0
    i = int(torch.argmax(s))
    py, px = divmod(i, w)
    is_max = s == F.max_pool2d(s[None, None], 3, 1, 1)[0, 0]
    ys = torch.arange(h)[:, None] - py
    xs = torch.arange(w)[None, :] - px
    far = (ys * ys + xs * xs).float() > exclude_radius ** 2
    cand = s[is_max & far]
    return float(cand.max()) / top if cand.numel() else 0.0


# ------------------------------------------------------------------------------------------------ meta-training


def initial_filter(template_feat: torch.Tensor, first_feat: torch.Tensor, size: int = 5) -> torch.Tensor:
    """The run-time initial filter, differentiably: the fused template feature (C, h, w) pooled to size×size and
    rescaled so that its peak response on `first_feat` (C, H, W) is 1 (as `OnlineRegressor.initialize`)."""
    filt = F.adaptive_avg_pool2d(template_feat[None], size)[0]
    peak = filter_response(first_feat[None], filt).max()
    return filt / peak.clamp(min=1e-3)


def unrolled_fit(filt: torch.Tensor, feats: torch.Tensor, y: torch.Tensor, m: torch.Tensor, weights: torch.Tensor,
                 ridge: float, iters: int, step_scale: torch.Tensor | float = 1.0) -> list[torch.Tensor]:
    """`iters` steepest-descent Gauss–Newton steps on L (as `gauss_newton_step`) keeping the graph, so that a loss
    on the fitted filter back-propagates into the features, labels and initial filter (DiMP's meta-learning).

    The residual is piecewise linear in φ: J g = v·(m + (1 − m)·[p > 0])·(g ∗ f) with the active set of the
    current iterate (the same α as the autograd/jvp version). Returns the iterates [φ_0, ..., φ_iters].
    """
    out = [filt]
    w = weights.view(-1, 1, 1)
    for _ in range(int(iters)):
        if not filt.requires_grad:
            filt = filt.requires_grad_(True)
        p = filter_response(feats, filt)
        d = m + (1 - m) * (p > 0).to(p.dtype)
        r = m * p + (1 - m) * F.relu(p) - y
        loss = 0.5 * (w * r.pow(2)).sum() + 0.5 * ridge * filt.pow(2).sum()
        (g,) = torch.autograd.grad(loss, filt, create_graph=True)
        jg = d * filter_response(feats, g)
        gg = g.pow(2).sum()
        alpha = gg / ((w * jg.pow(2)).sum() + ridge * gg).clamp(min=1e-8)
        filt = filt - step_scale * alpha * g
        out.append(filt)
    return out


def regression_loss(filt: torch.Tensor, feats: torch.Tensor, y: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """The ONR outer loss (λ_r term, DiMP's hinge regression): mean over maps of Σ_c r², r = m·p + (1−m)·max(0,p) − y
    (positive responses off the target are penalised, negative ones are not)."""
    r = onr_residual(filt, feats, y, m)
    return r.pow(2).flatten(1).sum(1).mean()
