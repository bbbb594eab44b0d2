"""Spherical projection of a LiDAR scan to a range image (paper Eq. 1) and back-projection of per-pixel labels.

Follows SqueezeSegV3's `common/laserscan.py`: yaw = -atan2(y, x), pitch = asin(z / r),
u = 0.5 (yaw/pi + 1) W, v = (1 - (pitch + |fov_down|) / fov) H, floored and clamped. Points are written in order of
decreasing range, so the closest point wins a pixel (the code's behaviour; the paper's text says the farthest, the
spec follows the code). Every point keeps its (v, u) so labels return to all points, including those that lost the
z-buffer. The code's `mask = idx > 0` quirk (drops point 0) is fixed (`idx >= 0`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

# per-channel normalisation of [range, x, y, z, remission] (SqueezeSegV3 arch cfg, sensor img_means/img_stds)
IMG_MEANS = np.array([12.12, 10.88, 0.23, -1.04, 0.21], dtype=np.float32)
IMG_STDS = np.array([12.32, 11.47, 6.91, 0.86, 0.16], dtype=np.float32)


@dataclass(frozen=True)
class Sensor:
    """Vertical field of view (degrees) and range-image size of a rotating LiDAR."""

    name: str
    fov_up: float
    fov_down: float
    height: int
    width: int

    @property
    def fov(self) -> float:
        """Total vertical field of view in degrees."""
        return abs(self.fov_up) + abs(self.fov_down)

    def with_size(self, height: int | None = None, width: int | None = None) -> Sensor:
        """Same field of view, another image size."""
        return Sensor(self.name, self.fov_up, self.fov_down, height or self.height, width or self.width)


SENSORS: dict[str, Sensor] = {
    "hdl64": Sensor("hdl64", 3.0, -25.0, 64, 2048),
    "hdl32": Sensor("hdl32", 10.67, -30.67, 32, 2048),
    "vlp32": Sensor("vlp32", 15.0, -25.0, 32, 2048),
    "vlp16": Sensor("vlp16", 15.0, -15.0, 16, 1024),
    "os1-64": Sensor("os1-64", 16.6, -16.6, 64, 1024),
}


def make_sensor(preset: str = "hdl64", fov_up: float | None = None, fov_down: float | None = None,
                height: int | None = None, width: int | None = None) -> Sensor:
    """A preset with optional explicit overrides (ValueError on an unknown preset or a non-positive FOV)."""
    if preset not in SENSORS:
        raise ValueError(f"unknown sensor {preset!r}; use one of {', '.join(SENSORS)}")
    base = SENSORS[preset]
    up = base.fov_up if fov_up is None else fov_up
    down = base.fov_down if fov_down is None else fov_down
    if up <= down:
        raise ValueError(f"fov_up ({up}) must be above fov_down ({down})")
    s = Sensor(preset if None in (fov_up, fov_down, height, width) else "custom", up, down,
               height or base.height, width or base.width)
    if s.height < 1 or s.width < 8:
        raise ValueError(f"range image {s.height}x{s.width} is too small")
    return s


@dataclass
class Projection:
    """A projected scan: per-point pixel coordinates and the range-image channels."""

    u: np.ndarray  # (N,) column of each point
    v: np.ndarray  # (N,) row of each point
    range: np.ndarray  # (N,) range of each point
    image: np.ndarray  # (5, H, W) raw [range, x, y, z, remission]; 0 where empty
    index: np.ndarray  # (H, W) index of the point owning each pixel, -1 where empty
    valid: np.ndarray  # (N,) finite, non-zero points (others get no pixel: u = v = 0 and label 0)

    @property
    def mask(self) -> np.ndarray:
        """(H, W) bool: pixels holding a point."""
        return self.index >= 0


def project(points: np.ndarray, sensor: Sensor) -> Projection:
    """Project (N, 4) x, y, z, remission points to a (5, H, W) range image, closest point per pixel."""
    pts = np.asarray(points, dtype=np.float32)
    H, W = sensor.height, sensor.width
    xyz = pts[:, :3]
    r = np.linalg.norm(xyz, axis=1)
    valid = np.isfinite(pts[:, :4]).all(axis=1) & (r > 1e-6)
    fov_up = np.deg2rad(sensor.fov_up)
    fov_down = np.deg2rad(sensor.fov_down)
    fov = abs(fov_up) + abs(fov_down)
    rs = np.where(valid, r, 1.0)
    yaw = -np.arctan2(xyz[:, 1], xyz[:, 0])
    pitch = np.arcsin(np.clip(xyz[:, 2] / rs, -1.0, 1.0))
    u = np.floor(0.5 * (yaw / np.pi + 1.0) * W)
    v = np.floor((1.0 - (pitch + abs(fov_down)) / fov) * H)
    u = np.clip(np.nan_to_num(u), 0, W - 1).astype(np.int64)
    v = np.clip(np.nan_to_num(v), 0, H - 1).astype(np.int64)
    u[~valid] = 0
    v[~valid] = 0
    idx = np.nonzero(valid)[0]
    order = idx[np.argsort(-r[idx], kind="stable")]  # far to near: the nearest is written last and wins
    index = np.full((H, W), -1, dtype=np.int64)
    index[v[order], u[order]] = order
    image = np.zeros((5, H, W), dtype=np.float32)
    m = index >= 0
    own = index[m]
    image[0][m] = r[own]
    image[1][m] = pts[own, 0]
    image[2][m] = pts[own, 1]
    image[3][m] = pts[own, 2]
    image[4][m] = pts[own, 3]
    return Projection(u=u, v=v, range=r.astype(np.float32), image=image, index=index, valid=valid)


def normalise(image: np.ndarray | torch.Tensor, mask: np.ndarray | torch.Tensor,
              use_remission: bool = True) -> torch.Tensor:
    """(5, H, W) raw channels -> network input `(f - mean) / std`, 0 at empty pixels (and in remission if unused)."""
    img = torch.as_tensor(image, dtype=torch.float32)
    mean = torch.as_tensor(IMG_MEANS).view(-1, 1, 1)
    std = torch.as_tensor(IMG_STDS).view(-1, 1, 1)
    out = (img - mean) / std * torch.as_tensor(mask, dtype=torch.float32).unsqueeze(0)
    if not use_remission:
        out[4] = 0
    return out


def back_project(pixel_labels: np.ndarray, proj: Projection) -> np.ndarray:
    """Per-point labels from an (H, W) label map: each point takes its own pixel's label; invalid points -> 0."""
    out = np.asarray(pixel_labels)[proj.v, proj.u].copy()
    out[~proj.valid] = 0
    return out


def pixel_labels(point_labels: np.ndarray, proj: Projection) -> np.ndarray:
    """(H, W) label map of the points that own each pixel (0 where empty): training targets."""
    lab = np.zeros(proj.index.shape, dtype=np.int64)
    m = proj.mask
    lab[m] = np.asarray(point_labels)[proj.index[m]]
    return lab
