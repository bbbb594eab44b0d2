"""DMTrack / DuML (Zhou et al., "Higher Performance Visual Tracking with Dual-Modal Localization"): OFC + ONR + voting.

Paper: an accurate offline-classification map (OFC-5s: per-level depth-wise cross-correlation of template and search
features, a head to A = 5 anchors, level weights α; focal loss with ATSS_MaxIoU labels) is fused with a robust online
regression map (ONR, `dmtrack_online`) as `ŝ = μ s^r + (1 − μ) s^a`, μ = 0.8 (s^r broadcast over the anchors); SiamRPN
post-processing (scale/ratio penalty, cosine window, size smoothing) picks `y* = argmax`; the box is not the direct
regression at y* but a score vote `b* = Σ w·o·b / Σ w·o` over boxes with IoU > ε = 0.01 to the direct box b_d,
`w = ŝ·exp(−(1 − IoU)²/σ)`, σ = 0.0025, o = the box head's IoU slot (5·A outputs Δcx, Δcy, Δw, Δh, o). Losses: focal
(OFC, λ 10), L1 on box offsets (λ 1.2), BCE on the IoU slot (λ 1.2). Full model `dmtrack` (alias `duml`): ResNet-50
blocks 2–4 (layer2..4), layer3/4 bilinearly interpolated to layer2's stride-8 grid, 1×1 conv + BN to 256 each, template
feature centre 8×8, anchors of base 64 px. Our choices: `dmtrack-lite` puts the same heads on the frozen
EfficientNet-Lite0 ImageNet trunk, two stride-16 levels (blocks 7 and 10, 80 and 112 ch), 1×1 necks to 64 ch, anchors
base 64 px at stride 16 (9×9×5 map); ATSS positives also need their centre inside the GT box (ATSS rule); focal
γ = 2 with positives and negatives averaged separately (0.5/0.5, the paper's "contribute equally"); the IoU slot is
trained on positives and on anchors with IoU > 0.3 to the GT; the ONR fused-feature weights β are a softmax of learned
logits, kept at their uniform initial value by the offline losses and trained only by the optional ONR meta-training
stage (`dmtrack_train.MetaConfig`, DiMP-style unrolled Gauss–Newton steps), which can also attach a learned ONR
feature layer (`ONRFeatureLayer`, config `onr_hidden`: a residual on f from the backbone levels; our stand-in for
DiMP's classification-feature layer); the ONR map (one value per feature cell) is bilinearly resampled onto the
anchor grid (cell j looks at displacement (j − (R−1)/2)·stride from the crop centre, feature cell u at
(u − (F−1)/2)·stride).
Score voting uses the penalised, windowed score for ŝ (post-processing precedes the box derivation). A frame whose
unpenalised fused peak is < 0.25 is "lost" (not stored in the ONR memory); a second local ONR peak farther than the
target size with > 0.8 × the main peak is a "distractor" (immediate 1-iteration update at learning rate 0.2); other
frames enter the memory every 20 frames (learning rate 0.1, 2 iterations; `ONRParams.sample_every_update`).
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...nn.detection import box_iou
from ...nn.ops import xcorr_depthwise
from ..base import Tracker
from ..crops import clamp_box, crop_square, mean_colour, template_side
from .dmtrack_online import OnlineRegressor, ONRParams, second_peak_ratio

RATIOS = (0.33, 0.5, 1.0, 2.0, 3.0)  # anchor h/w ratios (pysot: hs = ws·r)
ANCHOR_BASE = 64.0  # anchor side (area 64²) in search-crop pixels, pysot's stride 8 × scale 8
LITE_LEVELS = (7, 10)  # EfficientNet-Lite0 blocks: end of stage 4 (80 ch) and stage 5 (112 ch), both stride 16

# ------------------------------------------------------------------------------------------------ anchors, boxes


def make_anchors(size: int, stride: float, base: float = ANCHOR_BASE, ratios: tuple[float, ...] = RATIOS
                 ) -> torch.Tensor:
    """(A, R, R, 4) anchors cx, cy, w, h in search-crop pixels relative to the crop centre (pysot layout)."""
    r = torch.tensor(ratios, dtype=torch.float32)
    ws = base / torch.sqrt(r)
    hs = ws * r
    c = (torch.arange(size, dtype=torch.float32) - (size - 1) / 2) * stride
    cy, cx = torch.meshgrid(c, c, indexing="ij")
    a = len(ratios)
    out = torch.empty(a, size, size, 4)
    out[..., 0] = cx
    out[..., 1] = cy
    out[..., 2] = ws.view(a, 1, 1)
    out[..., 3] = hs.view(a, 1, 1)
    return out


def encode(anchors: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """SiamRPN offsets (Δcx, Δcy, Δw, Δh) of a cx,cy,w,h GT box w.r.t. (..., 4) anchors."""
    return torch.stack([(gt[0] - anchors[..., 0]) / anchors[..., 2], (gt[1] - anchors[..., 1]) / anchors[..., 3],
                        torch.log(gt[2] / anchors[..., 2]), torch.log(gt[3] / anchors[..., 3])], -1)


def decode(anchors: torch.Tensor, deltas: torch.Tensor) -> torch.Tensor:
    """Boxes cx, cy, w, h from (..., 4) anchors and offsets (SiamRPN: cx = a_cx + Δcx·a_w, w = a_w·exp(Δw))."""
    d = deltas.clamp(-10, 10)
    return torch.stack([anchors[..., 0] + d[..., 0] * anchors[..., 2], anchors[..., 1] + d[..., 1] * anchors[..., 3],
                        anchors[..., 2] * torch.exp(d[..., 2].clamp(max=4)),
                        anchors[..., 3] * torch.exp(d[..., 3].clamp(max=4))], -1)


def atss_maxiou_assign(anchors: torch.Tensor, gt: torch.Tensor, topk: int = 15) -> torch.Tensor:
    """ATSS_MaxIoU positives (bool, anchors' shape[:-1]): of the top-k anchors by IoU with the GT (cx,cy,w,h),
    those with IoU ≥ mean + std of the top-k IoUs and centre inside the GT box."""
    iou = box_iou(anchors, gt, fmt="cxcywh", pairwise=False).flatten()
    k = min(topk, iou.numel())
    top_iou, top_idx = iou.topk(k)
    thr = top_iou.mean() + (top_iou.std(unbiased=True) if k > 1 else 0.0)
    flat = anchors.reshape(-1, 4)[top_idx]
    inside = ((flat[:, 0] - gt[0]).abs() < gt[2] / 2) & ((flat[:, 1] - gt[1]).abs() < gt[3] / 2)
    keep = (top_iou >= thr) & inside
    pos = torch.zeros(iou.numel(), dtype=torch.bool)
    pos[top_idx[keep]] = True
    if not pos.any():  # never leave a GT without a positive: its best anchor
        pos[top_idx[0]] = True
    return pos.view(anchors.shape[:-1])


def focal_loss_split(logits: torch.Tensor, pos: torch.Tensor, gamma: float = 2.0) -> torch.Tensor:
    """Sigmoid focal loss with positives and negatives averaged separately and weighted 0.5/0.5."""
    p = torch.sigmoid(logits)
    ce_pos = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits), reduction="none")
    ce_neg = F.binary_cross_entropy_with_logits(logits, torch.zeros_like(logits), reduction="none")
    lp = ((1 - p) ** gamma * ce_pos)[pos]
    ln = (p ** gamma * ce_neg)[~pos]
    zero = logits.sum() * 0
    return 0.5 * (lp.mean() if lp.numel() else zero) + 0.5 * (ln.mean() if ln.numel() else zero)


LOSS_WEIGHTS = {"cls": 10.0, "box": 1.2, "iou": 1.2}  # λ_a, λ_b, λ_o (paper Eq. 6; λ_r = 1 goes to ONR)


def dmtrack_losses(cls: torch.Tensor, loc: torch.Tensor, iou_logit: torch.Tensor, anchors: torch.Tensor,
                   gt: torch.Tensor, topk: int = 15, near_iou: float = 0.3) -> dict[str, torch.Tensor]:
    """OFC focal (ATSS_MaxIoU labels), L1 box-offset and BCE IoU-slot losses for a batch.

    cls, iou_logit: (N, A, R, R); loc: (N, A, 4, R, R); anchors (A, R, R, 4); gt (N, 4) cx,cy,w,h crop pixels.
    """
    n = cls.shape[0]
    loc = loc.permute(0, 1, 3, 4, 2)  # (N, A, R, R, 4)
    l_cls, l_box, l_iou = [], [], []
    for i in range(n):
        g = gt[i]
        pos = atss_maxiou_assign(anchors, g, topk)
        l_cls.append(focal_loss_split(cls[i], pos))
        target = encode(anchors[pos], g)
        l_box.append(F.l1_loss(loc[i][pos], target))
        near = pos | (box_iou(anchors, g, fmt="cxcywh", pairwise=False) > near_iou)
        with torch.no_grad():
            t_iou = box_iou(decode(anchors[near], loc[i][near]), g, fmt="cxcywh", pairwise=False)
        l_iou.append(F.binary_cross_entropy_with_logits(iou_logit[i][near], t_iou))
    out = {"cls": torch.stack(l_cls).mean(), "box": torch.stack(l_box).mean(), "iou": torch.stack(l_iou).mean()}
    out["total"] = sum(LOSS_WEIGHTS[k] * out[k] for k in LOSS_WEIGHTS)
    return out


# ------------------------------------------------------------------------------------------------ network


class DWXCorrBranch(nn.Module):
    """SiamRPN++ depth-wise correlation branch: 3×3 conv on each side (no padding), dw-xcorr, 1×1 head."""

    def __init__(self, channels: int, hidden: int, out: int) -> None:
        super().__init__()
        self.conv_kernel = nn.Sequential(nn.Conv2d(channels, hidden, 3, bias=False), nn.BatchNorm2d(hidden),
                                         nn.ReLU(inplace=True))
        self.conv_search = nn.Sequential(nn.Conv2d(channels, hidden, 3, bias=False), nn.BatchNorm2d(hidden),
                                         nn.ReLU(inplace=True))
        self.head = nn.Sequential(nn.Conv2d(hidden, hidden, 1, bias=False), nn.BatchNorm2d(hidden),
                                  nn.ReLU(inplace=True), nn.Conv2d(hidden, out, 1))

    def forward(self, z: torch.Tensor, x: torch.Tensor, z_ready: bool = False) -> torch.Tensor:
        kernel = z if z_ready else self.conv_kernel(z)
        return self.head(xcorr_depthwise(self.conv_search(x), kernel))


class DuMLHead(nn.Module):
    """Per level: cls branch (A) and box branch (5·A: Δcx, Δcy, Δw, Δh, o per anchor); softmax level weights."""

    def __init__(self, levels: int, channels: int, hidden: int, anchors: int = len(RATIOS)) -> None:
        super().__init__()
        self.anchors = anchors
        self.cls = nn.ModuleList([DWXCorrBranch(channels, hidden, anchors) for _ in range(levels)])
        self.box = nn.ModuleList([DWXCorrBranch(channels, hidden, 5 * anchors) for _ in range(levels)])
        self.cls_weight = nn.Parameter(torch.ones(levels))  # α (softmax-normalised, as pysot)
        self.box_weight = nn.Parameter(torch.ones(levels))
        self.onr_weight = nn.Parameter(torch.ones(levels))  # β of the ONR fused feature

    def prepare(self, zs: list[torch.Tensor]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Template kernels per level (the template-side convs, computed once per sequence)."""
        return [(c.conv_kernel(z), b.conv_kernel(z)) for c, b, z in zip(self.cls, self.box, zs, strict=True)]

    def forward(self, zs: list, xs: list[torch.Tensor], prepared: bool = False
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """-> cls logits (N, A, R, R), box offsets (N, A, 4, R, R), IoU logits (N, A, R, R)."""
        ks = zs if prepared else self.prepare(zs)
        wc, wb = F.softmax(self.cls_weight, 0), F.softmax(self.box_weight, 0)
        cls = sum(wc[i] * self.cls[i](k[0], x, True) for i, (k, x) in enumerate(zip(ks, xs, strict=True)))
        box = sum(wb[i] * self.box[i](k[1], x, True) for i, (k, x) in enumerate(zip(ks, xs, strict=True)))
        n, _, r, _ = box.shape
        box = box.view(n, self.anchors, 5, r, r)
        return cls, box[:, :, :4], box[:, :, 4]

    def fuse(self, xs: list[torch.Tensor]) -> torch.Tensor:
        """ONR fused feature f = Σ_l β_l φ_l(x)."""
        wb = F.softmax(self.onr_weight, 0)
        return sum(wb[i] * x for i, x in enumerate(xs))


class ONRFeatureLayer(nn.Module):
    """Optional learned ONR feature (DiMP's classification-feature layer, our lite version): backbone levels
    (resized to the first level's grid) concatenated -> 1×1 conv + ReLU -> 3×3 conv, added to f = Σ β φ. The last
    conv starts at zero, so a fresh layer leaves the paper's fused feature unchanged; meta-training fits it."""

    def __init__(self, in_channels: int, hidden: int, out: int) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(in_channels, hidden, 1)
        self.mix = nn.Conv2d(hidden, out, 3, padding=1)
        nn.init.zeros_(self.mix.weight)
        nn.init.zeros_(self.mix.bias)

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        size = feats[0].shape[-2:]
        x = torch.cat([f if f.shape[-2:] == size else F.interpolate(f, size=size, mode="bilinear",
                                                                      align_corners=False) for f in feats], 1)
        return self.mix(F.relu(self.reduce(x)))


class _DMTrackNet(nn.Module):
    """Backbone levels -> 1×1 necks -> DuML head; subclasses define the backbone and its preprocessing."""

    kind = ""
    stride = 16
    template_crop: int | None = None

    def __init__(self, in_channels: list[int], channels: int, hidden: int, onr_hidden: int = 0) -> None:
        super().__init__()
        self.neck = nn.ModuleList([nn.Sequential(nn.Conv2d(c, channels, 1, bias=False), nn.BatchNorm2d(channels))
                                   for c in in_channels])
        self.head = DuMLHead(len(in_channels), channels, hidden)
        self.onr_layer = ONRFeatureLayer(sum(in_channels), onr_hidden, channels) if onr_hidden else None

    def backbone(self, crops: torch.Tensor) -> list[torch.Tensor]:  # pragma: no cover - interface
        """uint8 BGR crops (N, H, W, 3) -> backbone levels."""
        raise NotImplementedError

    def add_onr_layer(self, hidden: int) -> None:
        """Attach a fresh (zero-output) learned ONR feature layer (`ONRFeatureLayer`) and record it in the config."""
        ch = self.neck[0][0].out_channels
        self.onr_layer = ONRFeatureLayer(sum(n[0].in_channels for n in self.neck), int(hidden), ch)
        self._config["onr_hidden"] = int(hidden)

    def embed_features(self, feats: list[torch.Tensor], template: bool = False) -> list[torch.Tensor]:
        """Backbone levels -> neck features (template: centre-cropped to `template_crop` cells when set)."""
        out = [n(f) for n, f in zip(self.neck, feats, strict=True)]
        if template and self.template_crop and out[0].shape[-1] > self.template_crop:
            lo = (out[0].shape[-1] - self.template_crop) // 2
            out = [o[..., lo : lo + self.template_crop, lo : lo + self.template_crop] for o in out]
        return out

    def embed(self, crops: torch.Tensor, template: bool = False) -> list[torch.Tensor]:
        """uint8 BGR crops -> neck features per level."""
        return self.embed_features(self.backbone(crops), template)

    def onr_feature(self, feats: list[torch.Tensor], xs: list[torch.Tensor]) -> torch.Tensor:
        """ONR feature from backbone levels `feats` and their neck features `xs`: the fused f = Σ_l β_l φ_l(x), plus
        the learned ONR layer's residual on the backbone levels when the net has one (template neck features
        centre-cropped by `embed_features` are matched by cropping the layer's output the same way)."""
        f = self.head.fuse(xs)
        if self.onr_layer is None:
            return f
        extra = self.onr_layer(feats)
        if extra.shape[-1] > f.shape[-1]:
            lo = (extra.shape[-1] - f.shape[-1]) // 2
            extra = extra[..., lo : lo + f.shape[-1], lo : lo + f.shape[-1]]
        return f + extra

    def embed_all(self, crops: torch.Tensor, template: bool = False) -> tuple[list[torch.Tensor], torch.Tensor]:
        """uint8 BGR crops -> (neck features per level, ONR feature)."""
        feats = self.backbone(crops)
        xs = self.embed_features(feats, template)
        return xs, self.onr_feature(feats, xs)

    def forward(self, z_crops: torch.Tensor, x_crops: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Paired uint8 crops -> (cls, loc, iou) as DuMLHead."""
        return self.head(self.embed(z_crops, template=True), self.embed(x_crops))

    def response_size(self, search_size: int = 255, template_size: int = 127) -> int:
        """Side R of the anchor grid for these crop sizes (dry run)."""
        with torch.no_grad():
            cls, _, _ = self(torch.zeros(1, template_size, template_size, 3, dtype=torch.uint8),
                             torch.zeros(1, search_size, search_size, 3, dtype=torch.uint8))
        return int(cls.shape[-1])

    def config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this architecture (JSON-serialisable)."""
        return copy.deepcopy(self._config)


class _LiteTrunk(nn.Module):
    """The frozen EfficientNet-Lite0 trunk of `siam-lite`, returning several block outputs."""

    def __init__(self, levels: tuple[int, ...], pretrained: bool) -> None:
        super().__init__()
        from ..trunk import FrozenTrunk

        self.levels = tuple(levels)
        self.trunk = FrozenTrunk(max(levels), pretrained)

    def forward(self, crops: torch.Tensor) -> list[torch.Tensor]:
        return self.trunk.net.taps(self.trunk.normalised(crops), self.levels)


class DMTrackLiteNet(_DMTrackNet):
    """`dmtrack-lite`: DuML heads on the frozen stride-16 EfficientNet-Lite0 trunk (64-ch necks)."""

    kind = "dmtrack-lite"
    stride = 16

    def __init__(self, pretrained: bool = True, levels: tuple[int, ...] = LITE_LEVELS, channels: int = 64,
                 hidden: int = 64, onr_hidden: int = 0) -> None:
        from ...nn.efficientnet_lite import trunk_channels
        from ..trunk import keep_trunk_out_of_state

        super().__init__([trunk_channels(b) for b in levels], channels, hidden, onr_hidden)
        self.trunk = _LiteTrunk(tuple(levels), pretrained)
        for p in self.trunk.parameters():
            p.requires_grad_(False)
        self._config = dict(levels=list(levels), channels=channels, hidden=hidden)
        if onr_hidden:  # only then, so cards without the layer keep their config
            self._config["onr_hidden"] = onr_hidden
        keep_trunk_out_of_state(self)

    def train(self, mode: bool = True) -> DMTrackLiteNet:
        """Train the heads; the frozen trunk stays in eval mode."""
        super().train(mode)
        self.trunk.eval()
        return self

    def backbone(self, crops: torch.Tensor) -> list[torch.Tensor]:
        with torch.no_grad():
            return self.trunk(crops)



class DMTrackNet(_DMTrackNet):
    """Paper-size DuML: ResNet-50 layer2..4 (interpolated to stride 8), 1×1 → 256, DuML heads (no weights ship)."""

    kind = "dmtrack"
    stride = 8
    template_crop = 8

    def __init__(self, channels: int = 256, hidden: int = 256) -> None:
        from ...nn.resnet import ResNet50

        super().__init__([512, 1024, 2048], channels, hidden)
        self.backbone_net = ResNet50()
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1), persistent=False)
        self._config = dict(channels=channels, hidden=hidden)

    def backbone(self, crops: torch.Tensor) -> list[torch.Tensor]:
        x = crops.flip(-1).permute(0, 3, 1, 2).float().div(255.0)
        x = (x - self.mean) / self.std
        r = self.backbone_net
        l2 = r.layer2(r.stem_to(x, "layer2"))
        l3 = r.layer3(l2)
        l4 = r.layer4(l3)
        size = l2.shape[-2:]
        return [l2] + [F.interpolate(f, size=size, mode="bilinear", align_corners=False) for f in (l3, l4)]


NETS: dict[str, type[_DMTrackNet]] = {"dmtrack-lite": DMTrackLiteNet, "dmtrack": DMTrackNet}


def build_dmtrack_net(kind: str, pretrained: bool = True, **config: Any) -> _DMTrackNet:
    """Build `dmtrack-lite` (frozen trunk; `pretrained` = packaged ImageNet weights) or paper-size `dmtrack`."""
    if kind in ("dmtrack", "duml"):
        return DMTrackNet(**config)
    if kind == "dmtrack-lite":
        return DMTrackLiteNet(pretrained=pretrained, **config)
    raise ValueError(f"unknown DMTrack net {kind!r}")


# ------------------------------------------------------------------------------------------------ tracker


@dataclass
class DMTrackParams:
    """Inference hyper-parameters: SiamRPN++ post-processing (pysot defaults), fusion, voting, ONR."""

    exemplar_size: int = 127
    instance_size: int = 255
    context: float = 0.5
    penalty_k: float = 0.05
    window_influence: float = 0.42
    lr: float = 0.38
    mu: float = 0.8
    use_onr: bool = True
    score_voting: bool = True
    vote_eps: float = 0.01
    vote_sigma: float = 0.0025
    lost_threshold: float = 0.25
    distractor_ratio: float = 0.8
    hard_negative_ratio: float = 0.5  # DiMP flags (skip_uncertain): ratio > this is a hard negative (lr 0.2 update)
    skip_uncertain: bool = False  # DiMP: a second ONR peak > distractor_ratio × main is 'uncertain', not stored
    size_score: str = "fused"  # score in the size-smoothing rate lr·penalty·score: "fused" ŝ (pysot) or "ofc" s^a
    onr_peak_norm: bool = False  # fuse s^r / max(s^r) (the robust map on the labels' 0..1 scale) instead of s^r
    onr: ONRParams = field(default_factory=ONRParams)

    @classmethod
    def from_dict(cls, d: dict) -> DMTrackParams:
        """Rebuild from `asdict()` output (e.g. a card's tracker_params)."""
        d = dict(d)
        onr = ONRParams(**d.pop("onr", {}))
        return cls(onr=onr, **d)


def score_vote(boxes: torch.Tensor, scores: torch.Tensor, ious: torch.Tensor, best: int, eps: float = 0.01,
               sigma: float = 0.0025) -> torch.Tensor:
    """Score voting (paper Eq. 4-5): Σ w·o·b / Σ w·o over boxes with IoU(b, b_d) > eps, w = s·exp(−(1−IoU)²/σ).

    boxes (K, 4) cx,cy,w,h; scores, ious (K,); best: index of the direct box b_d.
    """
    b_d = boxes[best]
    iou = box_iou(boxes, b_d, fmt="cxcywh", pairwise=False)
    sel = iou > eps
    w = scores.clamp(min=0) * torch.exp(-(1 - iou).pow(2) / sigma) * ious
    w = torch.where(sel, w, torch.zeros_like(w))
    total = w.sum()
    if not torch.isfinite(total) or total <= 0:
        return b_d
    return (w[:, None] * boxes).sum(0) / total


AUGMENTS = (  # first-frame ONR samples: (shift x, shift y [crop px], scale, flip, blur σ, rotation °)
    (0, 0, 1.0, False, 0.0, 0.0), (0, 0, 1.0, True, 0.0, 0.0),
    (32, 0, 1.0, False, 0.0, 0.0), (-32, 0, 1.0, False, 0.0, 0.0), (0, 32, 1.0, False, 0.0, 0.0),
    (0, -32, 1.0, False, 0.0, 0.0), (24, 24, 1.0, False, 0.0, 0.0),
    (0, 0, 1.0, False, 1.0, 0.0), (0, 0, 1.0, False, 2.0, 0.0),
    (0, 0, 1.0, False, 0.0, 10.0), (0, 0, 1.0, False, 0.0, -10.0),
    (0, 0, 0.9, False, 0.0, 0.0), (0, 0, 1.1, False, 0.0, 0.0),
)


class DMTrackTracker(Tracker):
    """DuML tracking: OFC (+ ONR when `params.use_onr`) fused, SiamRPN post-processing, score voting."""

    def __init__(self, net: _DMTrackNet, params: DMTrackParams | None = None, device: str | torch.device = "cpu"
                 ) -> None:
        self.net = net.eval().to(device)
        self.p = params or DMTrackParams()
        self.device = torch.device(device)
        self.name = net.kind + ("" if self.p.use_onr else "-ofc")
        self.anchors: torch.Tensor | None = None
        self.events: list[str] = []
        self.last: dict[str, Any] = {}  # the last frame's maps and crop geometry (diagnostics)

    def _t(self, crops: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(crops)).to(self.device)

    def _grid(self, r: int, f: int) -> None:
        """Anchors, cosine window and the ONR-map -> anchor-grid sampling positions for map sides r and f."""
        self.anchors = make_anchors(r, self.net.stride)
        h = np.hanning(r)
        self.window = torch.from_numpy(np.outer(h, h)).float()
        u = torch.arange(r, dtype=torch.float32) + (f - r) / 2  # feature-cell coordinate of anchor cell j
        g = u / (f - 1) * 2 - 1
        gy, gx = torch.meshgrid(g, g, indexing="ij")
        self.sample_grid = torch.stack([gx, gy], -1)[None]
        self.r, self.f = r, f

    def _onr_on_grid(self, s: torch.Tensor) -> torch.Tensor:
        return F.grid_sample(s[None, None], self.sample_grid, align_corners=True)[0, 0]

    @torch.no_grad()
    def initialize(self, frame: np.ndarray, box: tuple[float, float, float, float]) -> None:
        p = self.p
        x, y, w, h = (float(v) for v in box)
        self.frame_size = (frame.shape[1], frame.shape[0])
        self.cx, self.cy, self.w, self.h = x + (w - 1) / 2, y + (h - 1) / 2, w, h
        self.fill = mean_colour(frame)
        s_z = template_side(w, h, p.context)
        z = crop_square(frame, self.cx, self.cy, s_z, p.exemplar_size, self.fill)
        tz = self._t(z[None])  # the ONR feature only when the online branch runs (OFC alone needs the necks)
        zs, zf = self.net.embed_all(tz, template=True) if p.use_onr else (self.net.embed(tz, template=True), None)
        self.kernels = self.net.head.prepare(zs)
        self.events = []
        self.onr = None
        if not p.use_onr:
            return
        # ONR: augmented first-frame search crops, labels at the (transformed) target position
        s_x = s_z * p.instance_size / p.exemplar_size
        k = p.instance_size / s_x
        crops, centres, sizes = [], [], []
        for dx, dy, sc, flip, blur, rot in AUGMENTS:
            side = s_x * sc
            c = crop_square(frame, self.cx - dx / k * sc, self.cy - dy / k * sc, side, p.instance_size, self.fill)
            if rot:
                m = cv2.getRotationMatrix2D(((p.instance_size - 1) / 2,) * 2, rot, 1.0)
                c = cv2.warpAffine(c, m, (p.instance_size,) * 2, borderMode=cv2.BORDER_REPLICATE)
            if blur:
                c = cv2.GaussianBlur(c, (0, 0), blur)
            if flip:
                c = np.ascontiguousarray(c[:, ::-1])
            crops.append(c)
            centres.append((-dx if flip else dx, dy))
            sizes.append((w * k / sc, h * k / sc))
        feats = self.net.embed_all(self._t(np.stack(crops)))[1].float()
        f = feats.shape[-1]
        st = self.net.stride
        cells = [(cx / st + (f - 1) / 2, cy / st + (f - 1) / 2) for cx, cy in centres]
        wh = [(sw / st, sh / st) for sw, sh in sizes]
        self.onr = OnlineRegressor(p.onr)
        with torch.enable_grad():
            self.onr.initialize(zf[0].float().cpu(), feats.cpu(), cells, wh)

    @torch.no_grad()
    def track(self, frame: np.ndarray) -> tuple[tuple[float, float, float, float], float]:
        p = self.p
        s_z = template_side(self.w, self.h, p.context)
        scale_z = p.exemplar_size / s_z
        s_x = s_z * p.instance_size / p.exemplar_size
        cx0, cy0 = self.cx, self.cy
        crop = crop_square(frame, self.cx, self.cy, s_x, p.instance_size, self.fill)
        tx = self._t(crop[None])
        xs, onr_feat = self.net.embed_all(tx) if self.onr is not None else (self.net.embed(tx), None)
        cls, loc, iou = self.net.head(self.kernels, xs, prepared=True)
        cls, loc, iou = cls[0].float().cpu(), loc[0].float().cpu(), iou[0].float().cpu()
        r = cls.shape[-1]
        fused_feat = onr_feat[0].float().cpu() if onr_feat is not None else None
        f = fused_feat.shape[-1] if fused_feat is not None else r
        if self.anchors is None or self.r != r or self.f != f:
            self._grid(r, f)
        s_a = torch.sigmoid(cls)  # (A, R, R)
        if self.onr is not None:
            s_r_map = self.onr.response(fused_feat[None])[0]
            s_r = self._onr_on_grid(s_r_map)
            if p.onr_peak_norm:
                s_r = s_r / max(float(s_r_map.max()), 1e-3)
            score = p.mu * s_r[None] + (1 - p.mu) * s_a
        else:
            s_r_map = None
            score = s_a
        boxes = decode(self.anchors, loc.permute(0, 2, 3, 1))  # (A, R, R, 4), crop px relative to centre

        def change(v: torch.Tensor) -> torch.Tensor:
            return torch.maximum(v, 1.0 / v)

        def sz(w: torch.Tensor | float, h: torch.Tensor | float) -> torch.Tensor | float:
            pad = (w + h) * 0.5
            return ((w + pad) * (h + pad)) ** 0.5

        bw, bh = boxes[..., 2].clamp(min=1e-3), boxes[..., 3].clamp(min=1e-3)
        s_c = change(sz(bw, bh) / sz(self.w * scale_z, self.h * scale_z))
        r_c = change((self.w / self.h) / (bw / bh))
        penalty = torch.exp(-(r_c * s_c - 1) * p.penalty_k)
        pscore = penalty * score
        pscore = pscore * (1 - p.window_influence) + self.window[None] * p.window_influence
        best = int(torch.argmax(pscore))
        flat_boxes = boxes.reshape(-1, 4)
        if p.score_voting:
            b = score_vote(flat_boxes, pscore.flatten(), torch.sigmoid(iou).flatten(), best, p.vote_eps,
                           p.vote_sigma)
        else:
            b = flat_boxes[best]
        raw = float(score.flatten()[best])
        conf = float(s_a.flatten()[best]) if p.size_score == "ofc" else raw
        lr = float(penalty.flatten()[best]) * min(max(conf, 0.0), 1.0) * p.lr
        bx = b / scale_z
        self.cx += float(bx[0])
        self.cy += float(bx[1])
        self.w = self.w * (1 - lr) + float(bx[2]) * lr
        self.h = self.h * (1 - lr) + float(bx[3]) * lr
        W, H = self.frame_size
        self.cx, self.cy, self.w, self.h = clamp_box(self.cx, self.cy, self.w, self.h, W, H)
        if self.onr is not None:
            st = self.net.stride
            cell = (float(b[0]) / st + (f - 1) / 2, float(b[1]) / st + (f - 1) / 2)
            wh = (self.w * scale_z / st, self.h * scale_z / st)
            lost = raw < p.lost_threshold
            ratio = second_peak_ratio(s_r_map, math.sqrt(wh[0] * wh[1]))
            with torch.enable_grad():
                # with skip_uncertain, a peak above distractor_ratio is 'uncertain' and hard_negative_ratio flags
                # the distractor update; without it, distractor_ratio does
                hard = p.hard_negative_ratio if p.skip_uncertain else p.distractor_ratio
                self.events.append(self.onr.step(fused_feat, cell, wh, lost, ratio > hard,
                                                 uncertain=p.skip_uncertain and ratio > p.distractor_ratio))
        box = (self.cx - (self.w - 1) / 2, self.cy - (self.h - 1) / 2, self.w, self.h)
        self.last = {"centre": (cx0, cy0), "scale_z": scale_z, "s_a": s_a, "s_r_map": s_r_map, "raw": raw,
                     "event": self.events[-1] if self.onr is not None else None}
        return box, raw


def build_dmtrack_tracker(net: _DMTrackNet, params: DMTrackParams | dict | None = None, use_onr: bool = True,
                          device: str | torch.device = "cpu") -> DMTrackTracker:
    """A DMTrack tracker around a net (`use_onr=False`: OFC alone, the ablation)."""
    if isinstance(params, dict):
        params = DMTrackParams.from_dict(params)
    params = copy.deepcopy(params or DMTrackParams())
    params.use_onr = bool(use_onr)
    return DMTrackTracker(net, params, device=device)


# ------------------------------------------------------------------------------------------------ registry


def _registry_builder(kind: str, use_onr: bool):
    def build(device: torch.device, asset: Any) -> Tracker:
        from ..registry import load_weights

        card = asset.card if asset else {}
        arch = card.get("architecture", kind)
        net = build_dmtrack_net(arch, **card.get("config", {}))
        load_weights(net, asset)
        return build_dmtrack_tracker(net, card.get("tracker_params"), use_onr=use_onr, device=device)

    return build


def _register() -> None:
    from ...models import ModelInfo
    from ..registry import register

    hint_full = "Train it with `cvkit train track --model dmtrack --data got10k:DIR` (GPU advised)"
    for name in ("dmtrack", "duml"):
        register(ModelInfo(name, "DMTrack/DuML (Zhou et al.): ResNet-50 (blocks 2-4 interpolated to stride 8), "
                                 "OFC anchors + online regression, fusion, score voting; paper size, no weights ship",
                           needs_weights=True, train_hint=hint_full, lost_threshold=0.25),
                 _registry_builder("dmtrack", True))
    register(ModelInfo("dmtrack-lite", "DMTrack's OFC anchor head + online Gauss-Newton regression + score voting on "
                                       "the frozen EfficientNet-Lite0 trunk", needs_weights=True,
                       train_hint="Train it with `cvkit train track --model dmtrack-lite --data synthetic`",
                       lost_threshold=0.25), _registry_builder("dmtrack-lite", True))
    register(ModelInfo("dmtrack-lite-ofc", "ablation: dmtrack-lite's weights with OFC alone (no online branch)",
                       needs_weights=True, asset="dmtrack-lite", metric_suffix="_ofc_alone",
                       lost_threshold=0.25,
                       train_hint="Train dmtrack-lite with `cvkit train track --model dmtrack-lite --data synthetic`"),
             _registry_builder("dmtrack-lite", False))


def tracker_params_dict(params: DMTrackParams | None = None) -> dict:
    """JSON-serialisable tracker parameters (what a card's `tracker_params` holds)."""
    return asdict(params or DMTrackParams())


_register()
