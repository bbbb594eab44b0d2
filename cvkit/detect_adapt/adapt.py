"""The adaptive detector (Faster R-CNN + MCAR heads) and one training step of each method.

Methods (named options, same code): `source-only`; `photometric` (source-only with photometric / haze jitter of the
source images); `image-adv` (unconditional image-level focal adversarial alignment with a GRL: DANN / DA-Faster
global); `mcar` (multi-label conditional adversarial alignment + prediction-consistency regularisation):
L_all = L_det + lambda L_adv + mu L_multi + eps L_kl (paper eq. 8; lambda 0.5, mu 0.01, eps 0.1, gamma 5).
In the non-MCAR methods the multi-label head still learns, on detached features (no effect on the detector), so a
source-only checkpoint gives MCAR a warm head (spec 2.5's pre-phase; a documented deviation).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .detector import DetectorConfig, FasterRCNN
from .mcar import DomainDiscriminator, MultiLabelHead, consistency_loss, focal_domain_loss, multilabel_targets

METHODS = ("source-only", "photometric", "image-adv", "mcar")


@dataclass
class AdaptConfig:
    """Loss weights and choices of the adaptation (defaults: the paper's values)."""

    method: str = "mcar"
    lam: float = 0.5
    mu: float = 0.01
    eps: float = 0.1
    gamma: float = 5.0
    cond: str = "p"  # p | p+q (the paper's Cityscapes -> Foggy variant)
    kl_tau: float = 1.0
    kl_proposals: int = 128
    head_channels: int = 512

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown method {self.method!r} ({', '.join(METHODS)})")
        if self.cond not in ("p", "p+q"):
            raise ValueError(f"unknown conditioning {self.cond!r} (p, p+q)")

    def to_dict(self) -> dict:
        """JSON-ready."""
        return asdict(self)


class AdaptiveDetector(nn.Module):
    """Faster R-CNN plus the multi-label head M, the conditional discriminator and the image-level one."""

    def __init__(self, cfg: DetectorConfig, head_channels: int = 512, pretrained: bool = True) -> None:
        super().__init__()
        self.detector = FasterRCNN(cfg, pretrained=pretrained)
        c, k = self.detector.backbone.channels, cfg.num_classes
        self.multilabel = MultiLabelHead(c, k, head_channels)
        self.disc_cond = DomainDiscriminator(c, k, head_channels)
        self.disc_image = DomainDiscriminator(c, 1, head_channels)


def photometric(img: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Random brightness, contrast, saturation, gamma and a uniform haze blend (no depth) of an RGB [0, 1] image."""
    def u(a: float, b: float) -> float:
        return float(torch.empty(1).uniform_(a, b, generator=g))
    x = img * u(0.7, 1.2) + u(-0.1, 0.1)
    mean = x.mean()
    x = (x - mean) * u(0.4, 1.2) + mean
    grey = x.mean(0, keepdim=True)
    x = grey + (x - grey) * u(0.3, 1.2)
    x = x.clamp(0, 1) ** u(0.7, 1.4)
    if u(0, 1) < 0.7:
        a = u(0.0, 0.7)
        x = x * (1 - a) + a * u(0.6, 0.95)
    return x.clamp(0, 1)


def step_losses(model: AdaptiveDetector, acfg: AdaptConfig, src: list[torch.Tensor], boxes: list[torch.Tensor],
                labels: list[torch.Tensor], tgt: list[torch.Tensor] | None, g: torch.Generator) -> dict:
    """All losses of one step (source images with boxes in input pixels, unlabelled target images); 'total'
    is what to back-propagate."""
    det = model.detector
    k = det.cfg.num_classes
    if acfg.method == "photometric":
        src = [photometric(im, g) for im in src]
    x, scales, sizes = det.prepare(src)
    feat_s = det.backbone(x)
    scaled = [b.to(x) * s for b, s in zip(boxes, scales, strict=True)]
    losses, q_rois = det.forward_train(feat_s, sizes, scaled, [lab.to(x.device) for lab in labels])
    total = sum(losses.values())
    y = multilabel_targets(labels, k).to(x)
    if acfg.method != "mcar":
        losses["multi"] = F.binary_cross_entropy_with_logits(model.multilabel(feat_s.detach()), y)
        total = total + losses["multi"]
    if acfg.method in ("image-adv", "mcar"):
        if not tgt:
            raise ValueError(f"method {acfg.method} needs target images")
        xt, _, sizes_t = det.prepare(tgt)
        feat_t = det.backbone(xt)
    if acfg.method == "image-adv":
        losses["adv"] = focal_domain_loss(model.disc_image(feat_s), model.disc_image(feat_t), acfg.gamma)
        total = total + acfg.lam * losses["adv"]
    elif acfg.method == "mcar":
        logit_s, logit_t = model.multilabel(feat_s), model.multilabel(feat_t)
        losses["multi"] = F.binary_cross_entropy_with_logits(logit_s, y)
        p_s, p_t = torch.sigmoid(logit_s), torch.sigmoid(logit_t)
        q_s = torch.stack([q.max(0).values if len(q) else q.new_zeros(k) for q in q_rois])
        q_t = det.class_evidence(feat_t, sizes_t, acfg.kl_proposals)
        if acfg.cond == "p":
            c_s, c_t = p_s.detach(), p_t.detach()
        else:
            c_s, c_t = (p_s + q_s).softmax(1).detach(), (p_t + q_t).softmax(1).detach()
        losses["adv"] = focal_domain_loss(model.disc_cond(feat_s, c_s), model.disc_cond(feat_t, c_t), acfg.gamma)
        losses["kl"] = consistency_loss(p_s, q_s, acfg.kl_tau) + consistency_loss(p_t, q_t, acfg.kl_tau)
        total = total + acfg.lam * losses["adv"] + acfg.mu * losses["multi"] + acfg.eps * losses["kl"]
    losses["total"] = total
    return losses
