"""Five face landmarks (eyes, nose, mouth corners) from MTCNN (Zhang et al. 2016) with the P/R/O-net state dicts
shipped in the `facenet-pytorch` wheel. Used only to score face pairs (an independent keypoint source).

facenet-pytorch's own detector imports torchvision (batched_nms, transforms), which cvkit does not install, so the
three nets and the cascade are re-implemented here (same layers and parameter names, same thresholds
[0.6, 0.7, 0.7], pyramid factor 0.709, min face 20 px, area resampling, (x - 127.5) / 128 input scaling) and only
the package's `data/{pnet,rnet,onet}.pt` files are read. Install with `pip install --no-deps facenet-pytorch==2.6.0`.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ModelError
from ..nn.detection import nms


class PNet(nn.Module):
    """MTCNN proposal net (fully convolutional, 12x12 receptive field, stride 2)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 10, 3), nn.PReLU(10)
        self.conv2, self.prelu2 = nn.Conv2d(10, 16, 3), nn.PReLU(16)
        self.conv3, self.prelu3 = nn.Conv2d(16, 32, 3), nn.PReLU(32)
        self.conv4_1, self.conv4_2 = nn.Conv2d(32, 2, 1), nn.Conv2d(32, 4, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = F.max_pool2d(self.prelu1(self.conv1(x)), 2, 2, ceil_mode=True)
        x = self.prelu3(self.conv3(self.prelu2(self.conv2(x))))
        return self.conv4_2(x), torch.softmax(self.conv4_1(x), 1)


class RNet(nn.Module):
    """MTCNN refinement net (24x24 crops)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 28, 3), nn.PReLU(28)
        self.conv2, self.prelu2 = nn.Conv2d(28, 48, 3), nn.PReLU(48)
        self.conv3, self.prelu3 = nn.Conv2d(48, 64, 2), nn.PReLU(64)
        self.dense4, self.prelu4 = nn.Linear(576, 128), nn.PReLU(128)
        self.dense5_1, self.dense5_2 = nn.Linear(128, 2), nn.Linear(128, 4)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = F.max_pool2d(self.prelu1(self.conv1(x)), 3, 2, ceil_mode=True)
        x = F.max_pool2d(self.prelu2(self.conv2(x)), 3, 2, ceil_mode=True)
        x = self.prelu3(self.conv3(x)).permute(0, 3, 2, 1).reshape(x.shape[0], -1)
        x = self.prelu4(self.dense4(x))
        return self.dense5_2(x), torch.softmax(self.dense5_1(x), 1)


class ONet(nn.Module):
    """MTCNN output net (48x48 crops): score, box regression and 5 landmarks."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 32, 3), nn.PReLU(32)
        self.conv2, self.prelu2 = nn.Conv2d(32, 64, 3), nn.PReLU(64)
        self.conv3, self.prelu3 = nn.Conv2d(64, 64, 3), nn.PReLU(64)
        self.conv4, self.prelu4 = nn.Conv2d(64, 128, 2), nn.PReLU(128)
        self.dense5, self.prelu5 = nn.Linear(1152, 256), nn.PReLU(256)
        self.dense6_1, self.dense6_2, self.dense6_3 = nn.Linear(256, 2), nn.Linear(256, 4), nn.Linear(256, 10)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = F.max_pool2d(self.prelu1(self.conv1(x)), 3, 2, ceil_mode=True)
        x = F.max_pool2d(self.prelu2(self.conv2(x)), 3, 2, ceil_mode=True)
        x = F.max_pool2d(self.prelu3(self.conv3(x)), 2, 2, ceil_mode=True)
        x = self.prelu4(self.conv4(x)).permute(0, 3, 2, 1).reshape(x.shape[0], -1)
        x = self.prelu5(self.dense5(x))
        return self.dense6_2(x), self.dense6_3(x), torch.softmax(self.dense6_1(x), 1)


def facenet_data_dir() -> Path:
    """The `data/` folder of the installed facenet-pytorch wheel (found without importing it)."""
    spec = importlib.util.find_spec("facenet_pytorch")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("face landmarks need the MTCNN weights of facenet-pytorch "
                         "(pip install --no-deps facenet-pytorch==2.6.0)")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


class MTCNN:
    """The three-stage cascade; `landmarks(rgb)` -> (5, 2) points of the most confident face, or None."""

    def __init__(self, thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7), factor: float = 0.709,
                 min_face: int = 20) -> None:
        d = facenet_data_dir()
        self.pnet, self.rnet, self.onet = PNet(), RNet(), ONet()
        for net, name in ((self.pnet, "pnet"), (self.rnet, "rnet"), (self.onet, "onet")):
            net.load_state_dict(torch.load(d / f"{name}.pt", map_location="cpu", weights_only=True))
            net.eval()
        self.thresholds, self.factor, self.min_face = thresholds, factor, min_face

    def _crops(self, img: torch.Tensor, boxes: torch.Tensor, size: int) -> torch.Tensor:
        """Box crops resized to size x size; parts outside the image are zero (as the original MTCNN pads), so
        the crop keeps the box geometry that the landmark offsets refer to."""
        h, w = img.shape[-2:]
        out = []
        for b in boxes.trunc().int().tolist():
            x1, y1, x2, y2 = b[0] - 1, b[1] - 1, max(b[2], b[0]), max(b[3], b[1])
            crop = torch.zeros(1, 3, y2 - y1, x2 - x1)
            sx1, sy1, sx2, sy2 = max(x1, 0), max(y1, 0), min(x2, w), min(y2, h)
            if sx2 > sx1 and sy2 > sy1:
                crop[:, :, sy1 - y1:sy2 - y1, sx1 - x1:sx2 - x1] = img[:, :, sy1:sy2, sx1:sx2]
            out.append(F.interpolate(crop, size=(size, size), mode="area"))
        return (torch.cat(out) - 127.5) * 0.0078125

    @torch.inference_mode()
    def landmarks(self, rgb: np.ndarray) -> np.ndarray | None:
        """RGB uint8 (H, W, 3) -> (5, 2) float landmarks (x, y) of the highest-scoring face; None if no face."""
        pad = int(round(0.25 * max(rgb.shape[:2])))  # tight face crops: leave room for the whole face box
        img = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].float()
        img = F.pad(img, (pad, pad, pad, pad), mode="replicate")
        h, w = img.shape[-2:]
        m = 12.0 / self.min_face
        minl, scale, scales = min(h, w) * m, m, []
        while minl >= 12:
            scales.append(scale)
            scale *= self.factor
            minl *= self.factor
        cands = []
        for s in scales:
            data = (F.interpolate(img, size=(int(h * s + 1), int(w * s + 1)), mode="area") - 127.5) * 0.0078125
            reg, prob = self.pnet(data)
            mask = prob[0, 1] >= self.thresholds[0]
            idx = mask.nonzero()
            if len(idx) == 0:
                continue
            bb = idx.flip(1).float()
            q1 = ((2 * bb + 1) / s).floor()
            q2 = ((2 * bb + 12) / s).floor()
            r = reg[0][:, mask].t()
            boxes = torch.cat([q1, q2, prob[0, 1][mask][:, None], r], 1)
            cands.append(boxes[nms(boxes[:, :4], boxes[:, 4], 0.5)])
        if not cands:
            return None
        boxes = torch.cat(cands)
        boxes = boxes[nms(boxes[:, :4], boxes[:, 4], 0.7)]
        bw, bh = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
        boxes = torch.stack([boxes[:, 0] + boxes[:, 5] * bw, boxes[:, 1] + boxes[:, 6] * bh,
                             boxes[:, 2] + boxes[:, 7] * bw, boxes[:, 3] + boxes[:, 8] * bh, boxes[:, 4]], 1)
        boxes = _square(boxes)
        reg, prob = self.rnet(self._crops(img, boxes, 24))
        keep = prob[:, 1] > self.thresholds[1]
        boxes = torch.cat([boxes[keep, :4], prob[keep, 1:2]], 1)
        reg = reg[keep]
        if len(boxes) == 0:
            return None
        pick = nms(boxes[:, :4], boxes[:, 4], 0.7)
        boxes = _square(_bbreg(boxes[pick], reg[pick]))
        reg, pts, prob = self.onet(self._crops(img, boxes, 48))
        keep = prob[:, 1] > self.thresholds[2]
        if not bool(keep.any()):
            return None
        boxes, pts, score = boxes[keep], pts[keep], prob[keep, 1]
        wi = boxes[:, 2] - boxes[:, 0] + 1
        hi = boxes[:, 3] - boxes[:, 1] + 1
        px = wi[:, None] * pts[:, :5] + boxes[:, :1] - 1
        py = hi[:, None] * pts[:, 5:] + boxes[:, 1:2] - 1
        best = int(score.argmax())
        return torch.stack([px[best], py[best]], 1).numpy().astype(np.float64) - pad


def _bbreg(boxes: torch.Tensor, reg: torch.Tensor) -> torch.Tensor:
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    out = boxes.clone()
    out[:, 0] += reg[:, 0] * w
    out[:, 1] += reg[:, 1] * h
    out[:, 2] += reg[:, 2] * w
    out[:, 3] += reg[:, 3] * h
    return out


def _square(boxes: torch.Tensor) -> torch.Tensor:
    h = boxes[:, 3] - boxes[:, 1]
    w = boxes[:, 2] - boxes[:, 0]
    side = torch.maximum(w, h)
    out = boxes.clone()
    out[:, 0] = boxes[:, 0] + w * 0.5 - side * 0.5
    out[:, 1] = boxes[:, 1] + h * 0.5 - side * 0.5
    out[:, 2] = out[:, 0] + side
    out[:, 3] = out[:, 1] + side
    return out
