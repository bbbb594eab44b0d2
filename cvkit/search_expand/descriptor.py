"""Global image descriptors: EfficientNet-Lite0 (packaged ImageNet weights) -> 1280-channel head activation
-> GeM pooling (p = 3), extracted at scales {1, sqrt(2), 1/sqrt(2)} of a base size, averaged and
L2-normalised (the paper's multi-scale recipe with a generic, not landmark-trained, CNN); then PCA-whitening
learnt without labels on the database itself (`Whitening`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .index import l2n

NAME = "efflite0-gem"
DIM = 1280
SCALES = (1.0, math.sqrt(2.0), 1.0 / math.sqrt(2.0))


def gem(x: torch.Tensor, p: float = 3.0, eps: float = 1e-6) -> torch.Tensor:
    """Generalised-mean pooling over H, W: (B, C, H, W) -> (B, C)."""
    return x.clamp(min=eps).pow(p).mean((2, 3)).pow(1.0 / p)


class GemDescriptor:
    """EfficientNet-Lite0 GeM multi-scale descriptor of BGR images: the longest side is resized to
    min(size, max(its own length, min_size)) (small crops are not blown up to full size: they hold no more
    detail, and the CPU cost grows with the square of the side), times each scale."""

    def __init__(self, size: int = 224, scales: Sequence[float] = SCALES, p: float = 3.0,
                 device: str | torch.device = "cpu", min_size: int = 96) -> None:
        from ..nn.efficientnet_lite import load_efficientnet_lite0

        self.size, self.scales, self.p, self.min_size = int(size), tuple(scales), float(p), int(min_size)
        self.device = torch.device(device)
        self.net = load_efficientnet_lite0(pretrained=True).to(self.device)

    @property
    def params(self) -> dict:
        """What identifies this descriptor (stored in the database file)."""
        return {"name": NAME, "dim": DIM, "size": self.size, "min_size": self.min_size, "scales": list(self.scales),
                "p": self.p}

    @property
    def key(self) -> str:
        """A string identifying the descriptor (cache key)."""
        return str(sorted(self.params.items()))

    def _head(self, x: torch.Tensor) -> torch.Tensor:
        net = self.net
        h = net.features(net.normalize(x), len(net._blocks) - 1)
        return F.relu6(net._bn1(net._conv_head(h)))

    def __call__(self, bgr: np.ndarray) -> np.ndarray:
        """One L2-normalised float32 descriptor (DIM,) of a BGR uint8 image."""
        return self.batch(bgr[None])[0]

    @torch.inference_mode()
    def batch(self, bgr: np.ndarray) -> np.ndarray:
        """Descriptors (B, DIM) of B same-sized BGR uint8 images (B, H, W, 3): one forward per scale."""
        h, w = bgr.shape[1:3]
        rgb = torch.from_numpy(np.ascontiguousarray(bgr[..., ::-1])).to(self.device)
        rgb = rgb.permute(0, 3, 1, 2).float() / 255.0
        acc = torch.zeros(bgr.shape[0], DIM, device=self.device)
        base = min(self.size, max(max(h, w), self.min_size))
        for s in self.scales:
            f = base * s / max(h, w)
            size = (max(32, round(h * f)), max(32, round(w * f)))
            x = F.interpolate(rgb, size=size, mode="bilinear", align_corners=False, antialias=f < 1)
            acc += F.normalize(gem(self._head(x), self.p), dim=1)
        return l2n(acc.cpu().numpy())


def describer(size: int | dict = 224, device: str | torch.device = "cpu") -> GemDescriptor:
    """The default descriptor at `size`, or with the parameters a database was built with (`size` is the
    database's descriptor dict; ModelError, exit 5, when it holds another kind of descriptor)."""
    from ..errors import ModelError

    if isinstance(size, dict):
        if size.get("name") != NAME:
            raise ModelError(f"the database holds {size.get('name')} descriptors; query it with a descriptor file "
                             "of the same kind, not with images")
        return GemDescriptor(size=size["size"], scales=size["scales"], p=size["p"], min_size=size["min_size"],
                             device=device)
    return GemDescriptor(size=size, device=device)


@dataclass
class Whitening:
    """Transform learnt on the database without labels: centring x -> l2n(x - mean) (the default), or
    PCA-whitening x -> l2n(((x - mean) @ P) / sqrt(eig + shrink)) (`whiten=True`; it measured worse on small
    databases, see docs/search-expand.md)."""

    mean: np.ndarray
    proj: np.ndarray | None = None
    scale: np.ndarray | None = None

    @classmethod
    def learn(cls, x: np.ndarray, dim: int | None = None, shrink: float = 0.1, whiten: bool = True) -> Whitening:
        """Fit on descriptors x (N, D); `dim` components (default min(D, N - 1)); eigenvalues are shrunk by
        `shrink` x their mean so that tiny-variance directions of a small database are not blown up."""
        x = np.asarray(x, dtype=np.float64)
        mean = x.mean(0)
        if not whiten:
            return cls(mean.astype(np.float32))
        xc = x - mean
        n, d = x.shape
        dim = min(dim or d, d, max(1, n - 1))
        cov = xc.T @ xc / max(n - 1, 1)
        eig, vec = np.linalg.eigh(cov)
        order = np.argsort(eig)[::-1][:dim]
        eig, vec = np.maximum(eig[order], 0.0), vec[:, order]
        scale = 1.0 / np.sqrt(eig + shrink * eig.mean() + 1e-12)
        return cls(mean.astype(np.float32), vec.astype(np.float32), scale.astype(np.float32))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Apply to (N, D) descriptors -> (N, dim) L2-normalised."""
        if self.proj is None:
            return l2n(np.asarray(x, dtype=np.float32) - self.mean)
        return l2n(((np.asarray(x, dtype=np.float32) - self.mean) @ self.proj) * self.scale)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Arrays for the database file."""
        if self.proj is None:
            return {"white_mean": self.mean}
        return {"white_mean": self.mean, "white_proj": self.proj, "white_scale": self.scale}

    @classmethod
    def from_arrays(cls, a: dict) -> Whitening | None:
        """Inverse of to_arrays (None when the file has no whitening)."""
        if "white_mean" not in a:
            return None
        if "white_proj" not in a:
            return cls(np.asarray(a["white_mean"]))
        return cls(np.asarray(a["white_mean"]), np.asarray(a["white_proj"]), np.asarray(a["white_scale"]))
