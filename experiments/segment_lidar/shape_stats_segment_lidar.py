"""segment-lidar sim-to-real diagnostic (report only, chooses nothing): local shape of building and vegetation
points in simulated scans vs the real SemanticKITTI scans, as the classical pipeline sees them.

For the non-ground points of each ground-truth class: quartiles of the 1 m voxel surface variation, the share with a
near-horizontal normal (|n_z| < 0.3) and the share the classical rules call planar-vertical (with the defaults).

    python benchmarks/shape_stats_segment_lidar.py --sim-scans 30 --sim-seed 2
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "segment-lidar"
CLASSES = {13: "building", 15: "vegetation"}


def shape_stats(pairs) -> dict:
    """Per class: points, surface-variation quartiles, share |n_z| < 0.3, share planar-vertical."""
    from cvkit.segment_lidar.classical import ClassicalParams, classical_features

    prm = ClassicalParams()
    acc: dict[int, list[np.ndarray]] = {k: [] for k in CLASSES}
    for pts, gt in pairs:
        f = classical_features(pts, prm)
        g = gt[f.valid][f.ng]
        for k in CLASSES:
            acc[k].append(np.c_[f.var[g == k], f.nz[g == k]])
    out = {}
    for k, name in CLASSES.items():
        a = np.concatenate(acc[k])
        var, nz = a[:, 0], a[:, 1]
        q = np.percentile(var, [25, 50, 75]).round(4).tolist()
        out[name] = {"points": len(a), "surface_variation_q25_50_75": q,
                     "share_nz_below_0.3": round(float((nz < 0.3).mean()), 3),
                     "share_planar_vertical": round(float(((var < prm.planar_var) & (nz < prm.planar_nz)).mean()), 3)}
    return out


def main() -> None:
    """Print the statistics for simulated and (when present) real scans as JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--sim-scans", type=int, default=30)
    ap.add_argument("--sim-seed", type=int, default=2)
    a = ap.parse_args()
    from cvkit.segment_lidar.simulate import simulate_scans

    res = {"simulated": shape_stats((s.points, s.labels) for s in simulate_scans(a.sim_seed, a.sim_scans))}
    if a.data.exists():
        from cvkit.segment_lidar.data import find_semantickitti, load_scan

        res["real"] = shape_stats(load_scan(it) for it in find_semantickitti(a.data) if it.label is not None)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
