"""Simulated HDL-64E scans of procedural street scenes (open3d ray casting), labelled with SemanticKITTI ids.

A scene is built in a road frame (x along the road, z up, road surface at z = 0): road (with optional crossing and
painted lane lines), parking strips, kerbed sidewalks, grass/soil terrain, building rows, hedges, bushes, tree rows,
fences, poles with signs, parked and driving cars, vans/trucks and people. The sensor sits 1.73 m above the road with
a random heading and small tilt and casts the HDL-64E beam pattern (upper block +2 to -8.33 deg in 1/3 deg steps,
lower block -8.83 to -24.33 deg in 1/2 deg steps). Labels come from the triangle each ray hits; every triangle also
carries a material and its object's reflectance. open3d is imported lazily.

Geometry (from general knowledge of street scenes; none of it measured on the real evaluation scans):
- Vegetation is mostly dense: trimmed hedges (0.6-1.5 m thick, 0.8-2.5 m high) are boxes whose faces are rough
  height fields (leaf clumps of 3-10 cm plus 8-25 cm undulation over ~1 m); tree crowns are lumpy ellipsoid shells
  (several overlapping lobes) on trunks, often in rows along the kerb with touching crowns; bushes are small lumpy
  blobs. A laser footprint (~2-3 mrad, i.e. 5-10 cm at 20-40 m) on foliage returns from the first leaves it meets, a
  short random depth inside the envelope: exponential extra depth, mean 2-8 cm for hedges and 10-30 cm for crowns,
  with a few rays passing through the gaps of a crown.
- Buildings: rows of blocks with varied heights (3-25 m) and setbacks, pilasters, cornices, balconies with railings on
  some floors, recessed windows in a per-building grid (floor height 2.8-3.6 m); a window ray either drops (glass,
  specular away from the sensor) or returns from the frame/reveal (5-25 cm deeper) or from the room behind.
  Garden and boundary walls are building in SemanticKITTI.
- Terrain: grass (fine bumps, leaf-blade depth ~2 cm) or bare soil height fields.

Remission (KITTI's per-point value in [0, 1]): Lambertian reflectance at 905 nm per material, drawn per object from
these ranges (literature values for near-infrared diffuse reflectance; spectral libraries such as ASTER/ECOSTRESS):
- asphalt 0.08-0.18 (bitumen is dark, aged asphalt lighter), concrete/paving 0.25-0.40, bare soil 0.15-0.30;
- lane paint 0.50-0.85 and licence plates / sign faces 0.80-1.0, both retroreflective (glass beads, prismatic
  sheeting: the return hardly depends on the incidence angle);
- green leaves and grass are bright in the near infrared (the "red edge": leaf reflectance jumps from ~0.05 in red to
  0.45-0.55 beyond 750 nm): hedges and crowns 0.40-0.60, grass 0.35-0.55; bark 0.20-0.35;
- plaster/paint 0.35-0.70, brick 0.30-0.50, concrete 0.25-0.40 (buildings, walls); window frames/reveals 0.10-0.30;
- metal poles/fences 0.15-0.35, wooden fences 0.30-0.45;
- car paint 0.05 (black) to 0.65 (white), car glass 0.03-0.12 with extra drop, tyres 0.02-0.05 (carbon black),
  headlamps/rear lamps 0.4-0.8; clothing 0.10-0.50.
The reported value is gain_scan * gain_laser * reflectance * f(incidence) * f(range) + noise, clipped to [0, 1]:
f(incidence) = cos(theta) for glossy surfaces (car paint and glass, metal: Lambert for the diffuse part, the specular
part goes away from the sensor), 0.25 + 0.75 cos(theta) for rough surfaces (asphalt, concrete, soil, brick, bark: a
rough surface seen by a monostatic sensor backscatters more than Lambert at grazing angles, Oren-Nayar), 1 for
retroreflectors, 0.6 + 0.4 cos(theta) for foliage (a crown or hedge is a cloud of randomly oriented leaves, so the
envelope's normal matters little); f(range) is 1 from 5 to 15 m,
lower in the near field (defocused receiver, x0.6 at the sensor) and falling by up to 30 % out to 80 m (the
sensor's range compensation is incomplete); gain_laser ~ N(1, 0.1) per beam (the HDL-64E's 64 lasers are calibrated
individually and visibly differ); gain_scan ~ U(0.9, 1.6) absorbs the unknown absolute scale: its range was set
so that the mean remission of a simulated scan (0.22 over 6 scans) is near the remission mean 0.21 in SqueezeSegV3's
published normalisation constants (a dataset-wide figure over the SemanticKITTI training sequences, not our
evaluation scans); noise sigma 0.02 + 5 % of the value. Weak returns (low reflectance x cos / range^2) drop more
often; window glass drops half of the window rays, car glass 30 %. None of these values were fitted to the real
scans.
Range noise sigma 2 cm per return plus a per-laser offset (sigma 2 cm, redrawn per scan: the calibration residual
of each of the 64 lasers), random ray drop 3-12 % and grazing-angle drop mimic the real sensor.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# training ids (labels.CLASS_NAMES)
CAR, TRUCK, OTHER_VEH, PERSON = 1, 4, 5, 6
ROAD, PARKING, SIDEWALK, OTHER_GROUND = 9, 10, 11, 12
BUILDING, FENCE, VEGETATION, TRUNK, TERRAIN, POLE, SIGN = 13, 14, 15, 16, 17, 18, 19

SENSOR_HEIGHT = 1.73


@dataclass(frozen=True)
class Material:
    """Near-infrared (905 nm) surface model: reflectance range (drawn per object), porosity and glass behaviour."""

    name: str
    albedo: tuple[float, float]
    depth: float = 0.0  # mean extra ray depth into a porous volume (m), exponential
    drop: float = 0.0  # extra ray-drop probability (glass, gaps in foliage)
    incidence: str = "rough"  # rough | glossy | retro | foliage


MATERIALS: tuple[Material, ...] = (
    Material("asphalt", (0.08, 0.18)),  # 0
    Material("concrete", (0.25, 0.40)),  # 1
    Material("soil", (0.15, 0.30)),  # 2
    Material("grass", (0.35, 0.55), depth=0.02, incidence="foliage"),  # 3
    Material("hedge", (0.40, 0.60), depth=0.05, drop=0.03, incidence="foliage"),  # 4
    Material("crown", (0.40, 0.60), depth=0.2, drop=0.12, incidence="foliage"),  # 5
    Material("bark", (0.20, 0.35)),  # 6
    Material("plaster", (0.35, 0.70)),  # 7
    Material("brick", (0.30, 0.50)),  # 8
    Material("metal", (0.15, 0.35), incidence="glossy"),  # 9
    Material("wood", (0.30, 0.45)),  # 10
    Material("retroreflector", (0.80, 1.00), incidence="retro"),  # 11
    Material("car paint", (0.05, 0.65), incidence="glossy"),  # 12
    Material("car glass", (0.03, 0.12), drop=0.3, incidence="glossy"),  # 13
    Material("rubber", (0.02, 0.05)),  # 14
    Material("lamp", (0.40, 0.80), incidence="retro"),  # 15
    Material("cloth", (0.10, 0.50)),  # 16
)
M = {m.name: i for i, m in enumerate(MATERIALS)}
LANE_PAINT = (0.50, 0.85)


def hdl64_elevations() -> np.ndarray:
    """The 64 beam elevations (degrees) of a Velodyne HDL-64E, top to bottom."""
    upper = 2.0 - np.arange(32) * (10.33 / 31)
    lower = -8.83 - np.arange(32) * (15.5 / 31)
    return np.concatenate([upper, lower])


@dataclass
class Scene:
    """All triangles of a scene with, per triangle, its class, material and object id; per object its reflectance
    and (buildings) window grid (floor height, window period, window width, window height, phase); -1 = none."""

    verts: np.ndarray
    tris: np.ndarray
    cls: np.ndarray
    mat: np.ndarray
    obj: np.ndarray
    refl: np.ndarray
    windows: np.ndarray
    lanes: list[tuple[float, float, float]] = field(default_factory=list)  # (y, half width, dash period or 0)


class _Meshes:
    """Triangles collected per object before building the ray-casting scene."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.parts: list[tuple[np.ndarray, np.ndarray, int, int, int]] = []
        self.refl: list[float] = []
        self.windows: list[np.ndarray] = []

    def new_object(self, mat: int, refl: float | None = None, windows: np.ndarray | None = None) -> int:
        lo, hi = MATERIALS[mat].albedo
        self.refl.append(float(self.rng.uniform(lo, hi)) if refl is None else refl)
        self.windows.append(np.full(5, -1.0) if windows is None else windows)
        return len(self.refl) - 1

    def add(self, cls: int, verts: np.ndarray, tris: np.ndarray, mat: int, obj: int | None = None) -> int:
        if obj is None:
            obj = self.new_object(mat)
        self.parts.append((verts.astype(np.float32), np.asarray(tris, dtype=np.int64), cls, mat, obj))
        return obj

    def scene(self, lanes: list) -> Scene:
        vs, ts, cl, mt, ob, off = [], [], [], [], [], 0
        for v, t, c, m, o in self.parts:
            vs.append(v)
            ts.append(t + off)
            off += len(v)
            n = len(t)
            cl.append(np.full(n, c))
            mt.append(np.full(n, m))
            ob.append(np.full(n, o))
        return Scene(np.concatenate(vs), np.concatenate(ts).astype(np.uint32), np.concatenate(cl),
                     np.concatenate(mt), np.concatenate(ob), np.array(self.refl), np.array(self.windows), lanes)


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


def _grid(nu: int, nv: int) -> np.ndarray:
    i, j = np.meshgrid(np.arange(nu - 1), np.arange(nv - 1), indexing="ij")
    a = (i * nv + j).ravel()
    return np.concatenate([np.stack([a, a + nv, a + nv + 1], 1), np.stack([a, a + nv + 1, a + 1], 1)])


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cells: float) -> np.ndarray:
    """Zero-mean, unit-ish noise with a correlation length of `cells` grid steps (bilinear upsampled lattice)."""
    nu, nv = shape
    cu, cv = max(2, int(nu / max(cells, 1)) + 2), max(2, int(nv / max(cells, 1)) + 2)
    lat = rng.normal(0, 1, (cu, cv))
    u = np.linspace(0, cu - 1.001, nu)
    v = np.linspace(0, cv - 1.001, nv)
    iu, iv = u.astype(int), v.astype(int)
    fu, fv = (u - iu)[:, None], (v - iv)[None, :]
    a = lat[iu][:, iv]
    b = lat[iu + 1][:, iv]
    c = lat[iu][:, iv + 1]
    d = lat[iu + 1][:, iv + 1]
    return a * (1 - fu) * (1 - fv) + b * fu * (1 - fv) + c * (1 - fu) * fv + d * fu * fv


def rough_box(rng: np.random.Generator, cx: float, cy: float, z0: float, lx: float, ly: float, h: float,
              yaw: float = 0.0, step: float = 0.15, fine: float = 0.04, coarse: float = 0.15) -> tuple:
    """A hedge: the four sides and the top of a box as height fields displaced along their normals by fine leaf
    clumps (sigma `fine`) plus a ~1 m undulation (sigma `coarse`)."""
    vs, ts, off = [], [], 0
    c, s = np.cos(yaw), np.sin(yaw)
    faces = [  # origin (local), u axis, v axis, normal, u length, v length
        ((-lx / 2, -ly / 2, 0), (1, 0, 0), (0, 0, 1), (0, -1, 0), lx, h),
        ((-lx / 2, ly / 2, 0), (1, 0, 0), (0, 0, 1), (0, 1, 0), lx, h),
        ((-lx / 2, -ly / 2, 0), (0, 1, 0), (0, 0, 1), (-1, 0, 0), ly, h),
        ((lx / 2, -ly / 2, 0), (0, 1, 0), (0, 0, 1), (1, 0, 0), ly, h),
        ((-lx / 2, -ly / 2, h), (1, 0, 0), (0, 1, 0), (0, 0, 1), lx, ly),
    ]
    for o, u, v, n, lu, lv in faces:
        nu, nv = max(2, int(lu / step) + 1), max(2, int(lv / step) + 1)
        gu, gv = np.meshgrid(np.linspace(0, lu, nu), np.linspace(0, lv, nv), indexing="ij")
        d = fine * rng.normal(0, 1, (nu, nv)) + coarse * _smooth_noise(rng, (nu, nv), 1.0 / step)
        d = np.clip(d, -0.45 * min(lx, ly, h), None)
        p = (np.array(o)[None, None] + gu[..., None] * np.array(u) + gv[..., None] * np.array(v)
             + d[..., None] * np.array(n)).reshape(-1, 3)
        vs.append(np.c_[cx + c * p[:, 0] - s * p[:, 1], cy + s * p[:, 0] + c * p[:, 1], z0 + p[:, 2]])
        ts.append(_grid(nu, nv) + off)
        off += nu * nv
    return np.concatenate(vs), np.concatenate(ts)


_SPHERE: tuple | None = None


def blob(rng: np.random.Generator, cx: float, cy: float, cz: float, rx: float, ry: float, rz: float,
         rough: float = 0.06, lobes: int = 5, lobe_amp: float = 0.25) -> tuple:
    """A lumpy ellipsoid shell (crown, bush): a few smooth lobes (relative amplitude `lobe_amp`) and fine leaf-clump
    roughness (`rough`, relative)."""
    global _SPHERE
    if _SPHERE is None:
        import open3d as o3d

        s = o3d.geometry.TriangleMesh.create_sphere(radius=1.0, resolution=14)
        _SPHERE = (np.asarray(s.vertices), np.asarray(s.triangles))
    v, t = _SPHERE
    k = np.ones(len(v))
    for _ in range(lobes):
        d = rng.normal(0, 1, 3)
        d /= np.linalg.norm(d)
        k += lobe_amp * rng.uniform(-0.5, 1.0) * np.exp((v @ d - 1) / 0.25)
    k = k * (1.0 + rough * rng.normal(0, 1, len(v)))
    return v * k[:, None] * np.array([rx, ry, rz]) + np.array([cx, cy, cz]), t


def heightfield(x0: float, x1: float, y0: float, y1: float, z: float, rng: np.random.Generator,
                step: float = 1.0, noise: float = 0.06) -> tuple:
    """A bumpy ground patch (terrain) over [x0, x1] x [y0, y1]."""
    xs = np.arange(x0, x1 + step, step)
    ys = np.arange(y0, y1 + step, step)
    gx, gy = np.meshgrid(xs, ys, indexing="ij")
    gz = z + rng.normal(0, noise, gx.shape) + 2 * noise * _smooth_noise(rng, gx.shape, 4.0 / step) \
        + rng.uniform(-0.03, 0.03) * (gy - y0)
    v = np.stack([gx.ravel(), gy.ravel(), gz.ravel()], 1)
    return v, _grid(len(xs), len(ys))


def _car(m: _Meshes, rng: np.random.Generator, x: float, y: float, yaw: float, kind: int = CAR) -> None:
    if kind == CAR:
        ln, wd, hb, hc = rng.uniform(3.7, 4.9), rng.uniform(1.6, 1.9), rng.uniform(0.55, 0.8), rng.uniform(0.45, 0.65)
    else:
        ln, wd, hb, hc = rng.uniform(5, 9), rng.uniform(2.0, 2.5), rng.uniform(1.4, 2.2), rng.uniform(0.3, 0.8)
    c, s = np.cos(yaw), np.sin(yaw)
    paint = m.new_object(M["car paint"])
    m.add(kind, *box(x, y, 0.28, ln, wd, hb, yaw), M["car paint"], paint)
    off = rng.uniform(-0.25, 0.05) * ln
    cl = ln * (rng.uniform(0.45, 0.6) if kind == CAR else 0.95)
    # cabin: glass sides (a van's cargo box is painted), painted roof
    cabin_mat = M["car glass"] if kind == CAR else M["car paint"]
    m.add(kind, *box(x + c * off, y + s * off, 0.28 + hb, cl, wd * 0.92, hc, yaw), cabin_mat,
          None if kind == CAR else paint)
    m.add(kind, *box(x + c * off, y + s * off, 0.28 + hb + hc, cl * 0.9, wd * 0.85, 0.04, yaw), M["car paint"], paint)
    for sx in (-0.33, 0.33):
        for sy in (-0.45, 0.45):
            px, py = x + c * sx * ln - s * sy * wd, y + s * sx * ln + c * sy * wd
            m.add(kind, *box(px, py, 0.0, 0.62, 0.24, 0.6, yaw), M["rubber"])
    for end in (-1, 1):  # licence plate and lamps just proud of the bumpers
        zp = 0.28 + hb * rng.uniform(0.3, 0.6)
        ex = end * (ln / 2 + 0.02)
        m.add(kind, *box(x + c * ex, y + s * ex, zp, 0.04, 0.52, 0.12, yaw), M["retroreflector"])
        for sy in (-0.38, 0.38):
            px, py = x + c * ex - s * sy * wd, y + s * ex + c * sy * wd
            m.add(kind, *box(px, py, 0.28 + hb * 0.6, 0.04, 0.3, 0.15, yaw), M["lamp"])


def _building(m: _Meshes, rng: np.random.Generator, cx: float, y_front: float, side: int, length: float) -> None:
    """A row of blocks with varied heights: facade material, window grid, pilasters, balconies, cornice."""
    x = cx - length / 2
    while x < cx + length / 2 - 1.0:
        bl = min(rng.uniform(6, 20), cx + length / 2 - x)
        depth, h = rng.uniform(8, 15), float(rng.choice([rng.uniform(3, 8), rng.uniform(8, 25)]))
        yf = y_front + rng.uniform(-0.5, 0.5)
        bx = x + bl / 2
        mat = int(rng.choice([M["plaster"], M["brick"], M["concrete"]], p=[0.5, 0.25, 0.25]))
        floor_h = rng.uniform(2.8, 3.6)
        period = rng.uniform(1.8, 4.0)
        win = np.array([floor_h, period, rng.uniform(0.35, 0.7) * period, rng.uniform(0.4, 0.65) * floor_h,
                        rng.uniform(0, period)])
        obj = m.new_object(mat, windows=win if rng.random() < 0.9 else None)
        yaw = rng.normal(0, 0.02)
        m.add(BUILDING, *box(bx, side * (yf + depth / 2), -0.5, bl, depth, h + 0.5, yaw), mat, obj)
        if rng.random() < 0.4:  # pilasters
            for px in np.arange(x + 0.3, x + bl, rng.uniform(3, 8)):
                m.add(BUILDING, *box(px, side * (yf - 0.1), -0.5, rng.uniform(0.3, 0.8), 0.25, h + 0.5), mat, obj)
        if rng.random() < 0.4:  # cornice
            m.add(BUILDING, *box(bx, side * (yf - 0.2), h - 0.4, bl, 0.5, 0.4), mat, obj)
        if h > 6 and rng.random() < 0.35:  # balconies on upper floors, with railings
            bw = rng.uniform(2.5, 5.0)
            for fz in np.arange(floor_h, h - 1.0, floor_h):
                for bxx in np.arange(x + rng.uniform(0.5, 2.5), x + bl - bw, bw + rng.uniform(1.5, 4.0)):
                    d = rng.uniform(0.9, 1.5)
                    m.add(BUILDING, *box(bxx + bw / 2, side * (yf - d / 2), fz, bw, d, 0.2), M["concrete"])
                    rail = M["metal"] if rng.random() < 0.5 else mat
                    m.add(BUILDING, *box(bxx + bw / 2, side * (yf - d), fz + 0.2, bw, 0.05, 1.0), rail)
        x += bl


def build_scene(rng: np.random.Generator, n_views: int = 3) -> tuple[Scene, list[tuple[float, float]]]:
    """A random street scene and `n_views` sensor spots (x, y) in a driving lane, kept clear of traffic."""
    m = _Meshes(rng)
    L = 80.0
    wr = rng.uniform(3.0, 6.5)  # half width of the road
    lane = max(0.0, wr - 3.0)
    spots = [(float(rng.uniform(-25, 25)), float(rng.uniform(-lane, lane))) for _ in range(n_views)]

    def clear(x: float, gap: float) -> bool:
        return all(abs(x - sx) > gap for sx, _ in spots)

    m.add(ROAD, *box(0, 0, -0.3, 2 * L, 2 * wr, 0.3), M["asphalt"])
    lanes = []
    if rng.random() < 0.7:
        lanes.append((0.0, rng.uniform(0.05, 0.08), float(rng.choice([0.0, rng.uniform(6, 12)]))))
    if rng.random() < 0.6:
        e = wr - rng.uniform(0.2, 0.5)
        lanes += [(-e, rng.uniform(0.05, 0.1), 0.0), (e, rng.uniform(0.05, 0.1), 0.0)]
    cross = rng.random() < 0.35
    xc, wc = rng.uniform(-30, 30), rng.uniform(3.5, 6.5)
    if cross:
        m.add(ROAD, *box(xc, 0, -0.3, 2 * wc, 2 * L, 0.3), M["asphalt"])
    for side in (-1, 1):
        y = wr
        if rng.random() < 0.3:  # parking strip
            wp = rng.uniform(2.2, 3.0)
            m.add(PARKING, *box(0, side * (y + wp / 2), -0.3, 2 * L, wp, 0.3 + rng.uniform(-0.02, 0.02)),
                  int(rng.choice([M["asphalt"], M["concrete"]])))
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
            m.add(SIDEWALK, *box(0, side * (y + ws / 2), -0.3, 2 * L, ws, 0.3 + hk),
                  int(rng.choice([M["concrete"], M["asphalt"]], p=[0.7, 0.3])))
            y += ws
        wt = rng.uniform(0.0, 7.0) if rng.random() < 0.6 else 0.0
        grass = rng.random() < 0.7
        if wt > 0.5:
            m.add(TERRAIN, *heightfield(-L, L, side * y if side > 0 else -(y + wt), y + wt if side > 0 else -y,
                                        hk * 0.5, rng, step=0.5, noise=0.03 if grass else 0.02),
                  M["grass"] if grass else M["soil"])
        elif rng.random() < 0.3:
            m.add(OTHER_GROUND, *box(0, side * (y + 1.5), -0.3, 2 * L, 3.0, 0.3 + hk), M["concrete"])
        y_edge = y + wt
        # far ground under everything else
        m.add(TERRAIN, *heightfield(-L, L, side * (y_edge + 20) if side < 0 else y_edge,
                                    y_edge + 20 if side > 0 else -y_edge, hk, rng, step=1.0),
              M["grass"] if rng.random() < 0.6 else M["soil"])
        # building rows, hedges, fences, walls
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
            if has_buildings and r < 0.55:
                _building(m, rng, cx, y_edge + setback, side, length)
                if setback > 2.0 and rng.random() < 0.5:  # front-garden hedge
                    _hedge(m, rng, cx, side * (y_edge + rng.uniform(0.4, 1.0)), length * rng.uniform(0.5, 1.0))
            elif r < 0.8:
                _hedge(m, rng, cx, side * (y_edge + setback * 0.5 + 0.6), length)
            elif r < 0.9:
                m.add(FENCE, *box(cx, side * (y_edge + setback * 0.3), 0.0, length, 0.06, rng.uniform(1.0, 2.2)),
                      int(rng.choice([M["metal"], M["wood"]])))
            else:  # garden / boundary wall (SemanticKITTI labels walls as building)
                m.add(BUILDING, *box(cx, side * (y_edge + setback * 0.3), 0.0, length, 0.3, rng.uniform(0.6, 2.0)),
                      int(rng.choice([M["concrete"], M["brick"], M["plaster"]])))
            x += length + gap
        # a tree row along the kerb (crowns often touch), or isolated street furniture
        row = rng.random() < 0.4
        pitch = rng.uniform(5, 9) if row else rng.uniform(6, 14)
        for xi in np.arange(-L + 3, L - 3, pitch):
            if cross and abs(xi - xc) < wc + 1:
                continue
            if row:
                yy = side * (wr + (y - wr) * rng.uniform(0.3, 0.7) + rng.normal(0, 0.1))
            else:
                yy = side * (wr + rng.uniform(0.5, max(0.6, y_edge - wr + 3)))
            r = rng.random()
            if row and r < 0.85 or not row and r < 0.4:
                _tree(m, rng, xi + rng.normal(0, 0.3), yy, pitch * (0.55 if row else rng.uniform(0.2, 0.5)))
            elif r < 0.7 or row and r < 0.95:
                ph = rng.uniform(3.5, 9.0)
                m.add(POLE, *cylinder(xi, yy, 0, rng.uniform(0.06, 0.15), ph, 6), M["metal"])
                if rng.random() < 0.4:
                    m.add(SIGN, *box(xi, yy - side * 0.1, ph * rng.uniform(0.4, 0.9), 0.7, 0.05, 0.7,
                                     rng.uniform(-1.7, 1.7)), M["retroreflector"])
            elif r < 0.8:
                m.add(PERSON, *cylinder(xi, yy, 0, rng.uniform(0.2, 0.3), rng.uniform(1.55, 1.9), 8), M["cloth"])
            else:  # bush
                rb = rng.uniform(0.5, 1.4)
                m.add(VEGETATION, *blob(rng, xi, yy, rb * 0.6, rb, rng.uniform(0.5, 1.4), rb * 0.8, lobes=3),
                      M["hedge"])
    # traffic in the lanes
    for _ in range(rng.integers(1, 9)):
        x = rng.uniform(-L + 8, L - 8)
        if not clear(x, 7.0):
            continue
        ly = rng.choice([-1, 1]) * rng.uniform(0.3, max(0.4, wr - 2.5))
        _car(m, rng, x, ly, rng.normal(0, 0.05) + (np.pi if rng.random() < 0.5 else 0.0),
             CAR if rng.random() < 0.85 else TRUCK)
    return m.scene(lanes), spots


def _hedge(m: _Meshes, rng: np.random.Generator, cx: float, cy: float, length: float) -> None:
    th, hh = rng.uniform(0.6, 1.5), rng.uniform(0.8, 2.5)
    m.add(VEGETATION, *rough_box(rng, cx, cy, -0.1, length, th, hh, rng.normal(0, 0.02),
                                 fine=rng.uniform(0.03, 0.1), coarse=rng.uniform(0.08, 0.25)), M["hedge"])


def _tree(m: _Meshes, rng: np.random.Generator, x: float, y: float, radius: float) -> None:
    th, tr = rng.uniform(1.8, 4.0), rng.uniform(0.1, 0.3)
    m.add(TRUNK, *cylinder(x, y, 0, tr, th + 0.8), M["bark"])
    cr = float(np.clip(radius, 1.2, 4.5)) * rng.uniform(0.9, 1.2)
    obj = m.new_object(M["crown"])
    m.add(VEGETATION, *blob(rng, x, y, th + cr * 0.8, cr, cr, cr * rng.uniform(0.7, 1.2)), M["crown"], obj)
    for _ in range(rng.integers(0, 3)):  # extra lobes of the crown
        d = rng.normal(0, cr * 0.4, 3)
        s = rng.uniform(0.4, 0.7) * cr
        m.add(VEGETATION, *blob(rng, x + d[0], y + d[1], th + cr * 0.8 + d[2], s, s, s * 0.8), M["crown"], obj)


def cast_scan(scene: Scene, rng: np.random.Generator, origin: tuple[float, float] = (0.0, 0.0),
              n_azimuth: int = 2083) -> SimScan:
    """Cast the HDL-64E pattern from `origin` (road frame) with random heading/tilt; points in the sensor frame."""
    import open3d as o3d

    rc = o3d.t.geometry.RaycastingScene()
    rc.add_triangles(o3d.core.Tensor(scene.verts.astype(np.float32)), o3d.core.Tensor(scene.tris))
    elev = np.deg2rad(hdl64_elevations() + rng.normal(0, 0.05, 64))
    az = np.linspace(-np.pi, np.pi, n_azimuth, endpoint=False) + rng.uniform(0, 2 * np.pi / n_azimuth)
    ee, aa = np.meshgrid(elev, az, indexing="ij")
    beam = np.repeat(np.arange(64), n_azimuth)
    d_sensor = np.stack([np.cos(ee) * np.cos(aa), np.cos(ee) * np.sin(aa), np.sin(ee)], -1).reshape(-1, 3)
    heading = rng.normal(0, 0.2) + (np.pi if rng.random() < 0.5 else 0.0)
    roll, pitch = rng.normal(0, 0.01, 2)
    R = _rot_z(heading) @ _rot_y(pitch) @ _rot_x(roll)  # sensor -> road frame
    d_world = d_sensor @ R.T
    o = np.array([origin[0], origin[1], SENSOR_HEIGHT + rng.normal(0, 0.03)])
    rays = np.concatenate([np.broadcast_to(o, d_world.shape), d_world], 1).astype(np.float32)
    ans = rc.cast_rays(o3d.core.Tensor(rays))
    t = ans["t_hit"].numpy().astype(np.float64)
    prim = ans["primitive_ids"].numpy().astype(np.int64)
    normals = ans["primitive_normals"].numpy()
    hit = np.isfinite(t) & (t < 100.0) & (t > 0.5)
    t = np.where(hit, t, 1.0)
    prim = np.where(hit, prim, 0)
    cls_all = np.where(hit, scene.cls[prim], 0)
    mat = scene.mat[prim]
    obj = scene.obj[prim]
    refl = scene.refl[obj].copy()
    cosang = np.clip(np.abs((normals * d_world).sum(1)), 0, 1)
    mat_depth = np.array([mm.depth for mm in MATERIALS])[mat]
    mat_drop = np.array([mm.drop for mm in MATERIALS])[mat]
    inc_kind = np.array([{"glossy": 0, "retro": 1, "foliage": 2, "rough": 3}[mm.incidence] for mm in MATERIALS])[mat]
    drop_p = rng.uniform(0.03, 0.12) + 0.6 * (1 - cosang) ** 6 + 0.15 * np.clip((t - 40) / 60, 0, 1) + mat_drop
    # porous materials: the return comes from a random depth inside the envelope
    porous = hit & (mat_depth > 0)
    t[porous] += rng.exponential(1.0, porous.sum()) * mat_depth[porous] * rng.uniform(0.5, 1.5)
    p_hit = o + d_world * t[:, None]
    # painted lane lines on the road (retroreflective glass beads)
    on_road = hit & (cls_all == ROAD)
    for yl, hw, dash in scene.lanes:
        line = on_road & (np.abs(p_hit[:, 1] - yl) < hw)
        if dash:
            line &= np.mod(p_hit[:, 0], dash) < dash / 3
        refl[line] = rng.uniform(*LANE_PAINT)
        inc_kind[line] = 1
    # building facades: window cells (glass) drop the return, show the reveal/frame, or the room behind
    win = scene.windows[obj]
    facade = hit & (win[:, 0] > 0) & (np.abs(normals[:, 2]) < 0.3)
    idx = np.nonzero(facade)[0]
    if len(idx):
        w = win[idx]
        along = np.where(np.abs(normals[idx, 0]) < np.abs(normals[idx, 1]), p_hit[idx, 0], p_hit[idx, 1])
        z = p_hit[idx, 2]
        in_w = (np.mod(along + w[:, 4], w[:, 1]) < w[:, 2]) & (np.mod(z, w[:, 0]) > 0.9) \
            & (np.mod(z, w[:, 0]) < 0.9 + w[:, 3]) & (z > 0.5)
        k = rng.random(len(idx))
        glass = in_w & (k < 0.5)
        reveal = in_w & (k >= 0.5) & (k < 0.8)
        room = in_w & (k >= 0.8)
        hit[idx[glass]] = False
        t[idx[reveal]] += rng.uniform(0.05, 0.25, reveal.sum())
        refl[idx[reveal]] = rng.uniform(0.1, 0.3, reveal.sum())
        t[idx[room]] += rng.uniform(0.5, 4.0, room.sum())
        refl[idx[room]] = rng.uniform(0.1, 0.5, room.sum())
    # remission: reflectance x incidence x range response x laser gain x scan gain, plus noise
    f_inc = np.select([inc_kind == 1, inc_kind == 2, inc_kind == 3],
                      [np.ones_like(cosang), 0.6 + 0.4 * cosang, 0.25 + 0.75 * cosang], cosang)
    f_rng = np.where(t < 5, 0.6 + 0.08 * t, 1.0) * (1 - 0.3 * np.clip((t - 15) / 65, 0, 1))
    gain = rng.uniform(0.9, 1.6) * np.clip(rng.normal(1, 0.1, 64), 0.7, 1.3)[beam]
    rem = gain * refl * f_inc * f_rng
    rem = rem + rng.normal(0, 1, len(rem)) * (0.02 + 0.05 * rem)
    # weak returns (dark, grazing, far) fall below the detection threshold more often
    signal = refl * np.maximum(f_inc, 0.05) * np.minimum(1.0, (25.0 / t) ** 2)
    drop_p = drop_p + 0.5 * np.clip(1 - signal / 0.005, 0, 1)
    hit &= rng.random(len(t)) > drop_p
    # range noise: 2 cm per return plus a per-laser range offset (each of the 64 lasers keeps a few cm of
    # calibration residual; Glennie & Lichti 2010, static calibration of the HDL-64E S2), so a flat wall is
    # seen as slightly offset stripes, one per beam
    t = t[hit] + rng.normal(0, 0.02, hit.sum()) + rng.normal(0, 0.02, 64)[beam[hit]]
    pts = d_sensor[hit] * t[:, None]
    return SimScan(np.c_[pts, np.clip(rem[hit], 0, 1)].astype(np.float32), cls_all[hit].astype(np.int64))


@dataclass
class SimScan:
    """One simulated scan: (N, 4) x, y, z, remission points (sensor frame) and training ids."""

    points: np.ndarray
    labels: np.ndarray


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
