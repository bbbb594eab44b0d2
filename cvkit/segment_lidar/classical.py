"""Classical pipeline (not the paper's model): local ground planes + voxel clustering + geometric rules.

1. Ground: a RANSAC plane over the low points, refined per polar cell (range rings x azimuth sectors) by a
   least-squares refit of the points near the plane; ground = height above the local plane < `ground_tol`.
2. Objects: the non-ground points are voxelised and grouped into connected components (26-neighbourhood).
3. Rules per component: car-sized boxes (footprint, height, touching the ground) -> car; thin tall components ->
   pole; the rest is split per 0.5 m voxel by local shape: planar, vertical or roof-like surfaces in large tall
   components -> building, scattered structure -> vegetation.
Outputs training ids from {road (all ground), car, building, vegetation, pole}; numpy/scipy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .simulate import BUILDING, CAR, POLE, ROAD, VEGETATION


@dataclass(frozen=True)
class ClassicalParams:
    """Thresholds of the classical pipeline (metres)."""

    sensor_height: float = 1.73
    ground_tol: float = 0.2
    rings: tuple[float, ...] = (0.0, 10.0, 20.0, 35.0, 1e9)
    sectors: int = 8
    voxel: float = 0.4
    shape_voxel: float = 1.0
    car_length: tuple[float, float] = (2.5, 5.8)
    car_width: tuple[float, float] = (1.2, 2.5)
    car_height: tuple[float, float] = (0.8, 2.2)
    planar_var: float = 0.04
    planar_nz: float = 0.2
    building_frac: float = 0.5


def _fit_plane(p: np.ndarray) -> np.ndarray:
    """Least-squares plane (a, b, c, d) with a x + b y + c z + d = 0 and c > 0."""
    c = p.mean(0)
    _, _, vt = np.linalg.svd(p - c, full_matrices=False)
    n = vt[-1]
    if n[2] < 0:
        n = -n
    return np.r_[n, -n @ c]


def _ransac_plane(p: np.ndarray, rng: np.random.Generator, iters: int = 100, tol: float = 0.15) -> np.ndarray:
    best, best_n = None, -1
    for _ in range(iters):
        s = p[rng.choice(len(p), 3, replace=False)]
        n = np.cross(s[1] - s[0], s[2] - s[0])
        norm = np.linalg.norm(n)
        if norm < 1e-9:
            continue
        n = n / norm
        if abs(n[2]) < 0.9:
            continue
        d = -n @ s[0]
        cnt = int((np.abs(p @ n + d) < tol).sum())
        if cnt > best_n:
            best, best_n = np.r_[n, d], cnt
    if best is None:
        return np.array([0.0, 0.0, 1.0, 1.73])
    inl = p[np.abs(p @ best[:3] + best[3]) < tol]
    return _fit_plane(inl) if len(inl) >= 3 else best


def ground_height(xyz: np.ndarray, params: ClassicalParams = ClassicalParams(), seed: int = 0) -> np.ndarray:
    """Height of each point above its local ground plane."""
    rng = np.random.default_rng(seed)
    low = xyz[xyz[:, 2] < -params.sensor_height + 0.6]
    if len(low) < 50:
        low = xyz[np.argsort(xyz[:, 2])[: max(3, len(xyz) // 4)]]
    sample = low[rng.choice(len(low), min(len(low), 20000), replace=False)]
    glob = _ransac_plane(sample, rng)
    h = xyz @ glob[:3] + glob[3]
    r = np.hypot(xyz[:, 0], xyz[:, 1])
    sector = ((np.arctan2(xyz[:, 1], xyz[:, 0]) + np.pi) / (2 * np.pi) * params.sectors).astype(int) % params.sectors
    ring = np.searchsorted(params.rings, r, side="right") - 1
    out = h.copy()
    for ri in range(len(params.rings) - 1):
        for si in range(params.sectors):
            cell = (ring == ri) & (sector == si)
            cand = cell & (np.abs(h) < 0.5)
            if cand.sum() < 30:
                continue
            pl = _fit_plane(xyz[cand])
            # two robust refits on the points close to the local plane
            for _ in range(2):
                near = cand & (np.abs(xyz @ pl[:3] + pl[3]) < 0.15)
                if near.sum() < 30:
                    break
                pl = _fit_plane(xyz[near])
            if pl[2] < 0.95 or abs((xyz[cand] @ pl[:3] + pl[3]).mean()) > 0.3:
                continue
            out[cell] = xyz[cell] @ pl[:3] + pl[3]
    return out


def _components(xyz: np.ndarray, voxel: float) -> np.ndarray:
    """Connected-component id per point of a voxelised cloud (26-neighbourhood)."""
    if len(xyz) == 0:
        return np.zeros(0, dtype=np.int64)
    q = np.floor((xyz - xyz.min(0)) / voxel).astype(np.int64)
    shape = q.max(0) + 1
    grid = np.zeros(shape, dtype=bool)
    grid[q[:, 0], q[:, 1], q[:, 2]] = True
    lab, _ = ndimage.label(grid, structure=np.ones((3, 3, 3), dtype=bool))
    return lab[q[:, 0], q[:, 1], q[:, 2]]


def _voxel_shape(xyz: np.ndarray, voxel: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per point: surface variation l3/(l1+l2+l3), |normal z|, linearity (l1-l2)/l1 of its voxel (+ 1-ring)."""
    q = np.floor(xyz / voxel).astype(np.int64)
    key, inv = np.unique(q, axis=0, return_inverse=True)
    inv = inv.ravel()
    nv = len(key)
    cnt = np.bincount(inv, minlength=nv).astype(np.float64)
    s = np.stack([np.bincount(inv, xyz[:, i], nv) for i in range(3)], 1)
    ss = np.stack([np.bincount(inv, xyz[:, i] * xyz[:, j], nv) for i in range(3) for j in range(3)], 1)
    mean = s / cnt[:, None]
    cov = ss.reshape(-1, 3, 3) / cnt[:, None, None] - mean[:, :, None] * mean[:, None, :]
    cov += np.eye(3) * 1e-6
    w, v = np.linalg.eigh(cov)
    tot = w.sum(1) + 1e-12
    var = w[:, 0] / tot
    nz = np.abs(v[:, 2, 0])
    lin = (w[:, 2] - w[:, 1]) / (w[:, 2] + 1e-12)
    few = cnt < 5
    var[few], nz[few], lin[few] = 0.1, 0.5, 0.0
    return var[inv], nz[inv], lin[inv]


def classical_segment(points: np.ndarray, params: ClassicalParams = ClassicalParams()) -> np.ndarray:
    """Training ids per point (same order); invalid points -> 0."""
    xyz = np.asarray(points, dtype=np.float64)[:, :3]
    valid = np.isfinite(xyz).all(1) & (np.linalg.norm(xyz, axis=1) > 1e-6)
    out = np.zeros(len(xyz), dtype=np.int64)
    p = xyz[valid]
    h = ground_height(p, params)
    lab = np.full(len(p), VEGETATION, dtype=np.int64)
    ground = h < params.ground_tol
    lab[ground] = ROAD
    ng = np.nonzero(~ground)[0]
    comp = _components(p[ng], params.voxel)
    var, nz, _ = _voxel_shape(p[ng], params.shape_voxel)
    order = np.argsort(comp, kind="stable")
    starts = np.r_[0, np.nonzero(np.diff(comp[order]))[0] + 1, len(order)]
    for a, b in zip(starts[:-1], starts[1:], strict=True):
        idx = ng[order[a:b]]
        c = p[idx]
        hh = h[idx]
        height = hh.max()
        xy = c[:, :2] - c[:, :2].mean(0)
        if len(idx) >= 3:
            ev, evec = np.linalg.eigh(np.cov(xy.T) + 1e-9 * np.eye(2))
            proj = xy @ evec
            ext = proj.max(0) - proj.min(0)
            length, width = ext[1], ext[0]
        else:
            length = width = 0.0
        sel = order[a:b]
        if (params.car_length[0] <= length <= params.car_length[1] and params.car_width[0] <= width
                <= params.car_width[1] and params.car_height[0] <= height <= params.car_height[1]
                and hh.min() < 0.6 and len(idx) >= 30):
            lab[idx] = CAR
        elif length < 1.0 and width < 1.0 and height > 2.0 and len(idx) >= 10:
            lab[idx] = POLE
        elif length > 2.0 or height > 1.0:
            planar = (var[sel] < params.planar_var) & (nz[sel] < params.planar_nz)
            frac = planar.mean()
            if frac > params.building_frac and length > 3.0:
                lab[idx] = BUILDING
            elif frac > 0.2:
                lab[idx] = _smooth_columns(c, planar, 1.5)
    out[np.nonzero(valid)[0]] = lab
    return out


def _smooth_columns(xyz: np.ndarray, planar: np.ndarray, cell: float) -> np.ndarray:
    """Building where most points of the same (x, y) column cell are planar-vertical, else vegetation."""
    q = np.floor(xyz[:, :2] / cell).astype(np.int64)
    _, inv = np.unique(q, axis=0, return_inverse=True)
    inv = inv.ravel()
    frac = np.bincount(inv, planar.astype(float)) / np.bincount(inv)
    return np.where(frac[inv] > 0.5, BUILDING, VEGETATION)
