"""segment-lidar benchmark: seconds per ~124k-point HDL-64E scan and quality for each model, side by side, JSON out.

Models: the classical pipeline, the SAC network fine-tuned on the real training split (ssgv3-tiny-kitti, 64x512,
with and without kNN: append `/noknn` to a name), the simulation-trained one it starts from (ssgv3-tiny-sim) and
the paper-size SSGV3-21 (64x2048, kNN; random weights when none are trained: speed only, its quality is not
reported). Scans: the 3 real SemanticKITTI scans in ../shared/data/segment-lidar/sequences/00 (quality = coarse
IoU and 19-class mIoU, per scan and pooled; never trained on); without them a simulated scan (speed only). The
1-minute load average is recorded before and after each model: the machine is shared, so seconds are comparable
only within one run.

    python benchmarks/bench_segment_lidar.py --out benchmarks/results/bench_segment_lidar.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "segment-lidar" / "sequences" / "00"
DEFAULT_MODELS = ["classical", "ssgv3-tiny-kitti", "ssgv3-tiny-kitti/noknn", "ssgv3-tiny-sim", "ssgv3-21"]


def _segmenter(spec: str):
    name, _, flag = spec.partition("/")
    seg, trained = _build(name)
    if flag == "noknn":
        seg.knn = False
        seg.name = f"{seg.name} (no kNN)"
    return seg, trained


def _build(name: str):
    from cvkit.errors import ModelError
    from cvkit.segment_lidar.projection import SENSORS
    from cvkit.segment_lidar.registry import build_segmenter
    from cvkit.segment_lidar.segment import Segmenter
    from cvkit.segment_lidar.ssgv3 import CONFIGS, SqueezeSegV3

    try:
        return build_segmenter(name), True
    except ModelError:
        if name not in CONFIGS:
            raise
        # no trained weights: time the architecture with random weights, report no quality
        return Segmenter(f"{name} (untrained)", SqueezeSegV3(name), SENSORS["hdl64"]), False


def bench(data: Path, models: list[str], threads: int, repeats: int) -> dict:
    """Time every model on every scan `repeats` times; quality from the first run."""
    import numpy as np
    import torch

    from cvkit.device import set_threads
    from cvkit.segment_lidar.data import find_semantickitti, load_scan
    from cvkit.segment_lidar.metrics import IoUEvaluator, report

    set_threads(threads)
    if data.exists():
        items = find_semantickitti(data)
        names = [f"{it.sequence}/{it.scan.stem}" for it in items]
        scans = [load_scan(it) for it in items]
        source = f"{data.name}: {len(scans)} real SemanticKITTI scans"
    else:
        from cvkit.segment_lidar.simulate import simulate_scans

        sim = simulate_scans(0, 1)[0]
        scans = [(sim.points, None)]
        names = ["simulated"]
        source = "simulated HDL-64E scan (real data absent): speed only"
    out = {"data": source, "points_per_scan": [int(len(p)) for p, _ in scans], "threads": torch.get_num_threads(),
           "machine": platform.processor() or platform.machine(), "torch": torch.__version__, "models": []}
    for name in models:
        seg, trained = _segmenter(name)
        load0 = os.getloadavg()[0]
        seg.segment(scans[0][0])  # warm-up
        ev = IoUEvaluator()
        times = []
        per_scan = []
        for rep in range(repeats):
            for (pts, gt), scan in zip(scans, names, strict=True):
                res = seg.segment(pts)
                times.append(res.seconds)
                if rep == 0 and gt is not None:
                    ev.add(res.labels, gt)
                    one = IoUEvaluator()
                    one.add(res.labels, gt)
                    r1 = report(one)
                    per_scan.append({"scan": scan, "miou": r1["miou"], "coarse_iou": r1["coarse_iou"]})
        row = {"model": seg.name, "trained": trained, "seconds_per_scan_median": statistics.median(times),
               "seconds_per_scan_mean": float(np.mean(times)), "runs": len(times),
               "load_average_1min": [round(load0, 2), round(os.getloadavg()[0], 2)]}
        if trained and scans[0][1] is not None:
            r = report(ev)
            row.update({"coarse_iou": r["coarse_iou"], "miou": r["miou"], "miou_present": r["miou_present"],
                        "iou_present": {k: r["iou"][k] for k in r["present"]}, "per_scan": per_scan})
        out["models"].append(row)
        print(json.dumps(row), file=sys.stderr)
    return out


def main() -> None:
    """Parse arguments, run, write JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS))
    ap.add_argument("--threads", type=int, default=0, help="0 = all cores of this process")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None, help="JSON file (default: stdout)")
    a = ap.parse_args()
    res = bench(a.data, [m for m in a.models.split(",") if m], a.threads, a.repeats)
    text = json.dumps(res, indent=2)
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
