"""Detection building blocks in plain torch (no torchvision): box coding, IoU, NMS, RoIAlign, anchors."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .roi_align import roi_align as roi_align_batched

BOX_FORMATS = ("xyxy", "xywh", "cxcywh")


def to_xyxy(boxes, fmt: str = "xywh"):
    """Boxes (..., 4) in `fmt` (xyxy, xywh or cxcywh) as x1, y1, x2, y2; a torch tensor stays a tensor, anything
    else becomes a float64 numpy array."""
    if fmt not in BOX_FORMATS:
        raise ValueError(f"box format {fmt!r}: use one of {', '.join(BOX_FORMATS)}")
    b = boxes if isinstance(boxes, torch.Tensor) else np.asarray(boxes, dtype=np.float64)
    if b.shape[-1] != 4:
        raise ValueError(f"expected boxes with 4 values ({fmt}), got shape {tuple(b.shape)}")
    if fmt == "xyxy":
        return b
    stack = torch.stack if isinstance(b, torch.Tensor) else np.stack
    if fmt == "xywh":
        return stack([b[..., 0], b[..., 1], b[..., 0] + b[..., 2], b[..., 1] + b[..., 3]], -1)
    return stack([b[..., 0] - b[..., 2] / 2, b[..., 1] - b[..., 3] / 2,
                  b[..., 0] + b[..., 2] / 2, b[..., 1] + b[..., 3] / 2], -1)


def _xyxy_wh(boxes, fmt: str):
    """Boxes (..., 4) as (..., 6): x1, y1, x2, y2, w, h. xywh and cxcywh keep their own w, h (exact; x2 - x1 after the
    conversion can differ from w in the last bit, which moves IoU thresholds and the trackers that vote on IoU)."""
    xy = to_xyxy(boxes, fmt)
    if fmt == "xyxy":
        w, h = xy[..., 2] - xy[..., 0], xy[..., 3] - xy[..., 1]
    else:
        raw = boxes if isinstance(boxes, torch.Tensor) else np.asarray(boxes, dtype=np.float64)
        w, h = raw[..., 2], raw[..., 3]
    if isinstance(xy, torch.Tensor):
        return torch.cat([xy, w[..., None].to(xy.dtype), h[..., None].to(xy.dtype)], -1)
    return np.concatenate([xy, np.asarray(w)[..., None], np.asarray(h)[..., None]], -1)


def box_iou(a, b, *, fmt: str = "xyxy", pairwise: bool = True, plus_one: bool = False):
    """Intersection over union of boxes: the one implementation every task uses.

    `a`, `b`: torch tensors (the result is a tensor, differentiable) or arrays/sequences (the result is float64
    numpy). `pairwise`: N x 4 and M x 4 give N x M; otherwise the two broadcast element-wise over (..., 4).
    `fmt`: xyxy, xywh or cxcywh (areas from the boxes' own w, h). `plus_one`: the VOC devkit's inclusive pixel widths
    (x2 - x1 + 1). A box with a NaN, or a pair whose union is empty, has IoU 0."""
    a, b = _xyxy_wh(a, fmt), _xyxy_wh(b, fmt)
    is_torch = isinstance(a, torch.Tensor)
    if is_torch != isinstance(b, torch.Tensor):
        a, b = (a, torch.as_tensor(b, dtype=a.dtype, device=a.device)) if is_torch else (np.asarray(a), b.numpy())
    if pairwise:
        a, b = a.reshape(-1, 6)[:, None, :], b.reshape(-1, 6)[None, :, :]
    e = 1.0 if plus_one else 0.0
    if is_torch:
        def pos(x):
            return x.clamp(min=0)
        maximum, minimum, where, finite = torch.maximum, torch.minimum, torch.where, torch.isfinite
    else:
        def pos(x):
            return np.maximum(x, 0.0)
        maximum, minimum, where, finite = np.maximum, np.minimum, np.where, np.isfinite
    iw = pos(minimum(a[..., 2], b[..., 2]) - maximum(a[..., 0], b[..., 0]) + e)
    ih = pos(minimum(a[..., 3], b[..., 3]) - maximum(a[..., 1], b[..., 1]) + e)
    inter = iw * ih
    area_a = pos(a[..., 4] + e) * pos(a[..., 5] + e)
    area_b = pos(b[..., 4] + e) * pos(b[..., 5] + e)
    union = area_a + area_b - inter
    ok = finite(inter) & finite(union) & (union > 0)
    if not is_torch:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(ok, inter / np.where(ok, union, 1.0), 0.0)
    return where(ok, inter / where(ok, union, torch.ones_like(union)), torch.zeros_like(union))


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Indices of the boxes kept by greedy non-maximum suppression, by decreasing score (classic py_cpu_nms)."""

    if len(boxes) == 0:
        return torch.zeros(0, dtype=torch.long, device=boxes.device)
    b = boxes.detach().cpu().double().numpy()
    x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    areas = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    order = np.argsort(-scores.detach().cpu().double().numpy(), kind="stable")
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        w = np.clip(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), 0, None)
        h = np.clip(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), 0, None)
        inter = w * h
        iou = inter / np.maximum(areas[i] + areas[rest] - inter, 1e-9)
        order = rest[iou <= iou_threshold]
    return torch.as_tensor(np.array(keep, dtype=np.int64), device=boxes.device)


def encode_boxes(ref: torch.Tensor, gt: torch.Tensor, std: tuple[float, ...] = (0.1, 0.1, 0.2, 0.2)) -> torch.Tensor:
    """Regression targets (dx, dy, dw, dh) / std of `gt` relative to `ref` (Faster R-CNN coding)."""
    rw, rh = ref[:, 2] - ref[:, 0], ref[:, 3] - ref[:, 1]
    rx, ry = ref[:, 0] + 0.5 * rw, ref[:, 1] + 0.5 * rh
    gw, gh = gt[:, 2] - gt[:, 0], gt[:, 3] - gt[:, 1]
    gx, gy = gt[:, 0] + 0.5 * gw, gt[:, 1] + 0.5 * gh
    d = torch.stack([(gx - rx) / rw, (gy - ry) / rh, torch.log(gw / rw), torch.log(gh / rh)], 1)
    return d / d.new_tensor(std)


def decode_boxes(ref: torch.Tensor, deltas: torch.Tensor,
                 std: tuple[float, ...] = (0.1, 0.1, 0.2, 0.2)) -> torch.Tensor:
    """Inverse of `encode_boxes` (dw, dh clamped to avoid overflow)."""
    d = deltas * deltas.new_tensor(std)
    rw, rh = ref[:, 2] - ref[:, 0], ref[:, 3] - ref[:, 1]
    rx, ry = ref[:, 0] + 0.5 * rw, ref[:, 1] + 0.5 * rh
    cx, cy = rx + d[:, 0] * rw, ry + d[:, 1] * rh
    w = rw * torch.exp(d[:, 2].clamp(max=math.log(1000 / 16)))
    h = rh * torch.exp(d[:, 3].clamp(max=math.log(1000 / 16)))
    return torch.stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], 1)


def anchors_for(size: tuple[int, int], stride: int, scale: float | tuple[float, ...], ratios: tuple[float, ...],
                anchor_stride: int = 1, device: torch.device | str = "cpu") -> torch.Tensor:
    """(H * W * len(scales) * len(ratios)) x 4 anchors of one pyramid level, centred on each feature cell (per
    cell: every ratio of the first scale, then of the next)."""
    h, w = size
    ys = (torch.arange(0, h, anchor_stride, device=device, dtype=torch.float32) + 0.5) * stride
    xs = (torch.arange(0, w, anchor_stride, device=device, dtype=torch.float32) + 0.5) * stride
    r = torch.tensor(ratios, dtype=torch.float32, device=device)
    sc = torch.tensor(scale if isinstance(scale, tuple) else (scale,), dtype=torch.float32, device=device)[:, None]
    hs, ws = (sc * torch.sqrt(r)).reshape(-1), (sc / torch.sqrt(r)).reshape(-1)  # ratio = h / w
    cy, cx = torch.meshgrid(ys, xs, indexing="ij")
    c = torch.stack([cx, cy, cx, cy], -1)[:, :, None, :]
    half = torch.stack([-ws / 2, -hs / 2, ws / 2, hs / 2], -1)[None, None]
    return (c + half).reshape(-1, 4)


def roi_align(feature: torch.Tensor, boxes: torch.Tensor, output_size: int, spatial_scale: float,
              sampling_ratio: int = 2) -> torch.Tensor:
    """RoIAlign (aligned=True) of K boxes x1,y1,x2,y2 on one C x H x W map -> K x C x S x S.

    Single-image form of `cvkit.nn.roi_align.roi_align` (torchvision semantics), used by the detectors.
    """
    rois = torch.cat([boxes.new_zeros(boxes.shape[0], 1), boxes], dim=1)
    return roi_align_batched(feature[None], rois, output_size, spatial_scale, sampling_ratio, aligned=True)


def smooth_l1(x: torch.Tensor, y: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    """Mean smooth-L1 (Huber) loss; 0 for empty inputs."""
    if x.numel() == 0:
        return x.sum() * 0
    return F.smooth_l1_loss(x, y, beta=beta)
