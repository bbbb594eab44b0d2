"""Faster R-CNN (Ren et al. 2015) in plain torch: backbone -> RPN (anchors, objectness, box coder, NMS) ->
RoIAlign 7x7 -> two-FC box head -> K+1-way classifier and class-specific regressor; the base detector of MCAR.

Shared ops (IoU, NMS, box coder, anchors, RoIAlign) come from `cvkit.nn.detection`. Images are lists of RGB
tensors in [0, 1] of any size; each is resized so its shorter side is `min_size` (longer side at most `max_size`),
and boxes come back in the input's pixel coordinates.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ..nn.detection import anchors_for, box_iou, decode_boxes, encode_boxes, nms
from ..nn.roi_align import roi_align
from .backbones import build_backbone

RPN_STD = (1.0, 1.0, 1.0, 1.0)
HEAD_STD = (0.1, 0.1, 0.2, 0.2)


@dataclass
class DetectorConfig:
    """Every size and threshold of the detector (defaults: the paper's SW-DA Faster R-CNN setting)."""

    class_names: tuple[str, ...] = ("car", "person", "sign", "truck")
    backbone: str = "efflite0"
    backbone_upto: int = 7
    min_size: int = 600
    max_size: int = 1000
    anchor_sizes: tuple[float, ...] = (128.0, 256.0, 512.0)
    anchor_ratios: tuple[float, ...] = (0.5, 1.0, 2.0)
    rpn_channels: int = 512
    rpn_batch: int = 256
    rpn_pre_nms: int = 2000
    rpn_post_nms_train: int = 300
    rpn_post_nms_test: int = 300
    rpn_nms: float = 0.7
    roi_batch: int = 128
    roi_fg_fraction: float = 0.25
    roi_size: int = 7
    head_dim: int = 1024
    box_nms: float = 0.3
    score_thr: float = 0.05
    max_detections: int = 100
    extra: dict = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        """K, the object classes (the classifier has K + 1 outputs, 0 = background)."""
        return len(self.class_names)

    def to_dict(self) -> dict:
        """JSON-ready config (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> DetectorConfig:
        """Inverse of `to_dict` (unknown keys ignored)."""
        known = cls.__dataclass_fields__
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items() if k in known})


class FasterRCNN(nn.Module):
    """Two-stage detector; `forward_train` returns losses (and what MCAR needs), `detect` returns detections."""

    def __init__(self, cfg: DetectorConfig, pretrained: bool = True) -> None:
        super().__init__()
        self.cfg = cfg
        kw = {"upto": cfg.backbone_upto} if cfg.backbone == "efflite0" else {}
        self.backbone = build_backbone(cfg.backbone, pretrained=pretrained, **kw)
        c, a = self.backbone.channels, len(cfg.anchor_sizes) * len(cfg.anchor_ratios)
        self.rpn_conv = nn.Conv2d(c, cfg.rpn_channels, 3, padding=1)
        self.rpn_cls = nn.Conv2d(cfg.rpn_channels, a, 1)
        self.rpn_reg = nn.Conv2d(cfg.rpn_channels, 4 * a, 1)
        k1 = cfg.num_classes + 1
        self.fc6 = nn.Linear(c * cfg.roi_size ** 2, cfg.head_dim)
        self.fc7 = nn.Linear(cfg.head_dim, cfg.head_dim)
        self.cls_score = nn.Linear(cfg.head_dim, k1)
        self.bbox_pred = nn.Linear(cfg.head_dim, 4 * k1)
        for m in (self.rpn_conv, self.rpn_cls, self.rpn_reg):
            nn.init.normal_(m.weight, std=0.01)
            nn.init.zeros_(m.bias)
        nn.init.normal_(self.cls_score.weight, std=0.01)
        nn.init.normal_(self.bbox_pred.weight, std=0.001)
        nn.init.zeros_(self.cls_score.bias)
        nn.init.zeros_(self.bbox_pred.bias)

    # ----- input ---------------------------------------------------------------------------------------------
    def prepare(self, images: list[torch.Tensor]) -> tuple[torch.Tensor, list[float], list[tuple[int, int]]]:
        """Resize each image (shorter side min_size, longer <= max_size), pad into one batch: (x, scales, sizes)."""
        cfg, s = self.cfg, self.backbone.stride
        out, scales, sizes = [], [], []
        for im in images:
            h, w = im.shape[-2:]
            scale = min(cfg.min_size / min(h, w), cfg.max_size / max(h, w))
            nh, nw = max(int(round(h * scale)), 1), max(int(round(w * scale)), 1)
            out.append(F.interpolate(im[None], (nh, nw), mode="bilinear", align_corners=False)[0]
                       if (nh, nw) != (h, w) else im)
            scales.append(scale)
            sizes.append((nh, nw))
        H = -(-max(h for h, _ in sizes) // s) * s
        W = -(-max(w for _, w in sizes) // s) * s
        x = images[0].new_zeros(len(images), 3, H, W)
        for i, im in enumerate(out):
            x[i, :, : im.shape[1], : im.shape[2]] = im
        return x, scales, sizes

    def anchors(self, fh: int, fw: int, device) -> torch.Tensor:
        """All anchors of an fh x fw map, ordered (y, x, size, ratio) like the RPN outputs."""
        cfg = self.cfg
        per = [anchors_for((fh, fw), self.backbone.stride, s, cfg.anchor_ratios, device=device)
               .view(fh, fw, len(cfg.anchor_ratios), 4) for s in cfg.anchor_sizes]
        return torch.stack(per, 2).reshape(-1, 4)

    # ----- RPN -----------------------------------------------------------------------------------------------
    def rpn(self, feat: torch.Tensor, sizes, gt_boxes: list[torch.Tensor] | None = None):
        """Proposals per image (detached) and, with ground truth, the RPN losses (objectness BCE, smooth-L1)."""
        cfg = self.cfg
        n, _, fh, fw = feat.shape
        t = F.relu(self.rpn_conv(feat))
        logits = self.rpn_cls(t).permute(0, 2, 3, 1).reshape(n, -1)
        deltas = self.rpn_reg(t).view(n, -1, 4, fh, fw).permute(0, 3, 4, 1, 2).reshape(n, -1, 4)
        anchors = self.anchors(fh, fw, feat.device)
        post = cfg.rpn_post_nms_train if self.training else cfg.rpn_post_nms_test
        proposals = []
        with torch.no_grad():
            for i in range(n):
                k = min(cfg.rpn_pre_nms, logits.shape[1])
                sc, idx = logits[i].topk(k)
                boxes = decode_boxes(anchors[idx], deltas[i, idx].detach(), RPN_STD)
                h, w = sizes[i]
                boxes[:, 0::2] = boxes[:, 0::2].clamp(0, w)
                boxes[:, 1::2] = boxes[:, 1::2].clamp(0, h)
                ok = ((boxes[:, 2] - boxes[:, 0]) > 1) & ((boxes[:, 3] - boxes[:, 1]) > 1)
                boxes, sc = boxes[ok], sc[ok]
                keep = nms(boxes, sc, cfg.rpn_nms)[:post]
                proposals.append(boxes[keep])
        if gt_boxes is None:
            return proposals, {}
        cls_losses, reg_losses = [], []
        for i in range(n):
            labels, matched = self._match_anchors(anchors, gt_boxes[i])
            pos = torch.nonzero(labels == 1).flatten()
            neg = torch.nonzero(labels == 0).flatten()
            npos = min(len(pos), cfg.rpn_batch // 2)
            pos = pos[torch.randperm(len(pos), device=pos.device)[:npos]]
            neg = neg[torch.randperm(len(neg), device=neg.device)[: cfg.rpn_batch - npos]]
            sel = torch.cat([pos, neg])
            target = torch.cat([torch.ones(len(pos)), torch.zeros(len(neg))]).to(logits)
            cls_losses.append(F.binary_cross_entropy_with_logits(logits[i, sel], target))
            if len(pos):
                tgt = encode_boxes(anchors[pos], gt_boxes[i][matched[pos]], RPN_STD)
                reg_losses.append(F.smooth_l1_loss(deltas[i, pos], tgt, beta=1 / 9, reduction="sum")
                                  / max(len(sel), 1))
            else:
                reg_losses.append(deltas.sum() * 0)
        return proposals, {"rpn_cls": torch.stack(cls_losses).mean(), "rpn_reg": torch.stack(reg_losses).mean()}

    @staticmethod
    def _match_anchors(anchors: torch.Tensor, gt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Anchor labels (1 fg: IoU >= 0.7 or a gt's best; 0 bg: < 0.3; -1 ignored) and matched gt index."""
        labels = torch.full((len(anchors),), -1, dtype=torch.long, device=anchors.device)
        if len(gt) == 0:
            labels[:] = 0
            return labels, torch.zeros_like(labels)
        iou = box_iou(anchors, gt)
        best, matched = iou.max(1)
        labels[best < 0.3] = 0
        labels[best >= 0.7] = 1
        gt_best = iou.max(0).values
        extra = ((iou == gt_best[None]) & (gt_best[None] > 0)).any(1)
        labels[extra] = 1
        return labels, matched

    # ----- RoI head ------------------------------------------------------------------------------------------
    def head(self, feat: torch.Tensor, rois: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Class logits (R x K+1) and box deltas (R x 4(K+1)) of the RoIs of every image (concatenated)."""
        idx = torch.cat([torch.full((len(r), 1), float(i), device=feat.device) for i, r in enumerate(rois)])
        pooled = roi_align(feat, torch.cat([idx, torch.cat(rois)], 1), self.cfg.roi_size,
                           1.0 / self.backbone.stride, 2, aligned=True)
        h = F.relu(self.fc7(F.relu(self.fc6(pooled.flatten(1)))))
        return self.cls_score(h), self.bbox_pred(h)

    def sample_rois(self, proposals: torch.Tensor, gt: torch.Tensor, labels: torch.Tensor):
        """Training RoIs (proposals + gts): fg IoU >= 0.5 (at most roi_fg_fraction), bg otherwise; their class
        targets (0 = background) and regression targets."""
        cfg = self.cfg
        boxes = torch.cat([proposals, gt])
        if len(gt) == 0:
            sel = torch.randperm(len(boxes), device=boxes.device)[: cfg.roi_batch]
            return boxes[sel], torch.zeros(len(sel), dtype=torch.long, device=boxes.device), torch.zeros(len(sel), 4)
        best, matched = box_iou(boxes, gt).max(1)
        fg = torch.nonzero(best >= 0.5).flatten()
        bg = torch.nonzero(best < 0.5).flatten()
        nfg = min(len(fg), int(cfg.roi_batch * cfg.roi_fg_fraction))
        fg = fg[torch.randperm(len(fg), device=fg.device)[:nfg]]
        bg = bg[torch.randperm(len(bg), device=bg.device)[: cfg.roi_batch - nfg]]
        sel = torch.cat([fg, bg])
        cls = torch.cat([labels[matched[fg]] + 1, torch.zeros(len(bg), dtype=torch.long, device=fg.device)])
        reg = encode_boxes(boxes[sel], gt[matched[sel]], HEAD_STD)
        return boxes[sel], cls, reg

    def forward_train(self, feat: torch.Tensor, sizes, gt_boxes: list[torch.Tensor], gt_labels: list[torch.Tensor]):
        """Detection losses on a labelled batch (boxes in network-input pixels) and the class posteriors of the
        sampled RoIs per image (K object classes, for the consistency regulariser)."""
        proposals, losses = self.rpn(feat, sizes, gt_boxes)
        rois, cls_t, reg_t = [], [], []
        for p, g, lab in zip(proposals, gt_boxes, gt_labels, strict=True):
            r, c, t = self.sample_rois(p, g, lab)
            rois.append(r)
            cls_t.append(c)
            reg_t.append(t.to(feat))
        logits, deltas = self.head(feat, rois)
        cls_t_all, reg_t_all = torch.cat(cls_t), torch.cat(reg_t)
        losses["roi_cls"] = F.cross_entropy(logits, cls_t_all)
        fg = torch.nonzero(cls_t_all > 0).flatten()
        d = deltas.view(len(deltas), -1, 4)[fg, cls_t_all[fg]]
        losses["roi_reg"] = F.smooth_l1_loss(d, reg_t_all[fg], beta=1.0, reduction="sum") / max(len(cls_t_all), 1)
        probs = logits.softmax(1)[:, 1:]
        per_image = list(probs.split([len(r) for r in rois]))
        return losses, per_image

    def class_evidence(self, feat: torch.Tensor, sizes, top: int) -> torch.Tensor:
        """q: per image, the max over its top RPN proposals of each object class's posterior (N x K)."""
        was = self.training
        self.eval()  # eval-mode RPN settings for the proposals; gradients still flow through the head
        proposals, _ = self.rpn(feat, sizes)
        self.train(was)
        proposals = [p[:top] if len(p) else p.new_tensor([[0, 0, sizes[i][1], sizes[i][0]]])
                     for i, p in enumerate(proposals)]
        logits, _ = self.head(feat, proposals)
        probs = logits.softmax(1)[:, 1:]
        return torch.stack([q.max(0).values for q in probs.split([len(p) for p in proposals])])

    # ----- inference -----------------------------------------------------------------------------------------
    @torch.no_grad()
    def detect(self, images: list[torch.Tensor], score_thr: float | None = None) -> list[dict]:
        """Detections per image: boxes (input pixels, x1 y1 x2 y2), labels (0..K-1), scores."""
        cfg = self.cfg
        thr = cfg.score_thr if score_thr is None else score_thr
        x, scales, sizes = self.prepare(images)
        feat = self.backbone(x)
        proposals, _ = self.rpn(feat, sizes)
        proposals = [p if len(p) else p.new_tensor([[0, 0, s[1], s[0]]]) for p, s in zip(proposals, sizes,
                                                                                         strict=True)]
        logits, deltas = self.head(feat, proposals)
        out = []
        for i, (probs, dl) in enumerate(zip(logits.softmax(1).split([len(p) for p in proposals]),
                                            deltas.split([len(p) for p in proposals]), strict=True)):
            p = proposals[i]
            k1 = probs.shape[1]
            boxes = decode_boxes(p.repeat_interleave(k1, 0), dl.reshape(-1, 4), HEAD_STD).view(-1, k1, 4)
            h, w = sizes[i]
            boxes[..., 0::2] = boxes[..., 0::2].clamp(0, w)
            boxes[..., 1::2] = boxes[..., 1::2].clamp(0, h)
            boxes, scores = boxes[:, 1:].reshape(-1, 4), probs[:, 1:].reshape(-1)
            labels = torch.arange(k1 - 1, device=boxes.device).repeat(len(p))
            ok = (scores > thr) & ((boxes[:, 2] - boxes[:, 0]) > 0.5) & ((boxes[:, 3] - boxes[:, 1]) > 0.5)
            boxes, scores, labels = boxes[ok], scores[ok], labels[ok]
            offset = labels[:, None].to(boxes) * (max(h, w) + 1.0)  # per-class NMS in one call
            keep = nms(boxes + offset, scores, cfg.box_nms)[: cfg.max_detections]
            out.append({"boxes": boxes[keep] / scales[i], "labels": labels[keep], "scores": scores[keep]})
        return out


def count_parameters(module: nn.Module) -> int:
    """Number of parameters."""
    return sum(p.numel() for p in module.parameters())
