"""Simulated HDL-64E scans of procedural street scenes (open3d ray casting), labelled with SemanticKITTI ids.

A scene is built in a road frame (x along the road, z up, road surface at z = 0): road (with optional crossing),
parking strips, kerbed sidewalks, terrain height fields, building rows with gaps, fences, poles with signs, trees
(trunk + jittered canopy), hedges and bushes, parked and driving cars, vans/trucks and people. The sensor sits 1.73 m
above the road with a random heading and small tilt and casts the HDL-64E beam pattern (upper block +2 to -8.33 deg
in 1/3 deg steps, lower block -8.83 to -24.33 deg in 1/2 deg steps). Range noise (sigma 2 cm), random ray drop and
grazing-angle drop mimic the real sensor; remission is not simulated (the learned default ignores that channel).
Labels come from the geometry each ray hits (one mesh per class). open3d is imported lazily.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# training ids (labels.CLASS_NAMES)
CAR, TRUCK, OTHER_VEH, PERSON = 1, 4, 5, 6
ROAD, PARKING, SIDEWALK, OTHER_GROUND = 9, 10, 11, 12
BUILDING, FENCE, VEGETATION, TRUNK, TERRAIN, POLE, SIGN = 13, 14, 15, 16, 17, 18, 19

SENSOR_HEIGHT = 1.73


def hdl64_elevations() -> np.ndarray:
    """The 64 beam elevations (degrees) of a Velodyne HDL-64E, top to bottom."""
    upper = 2.0 - np.arange(32) * (10.33 / 31)
    lower = -8.83 - np.arange(32) * (15.5 / 31)
    return np.concatenate([upper, lower])


class _Meshes:
    """Vertices/triangles collected per class before building the ray-casting scene."""

    def __init__(self) -> None:
        self.parts: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}

    def add(self, cls: int, verts: np.ndarray, tris: np.ndarray) -> None:
        self.parts.setdefault(cls, []).append((verts.astype(np.float32), tris.astype(np.uint32)))

    def merged(self) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        out = {}
        for cls, parts in self.parts.items():
            vs, ts, off = [], [], 0
            for v, t in parts:
                vs.append(v)
                ts.append(t + off)
                off += len(v)
            out[cls] = (np.concatenate(vs), np.concatenate(ts))
        return out


_BOX_T = np.array([[0, 2, 1], [0, 3, 2], [4, 5, 6], [4, 6, 7], [0, 1, 5], [0, 5, 4], [1, 2, 6], [1, 6, 5],
                   [2, 3, 7], [2, 7, 6], [3, 0, 4], [3, 4, 7]])


def box(cx: float, cy: float, z0: float, lx: float, ly: float, h: float, yaw: float = 0.0) -> tuple:
    """An oriented box standing on z0 (vertices, triangles)."""
    x = np.array([-1, 1, 1, -1]) * lx / 2
    y = np.array([-1, -1, 1, 1]) * ly / 2
    c, s = np.cos(yaw), np.sin(yaw)
    xr, yr = cx + c * x - s * y, cy + s * x + c * y
    v = np.concatenate([np.stack([xr, yr, np.full(4, z0)], 1), np.stack([xr, yr, np.full(4, z0 + h)], 1)])
    return v, _BOX_T


def cylinder(cx: float, cy: float, z0: float, r: float, h: float, n: int = 8) -> tuple:
    """A vertical closed cylinder (vertices, triangles)."""
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    ring = np.stack([cx + r * np.cos(a), cy + r * np.sin(a)], 1)
    v = np.concatenate([np.c_[ring, np.full(n, z0)], np.c_[ring, np.full(n, z0 + h)],
                        [[cx, cy, z0], [cx, cy, z0 + h]]])
    t = []
    for i in range(n):
        j = (i + 1) % n
        t += [[i, j, n + j], [i, n + j, n + i], [2 * n, j, i], [2 * n + 1, n + i, n + j]]
    return v, np.array(t)


_SPHERE: tuple | None = None


def blob(rng: np.random.Generator, cx: float, cy: float, cz: float, rx: float, ry: float, rz: float,
         rough: float = 0.25) -> tuple:
    """A jittered ellipsoid (canopy, bush): vertices pushed in and out radially for a leafy surface."""
    global _SPHERE
    if _SPHERE is None:
        import open3d as o3d

        s = o3d.geometry.TriangleMesh.create_sphere(radius=1.0, resolution=7)
        _SPHERE = (np.asarray(s.vertices), np.asarray(s.triangles))
    v, t = _SPHERE
    k = 1.0 + rough * rng.uniform(-1, 1, (len(v), 1))
    return v * k * np.array([rx, ry, rz]) + np.array([cx, cy, cz]), t


def heightfield(x0: float, x1: float, y0: float, y1: float, z: float, rng: np.random.Generator,
                step: float = 1.0, noise: float = 0.06) -> tuple:
    """A bumpy ground patch (terrain) over [x0, x1] x [y0, y1]."""
    xs = np.arange(x0, x1 + step, step)
    ys = np.arange(y0, y1 + step, step)
    gx, gy = np.meshgrid(xs, ys, indexing="ij")
    gz = z + rng.normal(0, noise, gx.shape) + rng.uniform(-0.03, 0.03) * (gy - y0)
    v = np.stack([gx.ravel(), gy.ravel(), gz.ravel()], 1)
    nx, ny = len(xs), len(ys)
    i, j = np.meshgrid(np.arange(nx - 1), np.arange(ny - 1), indexing="ij")
    a = (i * ny + j).ravel()
    t = np.concatenate([np.stack([a, a + ny, a + ny + 1], 1), np.stack([a, a + ny + 1, a + 1], 1)])
    return v, t


def _car(m: _Meshes, rng: np.random.Generator, x: float, y: float, yaw: float, kind: int = CAR) -> None:
    if kind == CAR:
        ln, wd, hb, hc = rng.uniform(3.7, 4.9), rng.uniform(1.6, 1.9), rng.uniform(0.55, 0.8), rng.uniform(0.45, 0.65)
    else:
        ln, wd, hb, hc = rng.uniform(5, 9), rng.uniform(2.0, 2.5), rng.uniform(1.4, 2.2), rng.uniform(0.3, 0.8)
    c, s = np.cos(yaw), np.sin(yaw)
    m.add(kind, *box(x, y, 0.28, ln, wd, hb, yaw))
    off = rng.uniform(-0.25, 0.05) * ln
    cl = ln * (rng.uniform(0.45, 0.6) if kind == CAR else 0.95)
    m.add(kind, *box(x + c * off, y + s * off, 0.28 + hb, cl, wd * 0.92, hc, yaw))
    for sx in (-0.33, 0.33):
        for sy in (-0.45, 0.45):
            px, py = x + c * sx * ln - s * sy * wd, y + s * sx * ln + c * sy * wd
            m.add(kind, *box(px, py, 0.0, 0.62, 0.22, 0.6, yaw))


@dataclass
class SimScan:
    """One simulated scan: (N, 4) x, y, z, remission points (sensor frame) and training ids."""

    points: np.ndarray
    labels: np.ndarray


def build_scene(rng: np.random.Generator, n_views: int = 3
                ) -> tuple[dict[int, tuple[np.ndarray, np.ndarray]], list[tuple[float, float]]]:
    """A random street scene as one (vertices, triangles) mesh per class id, and `n_views` sensor spots (x, y)
    in a driving lane, kept clear of traffic."""
    m = _Meshes()
    L = 80.0
    wr = rng.uniform(3.0, 6.5)  # half width of the road
    lane = max(0.0, wr - 3.0)
    spots = [(float(rng.uniform(-25, 25)), float(rng.uniform(-lane, lane))) for _ in range(n_views)]

    def clear(x: float, gap: float) -> bool:
        return all(abs(x - sx) > gap for sx, _ in spots)

    m.add(ROAD, *box(0, 0, -0.3, 2 * L, 2 * wr, 0.3))
    cross = rng.random() < 0.35
    xc, wc = rng.uniform(-30, 30), rng.uniform(3.5, 6.5)
    if cross:
        m.add(ROAD, *box(xc, 0, -0.3, 2 * wc, 2 * L, 0.3))
    for side in (-1, 1):
        y = wr
        if rng.random() < 0.3:  # parking strip
            wp = rng.uniform(2.2, 3.0)
            m.add(PARKING, *box(0, side * (y + wp / 2), -0.3, 2 * L, wp, 0.3 + rng.uniform(-0.02, 0.02)))
            for x in np.arange(-L + 5, L - 5, rng.uniform(5.0, 7.0)):
                if rng.random() < 0.6 and clear(x, 4.0) and not (cross and abs(x - xc) < wc + 3):
                    _car(m, rng, x + rng.normal(0, 0.3), side * (y + wp / 2), rng.normal(0, 0.08))
            y += wp
        elif rng.random() < 0.9:  # cars parked on the road edge
            for x in np.arange(-L + 5, L - 5, rng.uniform(5.0, 8.0)):
                if rng.random() < 0.65 and clear(x, 4.0) and not (cross and abs(x - xc) < wc + 3):
                    kind = CAR if rng.random() < 0.9 else rng.choice([TRUCK, OTHER_VEH])
                    _car(m, rng, x + rng.normal(0, 0.3), side * (wr - 1.1), rng.normal(0, 0.06), kind)
        ws = rng.uniform(1.5, 4.5) if rng.random() < 0.85 else 0.0
        hk = rng.uniform(0.08, 0.2)
        if ws:
            m.add(SIDEWALK, *box(0, side * (y + ws / 2), -0.3, 2 * L, ws, 0.3 + hk))
            y += ws
        wt = rng.uniform(0.0, 7.0) if rng.random() < 0.6 else 0.0
        if wt > 0.5:
            m.add(TERRAIN, *heightfield(-L, L, side * y if side > 0 else -(y + wt), y + wt if side > 0 else -y,
                                        hk * 0.5, rng))
        elif rng.random() < 0.3:
            m.add(OTHER_GROUND, *box(0, side * (y + 1.5), -0.3, 2 * L, 3.0, 0.3 + hk))
        y_edge = y + wt
        # far ground under everything else
        m.add(TERRAIN, *heightfield(-L, L, side * (y_edge + 20) if side < 0 else y_edge,
                                    y_edge + 20 if side > 0 else -y_edge, hk, rng, step=2.0))
        # building rows, hedges, fences
        x = -L
        has_buildings = rng.random() < 0.85
        while x < L:
            length = rng.uniform(8, 35)
            gap = rng.uniform(0, 10)
            cx = x + length / 2
            if cross and abs(cx - xc) < wc + length / 2 + 2:
                x += length + gap
                continue
            r = rng.random()
            setback = rng.uniform(0, 3) if rng.random() < 0.7 else rng.uniform(3, 8)
            if has_buildings and r < 0.6:
                depth, h = rng.uniform(8, 15), rng.uniform(4, 22)
                m.add(BUILDING, *box(cx, side * (y_edge + setback + depth / 2), -0.5, length, depth, h + 0.5,
                                     rng.normal(0, 0.03)))
                if rng.random() < 0.3:  # balcony / step structure
                    m.add(BUILDING, *box(cx, side * (y_edge + setback - 0.6), rng.uniform(2.5, 4), length * 0.8,
                                         1.2, 0.3))
            elif r < 0.8:
                hh = rng.uniform(0.8, 2.5)
                for xi in np.arange(x, x + length, 2.0):
                    m.add(VEGETATION, *blob(rng, xi + 1, side * (y_edge + setback + 0.8), hh / 2, 1.4, 0.9, hh / 2,
                                            rough=0.35))
            elif r < 0.9:
                m.add(FENCE, *box(cx, side * (y_edge + setback * 0.3), 0.0, length, 0.06, rng.uniform(1.0, 2.2)))
            else:  # garden / boundary wall (SemanticKITTI labels walls as building)
                m.add(BUILDING, *box(cx, side * (y_edge + setback * 0.3), 0.0, length, 0.3, rng.uniform(0.6, 2.0)))
            x += length + gap
        # trees, poles, signs, people along the sidewalk / terrain
        for xi in np.arange(-L + 3, L - 3, rng.uniform(6, 14)):
            if cross and abs(xi - xc) < wc + 1:
                continue
            yy = side * (wr + rng.uniform(0.5, max(0.6, y_edge - wr + 3)))
            r = rng.random()
            if r < 0.45:
                th, tr = rng.uniform(1.5, 4.0), rng.uniform(0.1, 0.3)
                m.add(TRUNK, *cylinder(xi, yy, 0, tr, th + 0.5))
                cr = rng.uniform(1.5, 4.0)
                m.add(VEGETATION, *blob(rng, xi, yy, th + cr * 0.8, cr, cr, cr * rng.uniform(0.7, 1.1)))
            elif r < 0.7:
                ph = rng.uniform(3.5, 9.0)
                m.add(POLE, *cylinder(xi, yy, 0, rng.uniform(0.06, 0.15), ph, 6))
                if rng.random() < 0.4:
                    m.add(SIGN, *box(xi, yy - side * 0.1, ph * rng.uniform(0.4, 0.9), 0.7, 0.05, 0.7,
                                     rng.uniform(-1.7, 1.7)))
            elif r < 0.8:
                m.add(PERSON, *cylinder(xi, yy, 0, rng.uniform(0.2, 0.3), rng.uniform(1.55, 1.9), 8))
            elif r < 0.9:
                m.add(VEGETATION, *blob(rng, xi, yy, 0.5, rng.uniform(0.6, 1.5), rng.uniform(0.6, 1.5), 0.6, 0.4))
    # traffic in the lanes
    for _ in range(rng.integers(1, 9)):
        x = rng.uniform(-L + 8, L - 8)
        if not clear(x, 7.0):
            continue
        ly = rng.choice([-1, 1]) * rng.uniform(0.3, max(0.4, wr - 2.5))
        _car(m, rng, x, ly, rng.normal(0, 0.05) + (np.pi if rng.random() < 0.5 else 0.0),
             CAR if rng.random() < 0.85 else TRUCK)
    return m.merged(), spots


def cast_scan(scene: dict[int, tuple[np.ndarray, np.ndarray]], rng: np.random.Generator,
              origin: tuple[float, float] = (0.0, 0.0), n_azimuth: int = 2083) -> SimScan:
    """Cast the HDL-64E pattern from `origin` (road frame) with random heading/tilt; points in the sensor frame."""
    import open3d as o3d

    rc = o3d.t.geometry.RaycastingScene()
    gid_to_cls = {}
    for cls, (v, t) in scene.items():
        gid = rc.add_triangles(o3d.core.Tensor(v.astype(np.float32)), o3d.core.Tensor(t.astype(np.uint32)))
        gid_to_cls[gid] = cls
    elev = np.deg2rad(hdl64_elevations() + rng.normal(0, 0.05, 64))
    az = np.linspace(-np.pi, np.pi, n_azimuth, endpoint=False) + rng.uniform(0, 2 * np.pi / n_azimuth)
    ee, aa = np.meshgrid(elev, az, indexing="ij")
    d_sensor = np.stack([np.cos(ee) * np.cos(aa), np.cos(ee) * np.sin(aa), np.sin(ee)], -1).reshape(-1, 3)
    heading = rng.normal(0, 0.2) + (np.pi if rng.random() < 0.5 else 0.0)
    roll, pitch = rng.normal(0, 0.01, 2)
    R = _rot_z(heading) @ _rot_y(pitch) @ _rot_x(roll)  # sensor -> road frame
    d_world = d_sensor @ R.T
    o = np.array([origin[0], origin[1], SENSOR_HEIGHT + rng.normal(0, 0.03)])
    rays = np.concatenate([np.broadcast_to(o, d_world.shape), d_world], 1).astype(np.float32)
    ans = rc.cast_rays(o3d.core.Tensor(rays))
    t = ans["t_hit"].numpy()
    gid = ans["geometry_ids"].numpy()
    normals = ans["primitive_normals"].numpy()
    hit = np.isfinite(t) & (t < 100.0) & (t > 0.5)
    cosang = np.abs((normals * d_world).sum(1))
    drop_p = rng.uniform(0.03, 0.12) + 0.6 * (1 - np.clip(cosang, 0, 1)) ** 6 + 0.15 * np.clip((t - 40) / 60, 0, 1)
    lut = np.array([gid_to_cls.get(int(g), 0) for g in range(max(gid_to_cls) + 1)])
    cls_all = lut[np.where(np.isfinite(t), gid, 0).astype(np.int64)]
    t = np.where(np.isfinite(t), t, 0.0)
    # vegetation is porous: rays enter the foliage (exponential extra depth) and some pass through
    veg = cls_all == VEGETATION
    t[veg] += rng.exponential(rng.uniform(0.15, 0.5), veg.sum())
    drop_p = drop_p + 0.1 * veg
    # building facades: window cells (glass) drop the return or show the room behind
    bld = np.nonzero(hit & (cls_all == BUILDING))[0]
    if len(bld):
        p_hit = o + d_world[bld] * t[bld, None]
        cell = (np.floor(p_hit[:, 2] / 1.4).astype(np.int64) * 7919
                + np.floor((p_hit[:, 0] + p_hit[:, 1]) / 1.7).astype(np.int64) * 104729 + int(rng.integers(1 << 20)))
        window = (cell % 3 == 0) & (p_hit[:, 2] > 0.8)
        glass = window & (rng.random(len(bld)) < 0.5)
        hit[bld[glass]] = False
        room = bld[window & ~glass]
        t[room] += rng.uniform(0.1, 3.0, len(room))
    hit &= rng.random(len(t)) > drop_p
    t = t[hit] + rng.normal(0, 0.02, hit.sum())
    pts = d_sensor[hit] * t[:, None]
    cls = cls_all[hit]
    rem = np.clip(rng.normal(0.3, 0.1, len(t)), 0, 1)
    return SimScan(np.c_[pts, rem].astype(np.float32), cls.astype(np.int64))


def _rot_x(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def _rot_y(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def _rot_z(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def simulate_scans(seed: int, n_scans: int, views_per_scene: int = 3) -> list[SimScan]:
    """`n_scans` simulated scans from `ceil(n / views)` random scenes (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    out: list[SimScan] = []
    while len(out) < n_scans:
        scene, spots = build_scene(rng, views_per_scene)
        for spot in spots[: n_scans - len(out)]:
            out.append(cast_scan(scene, rng, spot))
    return out
