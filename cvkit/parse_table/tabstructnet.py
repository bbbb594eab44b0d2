"""TabStruct-Net (Raja, Mondal, Jawahar, ECCV 2020): the paper's full model, in plain torch.

Top-down: Mask R-CNN cell detector on a ResNet backbone with
  - an FPN whose output convs are dilated 7-wide blocks (1x7 then 7x1, dilation 2; spec choice for the
    paper's "dilated conv blocks with 7-wide filters"),
  - an extra bottom-up path after the top-down one (PANet-style: N2 = P2, N_{i+1} = ReLU(conv3x3(P_{i+1} +
    conv3x3_s2(N_i))); spec choice for the paper's TD+BU pyramid),
  - an RPN whose 3x3 conv is replaced by a 2x2 conv with dilation 2,
  - anchors of sizes 8..128 (one per level, strides 4..64), ratios 0.5/1/2,
  - the alignment loss L_align = L1 + L2 + L3 + L4 on the refined boxes of positive RoIs grouped by the
    start/end row/column of their matched GT cell (coordinates / image size, mean over pairs; weight 10).
Bottom-up: for every cell, P2 (= N2) features sampled along its centre horizontal and vertical lines, an LSTM
(hidden 128) per direction whose final memory states are concatenated with the box coordinates; two parallel
pathways (row, column) of DGCNN (EdgeConv, k nearest neighbours) + dense 64 + ReLU; a pair classifier on
concat(f_i, f_j, box_i - box_j) -> 64 -> 64 -> 1; binary cross-entropy with Monte-Carlo pair sampling.
Loss: L = L_rpn + L_box + L_cls + L_mask + 10 L_align + L_row + L_col.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..nn.detection import anchors_for, box_iou, decode_boxes, encode_boxes, nms, roi_align, smooth_l1
from ..nn.edgeconv import EdgeConv
from .table import Table

LEVELS = (2, 3, 4, 5, 6)
STRIDES = (4, 8, 16, 32, 64)
RESNET_LAYERS = {"resnet18": ("basic", (2, 2, 2, 2)), "resnet50": ("bottleneck", (3, 4, 6, 3)),
                 "resnet101": ("bottleneck", (3, 4, 23, 3)), "tiny": ("basic", (1, 1, 1, 1))}


# ------------------------------------------------------------------------------------------- backbone


class _Basic(nn.Module):
    expansion = 1

    def __init__(self, cin: int, c: int, stride: int) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(cin, c, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(c)
        self.c2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(c)
        self.down = None if stride == 1 and cin == c else nn.Sequential(nn.Conv2d(cin, c, 1, stride, bias=False),
                                                                        nn.BatchNorm2d(c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.b2(self.c2(F.relu(self.b1(self.c1(x)))))
        return F.relu(y + (x if self.down is None else self.down(x)))


class _Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin: int, c: int, stride: int) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(cin, c, 1, bias=False)
        self.b1 = nn.BatchNorm2d(c)
        self.c2 = nn.Conv2d(c, c, 3, stride, 1, bias=False)
        self.b2 = nn.BatchNorm2d(c)
        self.c3 = nn.Conv2d(c, 4 * c, 1, bias=False)
        self.b3 = nn.BatchNorm2d(4 * c)
        self.down = None if stride == 1 and cin == 4 * c else nn.Sequential(
            nn.Conv2d(cin, 4 * c, 1, stride, bias=False), nn.BatchNorm2d(4 * c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.b1(self.c1(x)))
        y = F.relu(self.b2(self.c2(y)))
        y = self.b3(self.c3(y))
        return F.relu(y + (x if self.down is None else self.down(x)))


class ResNet(nn.Module):
    """ResNet C2..C5 feature extractor (strides 4, 8, 16, 32); `width` scales the channels (64 = standard)."""

    def __init__(self, depth: str = "resnet101", width: int = 64) -> None:
        super().__init__()
        kind, layers = RESNET_LAYERS[depth]
        block = _Basic if kind == "basic" else _Bottleneck
        self.stem = nn.Sequential(nn.Conv2d(3, width, 7, 2, 3, bias=False), nn.BatchNorm2d(width),
                                  nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        cin, self.stages, self.channels = width, nn.ModuleList(), []
        for i, n in enumerate(layers):
            c = width * 2**i
            blocks = []
            for k in range(n):
                blocks.append(block(cin, c, 2 if k == 0 and i > 0 else 1))
                cin = c * block.expansion
            self.stages.append(nn.Sequential(*blocks))
            self.channels.append(cin)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """[C2, C3, C4, C5]."""
        x = self.stem(x)
        out = []
        for s in self.stages:
            x = s(x)
            out.append(x)
        return out


# ------------------------------------------------------------------------------------- TD + BU pyramid


class Dilated7(nn.Module):
    """The FPN output block: 1x7 then 7x1 convolutions, dilation 2 (long row/column receptive field)."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.h = nn.Conv2d(c, c, (1, 7), padding=(0, 6), dilation=2)
        self.v = nn.Conv2d(c, c, (7, 1), padding=(6, 0), dilation=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.v(self.h(x))


class TDBUPyramid(nn.Module):
    """Top-down FPN (P2..P6) followed by a bottom-up augmentation path (N2..N6), all `c` channels."""

    def __init__(self, in_channels: list[int], c: int = 256) -> None:
        super().__init__()
        self.lateral = nn.ModuleList(nn.Conv2d(ci, c, 1) for ci in in_channels)
        self.out = nn.ModuleList(Dilated7(c) for _ in in_channels)
        self.down = nn.ModuleList(nn.Conv2d(c, c, 3, 2, 1) for _ in range(len(in_channels)))
        self.fuse = nn.ModuleList(nn.Conv2d(c, c, 3, 1, 1) for _ in range(len(in_channels)))

    def forward(self, feats: list[torch.Tensor]) -> list[torch.Tensor]:
        """[N2, N3, N4, N5, N6]."""
        lat = [lay(f) for lay, f in zip(self.lateral, feats, strict=False)]
        td = [lat[-1]]
        for x in reversed(lat[:-1]):
            td.insert(0, x + F.interpolate(td[0], size=x.shape[-2:], mode="nearest"))
        p = [o(x) for o, x in zip(self.out, td, strict=False)]
        p.append(F.max_pool2d(p[-1], 1, 2))  # P6
        n = [p[0]]
        for i in range(1, len(p)):
            d = self.down[i - 1](n[-1])
            d = F.interpolate(d, size=p[i].shape[-2:], mode="nearest") if d.shape[-2:] != p[i].shape[-2:] else d
            n.append(F.relu(self.fuse[i - 1](p[i] + d)))
        return n


class RPNHead(nn.Module):
    """Shared RPN head: 2x2 conv with dilation 2 (paper) -> objectness and box deltas per anchor."""

    def __init__(self, c: int = 256, n_anchors: int = 3, hidden: int = 512) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c, hidden, 2, padding=1, dilation=2)
        self.cls = nn.Conv2d(hidden, n_anchors, 1)
        self.reg = nn.Conv2d(hidden, 4 * n_anchors, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(H*W*A logits, H*W*A x 4 deltas) for one level of one image (batch 1)."""
        h = F.relu(self.conv(x))[..., : x.shape[-2], : x.shape[-1]]
        a = self.cls.out_channels
        logits = self.cls(h)[0].permute(1, 2, 0).reshape(-1)
        deltas = self.reg(h)[0].permute(1, 2, 0).reshape(-1, a, 4).reshape(-1, 4)
        return logits, deltas


# ------------------------------------------------------------------------------------ structure branch


def line_samples(boxes: torch.Tensor, n: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """K x n x 2 points along each box's centre horizontal line and centre vertical line."""
    t = torch.linspace(0, 1, n, device=boxes.device)
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    hx = boxes[:, :1] + (boxes[:, 2:3] - boxes[:, :1]) * t
    vy = boxes[:, 1:2] + (boxes[:, 3:4] - boxes[:, 1:2]) * t
    horiz = torch.stack([hx, cy[:, None].expand_as(hx)], -1)
    vert = torch.stack([cx[:, None].expand_as(vy), vy], -1)
    return horiz, vert


def sample_points(feature: torch.Tensor, pts: torch.Tensor, stride: float) -> torch.Tensor:
    """Bilinear samples of C x H x W `feature` at K x n x 2 image points -> K x n x C."""
    c, h, w = feature.shape
    g = torch.stack([(pts[..., 0] / stride) / w * 2 - 1, (pts[..., 1] / stride) / h * 2 - 1], -1)
    out = F.grid_sample(feature[None], g[None], mode="bilinear", align_corners=False)[0]  # C x K x n
    return out.permute(1, 2, 0)


class StructureBranch(nn.Module):
    """Visual (P2 + LSTM) -> two DGCNN pathways -> row / column pair classifiers."""

    def __init__(self, c: int = 256, hidden: int = 128, k: int = 40, width: int = 64, n_samples: int = 16) -> None:
        super().__init__()
        self.n_samples = n_samples
        self.lstm_h = nn.LSTM(c, hidden, batch_first=True)
        self.lstm_v = nn.LSTM(c, hidden, batch_first=True)
        d = 2 * hidden + 8
        self.paths = nn.ModuleDict()
        for r in ("row", "col"):
            self.paths[r] = nn.ModuleDict({
                "ec1": EdgeConv(d, width, k), "ec2": EdgeConv(width, width, k),
                "dense": nn.Sequential(nn.Linear(width, width), nn.ReLU(inplace=True)),
                "cls": nn.Sequential(nn.Linear(2 * width + 4, width), nn.ReLU(inplace=True), nn.Linear(width, width),
                                     nn.ReLU(inplace=True), nn.Linear(width, 1))})

    def vertex_features(self, p2: torch.Tensor, boxes: torch.Tensor, image_size: tuple[int, int]) -> torch.Tensor:
        """K x (2*hidden + 8): final LSTM memory along both centre lines + normalised box geometry."""
        hz, vt = line_samples(boxes, self.n_samples)
        _, (_, ch) = self.lstm_h(sample_points(p2, hz, STRIDES[0]))
        _, (_, cv) = self.lstm_v(sample_points(p2, vt, STRIDES[0]))
        h, w = image_size
        nb = boxes / boxes.new_tensor([w, h, w, h])
        geo = torch.cat([nb, (nb[:, :2] + nb[:, 2:]) / 2, nb[:, 2:] - nb[:, :2]], 1)
        return torch.cat([ch[0], cv[0], geo], 1)

    def forward(self, v: torch.Tensor, boxes_n: torch.Tensor, i: torch.Tensor, j: torch.Tensor) -> dict:
        """Logits of 'row' and 'col' adjacency for pairs (i, j); boxes_n = K x 4 normalised boxes."""
        out = {}
        for r, p in self.paths.items():
            x = p["ec1"](v)
            x = p["ec2"](x)
            f = p["dense"](x)
            out[r] = p["cls"](torch.cat([f[i], f[j], boxes_n[i] - boxes_n[j]], 1)).squeeze(-1)
        return out


# ------------------------------------------------------------------ Mask R-CNN pieces (shared: table_rcnn.py)


def imagenet_normalize(image: torch.Tensor) -> torch.Tensor:
    """N x 3 x H x W in [0, 1] -> ImageNet mean/std normalised."""
    mean = image.new_tensor([0.485, 0.456, 0.406])[None, :, None, None]
    std = image.new_tensor([0.229, 0.224, 0.225])[None, :, None, None]
    return (image - mean) / std


def mlp_box_head(c: int, hidden: int = 1024, size: int = 7) -> nn.Sequential:
    """The two-layer MLP box head on size x size RoI features."""
    return nn.Sequential(nn.Flatten(), nn.Linear(c * size * size, hidden), nn.ReLU(inplace=True),
                         nn.Linear(hidden, hidden), nn.ReLU(inplace=True))


def conv_mask_head(c: int, convs: int = 4) -> nn.Sequential:
    """Mask R-CNN's mask head: `convs` 3x3 convs, a 2x deconvolution, a 1x1 mask logit (14 -> 28)."""
    return nn.Sequential(*[m for _ in range(convs) for m in (nn.Conv2d(c, c, 3, 1, 1), nn.ReLU(inplace=True))],
                         nn.ConvTranspose2d(c, c, 2, 2), nn.ReLU(inplace=True), nn.Conv2d(c, 1, 1))


def propose(rpn: RPNHead, feats: list[torch.Tensor], anchors: list[torch.Tensor], image_hw: tuple[int, int],
            pre_nms: int = 6000, post_nms: int = 2500, nms_iou: float = 0.7):
    """RPN outputs over all levels (logits, deltas, anchors, concatenated) and the NMS proposals (clipped)."""
    logits, deltas = zip(*(rpn(f) for f in feats), strict=False)
    logits, deltas, anc = torch.cat(logits), torch.cat(deltas), torch.cat(anchors)
    with torch.no_grad():
        k = min(pre_nms, len(logits))
        top = logits.topk(k).indices
        boxes = decode_boxes(anc[top], deltas[top])
        h, w = image_hw
        boxes = torch.stack([boxes[:, 0].clamp(0, w), boxes[:, 1].clamp(0, h), boxes[:, 2].clamp(0, w),
                             boxes[:, 3].clamp(0, h)], 1)
        ok = ((boxes[:, 2] - boxes[:, 0]) > 1) & ((boxes[:, 3] - boxes[:, 1]) > 1)
        boxes, sc = boxes[ok], logits[top][ok]
        keep = nms(boxes, sc, nms_iou)[:post_nms]
    return logits, deltas, anc, boxes[keep]


def rpn_loss(logits: torch.Tensor, deltas: torch.Tensor, anchors: torch.Tensor, gt: torch.Tensor,
             rng: np.random.Generator, n: int = 768) -> dict[str, torch.Tensor]:
    """RPN losses: IoU >= 0.7 positive (and each GT's best anchor), < 0.3 negative; `n` anchors, at most half
    positive; an image without GT boxes has negatives only."""
    if len(gt):
        iou = box_iou(anchors, gt)
        best, arg = iou.max(1)
    else:
        best, arg = logits.new_zeros(len(logits)), torch.zeros(len(logits), dtype=torch.long, device=logits.device)
    lab = torch.full_like(best, -1)
    lab[best < 0.3] = 0
    lab[best >= 0.7] = 1
    if len(gt):
        lab[iou.argmax(0)] = 1
    pos, neg = torch.nonzero(lab == 1)[:, 0], torch.nonzero(lab == 0)[:, 0]
    pos = pos[torch.from_numpy(rng.permutation(len(pos))[: n // 2]).long().to(pos.device)]
    neg = neg[torch.from_numpy(rng.permutation(len(neg))[: n - len(pos)]).long().to(neg.device)]
    sel = torch.cat([pos, neg])
    out = {"rpn_class": F.binary_cross_entropy_with_logits(logits[sel], lab[sel].float())}
    out["rpn_bbox"] = smooth_l1(deltas[pos], encode_boxes(anchors[pos], gt[arg[pos]]), 1 / 9) if len(pos) \
        else deltas.sum() * 0.0
    return out


def sample_rois(proposals: torch.Tensor, gt: torch.Tensor, rng: np.random.Generator, n: int,
                pos_fraction: float = 0.6) -> tuple[torch.Tensor, int, torch.Tensor]:
    """RoIs for the heads: GT boxes added, IoU >= 0.5 positive (at most `pos_fraction` of `n`), the rest negative;
    (positives first then negatives, number of positives, GT index of each positive)."""
    rois = torch.cat([proposals, gt])
    if len(gt):
        best, arg = box_iou(rois, gt).max(1)
    else:
        best, arg = rois.new_zeros(len(rois)), torch.zeros(len(rois), dtype=torch.long, device=rois.device)
    pos, neg = torch.nonzero(best >= 0.5)[:, 0], torch.nonzero(best < 0.5)[:, 0]
    n_pos = min(len(pos), int(pos_fraction * n))
    pos = pos[torch.from_numpy(rng.permutation(len(pos))[:n_pos]).long().to(pos.device)]
    neg = neg[torch.from_numpy(rng.permutation(len(neg))[: n - n_pos]).long().to(neg.device)]
    return torch.cat([rois[pos], rois[neg]]), n_pos, arg[pos]


def pool_rois(feats: list[torch.Tensor], boxes: torch.Tensor, strides: tuple[int, ...], size: int = 7,
              n_levels: int = 4) -> torch.Tensor:
    """RoIAlign on the pyramid level k = floor(4 + log2(sqrt(wh) / 224)) (FPN paper), clamped to the first
    `n_levels` levels of `feats` (whose strides are `strides`)."""
    first = int(np.log2(strides[0]))
    wh = ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).clamp(min=1e-6).sqrt()
    lvl = torch.floor(4 + torch.log2(wh / 224)).clamp(first, first + n_levels - 1).long() - first
    out = feats[0].new_zeros(len(boxes), feats[0].shape[1], size, size)
    for li in range(n_levels):
        m = lvl == li
        if m.any():
            out[m] = roi_align(feats[li][0], boxes[m], size, 1.0 / strides[li])
    return out


def box_masks(rois: torch.Tensor, gt: torch.Tensor, size: int) -> torch.Tensor:
    """Mask targets of axis-aligned boxes: the GT box rasterised in each RoI's size x size grid."""
    t = (torch.arange(size, dtype=rois.dtype, device=rois.device) + 0.5) / size
    xs = rois[:, :1] + (rois[:, 2:3] - rois[:, :1]) * t
    ys = rois[:, 1:2] + (rois[:, 3:4] - rois[:, 1:2]) * t
    inx = (xs >= gt[:, :1]) & (xs <= gt[:, 2:3])
    iny = (ys >= gt[:, 1:2]) & (ys <= gt[:, 3:4])
    return (iny[:, :, None] & inx[:, None, :]).float()


# ---------------------------------------------------------------------------------------------- model


@dataclass
class Targets:
    """GT of one table image: cell boxes (pixels of the network input) and SR/ER/SC/EC per cell."""

    boxes: torch.Tensor
    sr: torch.Tensor
    er: torch.Tensor
    sc: torch.Tensor
    ec: torch.Tensor
    extra: dict = field(default_factory=dict)


def snap_targets(t: Targets) -> Targets:
    """Spec 2.1.4 GT pre-processing: cells sharing a start row share y1 (their min), end row y2 (max), etc."""
    b = t.boxes.clone()
    for idx, col, fn in ((t.sr, 1, torch.min), (t.er, 3, torch.max), (t.sc, 0, torch.min), (t.ec, 2, torch.max)):
        for v in idx.unique():
            m = idx == v
            b[m, col] = fn(b[m, col])
    return Targets(b, t.sr, t.er, t.sc, t.ec, t.extra)


def alignment_loss(boxes: torch.Tensor, groups: list[torch.Tensor], image_size: tuple[int, int]) -> torch.Tensor:
    """L_align = L1 + L2 + L3 + L4: mean squared differences of y1 within start rows, y2 within end rows,
    x1 within start columns, x2 within end columns (coordinates normalised by the image size)."""
    h, w = image_size
    nb = boxes / boxes.new_tensor([w, h, w, h])
    total = boxes.new_zeros(())
    for coord, idx in zip((1, 3, 0, 2), groups, strict=False):
        x = nb[:, coord]
        same = (idx[:, None] == idx[None]).float().triu(1)
        n = same.sum()
        if n > 0:
            total = total + (((x[:, None] - x[None]) ** 2) * same).sum() / n
    return total


class TabStructNet(nn.Module):
    """Cell detector (Mask R-CNN, TD+BU FPN, dilated RPN) + structure branch, trained jointly."""

    def __init__(self, backbone: str = "resnet101", backbone_width: int = 64, fpn_channels: int = 256,
                 graph_k: int = 40, image_size: int = 1536, roi_train: int = 512, rpn_post_nms_test: int = 2500,
                 max_detections: int = 1000, mask_head: bool = True) -> None:
        super().__init__()
        self.config = {"backbone": backbone, "backbone_width": backbone_width, "fpn_channels": fpn_channels,
                       "graph_k": graph_k, "image_size": image_size, "roi_train": roi_train,
                       "rpn_post_nms_test": rpn_post_nms_test, "max_detections": max_detections,
                       "mask_head": mask_head}
        c = fpn_channels
        self.body = ResNet(backbone, backbone_width)
        self.pyramid = TDBUPyramid(self.body.channels, c)
        self.ratios = (0.5, 1.0, 2.0)
        self.anchor_sizes = (8, 16, 32, 64, 128)
        self.rpn = RPNHead(c, len(self.ratios))
        self.box_head = mlp_box_head(c, 1024)
        self.cls = nn.Linear(1024, 2)
        self.reg = nn.Linear(1024, 8)
        self.mask = conv_mask_head(c) if mask_head else None
        self.structure = StructureBranch(c, 128, graph_k)
        self.image_size = image_size
        self.roi_train = roi_train
        self.post_nms_test = rpn_post_nms_test
        self.max_det = max_detections

    # -- shared pieces
    def features(self, image: torch.Tensor) -> list[torch.Tensor]:
        """Pyramid [N2..N6] of a 1 x 3 x H x W image (values in [0, 1])."""
        return self.pyramid(self.body(imagenet_normalize(image)))

    def anchors(self, feats: list[torch.Tensor]) -> list[torch.Tensor]:
        """Anchors per level (sizes 8..128 at strides 4..64, ratios 0.5/1/2, anchor stride 1)."""
        return [anchors_for(f.shape[-2:], s, a, self.ratios, 1, f.device)
                for f, s, a in zip(feats, STRIDES, self.anchor_sizes, strict=False)]

    def proposals(self, feats, anchors, image_hw, pre_nms: int = 6000, post_nms: int = 2500):
        """RPN outputs and NMS(0.7) proposals."""
        return propose(self.rpn, feats, anchors, image_hw, pre_nms, post_nms)

    def roi_features(self, feats: list[torch.Tensor], boxes: torch.Tensor, size: int = 7) -> torch.Tensor:
        """RoIAlign on the FPN level k = floor(4 + log2(sqrt(wh) / 224)) clamped to 2..5."""
        return pool_rois(feats, boxes, STRIDES, size)

    def heads(self, feats, boxes):
        """Class logits and class-specific box deltas of RoIs."""
        h = self.box_head(self.roi_features(feats, boxes))
        return self.cls(h), self.reg(h).view(-1, 2, 4)[:, 1]

    # -- training
    def loss(self, image: torch.Tensor, t: Targets, rng: np.random.Generator | None = None) -> dict[str, torch.Tensor]:
        """All loss terms for one image (batch 1, as in the paper)."""
        rng = rng or np.random.default_rng()
        t = snap_targets(t)
        hw = image.shape[-2:]
        feats = self.features(image)
        anchors = self.anchors(feats)
        logits, deltas, anc, props = self.proposals(feats, anchors, hw, 2048, self.roi_train * 2)
        # RPN targets: IoU >= 0.7 positive (and each GT's best anchor), < 0.3 negative; 768 anchors, half positive
        losses = rpn_loss(logits, deltas, anc, t.boxes, rng, 768)
        # RoI sampling: GT boxes added, IoU >= 0.5 positive; positive ratio 0.6
        rois, n_pos, gt_idx = sample_rois(props, t.boxes, rng, self.roi_train, 0.6)
        cls_logits, box_deltas = self.heads(feats, rois)
        labels = (torch.arange(len(rois), device=cls_logits.device) < n_pos).long()
        losses["class"] = F.cross_entropy(cls_logits, labels)
        losses["bbox"] = smooth_l1(box_deltas[:n_pos], encode_boxes(rois[:n_pos], t.boxes[gt_idx]))
        refined = decode_boxes(rois[:n_pos], box_deltas[:n_pos])
        if self.mask is not None and n_pos:
            m_logits = self.mask(self.roi_features(feats, rois[:n_pos], 14))[:, 0]
            m_target = box_masks(rois[:n_pos], t.boxes[gt_idx], m_logits.shape[-1])
            losses["mask"] = F.binary_cross_entropy_with_logits(m_logits, m_target)
        losses["alignment"] = 10.0 * alignment_loss(refined, [t.sr[gt_idx], t.er[gt_idx], t.sc[gt_idx], t.ec[gt_idx]],
                                                    hw)
        # structure: refined boxes of positives (IoU >= 0.5 with their GT cell) inherit its indices
        ok = box_iou(refined.detach(), t.boxes).gather(1, gt_idx[:, None])[:, 0] >= 0.5
        vb, g = refined.detach()[ok], gt_idx[ok]
        if len(vb) >= 2:
            v = self.structure.vertex_features(feats[0][0], vb, hw)
            h, w = hw
            nb = vb / vb.new_tensor([w, h, w, h])
            same_row = spans_overlap(t.sr[g], t.er[g])
            same_col = spans_overlap(t.sc[g], t.ec[g])
            for r, target in (("row", same_row), ("col", same_col)):
                i, j = monte_carlo_pairs(target.cpu().numpy(), rng)
                if len(i) == 0:
                    continue
                i, j = torch.from_numpy(i).to(v.device), torch.from_numpy(j).to(v.device)
                logit = self.structure(v, nb, i, j)[r]
                losses[f"{r}_adj"] = F.binary_cross_entropy_with_logits(logit, target[i, j].float())
        return losses

    # -- inference
    @torch.inference_mode()
    def detect(self, image: torch.Tensor, min_conf: float = 0.3, nms_iou: float = 0.25) -> dict:
        """Cells (boxes, scores) and N x N row/column adjacency probabilities of one image."""
        hw = image.shape[-2:]
        feats = self.features(image)
        _, _, _, props = self.proposals(feats, self.anchors(feats), hw, 6000, self.post_nms_test)
        logits, deltas = self.heads(feats, props)
        scores = logits.softmax(1)[:, 1]
        boxes = decode_boxes(props, deltas)
        keep = scores >= min_conf
        boxes, scores = boxes[keep], scores[keep]
        k = nms(boxes, scores, nms_iou)[: self.max_det]
        boxes, scores = boxes[k], scores[k]
        n = len(boxes)
        p_row = torch.eye(n, device=boxes.device)
        p_col = torch.eye(n, device=boxes.device)
        if n >= 2:
            v = self.structure.vertex_features(feats[0][0], boxes, hw)
            h, w = hw
            nb = boxes / boxes.new_tensor([w, h, w, h])
            i, j = torch.triu_indices(n, n, 1, device=boxes.device)
            out = self.structure(v, nb, i, j)
            for r, m in (("row", p_row), ("col", p_col)):
                p = torch.sigmoid(out[r])
                m[i, j] = p
                m[j, i] = p
        return {"boxes": boxes, "scores": scores, "row": p_row, "col": p_col}


def spans_overlap(start: torch.Tensor, end: torch.Tensor) -> torch.Tensor:
    """N x N: the [start, end] index intervals of i and j overlap (share a row / a column)."""
    return torch.maximum(start[:, None], start[None]) <= torch.minimum(end[:, None], end[None])


def monte_carlo_pairs(target: np.ndarray, rng: np.random.Generator,
                      per_vertex: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Per vertex up to `per_vertex` positive and as many negative partners (TIES-2.0 style balanced sampling)."""
    n = target.shape[0]
    ii, jj = [], []
    for a in range(n):
        row = target[a].copy()
        row[a] = False
        pos, neg = np.flatnonzero(row), np.flatnonzero(~row)
        neg = neg[neg != a]
        for cand in (pos, neg):
            if len(cand):
                pick = rng.choice(cand, min(per_vertex, len(cand)), replace=False)
                ii.extend([a] * len(pick))
                jj.extend(pick.tolist())
    return np.array(ii, dtype=np.int64), np.array(jj, dtype=np.int64)


def letterbox(img: np.ndarray, size: int) -> tuple[torch.Tensor, float]:
    """Resize keeping the aspect ratio so the longer side is `size`, pad to size x size; 1x3xSxS RGB in [0,1]."""
    import cv2

    h, w = img.shape[:2]
    s = size / max(h, w)
    r = cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    canvas = np.full((size, size, 3), 255, np.uint8)
    canvas[: r.shape[0], : r.shape[1]] = r if r.ndim == 3 else r[:, :, None]
    return torch.from_numpy(canvas[:, :, ::-1].copy()).permute(2, 0, 1)[None].float() / 255.0, s


class TabStructNetParser:
    """`--model tabstructnet`: detects cells in the table image, then adjacency -> indices; words give text."""

    name = "tabstructnet"
    needs_image = True

    def __init__(self, net: TabStructNet, threshold: float = 0.5, device: torch.device | str | None = None) -> None:
        self.device = torch.device(device or "cpu")
        self.net = net.to(self.device).eval()
        self.threshold = threshold

    def parse_image(self, img: np.ndarray, words: list) -> Table:
        """Table of a table-crop image; cell text = words whose centre falls in the cell."""
        from .postprocess import _cell_text, _indices, resolve_conflicts
        from .table import Cell, Table

        x, s = letterbox(img, self.net.image_size)
        out = {k: v.cpu() for k, v in self.net.detect(x.to(self.device)).items()}
        boxes = (out["boxes"] / s).numpy()
        n = len(boxes)
        if n == 0:
            return Table([])
        sr, er = _indices(out["row"].numpy() > self.threshold, (boxes[:, 1] + boxes[:, 3]) / 2)
        sc, ec = _indices(out["col"].numpy() > self.threshold, (boxes[:, 0] + boxes[:, 2]) / 2)
        cells = []
        for k in range(n):
            b = boxes[k]
            inside = [w for w in words if b[0] <= (w.x1 + w.x2) / 2 <= b[2] and b[1] <= (w.y1 + w.y2) / 2 <= b[3]]
            cells.append(Cell(int(sr[k]), int(er[k]), int(sc[k]), int(ec[k]), tuple(float(v) for v in b),
                              _cell_text(inside) if inside else "", float(out["scores"][k])))
        return resolve_conflicts(Table(cells))
