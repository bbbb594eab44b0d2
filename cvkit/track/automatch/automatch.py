"""AutoMatch trackers: the paper model `automatch` and the CPU variant `automatch-lite`, with Ocean inference.

Zhang et al., "Learn to Match" (ICCV 2021): a Siamese tracker whose matching is a learned combination of
operators (searched by binary channel manipulation, see `automatch_ops`), an anchor-free ltrb box head and a
two-stage (dense, then per-box RoI) classifier, run with Ocean/SiamRPN post-processing (scale/ratio change
penalty, Hann window, size smoothing) and an optional "zoom" refinement that re-scores jittered versions of
the chosen box with the stage-2 classifier. `automatch` is the paper size: dilated ResNet-50 to layer3
(conv3 = layer2 512 ch, conv4 = layer3 1024 ch, stride 8), 1x1 neck to 256, 15x15 template / 31x31 search
maps, raw 0-255 BGR input as SOTS feeds it; module names follow SOTS (`backbone`, `neck.downsample(_s3)`,
`head.regression.*`, `head.classification.*`) so official checkpoints load with `--model PATH`; no weights
ship. `automatch-lite` keeps the mechanism on the frozen EfficientNet-Lite0 stride-16 ImageNet trunk (112 ch,
its own normalisation): two 1x1 necks 112->64 stand in for the conv3/conv4 levels (one trunk level only),
8x8 template / 16x16 search maps, LTM with the searched operators at 64 channels (Pairwise-Relation on 64
template cells, 2-head transformer), 2-layer box tower, ltrb bias initialised at log(32) (a typical half
size at stride 16; SOTS: 1.0) and the stage-1 and stage-2 classifiers (256 RoIs per frame are cheap at 32
channels). The trunk is kept out of the lite net's state dict (it comes from its PyPI package).
Inference defaults (our choice, spec 2.2): the paper's LaSOT row (penalty_k 0.049, lr 1.0, window 0.38).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ...models import ModelInfo
from ...nn.resnet import Bottleneck
from ..base import Tracker
from ..crops import clamp_box, crop_square, mean_colour, template_side
from .automatch_ops import SEARCHED_CLS, SEARCHED_REG, AutoMatchHead

# ------------------------------------------------------------------------------------------------------
# paper-size backbone (SOTS ResNet50Dilated: conv1 without padding, 3x3 downsample convs, layer3 dilated)


def sots_bottleneck(inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None,
                    dilation: int = 1) -> Bottleneck:
    """The shared ResNet bottleneck with the pysot/SOTS padding and dilation rules."""
    padding = 2 - stride
    if downsample is not None and dilation > 1:
        dilation = dilation // 2
        padding = dilation
    if dilation > 1:
        padding = dilation
    return Bottleneck(inplanes, planes, stride, padding=padding, dilation=dilation, downsample=downsample)


class ResNet50Dilated(nn.Module):
    """ResNet-50 to layer3 at stride 8 (layer3 dilated 2); returns (layer2 = conv3, layer3 = conv4)."""

    def __init__(self) -> None:
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=0, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = self._make_layer(64, 3)
        self.layer2 = self._make_layer(128, 4, stride=2)
        self.layer3 = self._make_layer(256, 6, dilation=2)

    def _make_layer(self, planes: int, blocks: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
        down = None
        out = planes * 4
        if stride != 1 or self.inplanes != out:
            if stride == 1 and dilation == 1:
                down = nn.Sequential(nn.Conv2d(self.inplanes, out, 1, stride=stride, bias=False), nn.BatchNorm2d(out))
            else:
                dd, pad = (dilation // 2, dilation // 2) if dilation > 1 else (1, 0)
                down = nn.Sequential(nn.Conv2d(self.inplanes, out, 3, stride=stride, padding=pad, dilation=dd,
                                               bias=False), nn.BatchNorm2d(out))
        layers = [sots_bottleneck(self.inplanes, planes, stride, down, dilation)]
        self.inplanes = out
        layers += [sots_bottleneck(out, planes, dilation=dilation) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        p2 = self.layer2(self.layer1(x))
        return p2, self.layer3(p2)


class ShrinkChannelS3S4(nn.Module):
    """1x1 conv + BN + ReLU per level: conv4 in -> out, conv3 in/2 -> out (SOTS neck)."""

    def __init__(self, in_channels: int, out_channels: int, in_channels_s3: int | None = None) -> None:
        super().__init__()
        c3 = in_channels // 2 if in_channels_s3 is None else in_channels_s3
        self.downsample = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, bias=False),
                                        nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))
        self.downsample_s3 = nn.Sequential(nn.Conv2d(c3, out_channels, 1, bias=False),
                                           nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))

    def forward(self, xs4: torch.Tensor, xs3: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.downsample(xs4), self.downsample_s3(xs3)


def template_mask(boxes: torch.Tensor, size: int = 127) -> torch.Tensor:
    """Pseudo mask (B, size, size) of the template crop: 1 inside each x1,y1,x2,y2 box, 0 outside."""
    c = torch.arange(size, dtype=torch.float32, device=boxes.device)
    inx = (c[None, :] >= boxes[:, 0:1]) & (c[None, :] <= boxes[:, 2:3])
    iny = (c[None, :] >= boxes[:, 1:2]) & (c[None, :] <= boxes[:, 3:4])
    return (iny[:, :, None] & inx[:, None, :]).float()


class _AutoMatchBase(nn.Module):
    """What the tracker and the training loop use: `features`, `head`, `stride`, `config`."""

    kind = ""
    stride = 8.0
    template_size, search_size = 127, 255
    head: AutoMatchHead

    def features(self, crops: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # pragma: no cover
        """uint8 BGR crops (N, H, W, 3) -> (conv4-level, conv3-level) maps (N, C, h, w)."""
        raise NotImplementedError

    def forward_features(self, zf: tuple[torch.Tensor, torch.Tensor], xf: tuple[torch.Tensor, torch.Tensor],
                         zbox: torch.Tensor) -> dict[str, torch.Tensor]:
        """Head outputs for template/search features and template boxes (x1,y1,x2,y2 in template px)."""
        mask = template_mask(zbox, self.template_size)
        return self.head(xf[0], xf[1], zf[0], zf[1], mask, zbox)

    def forward(self, z_crops: torch.Tensor, x_crops: torch.Tensor, zbox: torch.Tensor) -> dict[str, torch.Tensor]:
        """Paired uint8 crops and template boxes -> head outputs (ltrb, boxes, stage-1 logits, features)."""
        return self.forward_features(self.features(z_crops), self.features(x_crops), zbox)

    def config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this architecture (JSON-serialisable)."""
        return copy.deepcopy(self._config)


class AutoMatchNet(_AutoMatchBase):
    """Paper-size AutoMatch (SOTS key names): dilated ResNet-50, ShrinkChannelS3S4 256, Learn2Match head."""

    kind = "automatch"
    stride = 8.0

    def __init__(self, channels: int = 256, reg_used: tuple[int, ...] = SEARCHED_REG,
                 cls_used: tuple[int, ...] = SEARCHED_CLS, bcm: bool = False) -> None:
        super().__init__()
        self.backbone = ResNet50Dilated()
        self.neck = ShrinkChannelS3S4(1024, channels)
        self.head = AutoMatchHead(channels, 8.0, 3, 15 * 15, 64, 4, 3, tuple(reg_used), tuple(cls_used), 1.0,
                                  reg_encode=True, bcm=bcm)
        self._config = {"channels": channels, "reg_used": list(reg_used), "cls_used": list(cls_used)}

    def features(self, crops: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Raw 0-255 BGR pixels, as SOTS feeds them (no normalisation)."""
        x = crops.permute(0, 3, 1, 2).float()
        c3, c4 = self.backbone(x)
        return self.neck(c4, c3)


class AutoMatchLiteNet(_AutoMatchBase):
    """`automatch-lite`: frozen EfficientNet-Lite0 stride-16 trunk, two 1x1 necks to 64, AutoMatch head."""

    kind = "automatch-lite"
    stride = 16.0

    def __init__(self, pretrained: bool = True, channels: int = 64, towernum: int = 2, heads: int = 2,
                 reg_used: tuple[int, ...] = SEARCHED_REG, cls_used: tuple[int, ...] = SEARCHED_CLS,
                 bias_init: float = float(np.log(32.0)), bcm: bool = False) -> None:
        super().__init__()
        from ...nn.efficientnet_lite import trunk_channels
        from ..trunk import TRUNK_BLOCKS, FrozenTrunk, keep_trunk_out_of_state

        self.trunk = FrozenTrunk(TRUNK_BLOCKS, pretrained)
        cin = trunk_channels(TRUNK_BLOCKS)
        self.neck = ShrinkChannelS3S4(cin, channels, cin)
        self.head = AutoMatchHead(channels, 16.0, 3, 8 * 8, channels, heads, towernum, tuple(reg_used),
                                  tuple(cls_used), bias_init, reg_encode=False, bcm=bcm)
        self._config = {"channels": channels, "towernum": towernum, "heads": heads, "reg_used": list(reg_used),
                        "cls_used": list(cls_used), "bias_init": bias_init}
        keep_trunk_out_of_state(self)

    def features_from_trunk(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Trunk output (N, 112, h, w) -> the two neck maps; lets training cache the frozen trunk."""
        return self.neck(t, t)

    def features(self, crops: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 BGR crops -> neck maps (the trunk applies its own ImageNet normalisation)."""
        with torch.no_grad():
            t = self.trunk(crops)
        return self.features_from_trunk(t)



# ------------------------------------------------------------------------------------------------------
# tracker


@dataclass
class AutoMatchParams:
    """Ocean post-processing of AutoMatch (spec 2.0/2.2); defaults = the paper's LaSOT row."""

    exemplar_size: int = 127
    instance_size: int = 255
    context: float = 0.5
    penalty_k: float = 0.049
    lr: float = 1.0
    window_influence: float = 0.38
    stage2: bool = True  # final score 0.5 sigmoid(s1) + 0.5 sigmoid(s2) (False: sigmoid(s1) only)
    zoom: bool = True  # re-score jittered versions of the chosen box with stage 2, average the best 50/50
    zoom_steps: tuple[float, ...] = (4.0, 8.0, 12.0, 16.0)
    zoom_scale: bool = False  # also try the box grown / shrunk on all sides
    double_lr: bool = True  # SOTS applies the size blend twice (effectively lr^2)
    # Long-term behaviour (our addition, VOT-LT style; thresholds chosen on synthetic absence clips, where the
    # peak score is <= 0.3 while the target is gone and >= 0.8 while it is tracked, never on real sequences):
    # a peak below `lost_score` holds the last confident box and marks the frame lost; while lost the search
    # crop grows by `redetect_growth` per frame (same pixel scale, no cosine window) up to `redetect_max` x its
    # side, and a peak >= `found_score` re-acquires the target there.
    lost_score: float = 0.4
    found_score: float = 0.5
    redetect_growth: float = 1.5
    redetect_max: float = 3.0
    long_term: bool = True


def zoom_boxes(box: np.ndarray, steps: tuple[float, ...], scale: bool = False) -> np.ndarray:
    """The chosen x1,y1,x2,y2 box and its jitters: single sides, corners and whole-box moves by +-step px.

    For each step d and sign: the 4 sides moved alone, the 4 corners moved (both coordinates), and the whole
    box shifted along x, y and the two diagonals: 24 per step, 96 for 4 steps (SOTS uses 96 too).
    `scale` adds the box grown and shrunk by d on every side (2 more per step).
    """
    out = [box.copy()]
    corners = [(0, 1), (0, 3), (2, 1), (2, 3)]
    for d in steps:
        for s in (-d, d):
            for i in range(4):
                b = box.copy()
                b[i] += s
                out.append(b)
            for i, j in corners:
                b = box.copy()
                b[i] += s
                b[j] += s
                out.append(b)
            for dx, dy in ((s, 0.0), (0.0, s), (s, s), (s, -s)):
                out.append(box + np.array([dx, dy, dx, dy]))
        if scale:
            out.append(box + np.array([-d, -d, d, d]))
            out.append(box + np.array([d, d, -d, -d]))
    arr = np.stack(out)
    arr[:, 2] = np.maximum(arr[:, 2], arr[:, 0] + 1.0)
    arr[:, 3] = np.maximum(arr[:, 3], arr[:, 1] + 1.0)
    return arr


def _change(r: np.ndarray | float) -> np.ndarray:
    return np.maximum(r, 1.0 / r)


def _sz(w: np.ndarray | float, h: np.ndarray | float) -> np.ndarray:
    pad = (w + h) * 0.5
    return np.sqrt((w + pad) * (h + pad))


class AutoMatchTracker(Tracker):
    """AutoMatch inference: template RoI at init; per frame one search crop, head, Ocean post-processing."""

    def __init__(self, net: _AutoMatchBase, params: AutoMatchParams | None = None,
                 device: str | torch.device = "cpu") -> None:
        self.device = torch.device(device)
        self.net = net.eval().to(self.device)
        self.p = params or AutoMatchParams()
        self.name = net.kind
        self.reports_lost = self.p.long_term

    def _tensor(self, crops: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(crops)).to(self.device)

    @torch.inference_mode()
    def initialize(self, frame: np.ndarray, box: tuple[float, float, float, float]) -> None:
        x, y, w, h = (float(v) for v in box)
        self.frame_size = (frame.shape[1], frame.shape[0])
        self.cx, self.cy, self.w, self.h = x + (w - 1) / 2, y + (h - 1) / 2, w, h
        self.fill = mean_colour(frame)
        p = self.p
        s_z = template_side(w, h, p.context)
        scale_z = p.exemplar_size / s_z
        c = (p.exemplar_size - 1) / 2
        zbox = np.array([[c - w * scale_z / 2, c - h * scale_z / 2, c + w * scale_z / 2, c + h * scale_z / 2]])
        crop = crop_square(frame, self.cx, self.cy, s_z, p.exemplar_size, self.fill)
        self.zf = self.net.features(self._tensor(crop[None]))
        self.zbox = torch.as_tensor(zbox, dtype=torch.float32, device=self.device)
        self.window: np.ndarray | None = None
        self.lost = False
        self.grow = 1.0
        # never force the box above the target's own size: a 6 px target keeps a 6 px box (crops.clamp_box)
        self.min_side = min(10.0, 0.5 * min(w, h))

    def _search(self, frame: np.ndarray, s_x: float, size: int) -> dict[str, torch.Tensor]:
        """Head outputs on a `size` px search crop covering `s_x` frame px around the current centre."""
        crop = crop_square(frame, self.cx, self.cy, s_x, size, self.fill)
        head = self.net.head
        default = head.search_size
        head.search_size = size  # the grid is centred on the crop, whatever its size
        try:
            return self.net.forward_features(self.zf, self.net.features(self._tensor(crop[None])), self.zbox)
        finally:
            head.search_size = default

    @torch.inference_mode()
    def track(self, frame: np.ndarray) -> tuple[tuple[float, float, float, float], float]:
        p = self.p
        s_z = template_side(self.w, self.h, p.context)
        scale = p.exemplar_size / s_z  # crop px per frame px (the template's scale)
        size = p.instance_size
        if self.grow > 1.0:  # re-detection: a larger crop at the same scale, kept on the stride-16 grid
            stride = int(self.net.stride)
            size = p.instance_size + stride * int(round((self.grow - 1.0) * p.instance_size / stride))
        s_x = size / scale
        out = self._search(frame, s_x, size)
        boxes = out["boxes"][0].float().cpu().numpy()  # (4, r, r) x1,y1,x2,y2 in crop px
        r = boxes.shape[-1]
        score = torch.sigmoid(out["cls_score_s1"][0, 0]).float().cpu().numpy()
        if p.stage2:
            rois = torch.cat((torch.zeros(r * r, 1, device=self.device),
                              out["boxes"][0].reshape(4, -1).t()), dim=1)
            s2 = torch.sigmoid(self.net.head.score_boxes(out, rois)).reshape(r, r).float().cpu().numpy()
            score = 0.5 * score + 0.5 * s2
        pw, ph = boxes[2] - boxes[0], boxes[3] - boxes[1]
        tw, th = self.w * scale, self.h * scale
        s_c = _change(_sz(pw, ph) / _sz(tw, th))
        r_c = _change((tw / th) / np.maximum(pw / np.maximum(ph, 1e-6), 1e-6))
        penalty = np.exp(-(r_c * s_c - 1) * p.penalty_k)
        pscore = penalty * score
        if not self.lost:  # re-detection looks everywhere in its crop alike
            if self.window is None or self.window.shape != pscore.shape:
                self.window = np.outer(np.hanning(r), np.hanning(r))
            pscore = pscore * (1 - p.window_influence) + self.window * p.window_influence
        i, j = np.unravel_index(int(np.argmax(pscore)), pscore.shape)
        peak = float(score[i, j])
        if p.long_term and peak < (p.found_score if self.lost else p.lost_score):
            self.lost = True
            self.grow = min(self.grow * p.redetect_growth, p.redetect_max)
            return self._box(), peak
        self.lost, self.grow = False, 1.0
        chosen = boxes[:, i, j].astype(np.float64)
        if p.zoom and p.stage2:
            cand = zoom_boxes(chosen, tuple(p.zoom_steps), p.zoom_scale)
            rois = torch.cat((torch.zeros(len(cand), 1), torch.as_tensor(cand, dtype=torch.float32)), dim=1)
            zs = self.net.head.score_boxes(out, rois.to(self.device)).float().cpu().numpy()
            chosen = 0.5 * chosen + 0.5 * cand[int(np.argmax(zs))]
        bx, by = (chosen[0] + chosen[2]) / 2, (chosen[1] + chosen[3]) / 2
        bw, bh = chosen[2] - chosen[0], chosen[3] - chosen[1]
        centre = (size - 1) / 2
        self.cx += (bx - centre) / scale
        self.cy += (by - centre) / scale
        lr = float(penalty[i, j] * score[i, j] * p.lr)
        if p.double_lr:
            lr = lr * lr
        self.w = self.w * (1 - lr) + lr * bw / scale
        self.h = self.h * (1 - lr) + lr * bh / scale
        W, H = self.frame_size
        self.cx, self.cy, self.w, self.h = clamp_box(self.cx, self.cy, self.w, self.h, W, H, self.min_side)
        return self._box(), peak

    def _box(self) -> tuple[float, float, float, float]:
        """The current state as x,y,w,h."""
        return (self.cx - (self.w - 1) / 2, self.cy - (self.h - 1) / 2, self.w, self.h)


# ------------------------------------------------------------------------------------------------------
# registry plug-in


def build_lite(pretrained: bool = True, **config: Any) -> AutoMatchLiteNet:
    """An automatch-lite net from its `config()` keys."""
    return AutoMatchLiteNet(pretrained=pretrained, **config)


def official_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A SOTS checkpoint's tensors under our names (drops a `module.` prefix and unused batch counters)."""
    out = {}
    for k, v in state.items():
        k = k.removeprefix("module.")
        out[k] = v
    return out


def _lite_builder(device: torch.device, asset: Any) -> Tracker:
    from ..registry import load_weights

    card = asset.card if asset else {}
    net = build_lite(True, **card.get("config", {}))
    load_weights(net, asset)
    params = AutoMatchParams(**card.get("tracker_params", {}))
    return AutoMatchTracker(net, params, device)


def _full_builder(device: torch.device, asset: Any) -> Tracker:
    from ...assets import load_into

    config = dict(asset.card.get("config", {})) if asset else {}
    net = AutoMatchNet(**config)
    load_into(net, official_state_dict(asset.state_dict()), asset.weights)
    params = AutoMatchParams(**(asset.card.get("tracker_params", {}) if asset else {}))
    return AutoMatchTracker(net, params, device)


def _is_sots_automatch(keys: set[str]) -> bool:
    ks = {k.removeprefix("module.") for k in keys}
    return "head.regression.LTM.merge2" in ks and any(k.startswith("backbone.layer3.") for k in ks)


def _register() -> None:
    from ..registry import KEY_PROBES, register

    register(ModelInfo("automatch", "AutoMatch (Zhang et al., ICCV 2021): dilated ResNet-50, learned matching "
                       "(FiLM+PairRel / Transformer+FiLM), ltrb head, two-stage RoI classifier; paper size; loads "
                       "official SOTS checkpoints", needs_weights=True,
                       train_hint="Train it with `cvkit train track --model automatch --data got10k:DIR` "
                       "(GPU advised)", lost_threshold=0.2), _full_builder)
    register(ModelInfo("automatch-lite", "AutoMatch's learned matching (LTM, ltrb head, two-stage classifier) on "
                       "the frozen EfficientNet-Lite0 stride-16 trunk; long-term: flags lost frames and "
                       "re-detects (the default)", needs_weights=True,
                       train_hint="Train it with `cvkit train track --model automatch-lite --data synthetic`",
                       lost_threshold=0.2), _lite_builder)
    KEY_PROBES["automatch"] = _is_sots_automatch


_register()
