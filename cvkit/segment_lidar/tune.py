"""Choose the classical pipeline's building/vegetation thresholds on simulated scans only (never on real data).

The sweep scores `classical_rules` on scans from our own simulator (`simulate.simulate_scans`, seeded), so the
chosen values are reproducible and held out from the real SemanticKITTI evaluation scans:

    python experiments/segment_lidar/tune_classical.py --scans 150 --seed 1 --holdout 30 --holdout-seed 2

1. A full grid over the four per-point thresholds (shape voxel, surface variation, |normal z|, the remission above
   which a voxel counts as foliage, 1.01 = unused), the other rule thresholds at the middle of their ranges and the
   facade rule off.
2. Coordinate descent over all twelve rule thresholds from that optimum (the facade rule's minimum length may stay
   `inf`, i.e. off), until no single change improves the score.
Score: mean of the coarse building and vegetation IoU over the tuning scans (the only classes these rules decide;
ground, car and pole come first and do not depend on them). The chosen values and their scores on a second,
held-out set of simulated scans are printed as JSON.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import replace

import numpy as np

from .classical import ClassicalFeatures, ClassicalParams, classical_features, classical_rules
from .labels import NUM_CLASSES
from .metrics import IoUEvaluator, report
from .simulate import BUILDING, VEGETATION, simulate_scans

# candidate values per threshold, each range from the physical reading in classical.py's docstring
GRID: dict[str, tuple[float, ...]] = {
    "shape_voxel": (0.5, 1.0, 1.5),
    "planar_var": (0.01, 0.02, 0.04, 0.06, 0.1),
    "planar_nz": (0.1, 0.2, 0.3, 0.5),
    "building_frac": (0.3, 0.4, 0.5, 0.6, 0.7),
    "building_min_length": (2.0, 3.0, 5.0),
    "mixed_frac": (0.1, 0.2, 0.3),
    "column_cell": (1.0, 1.5, 2.0),
    "column_frac": (0.3, 0.5, 0.7),
    "veg_remission": (0.3, 0.4, 0.5, 0.6, 1.01),
    "facade_min_length": (3.0, 5.0, 8.0, float("inf")),
    "facade_min_top": (0.0, 1.5, 2.0, 2.5),
    "facade_tol": (0.2, 0.3, 0.5),
}
FULL_GRID = ("shape_voxel", "planar_var", "planar_nz", "veg_remission")


def _middle(values: tuple[float, ...]) -> float:
    return values[len(values) // 2]


class SimBench:
    """Simulated scans with their ground truth and cached per-scan features (one set per shape voxel)."""

    def __init__(self, seed: int, n_scans: int, base: ClassicalParams = ClassicalParams()) -> None:
        self.scans = simulate_scans(seed, n_scans)
        self.base = base
        self._feats: dict[float, list[ClassicalFeatures]] = {}

    def features(self, shape_voxel: float) -> list[ClassicalFeatures]:
        if shape_voxel not in self._feats:
            p = replace(self.base, shape_voxel=shape_voxel)
            self._feats[shape_voxel] = [classical_features(s.points, p) for s in self.scans]
        return self._feats[shape_voxel]

    def confusion(self, params: ClassicalParams) -> np.ndarray:
        """20x20 confusion (rows prediction, columns ground truth) over all scans."""
        conf = np.zeros(NUM_CLASSES * NUM_CLASSES, dtype=np.int64)
        for f, s in zip(self.features(params.shape_voxel), self.scans, strict=True):
            pred = classical_rules(f, params)
            conf += np.bincount(pred * NUM_CLASSES + s.labels, minlength=NUM_CLASSES * NUM_CLASSES)
        return conf.reshape(NUM_CLASSES, NUM_CLASSES)

    def score(self, params: ClassicalParams) -> float:
        """Mean of building and vegetation IoU (these fine classes are their own coarse groups)."""
        c = self.confusion(params)
        ious = []
        for k in (BUILDING, VEGETATION):
            tp = c[k, k]
            ious.append(tp / max(c[k].sum() + c[:, k].sum() - tp, 1))
        return float(np.mean(ious))

    def report(self, params: ClassicalParams) -> dict:
        ev = IoUEvaluator()
        ev.conf[:] = self.confusion(params)
        r = report(ev)
        return {"coarse_iou": {k: round(v, 4) for k, v in r["coarse_iou"].items()}, "score": self.score(params)}


def sweep(bench: SimBench, grid: dict[str, tuple[float, ...]] = GRID, full: tuple[str, ...] = FULL_GRID,
          max_rounds: int = 5, log=None) -> tuple[ClassicalParams, float]:
    """Full grid over `full`, then coordinate descent over every key of `grid`; the best params and score."""
    start = replace(bench.base, **{k: _middle(v) for k, v in grid.items()})
    if "facade_min_length" not in full:  # the facade rule joins in the coordinate stage (its RANSAC is the slow part)
        start = replace(start, facade_min_length=float("inf"))
    best, best_s = start, -1.0
    for combo in itertools.product(*(grid[k] for k in full)):
        p = replace(start, **dict(zip(full, combo, strict=True)))
        s = bench.score(p)
        if s > best_s + 1e-9:
            best, best_s = p, s
    if log:
        log(f"grid over {', '.join(full)}: {best_s:.4f} at " + json.dumps({k: getattr(best, k) for k in full}))
    for rnd in range(max_rounds):
        changed = False
        for k, values in grid.items():
            for v in values:
                if v == getattr(best, k):
                    continue
                p = replace(best, **{k: v})
                s = bench.score(p)
                if s > best_s + 1e-9:
                    best, best_s, changed = p, s, True
        if log:
            log(f"coordinate round {rnd + 1}: {best_s:.4f}")
        if not changed:
            break
    return best, best_s


def _finite(obj: object) -> object:
    """The same structure with infinite floats (a rule switched off) written as null, for strict JSON."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj
