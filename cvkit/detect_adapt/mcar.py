"""MCAR's additions to Faster R-CNN (Zhao et al. ECCV 2020, sections 3.2-3.4) and the image-level baseline.

- `MultiLabelHead` M: K sigmoid classifiers on the global backbone features F(x) (before the RPN), trained with
  the binary cross-entropy L_multi on source images (y_k = 1 iff a box of class k is present).
- `DomainDiscriminator` D(F(x), c): a gradient reversal layer, a 3x3 conv that reduces F(x), global average
  pooling, the multilinear map (outer product) with the conditioning vector c (the multi-label prediction p, or
  softmax(p + q) for the Cityscapes -> Foggy variant), FC to the domain logit; trained with the focal adversarial
  loss (focusing parameter gamma). With a constant c = [1] it is the unconditional image-level discriminator of
  the DANN / DA-Faster (global) baseline.
- `consistency_loss`: symmetric KL between softmax(p / tau) and softmax(q / tau), q_k = max over proposals of the
  detector's class-k posterior (prediction-consistency regularisation, L_kl).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class _GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, coeff: float) -> torch.Tensor:
        ctx.coeff = coeff
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return -ctx.coeff * grad, None


def grad_reverse(x: torch.Tensor, coeff: float = 1.0) -> torch.Tensor:
    """Identity forward, gradient multiplied by -coeff backward (Ganin & Lempitsky 2015)."""
    return _GradReverse.apply(x, coeff)


class MultiLabelHead(nn.Module):
    """M: two conv3x3 + ReLU, global average pooling, linear to K logits (p = sigmoid of them)."""

    def __init__(self, in_channels: int, num_classes: int, channels: int = 512) -> None:
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(in_channels, channels, 3, padding=1), nn.ReLU(inplace=True),
                                  nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(inplace=True))
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, feat: torch.Tensor) -> torch.Tensor:
        return self.fc(self.conv(feat).mean((2, 3)))


class DomainDiscriminator(nn.Module):
    """D(F(x), c): GRL -> conv3x3 + ReLU -> GAP -> (feature outer c) -> FC -> domain logit (source = 1)."""

    def __init__(self, in_channels: int, cond_dim: int, channels: int = 512) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(in_channels, channels, 3, padding=1)
        self.fc = nn.Linear(channels * cond_dim, 1)
        self.cond_dim = cond_dim

    def forward(self, feat: torch.Tensor, cond: torch.Tensor | None = None, coeff: float = 1.0) -> torch.Tensor:
        h = F.relu(self.reduce(grad_reverse(feat, coeff))).mean((2, 3))
        if cond is None:
            cond = h.new_ones(len(h), 1)
        return self.fc(torch.bmm(h[:, :, None], cond[:, None, :]).flatten(1)).squeeze(1)


def multilabel_targets(labels: list[torch.Tensor], num_classes: int) -> torch.Tensor:
    """y in {0, 1}^K per image: y_k = 1 iff some box has class k."""
    y = torch.zeros(len(labels), num_classes)
    for i, lab in enumerate(labels):
        if len(lab):
            y[i, lab.long()] = 1.0
    return y


def focal_domain_loss(logit_s: torch.Tensor, logit_t: torch.Tensor, gamma: float) -> torch.Tensor:
    """1/2 (L_adv^s + L_adv^t): -(1 - d)^g log d on source, -d^g log(1 - d) on target, d = P(source)."""
    d_s, d_t = torch.sigmoid(logit_s), torch.sigmoid(logit_t)
    ls = -((1 - d_s) ** gamma * F.logsigmoid(logit_s)).mean()
    lt = -(d_t ** gamma * F.logsigmoid(-logit_t)).mean()
    return 0.5 * (ls + lt)


def consistency_loss(p: torch.Tensor, q: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
    """Symmetric KL between softmax(p / tau) and softmax(q / tau), averaged over images (each term / 2)."""
    lp, lq = F.log_softmax(p / tau, 1), F.log_softmax(q / tau, 1)
    kl_pq = (lp.exp() * (lp - lq)).sum(1)
    kl_qp = (lq.exp() * (lq - lp)).sum(1)
    return 0.5 * (kl_pq + kl_qp).mean()
